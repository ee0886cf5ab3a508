"""The simulator's telemetry: documented payload shape, determinism, and believable dynamics."""

from __future__ import annotations

import collections
import functools
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.sim.fleet import CYCLE_MS, SILENT_PERIOD_MS
from flux_tui.sim.telemetry import SHUTDOWN_CODES, TAGS, Fleet

T0 = 1_764_000_000_000  # 2025-11-24T16:00Z: any fixed instant will do
PAYLOAD_KEYS = ["epochMs", "registerId", "val", "rtms", "pk", "tagId", "label", "tagName",
                "orgId", "siteId", "assetId"]


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet()


@pytest.fixture(scope="module")
def ten_minutes(fleet: Fleet) -> list[tuple[str, dict]]:
    return list(fleet.generate(T0, T0 + 600_000))


def test_payload_has_exactly_the_documented_fields_in_order(ten_minutes):
    for key, p in ten_minutes[:5000]:
        assert list(p) == PAYLOAD_KEYS
        assert key == str(p["assetId"])
        assert p["tagName"].startswith("register_tag__")
        assert isinstance(p["epochMs"], int) and isinstance(p["rtms"], int)
        pieces = p["pk"].split("_")
        assert len(pieces) == 8 and all(x.isdigit() for x in pieces)
        assert pieces[1:4] == [str(p["orgId"]), str(p["siteId"]), str(p["assetId"])]
        assert pieces[5] == str(p["tagId"])


def test_readings_are_in_time_order_and_inside_the_window(ten_minutes):
    times = [p["epochMs"] for _, p in ten_minutes]
    assert times == sorted(times)
    assert times[0] >= T0 and times[-1] < T0 + 600_000


