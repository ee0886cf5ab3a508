"""Properties of the alarm rules on reading time: on-delay, deadband, latch, acknowledge,
shelve and clear, checked against a small reference model written from the issue's words;
and the same readings in any batching (live pages or a replay) give the same transitions."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.alarms import AlarmEngine, AlarmRule, Transition
from flux_tui.data.formats import reading_from_payload
from flux_tui.feed.types import Reading

T0 = 1_764_590_400_000
LIMIT = 20.0


def reading(
    t: int, val: Any, *, tag: int = 889, asset: int = 1111, label: str = "Suction Pressure"
) -> Reading:
    payload = {
        "epochMs": t,
        "rtms": t + 500,
        "assetId": asset,
        "tagId": tag,
        "label": label,
        "tagName": "suction_pressure",
        "val": val,
    }
    return reading_from_payload("s", str(t), 0, t / 1000, payload)


def series(steps: list[tuple[int, float]]) -> list[Reading]:
    """Readings of one tag at increasing times (steps are (gap in s, value))."""
    out, t = [], T0
    for gap, val in steps:
        t += gap * 1000
        out.append(reading(t, val))
    return out


def rule(**kw: Any) -> AlarmRule:
    return AlarmRule(
        name=kw.pop("name", "low suction"),
        when=kw.pop("when", f'label:"suction pressure" val<{LIMIT:g}'),
        **kw,
    )


def engine(r: AlarmRule) -> AlarmEngine:
    return AlarmEngine([r], watch_stale=False)


def model(
    steps: list[Reading], for_ms: int, deadband: float, latch: bool, acks: set[int]
) -> list[tuple[int, str]]:
    """The issue's rule semantics, written plainly: (time, state) of each transition.
    ``acks`` are indexes after which the user acknowledges."""
    out: list[tuple[int, str]] = []
    since = None
    raised = acked = returned = False
    for i, r in enumerate(steps):
        t, v = r.epoch_ms, r.val
        assert t is not None
        low = v < LIMIT
        if not raised:
            since = (since if since is not None else t) if low else None
            if since is not None and t - since >= for_ms:
                raised, acked, returned = True, False, False
                out.append((t, "active"))
        elif low:
            returned = False
        elif v >= LIMIT + deadband:
            if latch and not acked:
                returned = True
            else:
                out.append((t, "cleared"))
                raised, since = False, None
        if i in acks and raised and not acked:
            acked = True
            out.append((t, "acknowledged"))
            if returned:
                out.append((t, "cleared"))
                raised, since = False, None
    return out


values = st.floats(min_value=10, max_value=30, allow_nan=False).map(lambda v: round(v, 1))
steps_st = st.lists(st.tuples(st.integers(1, 40), values), min_size=1, max_size=60)


@settings(max_examples=400, deadline=None)
@given(
    steps_st,
    st.integers(0, 120),
    st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    st.booleans(),
    st.sets(st.integers(0, 59), max_size=6),
)
def test_engine_follows_the_rule_semantics(steps, for_s, deadband, latch, acks) -> None:
    readings = series(steps)
    eng = engine(rule(for_ms=for_s * 1000, deadband=deadband, latch=latch))
    got: list[tuple[int, str]] = []
    key = ("low suction", 1111, 889)
    for i, r in enumerate(readings):
        got += [(x.time_ms, x.state) for x in eng.observe([r])]
        if i in acks:
            got += [(x.time_ms, x.state) for x in eng.acknowledge(key)]
    assert got == model(readings, for_s * 1000, deadband, latch, acks)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 120), st.lists(st.integers(1, 5), min_size=1, max_size=30))
def test_a_crossing_shorter_than_the_on_delay_raises_nothing(for_s, gaps) -> None:
    # below the limit for less than the on-delay, bracketed by normal readings
    t, steps = 0, [(1, 25.0)]
    for gap in gaps:
        if t + gap >= for_s:
            break
        t += gap
        steps.append((gap, 15.0))
    steps.append((1, 25.0))
    assert engine(rule(for_ms=for_s * 1000)).observe(series(steps)) == []


@settings(max_examples=200, deadline=None)
@given(steps_st, st.sampled_from([0.5, 1.0, 2.0]))
def test_cleared_only_beyond_the_deadband(steps, deadband) -> None:
    readings = series(steps)
    for x in engine(rule(deadband=deadband)).observe(readings):
        if x.state == "cleared":
            assert x.val >= LIMIT + deadband
        else:
            assert x.state == "active" and x.val < LIMIT


@settings(max_examples=200, deadline=None)
@given(steps_st)
def test_a_latched_alarm_never_clears_unacknowledged(steps) -> None:
    out = engine(rule(latch=True)).observe(series(steps))
    assert [x.state for x in out] in ([], ["active"])


@settings(max_examples=200, deadline=None)
@given(steps_st, st.lists(st.integers(1, 60), max_size=10))
def test_batching_and_replay_give_the_same_transitions(steps, cuts) -> None:
    readings = series(steps)
    whole = engine(rule(for_ms=10_000, deadband=1.0)).observe(readings)
    eng = engine(rule(for_ms=10_000, deadband=1.0))
    pieces: list[Transition] = []
    start = 0
    for cut in sorted(set(cuts)) + [len(readings)]:
        pieces += eng.observe(readings[start:cut])
        start = max(start, cut)
    assert pieces == whole
    assert list(eng.journal) == whole


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 30))
def test_shelved_alarms_neither_ring_nor_count_until_the_shelf_ends(minutes) -> None:
    eng = engine(rule(bell=True, severity="critical"))
    first = eng.observe(series([(1, 15.0)]))
    assert first[0].bell and eng.counts()["critical"] == 1
    key = first[0].key
    assert [x.state for x in eng.shelve(key, minutes)] == ["shelved"]
    assert eng.counts()["critical"] == 0
    # clears and comes back while shelved: no bell
    t = T0 + 2000
    again = eng.observe([reading(t, 25.0), reading(t + 1000, 15.0)])
    assert [x.state for x in again] == ["cleared", "active"]
    assert not again[1].bell and again[1].shelved
    # the shelf ends on reading time
    later = eng.observe([reading(t + 2000 + minutes * 60_000, 14.0)])
    assert [x.state for x in later] == ["unshelved"]
    assert eng.counts()["critical"] == 1


def test_each_rule_unit_and_tag_is_its_own_alarm() -> None:
    eng = AlarmEngine(
        [rule(), rule(name="very low", when="label:suction val<10")], watch_stale=False
    )
    out = eng.observe([reading(T0, 15.0), reading(T0, 5.0, tag=900), reading(T0, 5.0, asset=2)])
    assert sorted(x.key for x in out) == sorted(
        [
            ("low suction", 1111, 889),
            ("low suction", 1111, 900),
            ("low suction", 2, 889),
            ("very low", 1111, 900),
            ("very low", 2, 889),
        ]
    )


def test_clear_when_replaces_the_deadband() -> None:
    eng = engine(rule(clear_when='label:"suction pressure" val>30'))
    out = eng.observe(series([(1, 15.0), (1, 25.0), (1, 31.0)]))
    assert [(x.state, x.val) for x in out] == [("active", 15.0), ("cleared", 31.0)]


def test_values_that_are_no_numbers_neither_raise_nor_clear() -> None:
    out = engine(rule()).observe(series([(1, 15.0), (1, None), (1, "n/a"), (1, True)]))  # type: ignore[list-item]
    assert [x.state for x in out] == ["active"]
