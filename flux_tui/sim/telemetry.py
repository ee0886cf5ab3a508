"""Believable compressor telemetry for the simulator: a fleet of units with about 40 tags each.

Every value is a pure function of (seed, unit, tag, sample index) and of time, never of the order
of calls, so any split of a time range into windows yields exactly the same readings. Identity and
unit behaviour live in :mod:`flux_tui.sim.fleet`; this module owns the tag catalogue, how each tag
follows its unit, and the time-ordered generator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from flux_tui.sim.fleet import (
    ALARM_CODES,
    DAY_MS,
    DAY_PHASE,
    ESD_CODE,
    GOLDEN,
    M64,
    RUN_STATUS,
    RUNNING,
    SHUTDOWN_CODES,
    START_MS,
    STOP_MS,
    STOPPED,
    TWO_PI,
    Unit,
    UnitDynamics,
    asset_record,
    build_layout,
    mix,
    stable_hash,
)

__all__ = [
    "ALARM_CODES", "RUN_STATUS", "SHUTDOWN_CODES", "TAGS", "TAG_IDS", "Fleet", "TagSpec", "Unit",
]

_HEARTBEAT_SAMPLES = 120  # event tags re-send an unchanged value every 120 checks


class TagSpec(NamedTuple):
    """One tag of the catalogue and the knobs of its dynamics."""

    key: str  # tagName is "register_tag__" + key
    label: str
    kind: str  # "analog", "ambient", "hours", or an event kind (see _EventStream)
    interval_s: float  # sampling (analog) or change-check (event) interval before rate scaling
    base: float = 0.0  # set point while running
    noise: float = 0.0  # amplitude of per-sample noise
    drift: float = 0.0  # amplitude of the slow wander
    daily: float = 0.0  # amplitude of the daily swing
    idle: str = "zero"  # where it settles after a stop: zero, ambient, hold (stays put)
    tau_s: float = 60.0  # how fast it settles after a stop
    per_load: float = 0.0  # change per loading step above two valves loaded
    decimals: int = 1
    stage: int = 0  # compression stage (3 = only on three-stage units)


_A = "analog"
TAGS: tuple[TagSpec, ...] = (
    TagSpec("suction_pressure", "Suction Pressure", _A, 1, 35, 0.6, 2, 0, "hold", per_load=-1.0),
    TagSpec("suction_temperature", "Suction Temperature", _A, 5, 78, 0.4, 1, 12, "hold"),
    TagSpec("stage_1_discharge_pressure", "Stage 1 Discharge Pressure", _A, 1, 185, 2, 6, 0,
            "hold", 90, 8),
    TagSpec("stage_1_discharge_temperature", "Stage 1 Discharge Temperature", _A, 5, 245, 1, 4,
            6, "ambient", 900),
    TagSpec("stage_2_discharge_pressure", "Stage 2 Discharge Pressure", _A, 1, 610, 4, 12, 0,
            "hold", 90, 15),
    TagSpec("stage_2_discharge_temperature", "Stage 2 Discharge Temperature", _A, 5, 265, 1, 4,
            6, "ambient", 900),
    TagSpec("stage_3_discharge_pressure", "Stage 3 Discharge Pressure", _A, 1, 1180, 6, 20, 0,
            "hold", 90, 25, stage=3),
    TagSpec("stage_3_discharge_temperature", "Stage 3 Discharge Temperature", _A, 5, 280, 1, 4,
            6, "ambient", 900, stage=3),
    TagSpec("engine_speed", "Engine Speed", _A, 1, 1420, 6, 15, 0, "zero", 4, 20, 0),
    TagSpec("engine_load", "Engine Load", _A, 5, 68, 1.5, 2, 0, "zero", 4, 12),
    TagSpec("engine_oil_pressure", "Engine Oil Pressure", _A, 5, 58, 0.8, 1, 0, "zero", 20),
    TagSpec("engine_oil_temperature", "Engine Oil Temperature", _A, 5, 195, 0.5, 2, 3,
            "ambient", 1200),
    TagSpec("compressor_oil_pressure", "Compressor Oil Pressure", _A, 5, 62, 0.8, 1, 0, "zero",
            20),
    TagSpec("compressor_oil_temperature", "Compressor Oil Temperature", _A, 5, 165, 0.5, 2, 3,
            "ambient", 1200),
    TagSpec("coolant_temperature", "Coolant Temperature", _A, 5, 182, 0.4, 2, 4, "ambient", 1500),
    TagSpec("frame_vibration", "Frame Vibration", _A, 5, 0.18, 0.03, 0.02, 0, "zero", 3,
            decimals=3),
    TagSpec("engine_vibration", "Engine Vibration", _A, 5, 0.26, 0.04, 0.03, 0, "zero", 3,
            decimals=3),
    TagSpec("ambient_temperature", "Ambient Temperature", "ambient", 30, 0, 0.3),
    TagSpec("intake_manifold_pressure", "Intake Manifold Pressure", _A, 5, 14.5, 0.3, 0.8, 0,
            "zero", 10, 1.5),
    TagSpec("intake_manifold_temperature", "Intake Manifold Temperature", _A, 5, 128, 0.6, 2, 5,
            "ambient", 600),
    TagSpec("exhaust_temperature_left", "Exhaust Temperature Left Bank", _A, 5, 1020, 5, 15, 0,
            "ambient", 900, 10, 0),
    TagSpec("exhaust_temperature_right", "Exhaust Temperature Right Bank", _A, 5, 1005, 5, 15, 0,
            "ambient", 900, 10, 0),
    TagSpec("fuel_gas_pressure", "Fuel Gas Pressure", _A, 15, 24.5, 0.3, 0.6, 0, "hold"),
    TagSpec("battery_voltage", "Battery Voltage", _A, 30, 24.6, 0.05, 0.1, 0, "hold",
            decimals=2),
    TagSpec("gas_flow_rate", "Gas Flow Rate", _A, 5, 420, 4, 20, 0, "zero", 30, 45),
    TagSpec("suction_scrubber_level", "Suction Scrubber Level", _A, 15, 32, 2, 10, 0, "hold",
            decimals=0),
    TagSpec("recycle_valve_position", "Recycle Valve Position", _A, 5, 18, 1.5, 6, 0, "zero",
            30, -5),
    TagSpec("run_hours", "Run Hours", "hours", 30),
    TagSpec("run_status", "Run Status", "run_status", 1),
    TagSpec("shutdown_code", "Shutdown Code", "shutdown_code", 1),
    TagSpec("alarm_code", "Alarm Code", "alarm_code", 1),
    TagSpec("loading_valve_#1_status", "Valve Loaded Position", "valve", 1, base=1),
    TagSpec("loading_valve_#2_status", "Valve Loaded Position", "valve", 1, base=2),
    TagSpec("loading_valve_#3_status", "Valve Loaded Position", "valve", 1, base=3),
    TagSpec("loading_valve_#4_status", "Valve Loaded Position", "valve", 1, base=4),
    TagSpec("compressor_running", "Compressor Running", "running", 1),
    TagSpec("low_oil_level", "Low Oil Level Switch", "low_oil", 1),
    TagSpec("emergency_stop", "Emergency Stop Active", "estop", 1),
    TagSpec("auto_start_enabled", "Auto Start Enabled", "auto_start", 5),
    TagSpec("controller_state", "Controller State", "controller_state", 1),
)
TAG_IDS = {spec.key: 862 + i for i, spec in enumerate(TAGS)}
REGISTER_IDS = {spec.key: 389 + i for i, spec in enumerate(TAGS)}


def _delay_ms(h: int) -> int:
    """Field-to-cloud delay: usually a few hundred ms to ~2.5 s, ~1 % store-and-forward."""
    u = (h >> 48) / 65536.0
    if (h >> 40) & 0xFF < 3:
        return 4_000 + int(u * 56_000)
    return 200 + int(u * u * 2_300)


class _Stream:
    """One (unit, tag) series sampled on its own grid ``phase + k * interval``."""

    __slots__ = (
        "base",
        "dyn",
        "interval",
        "key",
        "offset",
        "omega1",
        "omega2",
        "order",
        "partition",
        "phi1",
        "phi2",
        "scale",
        "sinks",
        "spec",
        "tau_ms",
        "template",
    )

    def __init__(self, seed: int, dyn: UnitDynamics, spec: TagSpec, order: int) -> None:
        unit = dyn.unit
        self.spec, self.dyn, self.order = spec, dyn, order
        self.partition = str(unit.asset_id)
        tag_id, register_id = TAG_IDS[spec.key], REGISTER_IDS[spec.key]
        pk = (f"1_{unit.org.org_id}_{unit.site.site_id}_{unit.asset_id}_{unit.device_id}"
              f"_{tag_id}_{unit.slave_id}_{register_id - 308}")
        # Key order is the documented payload's; copy() keeps it.
        self.template: dict[str, Any] = {
            "epochMs": 0, "registerId": register_id, "val": None, "rtms": 0, "pk": pk,
            "tagId": tag_id, "label": spec.label, "tagName": "register_tag__" + spec.key,
            "orgId": unit.org.org_id, "siteId": unit.site.site_id, "assetId": unit.asset_id,
        }
        self.key = stable_hash(seed, unit.asset_id, spec.key)
        u = lambda shift: ((self.key >> shift) & 0xFFFF) / 65536.0
        # Each unit runs a little differently: ±8 % on the set point, its own wander.
        self.base = spec.base * (0.92 + 0.16 * u(0))
        self.omega1 = TWO_PI / (20 * 60_000 * (1 + u(16)))
        self.omega2 = TWO_PI / (3 * 3_600_000 * (1 + u(32)))
        self.phi1, self.phi2 = TWO_PI * u(48), TWO_PI * u(8)
        self.tau_ms = spec.tau_s * 1000.0
        self.sinks = spec.key == "suction_pressure" and dyn.cycles  # low-suction trips
        self.set_scale(1.0)

    @property
    def base_rate(self) -> float:
        """Readings a second at scale 1 (event tags: their heartbeat; changes are rare)."""
        per_sample = 1.0 if self.spec.kind in ("analog", "ambient", "hours") else (
            1.0 / _HEARTBEAT_SAMPLES)
        return per_sample / self.spec.interval_s

    def set_scale(self, scale: float) -> None:
        """Stretch (>1) or squeeze (<1) the sampling grid; whole seconds stay whole at 1."""
        self.scale = scale
        self.interval = max(1, round(self.spec.interval_s * 1000 * scale))
        if self.interval % 1000 == 0:
            self.offset = (self.key >> 24) % (self.interval // 1000) * 1000
        else:
            self.offset = (self.key >> 24) % self.interval

    def value(self, t: int, h: int) -> Any:
        """The reading's value at ``t``; ``h`` is the sample's own random bits."""
        spec, dyn = self.spec, self.dyn
        kind = spec.kind
        if kind == "analog":
            status, since, _code = dyn.phase(t)
            run_v = (self.base
                     + spec.drift * (math.sin(self.omega1 * t + self.phi1)
                                     + 0.5 * math.sin(self.omega2 * t + self.phi2))
                     + spec.daily * math.sin(TWO_PI * (t % DAY_MS) / DAY_MS + DAY_PHASE)
                     + spec.per_load * (dyn.load_step(t) - 2))
            if self.sinks:
                run_v -= dyn.suction_sink(t)
            noise = spec.noise * (((h & 0xFFFFF) + ((h >> 20) & 0xFFFFF)) / 1048576.0 - 1.0)
            if status == RUNNING or spec.idle == "hold":
                v = run_v + noise
            else:
                if status == STOPPED:
                    f = math.exp(-since / self.tau_ms)
                else:  # start-up ramps from where the stop left it
                    r_end = math.exp(-STOP_MS / self.tau_ms)
                    f = r_end + (1.0 - r_end) * since / START_MS
                if spec.idle == "zero":
                    if f < 0.01:
                        return 0 if spec.decimals == 0 else 0.0
                    idle = 0.0
                else:
                    idle = dyn.ambient(t)
                v = idle + (run_v - idle) * f + noise * f
            return round(v) if spec.decimals == 0 else round(v, spec.decimals)
        if kind == "ambient":
            noise = spec.noise * (((h & 0xFFFFF) + ((h >> 20) & 0xFFFFF)) / 1048576.0 - 1.0)
            return round(dyn.ambient(t) + noise, 1)
        if kind == "hours":
            return round(dyn.hours_base + t / 3_600_000.0, 1)
        return self.event_value(t)

    def event_value(self, t: int) -> Any:
        """Values that change only on events: statuses, codes, valve positions."""
        kind, dyn = self.spec.kind, self.dyn
        status, _since, code = dyn.phase(t)
        if kind == "run_status":
            return status
        if kind == "shutdown_code":
            return code
        if kind == "alarm_code":
            return dyn.alarm(t)
        if kind == "valve":  # 2 = loaded, 1 = unloaded (the documented example reads 2)
            return 2 if status == RUNNING and dyn.load_step(t) >= self.spec.base else 1
        if kind == "running":
            return status == RUNNING
        if kind == "low_oil":
            return dyn.low_oil(t)
        if kind == "estop":
            return code == ESD_CODE
        if kind == "auto_start":
            return dyn.auto_start
        if kind == "controller_state":
            if status == STOPPED:
                return "Shutdown: " + SHUTDOWN_CODES[code]
            return RUN_STATUS[status]
        raise ValueError(f"unknown tag kind {kind!r}")

    def emit(self, t0: int, t1: int, out: list[tuple[int, int, str, dict[str, Any]]]) -> None:
        """Append this stream's readings with ``t0 <= epochMs < t1`` to ``out``."""
        iv, off = self.interval, self.offset
        k = -((off - t0) // iv)  # first sample index at or after t0 (ceiling division)
        t = off + k * iv
        dyn, key, order, part, tmpl = self.dyn, self.key, self.order, self.partition, self.template
        silent = dyn.silent
        if self.spec.kind in ("analog", "ambient", "hours"):
            while t < t1:
                if not (silent and dyn.is_silent(t)):
                    h = mix((key + k * GOLDEN) & M64)
                    d = tmpl.copy()
                    d["epochMs"] = t
                    d["val"] = self.value(t, h)
                    d["rtms"] = t + _delay_ms(h)
                    out.append((t, order, part, d))
                k += 1
                t += iv
            return
        # Event tags report on change or on a slow heartbeat; comparing with the previous grid
        # point (recomputed, not remembered) keeps any window split consistent.
        prev = self.event_value(t - iv)
        while t < t1:
            v = self.event_value(t)
            if (v != prev or k % _HEARTBEAT_SAMPLES == 0) and not (silent and dyn.is_silent(t)):
                h = mix((key + k * GOLDEN) & M64)
                d = tmpl.copy()
                d["epochMs"] = t
                d["val"] = v
                d["rtms"] = t + _delay_ms(h)
                out.append((t, order, part, d))
            prev = v
            k += 1
            t += iv


class Fleet:
    """A simulated company's compressor fleet and the telemetry it sends.

    ``rate`` (readings a second over the whole fleet) rescales every sampling interval; by
    default the fleet sends what real controllers do, a few hundred readings a second.
    ``anchor_ms`` places the demo's scenario: the silent unit stops sending a minute after it
    and the shutdown unit trips on low suction (its suction pressure sinking first) five
    minutes after it; without it both follow their own seed-given schedule.
    """

    def __init__(self, seed: int = 1, orgs: int = 2, sites: int = 5, units: int = 24,
                 rate: float | None = None, anchor_ms: int | None = None) -> None:
        self.seed = seed
        self.units: list[Unit] = build_layout(seed, orgs, sites, units)
        self.by_asset: dict[int, Unit] = {u.asset_id: u for u in self.units}
        #: The unit that trips, sits stopped and restarts on a 100-minute cycle.
        self.shutdown_unit: int | None = self.units[1].asset_id if units >= 2 else None
        #: The unit whose radio drops for 20 minutes every 3 hours.
        self.silent_unit: int | None = self.units[2].asset_id if units >= 3 else None
        self.dynamics: dict[int, UnitDynamics] = {
            u.asset_id: UnitDynamics(seed, u, cycles=u.asset_id == self.shutdown_unit,
                                     silent=u.asset_id == self.silent_unit, anchor_ms=anchor_ms)
            for u in self.units
        }
        self._streams: list[_Stream] = []
        for unit in self.units:
            for spec in self.tags_for(unit.asset_id):
                self._streams.append(
                    _Stream(seed, self.dynamics[unit.asset_id], spec, len(self._streams)))
        natural = sum(s.base_rate for s in self._streams)
        if rate is not None:
            if rate <= 0:
                raise ValueError("rate must be positive")
            for s in self._streams:
                s.set_scale(natural / rate)
        #: The nominal readings a second the fleet produces (event changes come on top).
        self.rate: float = sum(
            s.base_rate * s.spec.interval_s * 1000 / s.interval for s in self._streams)

    def tags_for(self, asset_id: int) -> list[TagSpec]:
        """The tags unit ``asset_id`` reports (three-stage units have two more)."""
        stages = self.by_asset[asset_id].stages
        return [spec for spec in TAGS if spec.stage <= stages]

    def tag_meta(self) -> list[dict[str, Any]]:
        """Static metadata of every (unit, tag) series: ids, pk, label, tagName, interval."""
        return [{k: v for k, v in s.template.items() if k not in ("epochMs", "val", "rtms")}
                | {"kind": s.spec.kind, "intervalMs": s.interval} for s in self._streams]

    def generate(self, t0_ms: int, t1_ms: int, *, asset_ids: Iterable[int] | None = None,
                 tags: Iterable[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(partition_key, payload)`` for each reading with ``t0_ms <= epochMs < t1_ms``.

        Readings come in time order (ties broken by a fixed series order). ``asset_ids`` and
        ``tags`` (tag keys, e.g. ``"engine_speed"``) restrict the series, mostly for tests.
        """
        streams = self._streams
        if asset_ids is not None:
            wanted = set(asset_ids)
            streams = [s for s in streams if s.dyn.unit.asset_id in wanted]
        if tags is not None:
            wanted_tags = set(tags)
            streams = [s for s in streams if s.spec.key in wanted_tags]
        if not streams or t1_ms <= t0_ms:
            return
        rate = sum(1000.0 / s.interval for s in streams)
        # Sort in chunks of ~20k candidate samples: memory stays bounded on long windows, and a
        # full sort per chunk keeps the order independent of where the windows are cut.
        chunk = max(1, int(20_000 * 1000 / rate))
        out: list[tuple[int, int, str, dict[str, Any]]] = []
        for c0 in range(t0_ms, t1_ms, chunk):
            c1 = min(c0 + chunk, t1_ms)
            for s in streams:
                s.emit(c0, c1, out)
            out.sort(key=_sort_key)
            for _t, _order, part, payload in out:
                yield part, payload
            out.clear()

    def run_state(self, asset_id: int, t_ms: int) -> tuple[str, int]:
        """The unit's run status name and shutdown code at ``t_ms`` (for tests and the demo)."""
        status, _since, code = self.dynamics[asset_id].phase(t_ms)
        return RUN_STATUS[status], code

    def is_silent(self, asset_id: int, t_ms: int) -> bool:
        """True while unit ``asset_id`` sends nothing."""
        return self.dynamics[asset_id].is_silent(t_ms)

    def assets(self, now_ms: int | None = None) -> list[dict[str, Any]]:
        """Enterprise Objects asset documents for the fleet, consistent with the telemetry.

        ``now_ms`` dates the connectivity check (the silent unit reads "Offline" while silent).
        """
        now = int(time.time() * 1000) if now_ms is None else now_ms
        docs = []
        for unit in self.units:
            checked = now - (stable_hash(self.seed, "check", unit.asset_id) % 600_000)
            online = not self.dynamics[unit.asset_id].is_silent(now)
            docs.append(asset_record(unit, online=online, checked_ms=checked))
        return docs


def _sort_key(item: tuple[int, int, str, dict[str, Any]]) -> tuple[int, int]:
    return item[0], item[1]
