"""Seeking back in a replayed session: the time from the request to the first page of
readings after it, once the replay has played the whole file (its rows recorded).

    python benchmarks/bench_seek.py FILE [FILE ...] [--to 0.9 0.5 0.1]

Runs against whichever flux_tui the interpreter imports, so the same script measures the
previous code too (``/work/main/.venv/bin/python benchmarks/bench_seek.py ...``). Prints,
per file: the time to play it to its end (max speed, readings discarded), then each seek
back (one after the other, each further back than the last), and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from pathlib import Path

from flux_tui.data.session.replay import ReplaySeeked, SessionReplay
from flux_tui.feed.types import Batch


async def measure(path: Path, fractions: list[float]) -> None:
    replay = SessionReplay(path, speed=None, hold_at_end=True)
    started = time.perf_counter()
    iterator = replay.__aiter__()
    async for _ in iterator:
        if replay.at_end:
            break
    played = time.perf_counter() - started
    print(f"{path.name}: {replay.total:,} readings played in {played:.1f} s")
    for fraction in sorted(fractions, reverse=True):
        t = time.perf_counter()
        replay.seek_fraction(fraction)
        seen = False
        async for item in iterator:
            seen = seen or isinstance(item, ReplaySeeked)
            if seen and isinstance(item, Batch) and item.readings:
                break
        print(f"  seek back to {fraction:4.0%}: {time.perf_counter() - t:7.3f} s")
    await replay.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--to", type=float, nargs="+", default=[0.9, 0.5, 0.1])
    args = parser.parse_args()
    for path in args.files:
        asyncio.run(measure(path, args.to))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
