"""Start-up of the real ``flux-tui open --speed max FILE`` in a 120x40 terminal.

Launches the installed command in a pseudo-terminal of 120x40 (as a user's would be), reads
everything it writes and prints, per run: the seconds from launch to the first frame (the
tag log's title drawn) and to the first reading row (a ``HH:MM:SS.mmm`` time in the log).
Medians at the end. With ``--other-venv`` the two trees run alternately, run by run (the
first tree first on odd runs, second on even ones), so both see the same machine load; it
prints both and their ratio.

    python benchmarks/bench_first_screen.py --file SESSION.jsonl --runs 7
    python benchmarks/bench_first_screen.py --file SESSION.jsonl --runs 7 \
        --other-venv /work/main/.venv
"""

from __future__ import annotations

import argparse
import fcntl
import math
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

FRAME_MARK = b"Tag log"
# a reading row: its time with milliseconds (the replay bar's clock stops at seconds)
READING_RE = re.compile(rb"\d\d:\d\d:\d\d\.\d\d\d")
TIMEOUT = 60.0


def launch(venv: Path, file: Path, width: int, height: int) -> tuple[float, float]:
    """Seconds from launch to the first frame and to the first reading row (nan: never)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(width), "LINES": str(height)}
    command = [str(venv / "bin" / "flux-tui"), "open", "--speed", "max", str(file)]
    started = time.monotonic()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    seen = b""
    frame = reading = math.nan
    try:
        while time.monotonic() - started < TIMEOUT:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            now = time.monotonic() - started
            seen = seen[-200:] + data  # a mark split over two reads is still found
            if math.isnan(frame) and FRAME_MARK in seen:
                frame = now
            if not math.isnan(frame) and READING_RE.search(seen):
                reading = now
                break
    finally:
        stop(proc, master)
        os.close(master)
    return frame, reading


def stop(proc: subprocess.Popen[bytes], master: int) -> None:
    """End the group we started (start_new_session), reading its terminal meanwhile: an
    app writing its last frame to a full terminal would never exit."""
    os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        if select.select([master], [], [], 0.05)[0]:
            try:
                os.read(master, 1 << 16)
            except OSError:
                break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def median(values: list[float]) -> float:
    good = [v for v in values if not math.isnan(v)]
    return statistics.median(good) if good else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=Path("/tmp/store-wt/session-1m.jsonl"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--venv", type=Path, default=Path(sys.prefix),
                        help="the tree under test (default: this interpreter's venv)")
    parser.add_argument("--other-venv", type=Path,
                        help="a second tree's venv (e.g. /work/main/.venv), run alternately")
    parser.add_argument("--size", default="120x40", help="terminal columns x rows")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    trees = [("this", args.venv)] + ([("other", args.other_venv)] if args.other_venv else [])
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in trees}
    for run in range(1, args.runs + 1):
        order = trees if run % 2 else trees[::-1]
        for name, venv in order:
            frame, reading = launch(venv, args.file, width, height)
            times[name].append((frame, reading))
            print(f"run {run} {name:5} ({venv}): first frame {frame:.2f} s, "
                  f"first reading row {reading:.2f} s", flush=True)
    load = os.getloadavg()[0]
    medians = {name: (median([t[0] for t in got]), median([t[1] for t in got]))
               for name, got in times.items()}
    for name, venv in trees:
        frame, reading = medians[name]
        print(f"median {name:5} ({venv}): first frame {frame:.2f} s, first reading row "
              f"{reading:.2f} s ({args.runs} runs, {width}x{height}, load {load:.1f})")
    if args.other_venv:
        (f1, r1), (f2, r2) = medians["this"], medians["other"]
        print(f"ratio this/other: first frame {f1 / f2:.2f}, first reading row {r1 / r2:.2f}")


if __name__ == "__main__":
    main()
