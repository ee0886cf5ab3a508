"""Opening a large Parquet session with `flux-tui open`'s pipeline: 1,000,000 readings in our
schema (one file written by the recorder's writer) and in the Spark capture's schema (a
partitioned folder of part files written by pyarrow), times unsorted within the files.

    python benchmarks/bench_parquet_open.py [--readings N] [--runs R] [--folder DIR] [--play]

- first batch: ``SessionReplay(path)`` created (footers read, the time column read and
  sorted) and its first Batch of readings available;
- first screen data: that batch ingested by a ``LiveStore`` (what the tag log draws);
- index load: the background load that seeking and filtering need (off the UI path);
- peak RSS: VmHWM of a fresh process that opened the layout and loaded its index;
- with ``--play``: the whole file replayed at max speed (no store: what reading it costs)
  in another fresh process, its time and peak RSS;
- write: the recorder's writer, 10,000 readings a call (our schema only).
The same readings as JSONL are measured the same way, for comparison on the same machine.
``--folder DIR`` keeps the generated files there (and reuses them when present), so that
another version of the code can be measured on the same files: its ``--measure FILE``
(and ``--measure-play FILE``) prints one layout's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_open import first_screen
from bench_query import make_readings

from flux_tui.data.session import SessionWriter
from flux_tui.data.session.parquet_write import ParquetSessionWriter
from flux_tui.data.session.replay import SessionReplay
from flux_tui.feed.types import Batch


def write_spark(folder: Path, readings: list, parts: int = 8) -> None:
    """The Spark capture's layout: date= partitions, part files, _SUCCESS."""
    import pyarrow as pa  # here: the JSONL measurement's process must not load pyarrow
    import pyarrow.parquet as pq

    day = folder / "date=2026-11-29"
    day.mkdir(parents=True)
    (folder / "_SUCCESS").write_bytes(b"")
    size = (len(readings) + parts - 1) // parts
    for part in range(parts):
        chunk = readings[part * size:(part + 1) * size]
        table = pa.table({
            "@timestamp": pa.array([r.epoch_ms * 1000 for r in chunk], pa.timestamp("us", "UTC")),
            "neptune_id": [f"n-{r.asset_id}" for r in chunk],
            "pk": [r.payload["pk"] for r in chunk],
            "register_id": pa.array([r.register_id for r in chunk], pa.int64()),
            "val": pa.array([float(r.val) if isinstance(r.val, (int, float)) else None
                             for r in chunk], pa.float32()),
            "label": [r.label for r in chunk],
            "asset_id": pa.array([r.asset_id for r in chunk], pa.int64()),
            "tag_id": [str(r.tag_id) for r in chunk],
            "tag_name": [r.tag_name for r in chunk],
        })
        pq.write_table(table, day / f"part-{part:05d}-{uuid.uuid4()}.c000.snappy.parquet",
                       compression="snappy")


async def index_load(path: Path) -> float:
    replay = SessionReplay(path, speed=None)
    started = time.perf_counter()
    await replay.load_index()
    took = time.perf_counter() - started
    await replay.aclose()
    return took


