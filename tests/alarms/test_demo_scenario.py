"""The demo's story: within minutes of its start the simulator's telemetry holds a unit that
falls silent and one whose suction pressure sinks until it trips on low suction; the demo's
built-in rules raise alarms on both."""

from __future__ import annotations

from flux_tui.alarms import AlarmEngine
from flux_tui.alarms.demo import DEMO_RULES
from flux_tui.data.formats import reading_from_payload
from flux_tui.sim.telemetry import Fleet

START = 1_764_590_400_000


def test_the_demo_raises_a_silent_unit_and_a_low_suction_trip_in_its_first_minutes() -> None:
    fleet = Fleet(seed=1, units=8, sites=2, orgs=1, anchor_ms=START)
    readings = [
        reading_from_payload("s", str(i), 0, p["rtms"] / 1000, p)
        for i, (_, p) in enumerate(fleet.generate(START - 120_000, START + 8 * 60_000))
    ]
    out = [
        (x.rule, x.state, x.asset_id, x.val, x.time_ms - START)
        for x in AlarmEngine(DEMO_RULES).observe(readings)
    ]
    silent, trips = fleet.silent_unit, fleet.shutdown_unit
    stale = [x for x in out if x[:3] == ("stale", "stale", silent)]
    assert len(stale) == 1 and stale[0][4] < 5 * 60_000
    low = [x for x in out if x[0] == "low suction pressure" and x[2] == trips]
    assert [x[1] for x in low] == ["active", "cleared"]
    stopped = [x for x in out if x[0] == "unit shut down"]
    assert [x[1:3] for x in stopped] == [("active", trips)]
    assert low[0][4] < stopped[0][4] < low[1][4] < 8 * 60_000  # sinks, trips, recovers
    assert fleet.run_state(trips, START + stopped[0][4]) == ("Stopped", 17)  # low suction
    assert {x[2] for x in out} == {silent, trips}  # the other units run quietly


def test_the_scenario_starts_when_the_simulator_does() -> None:
    fleet = Fleet(seed=1, anchor_ms=START)
    unit = fleet.silent_unit
    assert unit is not None
    assert not fleet.is_silent(unit, START + 59_000) and fleet.is_silent(unit, START + 61_000)
    assert fleet.is_silent(unit, START + 20 * 60_000) and not fleet.is_silent(
        unit, START + 22 * 60_000
    )
