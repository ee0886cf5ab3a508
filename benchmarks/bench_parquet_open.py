"""Opening a large Parquet session with `flux-tui open`'s pipeline: 1,000,000 readings in our
schema (one file written by the recorder's writer) and in the Spark capture's schema (a
partitioned folder of part files written by pyarrow), times unsorted within the files.

    python benchmarks/bench_parquet_open.py [--readings N] [--runs R]

- first batch: ``SessionReplay(path)`` created (footers read, the time column read and
  sorted) and its first Batch of readings available;
- first screen data: that batch ingested by a ``LiveStore`` (what the tag log draws);
- index load: the background load that seeking and filtering need (off the UI path);
- peak RSS: of a fresh process that opened the layout and loaded its index;
- write: the recorder's writer, 10,000 readings a call (our schema only).
The same readings as JSONL are measured the same way, for comparison on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
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


def report(path: Path, runs: int) -> None:
    """Measure one layout in this (fresh) process and print its figures and peak RSS."""
    figures = measure(path, runs)
    for label, values in figures.items():
        print(f"  {label:<20} {statistics.median(values):7.3f} s  (median of {len(values)})")
    # VmHWM, not ru_maxrss: Linux keeps the parent's high-water mark in ru_maxrss across exec.
    status = Path("/proc/self/status").read_text()
    peak = int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmHWM:"))) / 1024
    print(f"  peak RSS             {peak:7.0f} MB (the opening process, index loaded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shuffled", action="store_true",
                        help="rows in random time order across the whole file (worst case: "
                        "every row group is needed at every moment); default: time order, "
                        "as a recording or a streaming capture writes them")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure is not None:
        report(args.measure, args.runs)
        return
    readings = make_readings(args.readings, int(time.time() * 1000))
    if not args.shuffled:
        readings.sort(key=lambda reading: reading.epoch_ms)
    # Sequence numbers in file order, as a shard delivers them (the writer's dedupe expects it).
    readings = [reading._replace(seq=str(n)) for n, reading in enumerate(readings)]
    with tempfile.TemporaryDirectory() as folder:
        ours = Path(folder) / "bench.parquet"
        started = time.perf_counter()
        with ParquetSessionWriter(ours, metadata={"profile": "bench"}) as writer:
            for start in range(0, len(readings), 10_000):
                writer.write(readings[start:start + 10_000])
        wrote = time.perf_counter() - started
        spark = Path(folder) / "capture"
        write_spark(spark, readings)
        jsonl = Path(folder) / "bench.jsonl"
        with SessionWriter(jsonl, metadata={"profile": "bench"}) as writer:
            for start in range(0, len(readings), 10_000):
                writer.write(readings[start:start + 10_000])
        del readings
        order = "shuffled" if args.shuffled else "in time order"
        layouts = (("flux-tui schema, 1 file", ours), ("Spark schema, 8 parts", spark),
                   ("JSONL, for comparison", jsonl))
        for name, path in layouts:
            size = sum(p.stat().st_size for p in ([path] if path.is_file() else
                                                   path.rglob("*.parquet")))
            print(f"{args.readings:,} readings {order}, {name}, {size / 1e6:.0f} MB", flush=True)
            subprocess.run([sys.executable, __file__, "--measure", str(path), "--runs",
                            str(args.runs)], check=True)
        print(f"write (ours): {wrote:.3f} s ({args.readings / wrote:,.0f} readings/s)")


if __name__ == "__main__":
    main()
