"""What the alarm engine costs per reading on the simulator's fleet telemetry: stale tracking
alone, the demo's three rules, and ten rules.

Prints figures; never asserts. Run: python benchmarks/bench_alarms.py
"""

from __future__ import annotations

import time

from flux_tui.alarms import AlarmEngine, AlarmRule
from flux_tui.alarms.demo import DEMO_RULES
from flux_tui.data.formats import reading_from_payload
from flux_tui.sim.telemetry import Fleet

START = 1_764_590_400_000
PEAK = 10_000 / 0.6  # the API's peak feed: a 10,000-record page every 0.6 s


def readings(minutes: int) -> list:
    fleet = Fleet(seed=1, anchor_ms=START)
    return [
        reading_from_payload("s", str(i), 0, p["rtms"] / 1000, p)
        for i, (_, p) in enumerate(fleet.generate(START - 120_000, START + minutes * 60_000))
    ]


def ten_rules() -> list[AlarmRule]:
    labels = ["suction pressure", "discharge pressure", "engine speed", "oil pressure",
              "coolant temperature", "vibration", "engine load", "gas flow", "voltage",
              "exhaust temperature"]  # fmt: skip
    return [AlarmRule(f"r{i}", f'label:"{label}" val<1', for_ms=30_000, deadband=1)
            for i, label in enumerate(labels)]  # fmt: skip


def measure(name: str, engine: AlarmEngine, data: list) -> None:
    started = time.perf_counter()
    for i in range(0, len(data), 10_000):  # pages, as the feed hands them
        engine.observe(data[i : i + 10_000])
    elapsed = time.perf_counter() - started
    per = elapsed / len(data) * 1e6
    print(f"{name:<28} {per:6.2f} µs a reading   {per * PEAK / 1e6 * 100:5.1f} % of a core at peak")


def main() -> None:
    data = readings(15)
    print(f"{len(data):,} readings of the demo fleet (24 units, 17 minutes)")
    measure("stale tracking only", AlarmEngine(), data)
    measure("no stale, demo rules", AlarmEngine(DEMO_RULES, watch_stale=False), data)
    measure("demo rules + stale", AlarmEngine(DEMO_RULES), data)
    measure("10 rules + stale", AlarmEngine(ten_rules()), data)


if __name__ == "__main__":
    main()
