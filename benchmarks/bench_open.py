"""Opening a large saved session in the viewer's pipeline (no terminal): time to the first
readings, the whole session played into the store at max speed, the whole-file filter count,
a seek back, and the memory all of it holds.

    python benchmarks/bench_open.py [--file SESSION.jsonl] [--readings N] [--runs R]

Without ``--file`` a session of N readings (default 1,000,000) is written to a temporary
folder first. Figures:

- first batch / first screen data: ``SessionReplay(path)`` created until its first Batch is
  available, and until it is in a ``LiveStore`` (what the tag log draws), median of R runs;
- whole session played: every reading replayed at max speed into the store (the viewer
  holds the whole file when it is smaller than ``[ui] history``), with the store's bytes;
- filter count: ``label:"suction pressure"`` over everything held (what the filter bar shows);
- seek back: from the end to the middle, until the first batch after it;
- RSS: the process's peak (the viewer adds Textual's ~40 MB to it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_query import make_readings

from flux_tui.data.query import compile_query
from flux_tui.data.session import SessionWriter
from flux_tui.data.session.replay import ReplaySeeked, SessionReplay
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch

QUERY = 'label:"suction pressure"'


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


async def whole_session(path: Path) -> dict[str, float]:
    """Play the session into a store at max speed, filter it, seek back to the middle."""
    replay = SessionReplay(path, speed=None, hold_at_end=True)
    store = LiveStore()
    figures: dict[str, float] = {}
    started = time.perf_counter()
    seek_started = 0.0
    async for item in replay:
        if isinstance(item, Batch):
            store.ingest(item)
            if seek_started:
                figures["seek back to the middle"] = time.perf_counter() - seek_started
                break
        elif isinstance(item, ReplaySeeked):
            store.truncate(item.row)
        elif replay.at_end and not seek_started:
            figures["whole session played"] = time.perf_counter() - started
            figures["held"] = store.held
            columns = store.cols
            figures["column bytes a reading"] = sum(
                getattr(columns, n).itemsize * len(getattr(columns, n)) for n in
                ("tpl", "ms", "val", "kind", "rt", "arr", "src", "seq", "sub", "back")
            ) / max(1, store.held)
            t = time.perf_counter()
            store.set_filter(compile_query(QUERY).matches)
            figures["filter count"] = time.perf_counter() - t
            figures["matches"] = store.view_len()
            seek_started = time.perf_counter()
            replay.seek_fraction(0.5)
    await replay.aclose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="an existing session (else one is written)")
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            path = Path(folder) / "bench.jsonl"
            readings = make_readings(args.readings, int(time.time() * 1000))
            with SessionWriter(path, metadata={"profile": "bench"}) as writer:
                for start in range(0, len(readings), 10_000):
                    writer.write(readings[start:start + 10_000])
            del readings
            gc.collect()
        size = path.stat().st_size
        firsts = [asyncio.run(first_screen(path)) for _ in range(args.runs)]
        figures = asyncio.run(whole_session(path))
    print(f"{path.name}: {figures['held']:,.0f} readings, {size / 1e6:.0f} MB")
    print(f"  first batch                {statistics.median(f[0] for f in firsts):7.3f} s"
          f"  (median of {args.runs})")
    print(f"  first screen data          {statistics.median(f[1] for f in firsts):7.3f} s")
    print(f"  whole session played       {figures['whole session played']:7.1f} s  (max speed, "
          f"into the store: {figures['column bytes a reading']:.1f} bytes a reading in columns)")
    print(f"  filter count, whole file   {figures['filter count']:7.3f} s  ({QUERY}: "
          f"{figures['matches']:,.0f} readings)")
    print(f"  seek back to the middle    {figures['seek back to the middle']:7.3f} s  "
          f"(to the first batch after it)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS                   {peak:7.0f} MB  (this process, no Textual)")


if __name__ == "__main__":
    main()
