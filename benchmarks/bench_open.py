"""Opening a large saved session in the viewer's pipeline: write a 1,000,000-reading JSONL
session once, then time (median of R runs) what `flux-tui open` costs before data shows and
what re-filtering costs.

    python benchmarks/bench_open.py [--readings N] [--runs R]

- first batch: ``SessionReplay(path)`` created and its first Batch of readings available
  (at max speed; 1x yields the same first batch, as its readings are all due at once);
- first screen data: that batch ingested by a ``LiveStore`` (what the tag log draws);
- index load: the background load that seeking and the exact span need (off the UI path);
- re-filter (index): a compiled query over the whole session's columns;
- re-filter (store): the viewer's filter over the 200,000 readings its log holds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_query import make_readings

from flux_tui.data.query import compile_query
from flux_tui.data.replay import SessionReplay
from flux_tui.data.session import SessionWriter
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch

QUERY = "asset:1111 label:pressure OR val>600 -tag:*status*"


async def first_screen(path: Path) -> tuple[float, float]:
    """Seconds to the first Batch, and to it being in a store."""
    started = time.perf_counter()
    replay = SessionReplay(path, speed=None)
    store = LiveStore()
    first_batch = 0.0
    async for item in replay:
        if isinstance(item, Batch):
            first_batch = time.perf_counter() - started
            store.ingest(item)
            break
    in_store = time.perf_counter() - started
    await replay.aclose()
    return first_batch, in_store


async def index_and_filters(path: Path, query_text: str) -> tuple[float, float, float, int]:
    replay = SessionReplay(path, speed=None)
    started = time.perf_counter()
    index = await replay.load_index()
    load = time.perf_counter() - started
    query = compile_query(query_text)
    started = time.perf_counter()
    rows = index.filter(query)
    by_index = time.perf_counter() - started
    store = LiveStore(200_000)
    for start in range(max(0, len(index) - 200_000), len(index), 10_000):
        store.ingest(Batch("replay", list(index.readings(range(start, min(start + 10_000,
                                                                           len(index)))))))
    started = time.perf_counter()
    store.set_filter(query.matches)
    by_store = time.perf_counter() - started
    await replay.aclose()
    return load, by_index, by_store, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {"first batch": [], "first screen data": [],
                                       "index load": [], "re-filter (index)": [],
                                       "re-filter (store, 200k)": []}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        readings = make_readings(args.readings, int(time.time() * 1000))
        with SessionWriter(path, metadata={"profile": "bench"}) as writer:
            for start in range(0, len(readings), 10_000):
                writer.write(readings[start:start + 10_000])
        del readings
        gc.collect()
        size = path.stat().st_size
        matched = 0
        for _ in range(args.runs):
            batch, screen = asyncio.run(first_screen(path))
            figures["first batch"].append(batch)
            figures["first screen data"].append(screen)
        for _ in range(max(1, args.runs // 2)):
            load, by_index, by_store, matched = asyncio.run(index_and_filters(path, QUERY))
            figures["index load"].append(load)
            figures["re-filter (index)"].append(by_index)
            figures["re-filter (store, 200k)"].append(by_store)
    print(f"{args.readings:,} readings, jsonl, {size / 1e6:.0f} MB")
    for name, values in figures.items():
        print(f"  {name:<24} {statistics.median(values):7.3f} s  (median of {len(values)})")
    print(f"  query {QUERY!r} kept {matched:,} rows of the session")


if __name__ == "__main__":
    main()
