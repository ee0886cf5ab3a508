"""Stale tags and silent units on reading time: 3× the tag's median interval (≥ 60 s), a
fixed ``stale_after``, a unit stale only when all its tags are, and the same answer whether
the silence is seen by the clock moving on or by the next reading."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.alarms import AlarmEngine, StalePolicy
from flux_tui.data.formats import reading_from_payload
from flux_tui.feed.types import Reading

T0 = 1_764_590_400_000


def r(t: int, asset: int, tag: int, val: float = 1.0) -> Reading:
    payload = {
        "epochMs": t,
        "rtms": t + 300,
        "assetId": asset,
        "tagId": tag,
        "label": f"Tag {tag}",
        "tagName": f"tag_{tag}",
        "val": val,
    }
    return reading_from_payload("s", str(t), 0, t / 1000, payload)


def fleet(
    seconds: int, silent_from: int | None = None, every: dict[int, int] | None = None
) -> list[Reading]:
    """Unit 1 (tags 1, 2) and unit 2 (tags 1, 2) report every 5 s and 20 s; unit 2 falls
    silent at ``silent_from`` seconds."""
    every = every or {1: 5, 2: 20}
    out = []
    for s in range(seconds):
        for asset in (1, 2):
            if asset == 2 and silent_from is not None and s >= silent_from:
                continue
            for tag, step in every.items():
                if s % step == 0:
                    out.append(r(T0 + s * 1000, asset, tag))
    return out


def states(transitions):
    return [(x.state, x.asset_id, x.tag_id, x.time_ms - T0) for x in transitions]


def test_a_silent_unit_goes_stale_when_its_slowest_tag_does_and_reports_again() -> None:
    eng = AlarmEngine(stale=StalePolicy())
    readings = fleet(600, silent_from=300)
    out = eng.observe(readings)
    # tag 2 (every 20 s) is stale 3×20 s after its last reading at 280 s; tag 1 (every 5 s)
    # 60 s (the floor) after 295 s: the unit when the last of them is
    assert states(out) == [("stale", 2, None, 355_000)]
    assert eng.stale is not None and eng.stale.unit_stale(2) and not eng.stale.unit_stale(1)
    assert eng.counts()["warning"] == 1
    back = eng.observe([r(T0 + 640_000, 2, 1)])  # before unit 1 (ended at 600 s) is stale
    assert states(back) == [("reporting", 2, None, 640_000)]


def test_tags_are_reported_one_by_one_when_asked_and_the_floor_is_a_minute() -> None:
    eng = AlarmEngine(stale=StalePolicy(report_tags=True))
    out = eng.observe(fleet(400, silent_from=200))
    # tag 1 every 5 s: 3×5 = 15 s, raised to the 60 s floor
    assert states(out) == [
        ("stale", 2, 2, 180_000 + 60_000),
        ("stale", 2, 1, 195_000 + 60_000),
        ("stale", 2, None, 255_000),
    ]


def test_a_fixed_stale_after() -> None:
    eng = AlarmEngine(stale=StalePolicy(after_ms=120_000))
    assert states(eng.observe(fleet(600, silent_from=300))) == [("stale", 2, None, 415_000)]


@settings(max_examples=60, deadline=None)
@given(st.integers(100, 400), st.integers(1, 200))
def test_the_clock_and_the_next_reading_agree(silent_from, silence) -> None:
    """Whether the silence is noticed while other units report, or only when the unit comes
    back (nothing else reporting), the unit's stale and reporting times are the same."""
    end = silent_from + silence + 200
    base = fleet(end, silent_from=silent_from)
    back = [
        x
        for x in fleet(end)
        if x.asset_id == 2 and x.epoch_ms >= T0 + (silent_from + silence) * 1000
    ]
    merged = sorted(base + back, key=lambda x: x.epoch_ms)
    alone = sorted([x for x in merged if x.asset_id == 2], key=lambda x: x.epoch_ms)
    with_fleet = [x for x in AlarmEngine().observe(merged) if x.asset_id == 2]
    unit_alone = AlarmEngine().observe(alone)
    assert states(with_fleet) == states(unit_alone)


def test_a_device_clock_far_ahead_does_not_make_the_fleet_stale() -> None:
    eng = AlarmEngine()
    eng.observe(fleet(100))
    ahead = reading_from_payload(
        "s",
        "x",
        0,
        0,
        {
            "epochMs": T0 + 86_400_000,
            "rtms": T0 + 100_000,
            "assetId": 9,
            "tagId": 1,
            "label": "x",
            "val": 1,
        },
    )
    assert eng.observe([ahead]) == []
    assert eng.now_ms == T0 + 95_000


def test_a_shard_read_ahead_of_another_does_not_make_the_other_look_stale() -> None:
    """Catching up, a page of shard A may be minutes ahead of shard B's: units on B are not
    silent, they are just not read yet."""
    readings = fleet(400)
    on_a = [x._replace(shard="A") for x in readings if x.asset_id == 1]
    on_b = [x._replace(shard="B") for x in readings if x.asset_id == 2]
    # A is read to 400 s before B starts: B lags by up to 400 s (< the idle limit)
    eng = AlarmEngine()
    assert eng.observe(on_a[: len(on_a) // 2] + on_b[: len(on_b) // 4]) == []
    assert eng.observe(on_a[len(on_a) // 2 :] + on_b[len(on_b) // 4 :]) == []
    # a shard that delivers nothing while the others deliver many pages (idle, or closed
    # by resharding) no longer holds its tags back
    busy = [r(T0 + 400_000 + i * 10, 100 + i % 50, 1)._replace(shard="A") for i in range(60_000)]
    later = eng.observe(busy)
    assert [(x.state, x.asset_id) for x in later if x.asset_id in (1, 2)] == [
        ("stale", 1),
        ("stale", 2),
    ]


def test_a_backfill_far_older_than_its_shard_is_never_stale() -> None:
    """Readings that arrive far behind their shard's clock (store-and-forward data, a stream
    replayed into the feed) were never live here: their unit cannot fall silent."""
    eng = AlarmEngine()
    now = [r(T0 + s * 1000, 1, 1)._replace(shard="A") for s in range(0, 900, 5)]
    old = [r(T0 - 86_400_000 + s * 1000, 2, 1)._replace(shard="A") for s in range(0, 100, 5)]
    out = eng.observe(now[:100] + old + now[100:])
    assert [x for x in out if x.asset_id == 2] == []
    # the same unit reporting in step with its shard later is watched like any other
    fresh = [r(T0 + 900_000 + s * 1000, 2, 1)._replace(shard="A") for s in range(0, 50, 5)]
    more = [r(T0 + 950_000 + s * 1000, 1, 1)._replace(shard="A") for s in range(0, 300, 5)]
    assert [(x.state, x.time_ms - T0) for x in eng.observe(fresh + more) if x.asset_id == 2] == [
        ("stale", 945_000 + 60_000)
    ]
