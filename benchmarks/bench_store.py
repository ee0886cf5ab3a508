"""Measure LiveStore: ingest time per reading and memory per retained reading.

Run: ``python benchmarks/bench_store.py`` (prints figures; no pass/fail).
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc

from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, Reading

PAGE = 10_000
UNITS = 20
TAGS = 25


def make_pages(pages: int, t0_ms: int = 1_700_000_000_000, start: int = 0) -> list[Batch]:
    """Synthetic pages shaped like the simulator's: 20 units x 25 tags, mixed value types."""
    out = []
    n = start
    for p in range(pages):
        rows = []
        for i in range(PAGE):
            unit = 1000 + (n % UNITS)
            tag = (n // UNITS) % TAGS
            ms = t0_ms + n * 2
            val: object = (n % 1000) / 10.0 if tag % 5 else ("RUN" if n % 7 else "STOP")
            payload = {"epochMs": ms, "rtms": ms + 400, "assetId": unit, "tagId": tag,
                       "label": f"Tag {tag}", "val": val}
            rows.append(Reading("shard-0", str(10**20 + n), 0, ms / 1000 + 0.5, ms, ms + 400,
                                333, 2222, unit, tag, tag, f"tag_{tag}", f"Tag {tag}", val,
                                payload))
            n += 1
        out.append(Batch("shard-0", rows, [], 0, time.time()))
    return out


def bench_ingest(pages: list[Batch], with_filter: bool) -> float:
    """Median µs per reading over the pages."""
    store = LiveStore(capacity=200_000)
    if with_filter:
        store.set_filter(lambda r: "1" in r.label)
    per = []
    for b in pages:
        t = time.perf_counter()
        store.ingest(b)
        per.append((time.perf_counter() - t) / len(b.readings) * 1e6)
    return statistics.median(per)


def bench_memory(pages: int = 20) -> tuple[float, float]:
    """(bytes per retained reading held by the store in all, bytes the decoded readings
    themselves take when simply kept in a list). Pages are made and dropped one at a time,
    as the reader hands them over, so only what the store keeps is counted."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = LiveStore(capacity=200_000)
    store.set_filter(lambda r: True)  # worst case: every line in the match index
    for p in range(pages):
        store.ingest(make_pages(1, t0_ms=1_700_000_000_000 + p * PAGE * 2, start=p * PAGE)[0])
    in_store = tracemalloc.get_traced_memory()[0] - before
    held = store.held
    del store
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    kept = [r for p in range(pages)
            for r in make_pages(1, t0_ms=1_700_000_000_000 + p * PAGE * 2, start=p * PAGE)[0]
            .readings]
    plain = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return in_store / held, plain / len(kept)


def main() -> None:
    pages = make_pages(30)
    print(f"python {sys.version.split()[0]}; pages of {PAGE}; {UNITS * TAGS} tags")
    print(f"ingest, no filter   : {bench_ingest(pages, False):.2f} µs/reading (median of pages)")
    print(f"ingest, with filter : {bench_ingest(pages, True):.2f} µs/reading (median of pages)")
    print(f"ingest, page of 10k : {bench_ingest(pages, False) * PAGE / 1000:.1f} ms")
    del pages
    in_store, plain = bench_memory()
    print(f"memory              : {in_store:.0f} bytes/retained reading in the store (all of it, "
          f"payload dicts included) vs {plain:.0f} for the decoded readings kept in a list: "
          f"{in_store - plain:.0f} bytes of overhead")


if __name__ == "__main__":
    main()
