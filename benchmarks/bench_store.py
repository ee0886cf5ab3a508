"""Measure LiveStore: ingest time per reading, memory per held reading, the objects a
garbage collection has to walk, and decode + filter + store per reading of an API page.

Run: ``python benchmarks/bench_store.py [--held N]`` (prints figures; no pass/fail). Times are
the process's CPU time (``time.process_time``): on a machine shared with other work, wall
time mostly measures the others. Compare two trees by running this file with each tree's
interpreter, alternated (``cd OTHER && OTHER/.venv/bin/python THIS/benchmarks/bench_store.py``).
"""

from __future__ import annotations

import argparse
import base64
import gc
import statistics
import sys
import time
import tracemalloc

import orjson

from flux_tui.data.query import compile_query
from flux_tui.data.store import LiveStore
from flux_tui.feed.decoder import decode_records
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
        t = time.process_time()
        store.ingest(b)
        per.append((time.process_time() - t) / len(b.readings) * 1e6)
    return statistics.median(per)


def bench_memory(held: int) -> tuple[float, float, float, int]:
    """(bytes per held reading in all, of which the columns, the decoded readings' own size
    when simply kept in a list, GC-tracked objects added by holding them). Pages are made
    and dropped one at a time, as the reader hands them over."""
    gc.collect()
    tracked = len(gc.get_objects())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = LiveStore(capacity=held)
    store.set_filter(lambda r: True)  # worst case: every line in the match index
    for p in range(held // PAGE):
        store.ingest(make_pages(1, t0_ms=1_700_000_000_000 + p * PAGE * 2, start=p * PAGE)[0])
    in_store = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    gc.collect()
    objects = len(gc.get_objects()) - tracked
    cols = store.cols
    columns = sum(getattr(cols, name).itemsize * len(getattr(cols, name)) for name in
                  ("tpl", "ms", "val", "kind", "rt", "arr", "src", "seq", "sub", "back"))
    count = store.held
    del store
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [r for p in range(20)
            for r in make_pages(1, t0_ms=1_700_000_000_000 + p * PAGE * 2, start=p * PAGE)[0]
            .readings]
    plain = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return in_store / count, columns / count, plain / len(kept), objects


def api_page(number: int) -> list[dict[str, object]]:
    """A GetRecords page of the same readings as :func:`make_pages` (each tag keeps its
    fields; the value, times and sequence number change), as the API sends them."""
    base_seq = 49590338271490256608559692538361571095921575989136588898
    out = []
    for r in make_pages(1, t0_ms=1_700_000_000_000 + number * PAGE * 2, start=number * PAGE)[0] \
            .readings:
        payload = {"epochMs": r.epoch_ms, "registerId": r.register_id, "val": r.val,
                   "rtms": r.rtms, "pk": f"1_333_2222_{r.asset_id}_{r.tag_id}",
                   "tagId": r.tag_id, "label": r.label, "tagName": r.tag_name, "orgId": 333,
                   "siteId": 2222, "assetId": r.asset_id}
        out.append({"ApproximateArrivalTimestamp": r.arrival,
                    "Data": base64.b64encode(orjson.dumps(payload)).decode("ascii"),
                    "PartitionKey": payload["pk"],
                    "SequenceNumber": str(base_seq + int(r.seq) * 1_000_000)})
    return out


def bench_pipeline(pages: int = 6) -> tuple[float, float, float]:
    """Median µs a reading for decode (base64 + JSON -> Reading), for store.ingest with a
    filter, and both: a page of 10,000 API records as the reader gets it."""
    query = compile_query("label:tag val>100").matches
    store = LiveStore()
    store.set_filter(query)
    records = [api_page(p) for p in range(pages)]
    decode, ingest = [], []
    for page in records:
        t = time.process_time()
        readings, _ = decode_records("shardId-000000000000", page)
        t1 = time.process_time()
        store.ingest(Batch("shardId-000000000000", readings, [], 0, time.time()))
        t2 = time.process_time()
        decode.append((t1 - t) / len(readings) * 1e6)
        ingest.append((t2 - t1) / len(readings) * 1e6)
    d, i = statistics.median(decode), statistics.median(ingest)
    return d, i, d + i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", type=int, default=200_000,
                        help="readings held for the memory figures (default 200,000)")
    args = parser.parse_args()
    pages = make_pages(30)
    print(f"python {sys.version.split()[0]}; pages of {PAGE}; {UNITS * TAGS} tags")
    print(f"ingest, no filter   : {bench_ingest(pages, False):.2f} µs/reading (median of pages)")
    print(f"ingest, with filter : {bench_ingest(pages, True):.2f} µs/reading (median of pages)")
    del pages
    decode, ingest, both = bench_pipeline()
    print(f"decode+filter+store : {both:.2f} µs/reading (decode {decode:.2f} + filter and "
          f"store {ingest:.2f}; API pages of {PAGE:,} records)")
    total, columns, plain, objects = bench_memory(args.held)
    print(f"memory              : {total:.1f} bytes per held reading in all ({columns:.1f} of "
          f"them the columns; the rest the match index, tags, templates and history), "
          f"{args.held:,} held; the decoded readings themselves take {plain:.0f} bytes each")
    print(f"GC-tracked objects  : {objects:,} more while holding {args.held:,} readings "
          f"(a full collection walks these, not the readings)")


if __name__ == "__main__":
    main()
