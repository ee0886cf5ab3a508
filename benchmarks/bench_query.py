"""Nanoseconds per reading for typical filter queries over 100,000 realistic readings.

    python benchmarks/bench_query.py [--readings N] [--runs R]

Prints, for each query, the median over R runs of (time to filter the list / readings), the
share of readings that matched, and the compile time. The readings imitate the feed: a few
hundred units with a few dozen tags each, mixed numeric, boolean and text values.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.query import compile_query
from flux_tui.feed.types import Reading

QUERIES = [
    "pressure",
    "asset:1111 label:pressure",
    "val>100 -tag:*status*",
    "(asset:1111 OR asset:1112) since:-5m",
    "site:2222 val=Running",
    '"discharge temp" OR label:*vibration* val>=0.5',
]

TAGS = [
    ("suction_pressure", "Suction Pressure", "f"),
    ("discharge_pressure", "Discharge Pressure", "f"),
    ("discharge_temp", "Discharge Temp", "f"),
    ("engine_rpm", "Engine RPM", "i"),
    ("oil_pressure", "Oil Pressure", "f"),
    ("vibration_x", "Vibration X", "f"),
    ("register_tag__loading_valve_#4_status", "Valve Loaded Position", "i"),
    ("engine_state", "Engine State", "s"),
    ("alarm_active", "Alarm Active", "b"),
    ("run_hours", "Run Hours", "f"),
]


def make_readings(count: int, now_ms: int, seed: int = 7) -> list[Reading]:
    """``count`` readings over the last ten minutes from 300 units on 30 sites."""
    rng = random.Random(seed)
    readings = []
    for i in range(count):
        asset = 1100 + rng.randrange(300)
        tag_index = rng.randrange(len(TAGS))
        tag_name, label, kind = TAGS[tag_index]
        val: Any
        if kind == "f":
            val = round(rng.uniform(0, 700), 2)
        elif kind == "i":
            val = rng.randrange(0, 1800)
        elif kind == "b":
            val = rng.random() < 0.1
        else:
            val = rng.choice(["Running", "Stopped", "Fault"])
        payload = {
            "epochMs": now_ms - rng.randrange(600_000),
            "registerId": 400 + tag_index,
            "val": val,
            "rtms": now_ms,
            "pk": f"1_333_{2200 + asset % 30}_{asset}_{tag_index}",
            "tagId": 880 + tag_index,
            "label": label,
            "tagName": tag_name,
            "orgId": 333,
            "siteId": 2200 + asset % 30,
            "assetId": asset,
        }
        readings.append(reading_from_payload("shardId-000000000000", str(i), 0, 0.0, payload))
    return readings


def bench(readings: list[Reading], text: str, runs: int, now: float) -> tuple[float, float, float]:
    """(median ns per reading, matched share, compile µs) for one query."""
    started = time.perf_counter()
    query = compile_query(text, now=now)
    compile_us = (time.perf_counter() - started) * 1e6
    predicate = query.predicate
    per_reading = []
    matched = 0
    for _ in range(runs):
        started = time.perf_counter()
        matched = sum(1 for r in readings if predicate(r))
        per_reading.append((time.perf_counter() - started) / len(readings) * 1e9)
    return statistics.median(per_reading), matched / len(readings), compile_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    now = time.time()
    readings = make_readings(args.readings, int(now * 1000))
    # The loop itself (generator + sum) is part of every figure; print it for reference.
    baseline, _, _ = bench(readings, "", args.runs, now)
    print(f"{args.readings:,} readings, median of {args.runs} runs (ns per reading)")
    print(f"{'empty query (loop overhead)':<50} {baseline:7.0f} ns")
    for text in QUERIES:
        ns, share, compile_us = bench(readings, text, args.runs, now)
        print(f"{text:<50} {ns:7.0f} ns  matched {share:6.1%}  compile {compile_us:5.0f} µs")


if __name__ == "__main__":
    main()
