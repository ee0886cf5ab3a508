"""Tiered sparkline history: 1 s buckets fold into 10 s and 1 min ones as they age, every
window reads all tiers, nothing is lost in a fold, and late readings still count."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.data.store.tiers import FINE_KEEP, MID_KEEP, SPAN, Tiers

T0 = 1_764_590_040  # epoch seconds, a whole minute


def test_a_day_at_one_reading_a_second_stays_small_and_covers_every_window() -> None:
    tiers = Tiers()
    for s in range(SPAN + 600):
        tiers.add(T0 + s, float(s % 100))
    now = T0 + SPAN + 600
    assert len(tiers.fine) <= FINE_KEEP + 120
    assert len(tiers.mid) <= (MID_KEEP + 600) // 10 + 12
    assert len(tiers.coarse) <= SPAN // 60 + 2
    for window in (60, 300, 900, 3600, 6 * 3600, 24 * 3600):
        times, lows, highs, _sums, counts, _lasts = tiers.points(now - window, now + 1)
        assert times == sorted(times) and times[0] >= now - window - 60
        assert sum(counts) >= window * 0.95  # every second of the window is in some bucket
        if window >= 300:  # the values cycle every 100 s
            assert min(lows) == 0.0 and max(highs) == 99.0
    # the coarse end: 1 min buckets; the fine end: 1 s buckets
    times = tiers.points(now - 3600, now + 1)[0]
    assert times[1] - times[0] == 60 and times[-1] - times[-2] == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3 * 3600), st.floats(-1e6, 1e6)), min_size=1,
                max_size=300))
def test_folding_loses_nothing_within_the_day(points: list[tuple[int, float]]) -> None:
    tiers = Tiers()
    for second, value in sorted(points, key=lambda p: p[0]):
        tiers.add(T0 + second, value)
    _, lows, highs, sums, counts, _ = tiers.points(T0, T0 + 4 * 3600)
    values = [v for _, v in points]
    assert sum(counts) == len(values)
    assert min(lows) == min(values) and max(highs) == max(values)
    assert math.isclose(math.fsum(sums), math.fsum(values), rel_tol=1e-9, abs_tol=1e-6)


def test_late_readings_land_in_the_bucket_of_their_time() -> None:
    tiers = Tiers()
    for s in range(1200):
        tiers.add(T0 + s, 1.0)
    tiers.add(T0 + 5, 100.0)  # long folded into the 10 s tier: still counted there
    tiers.add(T0 + 1190, 50.0)  # still in the 1 s tier
    times, _lows, highs, _sums, counts, _ = tiers.points(T0, T0 + 1200)
    assert sum(counts) == 1202 and max(highs) == 100.0
    assert highs[times.index(float(T0))] == 100.0  # the 10 s bucket starting at T0
    assert highs[times.index(float(T0 + 1190))] == 50.0


def test_clear_after_forgets_the_later_buckets() -> None:
    tiers = Tiers()
    for s in range(2000):
        tiers.add(T0 + s, float(s))
    tiers.clear_after(T0 + 1000)
    times, _, highs, _, _counts, _ = tiers.points(T0, T0 + 3000)
    assert max(times) < T0 + 1000 and max(highs) <= 999.0
