"""Session files at scale: write a 1,000,000-reading JSONL session, then time what opening it
costs: the first 1000 readings (the first screen), the full columnar load, and a re-filter
with a compiled query.

    python benchmarks/bench_session.py [--readings N] [--runs R] [--format jsonl|jsonl.gz|csv]

Prints the median of R runs for each step (the write is timed once per run too) and the
index's memory per reading.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_query import make_readings

from flux_tui.data.query import compile_query
from flux_tui.data.session import SessionWriter, open_session

QUERY = "asset:1111 label:pressure OR val>600 -tag:*status*"


def timed(action):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "jsonl.gz", "csv"])
    args = parser.parse_args()
    readings = make_readings(args.readings, int(time.time() * 1000))
    query = compile_query(QUERY)
    figures: dict[str, list[float]] = {
        "write": [], "first 1000 readings": [], "full load (index)": [], "re-filter": []
    }  # fmt: skip
    size = 0
    bytes_per_reading = 0.0
    matched = 0
    with tempfile.TemporaryDirectory() as folder:
        for run in range(args.runs):
            path = Path(folder) / f"bench{run}.{args.format}"

            def write(path: Path = path) -> None:
                with SessionWriter(path, metadata={"profile": "bench"}) as writer:
                    for start in range(0, len(readings), 10_000):  # pages, like the feed
                        writer.write(readings[start : start + 10_000])

            figures["write"].append(timed(write)[0])
            size = path.stat().st_size
            gc.collect()
            session = open_session(path)
            seconds, first = timed(
                lambda s=session: list(itertools.islice(s.iter_readings(), 1000))
            )
            assert len(first) == 1000
            figures["first 1000 readings"].append(seconds)
            seconds, index = timed(session.index)
            bytes_per_reading = index.nbytes / len(index)
            figures["full load (index)"].append(seconds)
            seconds, rows = timed(lambda i=index: i.filter(query))
            matched = len(rows)
            figures["re-filter"].append(seconds)
            index.close()
    print(f"{args.readings:,} readings, {args.format}, {size / 1e6:.0f} MB, median of {args.runs}")
    for name, values in figures.items():
        print(f"  {name:<22} {statistics.median(values):7.3f} s")
    print(f"  index memory           {bytes_per_reading:7.1f} bytes a reading (columns)")
    print(f"  query {QUERY!r} kept {matched:,}")


if __name__ == "__main__":
    main()
