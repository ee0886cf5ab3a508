"""The simulated company: organisations, sites and compressor units, their asset records, and
how each unit behaves over time (run cycle, loading, alarms, radio silence).

Shared by the telemetry generator and the Enterprise Objects routes so both describe exactly the
same fleet. Everything derives from the seed and from time, never from call order.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
TWO_PI = 2.0 * math.pi
DAY_MS = 86_400_000
# Peak of the daily swing at 21:00 UTC, mid-afternoon in the US oil patch.
DAY_PHASE = math.pi / 2 - TWO_PI * 0.875

RUN_STATUS = {0: "Stopped", 1: "Running", 2: "Starting"}
STOPPED, RUNNING, STARTING = 0, 1, 2
SHUTDOWN_CODES = {
    12: "High Discharge Temperature", 17: "Low Suction Pressure", 23: "High Vibration",
    31: "Low Oil Pressure", 44: "Emergency Stop",
}
ALARM_CODES = {
    101: "High Suction Pressure Warning", 104: "Low Fuel Gas Pressure",
    112: "High Coolant Temperature Warning", 120: "Communication Loss Slave 2",
}
ESD_CODE = 44
# The shutdown unit's cycle: run, trip and sit stopped, then a start-up ramp (minutes).
RUN_MS, STOP_MS, START_MS = 70 * 60_000, 25 * 60_000, 5 * 60_000
CYCLE_MS = RUN_MS + STOP_MS + START_MS
SILENT_PERIOD_MS, SILENT_MS = 3 * 3_600_000, 20 * 60_000
LOW_SUCTION_CODE = 17
# Before a low-suction trip the suction pressure sinks for a few minutes (by up to
# SINK_PSI); after it the pressure builds back up as the stopped unit stops drawing gas.
SINK_MS, SINK_PSI, RECOVER_TAU_MS = 6 * 60_000, 28.0, 120_000
# The demo's scenario, counted from the simulator's start: the silent unit stops sending a
# minute in, the shutdown unit trips on low suction five minutes in.
SCENARIO_SILENT_MS, SCENARIO_TRIP_MS = 60_000, 5 * 60_000

ORG_NAMES = (
    "Acme Energy", "Permian Ridge Operating", "Red Mesa Resources", "Lone Star Midstream",
    "Caprock Petroleum", "Blue Norther Oil & Gas", "Sandhills Production", "Pecos Valley Energy",
)
SITE_NAMES = (
    "Pad 7", "Hawkins 12-3H Pad", "Mustang CTB", "Pad 22", "Coyote Draw CTB", "Sidewinder 4 Pad",
    "Big Spring Battery", "Pad 3", "Wolfbone CTB", "Ranger 9-16 Pad", "Pad 15", "Mesquite CTB",
    "Two Rivers Pad", "Pad 31", "Antelope Ridge CTB", "Salt Flat Pad",
)
OPERATING_AREAS = ("Delaware Basin", "Midland Basin", "Eagle Ford", "Anadarko", "DJ Basin")
MECHANICS = (
    ("Jesse Ramirez", "432"), ("Tara Whitfield", "432"), ("Cody Nguyen", "575"),
    ("Luis Ortega", "830"), ("Brandy Kowalski", "405"), ("Dwayne Tillman", "970"),
)
# (assetTypeId, assetType, name prefix): vapour recovery and gas lift are Flogistix's core units.
ASSET_TYPES = (
    (3, "Vapor Recovery Unit", "VRU"),
    (5, "Gas Lift Compressor", "GLC"),
    (7, "Wellhead Compressor", "WHC"),
)
TRANSFER_STATUSES = ((2, "Received"), (4, "In Service"))


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process (unlike ``hash()``)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True, slots=True)
class Org:
    """A customer organisation."""

    index: int
    org_id: int
    name: str
    netsuite_id: int


@dataclass(frozen=True, slots=True)
class Site:
    """A pad or central tank battery where units run."""

    index: int
    site_id: int
    name: str
    org: Org
    operating_area: str
    netsuite_id: int


@dataclass(frozen=True, slots=True)
class Unit:
    """One compressor unit: the asset every reading belongs to."""

    index: int
    asset_id: int
    name: str
    site: Site
    device_id: int
    slave_id: int  # Modbus slave address of the controller; part of the record key
    stages: int  # 2 or 3 compression stages: decides which discharge tags exist
    asset_type_id: int
    asset_type: str
    netsuite_id: int
    ip_address: str
    mechanic: tuple[str, str, str]  # name, email, phone
    flux_id: str

    @property
    def org(self) -> Org:
        """The organisation owning the unit's site."""
        return self.site.org


