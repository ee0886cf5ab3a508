"""LiveStore: the bounded ring, per-tag state, series, tree, counters and filtered view."""

from __future__ import annotations

from typing import Any

import pytest

from flux_tui.base.events import CaughtUp, FeedState, Gap, StateChanged, Throttled
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, DecodeError, Reading

T0 = 1_700_000_000_000


def reading(n: int, *, asset: Any = 1111, tag: Any = 1, val: Any = None, ms: int | None = None,
            label: str | None = None, org: Any = 333, site: Any = 2222) -> Reading:
    ms = T0 + n * 1000 if ms is None else ms
    val = float(n) if val is None else val
    label = f"Tag {tag}" if label is None else label
    payload = {"epochMs": ms, "rtms": ms + 250, "assetId": asset, "tagId": tag, "val": val,
               "label": label}
    return Reading("s0", str(n), 0, ms / 1000 + 1.0, ms, ms + 250, org, site, asset, tag, 7,
                   f"tag_{tag}", label, val, payload)


def batch(readings: list[Reading], behind: int = 0, at: float = 0.0) -> Batch:
    return Batch("s0", readings, [], behind, at)


def test_ring_keeps_only_the_newest_capacity_readings() -> None:
    store = LiveStore(capacity=5)
    store.ingest(batch([reading(i) for i in range(3)]))
    store.ingest(batch([reading(i) for i in range(3, 9)]))
    assert store.total == 9
    assert store.held == 5
    assert store.first == 4
    assert [store.reading_at(p).seq for p in range(4, 9)] == ["4", "5", "6", "7", "8"]
    with pytest.raises(IndexError):
        store.reading_at(3)


def test_a_page_larger_than_the_ring_keeps_its_tail() -> None:
    store = LiveStore(capacity=4)
    store.ingest(batch([reading(i) for i in range(10)]))
    assert store.total == 10
    assert [r.seq for _, r, _ in store.view_slice(0, 10)] == ["6", "7", "8", "9"]


def test_previous_value_per_line_and_per_tag() -> None:
    store = LiveStore(capacity=10)
    store.ingest(batch([reading(0, tag=1, val=1.0), reading(1, tag=2, val=5.0),
                        reading(2, tag=1, val=3.0)]))
    assert store.prev_at(0) is None
    assert store.prev_at(2) == 1.0
    t = store.tags[(1111, 1)]
    assert (t.last, t.prev, t.count) == (3.0, 1.0, 2)


def test_interval_staleness_and_reference_time() -> None:
    store = LiveStore(capacity=100, clock=lambda: (T0 + 10_000) / 1000)
    store.ingest(batch([reading(i, tag=1, ms=T0 + i * 2000) for i in range(5)]))
    t = store.tags[(1111, 1)]
    assert t.interval_ms == pytest.approx(2000)
    assert t.last_ms == T0 + 8000
    assert not t.is_stale(T0 + 9000)
    assert t.is_stale(T0 + 8000 + 6001)
    assert store.units[1111].is_stale(T0 + 8000 + 6001)
    assert not store.units[1111].is_stale(T0 + 9000)
    store.ingest(batch([], behind=5000))
    assert store.lag_ms == 5000
    assert store.reference_ms() == pytest.approx(T0 + 10_000 - 5000)


def test_series_one_point_per_second_and_window_stats() -> None:
    store = LiveStore(capacity=100)
    rows = [reading(i, ms=T0 + i * 500, val=float(i)) for i in range(10)]  # 2 a second
    store.ingest(batch(rows))
    t = store.tags[(1111, 1)]
    times, values = t.window(60, now=T0 / 1000 + 5)
    assert times == [T0 / 1000 + s for s in range(5)]  # one 1 s bucket a second
    assert values == [0.5, 2.5, 4.5, 6.5, 8.5]  # each bucket's mean
    s = t.stats(60, now=T0 / 1000 + 5)
    assert (s.last, s.min, s.max, s.avg, s.count) == (9.0, 0.0, 9.0, 4.5, 10)
    s = t.stats(2.5, now=T0 / 1000 + 5)  # only the buckets of seconds 3 and 4
    assert (s.min, s.max, s.count) == (6.0, 9.0, 4)


def test_status_values_are_coded_for_state_strips() -> None:
    store = LiveStore(capacity=100)
    store.ingest(batch([reading(i, val=v) for i, v in enumerate(["RUN", "STOP", "RUN", True])]))
    t = store.tags[(1111, 1)]
    assert not t.numeric
    assert t.window(60, now=T0 / 1000 + 4)[1] == [0.0, 1.0, 0.0, 2.0]  # last state a second