def test_field_to_cloud_delay_is_realistic(ten_minutes):
    delays = sorted(p["rtms"] - p["epochMs"] for _, p in ten_minutes)
    median = delays[len(delays) // 2]
    assert all(d > 0 for d in delays)
    assert 200 <= median <= 3000
    long = sum(d > 4000 for d in delays) / len(delays)
    assert 0.001 < long < 0.05  # store-and-forward happens, but rarely


def test_every_unit_reports_about_forty_tags_with_varied_value_types(fleet, ten_minutes):
    per_unit = collections.defaultdict(set)
    types = collections.Counter()
    for _, p in ten_minutes:
        per_unit[p["assetId"]].add(p["tagName"])
        types[type(p["val"]).__name__] += 1
    assert set(per_unit) == {u.asset_id for u in fleet.units}
    for asset_id, names in per_unit.items():
        assert len(names) == len(fleet.tags_for(asset_id))
        assert 38 <= len(names) <= 41
    assert {"float", "int", "bool", "str"} <= set(types)
    assert types["float"] > types["int"] > 0


def test_tags_cover_a_compressor(fleet):
    keys = {t.key for t in TAGS}
    for needed in ("suction_pressure", "stage_1_discharge_pressure",
                   "stage_2_discharge_temperature", "engine_speed", "engine_oil_pressure",
                   "coolant_temperature", "frame_vibration", "run_status", "shutdown_code",
                   "alarm_code", "loading_valve_#4_status"):
        assert needed in keys
    assert len(TAGS) == len({t.key for t in TAGS})
    meta = fleet.tag_meta()
    assert len({m["pk"] for m in meta}) == len(meta)  # one series per pk
    assert all(re.fullmatch(r"register_tag__[a-z0-9_#]+", m["tagName"]) for m in meta)


def test_same_seed_same_readings_other_seed_other_readings():
    a = list(Fleet(seed=7).generate(T0, T0 + 30_000))
    b = list(Fleet(seed=7).generate(T0, T0 + 30_000))
    c = list(Fleet(seed=8).generate(T0, T0 + 30_000))
    assert a == b
    assert [p["val"] for _, p in a] != [p["val"] for _, p in c]


@pytest.mark.parametrize("cuts", [[T0 + 1], [T0 + 37_123], [T0 + 999, T0 + 1000, T0 + 61_500]])
def test_splitting_the_window_does_not_change_the_readings(fleet, cuts):
    end = T0 + 130_000
    whole = list(fleet.generate(T0, end))
    bounds = [T0, *cuts, end]
    pieces = [r for lo, hi in itertools.pairwise(bounds) for r in fleet.generate(lo, hi)]
    assert pieces == whole


def test_window_split_keeps_event_tags_consistent(fleet):
    # Event tags send on change: the reading right after a cut must not be lost or doubled.
    unit = fleet.shutdown_unit
    end = T0 + 2 * CYCLE_MS
    whole = list(fleet.generate(T0, end, asset_ids=[unit], tags=["run_status"]))
    step = 7 * 60_000 + 13
    pieces = [r for lo in range(T0, end, step)
              for r in fleet.generate(lo, min(lo + step, end), asset_ids=[unit],
                                      tags=["run_status"])]
    assert pieces == whole


def test_the_shutdown_unit_trips_stops_and_restarts(fleet):
    unit = fleet.shutdown_unit
    readings = [p for _, p in fleet.generate(
        T0, T0 + 2 * CYCLE_MS, asset_ids=[unit],
        tags=["engine_speed", "run_status", "shutdown_code", "controller_state"])]
    statuses = [p["val"] for p in readings if p["tagName"].endswith("run_status")]
    transitions = [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]
    assert "0, 2, 1" in ", ".join(map(str, transitions))  # stopped → starting → running
    stopped_at = next(p["epochMs"] for p in readings
                      if p["tagName"].endswith("run_status") and p["val"] == 0)
    codes = [p["val"] for p in readings
             if p["tagName"].endswith("shutdown_code") and p["epochMs"] == stopped_at]
    assert codes and codes[0] in SHUTDOWN_CODES
    speeds = [(p["epochMs"], p["val"]) for p in readings if p["tagName"].endswith("engine_speed")]
    assert any(v == 0 for t, v in speeds if t > stopped_at + 60_000)
    assert any(v > 1000 for t, v in speeds if t > stopped_at + 30 * 60_000)
    states = {p["val"] for p in readings if p["tagName"].endswith("controller_state")}
    assert "Running" in states and any(s.startswith("Shutdown: ") for s in states)
    assert fleet.run_state(unit, stopped_at)[0] == "Stopped"


def test_other_units_keep_running(fleet):
    other = fleet.units[0].asset_id
    speeds = [p["val"] for _, p in fleet.generate(T0, T0 + CYCLE_MS, asset_ids=[other],
                                                  tags=["engine_speed"])]
    assert min(speeds) > 1000


def test_the_silent_unit_goes_quiet_for_a_while(fleet):
    unit = fleet.silent_unit
    times = [p["epochMs"] for _, p in fleet.generate(
        T0, T0 + SILENT_PERIOD_MS, asset_ids=[unit], tags=["suction_pressure"])]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) >= 19 * 60_000
    assert sorted(gaps)[len(gaps) // 2] == 1000  # otherwise it reports every second
    assert fleet.is_silent(unit, times[gaps.index(max(gaps))] + 60_000)


def test_event_tags_report_on_change_or_heartbeat(fleet):
    unit = fleet.units[0].asset_id
    valve = [p for _, p in fleet.generate(T0, T0 + 3_600_000, asset_ids=[unit],
                                          tags=["loading_valve_#4_status"])]
    # Checked every second, but sent only on a change or every two minutes.
    assert 25 <= len(valve) <= 60
    gaps = [b["epochMs"] - a["epochMs"] for a, b in itertools.pairwise(valve)]
    assert max(gaps) <= 120_000
    assert {p["val"] for p in valve} <= {1, 2}


def test_temperatures_follow_the_day(fleet):
    unit = fleet.units[0].asset_id
    amb = {p["epochMs"]: p["val"] for _, p in fleet.generate(
        T0, T0 + 86_400_000, asset_ids=[unit], tags=["ambient_temperature"])}
    assert max(amb.values()) - min(amb.values()) > 20


@pytest.mark.parametrize("rate", [5.0, 1_000.0, 25_000.0])
def test_rate_rescales_density(rate):
    fleet = Fleet(rate=rate)
    seconds = max(2, int(60_000 / rate))
    n = sum(1 for _ in fleet.generate(T0, T0 + seconds * 1000))
    assert n / seconds == pytest.approx(rate, rel=0.25)


def test_default_rate_is_a_few_hundred_a_second(ten_minutes):
    assert 150 <= len(ten_minutes) / 600 <= 600


def test_assets_match_the_telemetry(fleet, ten_minutes):
    assets = fleet.assets(now_ms=T0)
    assert len(assets) == len(fleet.units)
    by_id = {a["assetId"]: a for a in assets}
    for _, p in ten_minutes[:2000]:
        a = by_id[p["assetId"]]
        assert a["organization"]["orgId"] == p["orgId"]
        assert a["site"]["siteId"] == p["siteId"]
    for a in assets:
        assert {"name", "assetId", "organization", "site", "operatingArea", "mechanic",
                "assetType", "deviceId", "ipAddress", "connectivityInfo", "fluxId",
                "netsuiteId"} <= set(a)
        assert set(a["mechanic"]) >= {"name", "email", "phone"}
        assert set(a["connectivityInfo"]) >= {"status", "lastUpdateTime", "lastUpdatedBy"}
        assert str(a["assetId"]) in a["name"]
    assert len({a["netsuiteId"] for a in assets}) == len(assets)
    assert not {a["netsuiteId"] for a in assets} & set(by_id)  # the two id spaces never meet


def test_silent_unit_shows_offline_while_silent(fleet):
    unit = fleet.silent_unit
    quiet = next(t for t in range(T0, T0 + SILENT_PERIOD_MS, 60_000) if fleet.is_silent(unit, t))
    status = {a["assetId"]: a["connectivityInfo"]["status"] for a in fleet.assets(now_ms=quiet)}
    assert status[unit] == "Offline"
    assert status[fleet.units[0].asset_id] == "Online"


def test_layout_spreads_units_over_sites_and_orgs():
    fleet = Fleet(orgs=3, sites=7, units=30)
    assert len({u.site.site_id for u in fleet.units}) == 7
    assert len({u.org.org_id for u in fleet.units}) == 3
    assert len({u.asset_id for u in fleet.units}) == 30
    with pytest.raises(ValueError):
        Fleet(orgs=3, sites=2, units=5)


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=40_000), max_size=4),
       rate=st.sampled_from([None, 40.0, 700.0]))
def test_any_split_gives_the_same_readings(cuts, rate):
    fleet = _small_fleet(rate)
    end = T0 + 40_000
    whole = list(fleet.generate(T0, end))
    bounds = [T0, *sorted(T0 + c for c in cuts), end]
    assert [r for lo, hi in itertools.pairwise(bounds) for r in fleet.generate(lo, hi)] == whole


@functools.cache
def _small_fleet(rate: float | None) -> Fleet:
    return Fleet(seed=5, orgs=1, sites=2, units=3, rate=rate)