def build_layout(seed: int, orgs: int, sites: int, units: int) -> list[Unit]:
    """Lay out ``units`` over ``sites`` over ``orgs``, round robin, with seed-derived ids.

    Ids come from affine maps with steps coprime to the range, so they never collide.
    """
    if not (1 <= orgs <= sites <= units <= 9000):
        raise ValueError("need 1 <= orgs <= sites <= units <= 9000")
    org_list = [
        Org(k, 300 + (seed * 7 + k * 29) % 700, _pick(ORG_NAMES, k, seed), 9000 + k)
        for k in range(orgs)
    ]
    site_list = [
        Site(
            j,
            2000 + (seed * 71 + j * 53) % 8000,
            _pick(SITE_NAMES, j, seed),
            org_list[j % orgs],
            OPERATING_AREAS[stable_hash(seed, "area", j % orgs) % len(OPERATING_AREAS)],
            8000 + j,
        )
        for j in range(sites)
    ]
    out: list[Unit] = []
    for i in range(units):
        h = stable_hash(seed, "unit", i)
        asset_id = 1000 + (seed * 131 + i * 37) % 9000
        type_id, type_name, prefix = ASSET_TYPES[h % len(ASSET_TYPES)]
        mech_name, area_code = MECHANICS[(h >> 8) % len(MECHANICS)]
        first, last = mech_name.lower().split()
        out.append(
            Unit(
                index=i,
                asset_id=asset_id,
                name=f"{prefix}-{asset_id}",
                site=site_list[i % sites],
                device_id=1500 + (seed * 13 + i * 41) % 8000,
                slave_id=1 + (h >> 16) % 32,
                stages=3 if (h >> 24) % 3 == 0 else 2,
                asset_type_id=type_id,
                asset_type=type_name,
                netsuite_id=40000 + (seed * 17 + i * 59) % 50000,
                ip_address=f"10.{20 + (h >> 32) % 200}.{(h >> 40) % 256}.{2 + (h >> 48) % 250}",
                mechanic=(
                    mech_name,
                    f"{first[0]}{last}@flogistix.example",
                    f"({area_code}) 555-01{(h >> 56) % 100:02d}",  # 555-01xx: fictional range
                ),
                flux_id=_uuid_like(seed, asset_id),
            )
        )
    return out


def asset_record(unit: Unit, *, online: bool, checked_ms: int) -> dict[str, Any]:
    """The Enterprise Objects asset document of ``unit`` (field names of the published client)."""
    transfer_id, transfer = TRANSFER_STATUSES[unit.index % 5 == 4]
    return {
        "netsuiteId": unit.netsuite_id,
        "name": unit.name,
        "organization": {
            "netsuiteId": unit.org.netsuite_id,
            "name": unit.org.name,
            "orgId": unit.org.org_id,
        },
        "site": {
            "netsuiteId": unit.site.netsuite_id,
            "name": unit.site.name,
            "siteId": unit.site.site_id,
        },
        "operatingArea": {"netsuiteId": 700 + unit.site.index, "name": unit.site.operating_area},
        "mechanic": {
            "netsuiteId": 600 + [m[0] for m in MECHANICS].index(unit.mechanic[0]),
            "name": unit.mechanic[0],
            "email": unit.mechanic[1],
            "phone": unit.mechanic[2],
        },
        "transferOrderStatusId": transfer_id,
        "transferOrderStatus": transfer,
        "assetTypeId": unit.asset_type_id,
        "assetType": unit.asset_type,
        "ipAddress": unit.ip_address,
        "id": unit.netsuite_id,
        "deviceId": unit.device_id,
        "ipInfo": {"port": str(502 if unit.slave_id % 2 else 4001)},
        "connectivityInfo": {
            "lastUpdatedBy": "flux-connectivity-monitor",
            "status": "Online" if online else "Offline",
            "lastUpdateTime": checked_ms // 1000,
        },
        "assetId": unit.asset_id,
        "fluxId": unit.flux_id,
    }


def _pick(names: tuple[str, ...], index: int, seed: int) -> str:
    """A name for item ``index``: a seed-rotated walk over ``names``, numbered once exhausted."""
    name = names[(index + seed - 1) % len(names)]
    lap = index // len(names)
    return name if lap == 0 else f"{name} {lap + 1}"


