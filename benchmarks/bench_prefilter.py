"""The whole file's filter count before the index is loaded (the byte prefilter), against
the index itself: its load time, and the count it gives, which must be equal.

    python benchmarks/bench_prefilter.py FILE [--runs 3] [--query 'label:"suction pressure"']

Runs against whichever flux_tui the interpreter imports; with the previous code (no
prefilter: ``/work/main/.venv/bin/python benchmarks/bench_prefilter.py FILE``) it prints the
index's load time only, so alternating the two measures the load's speed-up on the same
machine load. Prints seconds and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from flux_tui.data.query import compile_query
from flux_tui.data.session.read import open_session

try:
    from flux_tui.data.session.prefilter import count_file
except ImportError:  # the previous code
    count_file = None  # type: ignore[assignment]

QUERIES = ['label:"suction pressure"', "suction", "tag:*discharge*", "val>100"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--query", action="append", help="filters to count (default: a few)")
    parser.add_argument("--no-index", action="store_true", help="only the prefilter's counts")
    args = parser.parse_args()
    queries = args.query or QUERIES
    for run in range(1, args.runs + 1):
        counts: dict[str, tuple[int, int] | None] = {}
        if count_file is not None:
            for text in queries:
                started = time.perf_counter()
                counts[text] = found = count_file(args.file, compile_query(text))
                took = time.perf_counter() - started
                said = "no text to scan for (waits for the index)" if found is None \
                    else f"{found[0]:,} of {found[1]:,} lines"
                print(f"run {run}: prefilter {text}: {said} in {took:.2f} s")
        if args.no_index:
            continue
        started = time.perf_counter()
        index = open_session(args.file).index()
        took = time.perf_counter() - started
        print(f"run {run}: index of {len(index):,} rows loaded in {took:.2f} s "
              f"({took / max(1, len(index)) * 1e6:.1f} µs a row)")
        for text, found in counts.items():
            if found is not None:
                rows = len(index.filter(compile_query(text)))
                same = "equal" if rows == found[0] else f"DIFFERENT ({rows:,})"
                print(f"run {run}: index {text}: {rows:,} of {len(index):,} — {same}")
        index.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