def test_tree_is_built_in_first_seen_order() -> None:
    store = LiveStore(capacity=100)
    store.ingest(batch([reading(0, asset=2, tag=1), reading(1, asset=1, tag=1),
                        reading(2, asset=3, site=9, tag=1), reading(3, asset=2, tag=2)]))
    assert store.tree == {333: {2222: [2, 1], 9: [3]}}
    assert [t.tag_id for t in store.tags_of(2)] == [1, 2]
    v = store.tree_version
    store.ingest(batch([reading(4, asset=2, tag=1)]))
    assert store.tree_version == v  # no new node, no tree rebuild


def test_filter_applies_to_held_and_new_lines_and_survives_wraparound() -> None:
    store = LiveStore(capacity=6)
    store.ingest(batch([reading(i, tag=i % 2) for i in range(6)]))
    store.set_filter(lambda r: r.tag_id == 1)
    assert store.view_len() == 3
    assert [r.seq for _, r, _ in store.view_slice(0, 9)] == ["1", "3", "5"]
    store.ingest(batch([reading(i, tag=i % 2) for i in range(6, 10)]))  # 0..3 fall out
    assert [r.seq for _, r, _ in store.view_slice(0, 9)] == ["5", "7", "9"]
    assert store.view_index_of(7) == 1
    assert store.view_index_of(6) is None
    store.set_filter(None)
    assert store.view_len() == 6


def test_filter_index_compacts_over_a_long_run() -> None:
    store = LiveStore(capacity=1000)
    store.set_filter(lambda r: True)
    for k in range(50):
        store.ingest(batch([reading(k * 500 + i) for i in range(500)]))
    assert store.view_len() == 1000
    assert len(store._matches) < 10_000  # the dropped prefix is released, not kept forever
    assert store.reading_at(store.view_pos(0)).seq == str(24_000)


def test_counters_rate_delay_errors_and_events() -> None:
    now = [100.0]
    store = LiveStore(capacity=100, clock=lambda: now[0])
    err = DecodeError("s0", "9", "bad json", b"\xff{")
    store.ingest(Batch("s0", [reading(i) for i in range(50)], [err], 1200, 99.0))
    store.ingest(Batch("s1", [reading(i) for i in range(50, 100)], [], 300, 100.0))
    assert store.rate() == pytest.approx(100 / 5)
    assert store.lag_ms == 1200
    assert store.delay_ms == pytest.approx(250)
    assert store.error_total == 1 and store.errors[0].raw == b"\xff{"
    now[0] = 200.0
    assert store.rate() == 0.0
    store.note(StateChanged(FeedState.LIVE, "ok"))
    store.note(Throttled(until=123.0))
    store.note(Gap("s0", 1, 2, "expired"))
    store.note(CaughtUp())
    assert store.state is FeedState.LIVE and store.throttled_until == 123.0
    assert len(store.gaps) == 1 and store.caught_up


def test_unhashable_values_do_not_break_ingest() -> None:
    store = LiveStore(capacity=10)
    store.ingest(batch([reading(0, val=[1, 2]), reading(1, val={"a": 1}), reading(2, val=None)]))
    assert store.total == 3


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LiveStore(capacity=0)


def test_store_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = ("import sys, flux_tui.data.store\n"
            "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_retained_readings_cost_the_garbage_collector_nothing() -> None:
    import gc

    store = LiveStore(capacity=100)
    store.ingest(batch([reading(i) for i in range(50)]))
    gc.collect()
    tracked = len(gc.get_objects())
    store.ingest(batch([reading(i) for i in range(50, 100)]))
    gc.collect()
    # the readings live in typed arrays: holding 50 more adds no object the collector walks
    assert len(gc.get_objects()) <= tracked
    assert not store.cols.sparse
    r = store.reading_at(10)
    assert isinstance(r, Reading) and r.seq == "10" and r.payload["val"] == 10.0


def test_state_codes_of_a_free_text_tag_stay_bounded() -> None:
    """A text tag whose value never repeats (a message, a serial) must not grow its code
    table for the whole shift: past MAX_CODES values, new ones share one code."""
    from flux_tui.data.store import tag_state
    from flux_tui.data.store.tag_state import TagState

    MAX_CODES = getattr(tag_state, "MAX_CODES", 64)

    first = reading(0, val="msg 0")
    tag = TagState((first.asset_id, first.tag_id), first)
    codes = [tag.code_of(f"msg {n}") for n in range(10_000)]
    assert len(tag.codes) <= MAX_CODES
    assert codes[:3] == [0.0, 1.0, 2.0] and codes[-1] == float(MAX_CODES)
    assert tag.code_of("msg 1") == 1.0  # values already coded keep their code