def _uuid_like(seed: int, asset_id: int) -> str:
    """A deterministic id shaped like a UUID, as Flux's own ids are."""
    h = hashlib.blake2b(f"{seed}:{asset_id}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash (much faster than Random())."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


class UnitDynamics:
    """The state of one unit over time: running phase, loading, alarms, silence."""

    def __init__(
        self, seed: int, unit: Unit, *, cycles: bool, silent: bool, anchor_ms: int | None = None
    ) -> None:
        self.unit = unit
        self.cycles = cycles
        self.silent = silent
        self._key = stable_hash(seed, "dyn", unit.asset_id)
        self._cycle_offset = self._key % CYCLE_MS
        self._silent_offset = (self._key >> 20) % SILENT_PERIOD_MS
        self._forced_cycle: int | None = None  # the cycle that trips on low suction (demo)
        if anchor_ms is not None:  # the demo's scenario: events a few minutes after its start
            trip = anchor_ms + SCENARIO_TRIP_MS
            self._cycle_offset = (trip - RUN_MS) % CYCLE_MS
            self._forced_cycle = (trip - RUN_MS - self._cycle_offset) // CYCLE_MS
            self._silent_offset = (anchor_ms + SCENARIO_SILENT_MS) % SILENT_PERIOD_MS
        self.ambient_base = 68.0 + (self._key >> 40) % 12
        self.hours_base = 8_000.0 + (self._key >> 8) % 30_000
        self.auto_start = (self._key >> 4) % 7 != 0

    def phase(self, t: int) -> tuple[int, int, int]:
        """(status, ms since the phase began, shutdown code) at time ``t``."""
        if not self.cycles:
            return RUNNING, RUN_MS, 0
        n, p = divmod(t - self._cycle_offset, CYCLE_MS)
        if p < RUN_MS:
            return RUNNING, p, 0
        if p < RUN_MS + STOP_MS:
            return STOPPED, p - RUN_MS, self.trip_code(n)
        return STARTING, p - RUN_MS - STOP_MS, 0

    def trip_code(self, n: int) -> int:
        """The shutdown code that ends run cycle ``n``."""
        if n == self._forced_cycle:
            return LOW_SUCTION_CODE
        codes = tuple(SHUTDOWN_CODES)
        return codes[mix(self._key ^ (n & M64)) % len(codes)]

    def suction_sink(self, t: int) -> float:
        """How far below normal the suction pressure is at ``t``: it sinks in the minutes
        before a low-suction trip and recovers after it."""
        if not self.cycles:
            return 0.0
        n, p = divmod(t - self._cycle_offset, CYCLE_MS)
        if p < RUN_MS - SINK_MS or self.trip_code(n) != LOW_SUCTION_CODE:
            return 0.0
        if p < RUN_MS:
            return SINK_PSI * ((p - (RUN_MS - SINK_MS)) / SINK_MS) ** 1.5
        return SINK_PSI * math.exp(-(p - RUN_MS) / RECOVER_TAU_MS)

    def is_silent(self, t: int) -> bool:
        """True while the unit's radio is down: it sends nothing at all."""
        return self.silent and (t - self._silent_offset) % SILENT_PERIOD_MS < SILENT_MS

    def ambient(self, t: int) -> float:
        """Air temperature at the site (°F), following the day."""
        return self.ambient_base + 14.0 * math.sin(TWO_PI * (t % DAY_MS) / DAY_MS + DAY_PHASE)

    def load_step(self, t: int) -> int:
        """Loading valves engaged (1..4); the controller re-stages every 15 minutes or so."""
        seg = t // 900_000
        return (1, 2, 3, 3, 4, 4, 4, 2)[mix(self._key + seg * GOLDEN & M64) % 8]

    def alarm(self, t: int) -> int:
        """Active alarm code or 0; the cycling unit warns in the minutes before it trips."""
        if self.cycles:
            p = (t - self._cycle_offset) % CYCLE_MS
            if RUN_MS - 180_000 <= p < RUN_MS:
                return 112
        h = mix((self._key ^ 0xA1A2) + (t // 600_000) * GOLDEN & M64)
        return tuple(ALARM_CODES)[h % 4] if (h >> 32) % 100 < 6 else 0

    def low_oil(self, t: int) -> bool:
        """The low oil level switch trips now and then until someone tops up."""
        return (mix((self._key ^ 0x0111) + (t // 1_800_000) * GOLDEN & M64) >> 32) % 100 < 3