def measure(path: Path, runs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"first batch": [], "first screen data": [],
                                       "index load": []}
    for _ in range(runs):
        batch, screen = asyncio.run(first_screen(path))
        figures["first batch"].append(batch)
        figures["first screen data"].append(screen)
    for _ in range(max(1, runs // 2)):
        figures["index load"].append(asyncio.run(index_load(path)))
    return figures


async def play_all(path: Path) -> int:
    replay = SessionReplay(path, speed=None)
    count = 0
    async for item in replay:
        if isinstance(item, Batch):
            count += len(item.readings)
    await replay.aclose()
    return count


def peak_mb() -> float:
    """VmHWM, not ru_maxrss: Linux keeps the parent's high-water mark in ru_maxrss across
    exec."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmHWM:"))) / 1024


def report_play(path: Path) -> None:
    started = time.perf_counter()
    count = asyncio.run(play_all(path))
    took = time.perf_counter() - started
    print(f"  whole file played   {took:7.3f} s  ({count:,} readings, max speed, no store)")
    print(f"  peak RSS             {peak_mb():7.0f} MB (the playing process)")


def report(path: Path, runs: int) -> None:
    """Measure one layout in this (fresh) process and print its figures and peak RSS."""
    figures = measure(path, runs)
    for label, values in figures.items():
        print(f"  {label:<20} {statistics.median(values):7.3f} s  (median of {len(values)})")
    print(f"  peak RSS             {peak_mb():7.0f} MB (the opening process, index loaded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shuffled", action="store_true",
                        help="rows in random time order across the whole file (worst case: "
                        "every row group is needed at every moment); default: time order, "
                        "as a recording or a streaming capture writes them")
    parser.add_argument("--folder", type=Path, help="keep the generated files here (reused "
                        "when present)")
    parser.add_argument("--play", action="store_true", help="also replay each whole file")
    parser.add_argument("--measure", type=Path, help="print one layout's figures")
    parser.add_argument("--measure-play", type=Path, help="print one layout's replay figures")
    args = parser.parse_args()
    if args.measure is not None:
        report(args.measure, args.runs)
        return
    if args.measure_play is not None:
        report_play(args.measure_play)
        return
    if args.folder is not None:
        args.folder.mkdir(parents=True, exist_ok=True)
        measure_all(args, args.folder)
        return
    with tempfile.TemporaryDirectory() as folder:
        measure_all(args, Path(folder))


def measure_all(args: argparse.Namespace, folder: Path) -> None:
    """Write the three layouts into ``folder`` (unless there already) and measure each in
    fresh processes."""
    order = "shuffled" if args.shuffled else "in time order"
    ours, spark = folder / "bench.parquet", folder / "capture"
    jsonl = folder / "bench.jsonl"
    wrote = None
    if not (ours.exists() and spark.exists() and jsonl.exists()):
        wrote = write_layouts(args, ours, spark, jsonl)
    layouts = (("flux-tui schema, 1 file", ours), ("Spark schema, 8 parts", spark),
               ("JSONL, for comparison", jsonl))
    for name, path in layouts:
        size = sum(p.stat().st_size for p in ([path] if path.is_file() else
                                               path.rglob("*.parquet")))
        print(f"{args.readings:,} readings {order}, {name}, {size / 1e6:.0f} MB", flush=True)
        subprocess.run([sys.executable, __file__, "--measure", str(path), "--runs",
                        str(args.runs)], check=True)
        if args.play:
            subprocess.run([sys.executable, __file__, "--measure-play", str(path)], check=True)
    if wrote is not None:
        print(f"write (ours): {wrote:.3f} s ({args.readings / wrote:,.0f} readings/s)")


def write_layouts(args: argparse.Namespace, ours: Path, spark: Path, jsonl: Path) -> float:
    """The same readings in our schema, the Spark capture's and JSONL; the seconds our
    writer took."""
    readings = make_readings(args.readings, int(time.time() * 1000))
    if not args.shuffled:
        readings.sort(key=lambda reading: reading.epoch_ms)
    # Sequence numbers in file order, as a shard delivers them (the writer's dedupe expects it).
    readings = [reading._replace(seq=str(n)) for n, reading in enumerate(readings)]
    if spark.exists():
        shutil.rmtree(spark)
    started = time.perf_counter()
    with ParquetSessionWriter(ours, metadata={"profile": "bench"}, overwrite=True) as writer:
        for start in range(0, len(readings), 10_000):
            writer.write(readings[start:start + 10_000])
    wrote = time.perf_counter() - started
    write_spark(spark, readings)
    with SessionWriter(jsonl, metadata={"profile": "bench"}, overwrite=True) as writer:
        for start in range(0, len(readings), 10_000):
            writer.write(readings[start:start + 10_000])
    return wrote


if __name__ == "__main__":
    main()
