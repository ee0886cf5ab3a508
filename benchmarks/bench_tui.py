"""Run the viewer at the API's peak feed in a real pseudo-terminal and print what it costs.

The app runs in a child process whose terminal is a pty of 120x40 (as a user's would be);
the parent counts every byte the app writes to it. The feed is synthetic: a 10,000-reading
batch every 0.6 s (the API's ceiling: 10,000 records a call, ~100 calls a minute), 600 tags.
Figures, after a warm-up: event-loop lag p95/max (a 10 ms sleeper's overshoot), CPU % of one
core (the whole process, synthetic source included), and bytes to the terminal per second.

    python benchmarks/bench_tui.py                 # default refresh, 20 s
    python benchmarks/bench_tui.py --low-bandwidth
    python benchmarks/bench_tui.py --seconds 60 --runs 3
    python benchmarks/bench_tui.py --first-frame --runs 5   # `flux-tui demo` start-up
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
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
import tempfile
import termios
import threading
import time
from typing import Any

PAGE = 10_000
PERIOD = 0.6
UNITS = 20
TAGS = 30
WARMUP = 3.0


# --- the child: the app under a synthetic peak feed -------------------------------------------


class PeakReader:
    """Yields a fresh 10,000-reading batch every 0.6 s, times advancing like a live feed."""

    def __init__(self) -> None:
        self._closed = False

    async def __aiter__(self) -> Any:
        from flux_tui.base.events import FeedState, StateChanged

        yield StateChanged(FeedState.LIVE, "")
        n = 0
        next_at = time.monotonic()
        while not self._closed:
            # The page is made by a call and handed over at once: this generator keeps no
            # reference to it while it sleeps (as the real reader, which keeps none).
            yield self._page(n)
            n += PAGE
            next_at += PERIOD
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    @staticmethod
    def _page(n: int) -> Any:
        from flux_tui.feed.types import Batch, Reading

        labels = [f"Tag {t} Pressure" if t % 3 else f"Tag {t} Status" for t in range(TAGS)]
        now_ms = int(time.time() * 1000)
        rows = []
        for i in range(PAGE):
            unit = 1000 + (n % UNITS)
            tag = (n // UNITS) % TAGS
            val: Any = (n % 997) / 10.0 if tag % 3 else ("RUN" if n % 11 else "STOP")
            ms = now_ms - 600 + i * 600 // PAGE
            payload = {"epochMs": ms, "rtms": ms + 300, "assetId": unit, "tagId": tag,
                       "label": labels[tag], "val": val}
            rows.append(Reading("shardId-0", str(10**20 + n), 0, ms / 1000, ms, ms + 300,
                                333, 2222, unit, tag, tag, f"tag_{tag}", labels[tag], val,
                                payload))
            n += 1
        return Batch("shardId-0", rows, [], 0, time.time())

    async def aclose(self) -> None:
        self._closed = True


class PeakSession:
    """The synthetic feed as a source the viewer reads (flux_tui.view.source.FeedSource)."""

    names = None

    def __init__(self) -> None:
        self.reader = PeakReader()

    def __aiter__(self) -> Any:
        return self.reader.__aiter__()

    def facts(self) -> Any:
        from flux_tui.feed.types import SourceFacts

        return SourceFacts()

    def person_login(self) -> None:
        return None

    async def aclose(self) -> None:
        await self.reader.aclose()


def bench_alarms() -> Any:
    """The alarm engine the viewer runs: BENCH_ALARMS=off (none), stale (silent units only,
    the default of a profile without rules) or rules (three rules on the bench's labels)."""
    from flux_tui.alarms import AlarmRule
    from flux_tui.ui.alarm_actions import AlarmSetup

    mode = os.environ.get("BENCH_ALARMS", "stale")
    rules = [AlarmRule(f"r{i}", f'label:"{label}" val<5', for_ms=30_000, deadband=1)
             for i, label in enumerate(("Tag 1", "Tag 2", "Tag 4"))] if mode == "rules" else []
    return AlarmSetup(rules, watch_stale=mode != "off")


def child(seconds: float, out: str, low_bandwidth: bool) -> None:
    """Run the app for ``seconds`` and write lag and CPU figures to ``out``."""
    import gc

    from flux_tui.ui.app import FluxApp

    lags: list[float] = []
    cpu: dict[str, float] = {}
    gc_pauses: list[float] = []
    rss: dict[str, float] = {}
    gc_started = [0.0]
    young = [0.0]

    def gc_watch(phase: str, info: dict[str, Any]) -> None:
        # full collections walk every retained reading: worth knowing when lag spikes
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif info.get("generation") == 2:
            gc_pauses.append(time.perf_counter() - gc_started[0])
        else:
            young[0] = max(young[0], time.perf_counter() - gc_started[0])

    gc.callbacks.append(gc_watch)

    async def opener() -> PeakSession:
        return PeakSession()

    class BenchApp(FluxApp):
        def on_mount(self) -> None:
            super().on_mount()
            for panel in filter(None, os.environ.get("BENCH_HIDE", "").split(",")):
                self.main.user_layout[panel] = False  # e.g. BENCH_HIDE=tree,sparks
            self.call_after_refresh(self.main.layout_for, self.size.width, self.size.height)
            self.run_worker(self._sample(), name="sampler", group="bench")
            self.set_timer(seconds, self.exit)

        async def _sample(self) -> None:
            start = time.monotonic()
            measuring = False
            while True:
                before = time.monotonic()
                await asyncio.sleep(0.01)
                after = time.monotonic()
                if after - start > WARMUP:
                    if not measuring:
                        measuring = True
                        cpu["t0"], cpu["c0"] = after, time.process_time()
                    lags.append(after - before - 0.01)
                    cpu["t1"], cpu["c1"] = after, time.process_time()
                    rss.setdefault("start", _rss_mb())
                    if len(lags) % 100 == 0:
                        rss["end"] = _rss_mb()
                        if self.store.total >= self.store.capacity:  # the history is full
                            rss.setdefault("full", rss["end"])
                            rss.setdefault("full_at", after - start)

    app = BenchApp(opener, low_bandwidth=low_bandwidth, alarms=bench_alarms())
    app.run()
    result = {
        "lag_p95_ms": statistics.quantiles(lags, n=20)[-1] * 1000 if len(lags) > 20 else None,
        "lag_max_ms": max(lags) * 1000 if lags else None,
        "cpu_percent": (cpu["c1"] - cpu["c0"]) / (cpu["t1"] - cpu["t0"]) * 100 if cpu else None,
        "readings": app.store.total,
        "gc_full": len(gc_pauses),
        "rss_start_mb": rss.get("start", 0.0),
        "rss_end_mb": rss.get("end", 0.0),
        "rss_full_mb": rss.get("full", 0.0),
        "rss_full_at": rss.get("full_at", 0.0),
        "gc_max_ms": max(gc_pauses) * 1000 if gc_pauses else 0.0,
        "gc_young_max_ms": young[0] * 1000,
    }
    with open(out, "w") as handle:
        json.dump(result, handle)


def _full(result: dict) -> str:
    """RSS once the history is full, when the run lasted long enough to see it."""
    if not result["rss_full_mb"]:
        return "(history not yet full: 2,000,000 readings take 120 s at peak), "
    return f"{result['rss_full_mb']:.0f} MB at {result['rss_full_at']:.0f} s (history full), "


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


# --- the parent: a pty that counts bytes ------------------------------------------------------


def run_once(seconds: float, low_bandwidth: bool) -> dict[str, Any]:
    """One run in a fresh pty; returns the child's figures plus bytes/s to the terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    args = [sys.executable, __file__, "--child", "--seconds", str(seconds), "--out", out]
    if low_bandwidth:
        args.append("--low-bandwidth")
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    counted = {"bytes": 0}
    started = time.monotonic()

    def pump() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            if time.monotonic() - started > WARMUP:
                counted["bytes"] += len(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    proc.wait(timeout=seconds + 60)
    reader.join(timeout=2)
    os.close(master)
    with open(out) as handle:
        result: dict[str, Any] = json.load(handle)
    os.unlink(out)
    result["bytes_per_s"] = counted["bytes"] / max(0.1, seconds - WARMUP)
    return result


TIME_RE = re.compile(rb"\d\d:\d\d:\d\d\.\d\d\d")


def first_frame() -> tuple[float, float]:
    """Seconds from starting `flux-tui demo` to its first frame and to its first reading."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "flux_tui", "demo"], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    frame = reading = float("nan")
    try:
        while time.monotonic() - started < 30:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            seen += data
            now = time.monotonic() - started
            if math.isnan(frame) and b"Tag log" in seen:
                frame = now
            if not math.isnan(frame) and TIME_RE.search(seen):
                reading = now
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the group we started (start_new_session)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            # keep reading: an app writing its last frame to a full terminal never exits
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)
    return frame, reading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--low-bandwidth", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--first-frame", action="store_true",
                        help="time `flux-tui demo` to its first frame instead")
    args = parser.parse_args()
    if args.child:
        child(args.seconds, args.out, args.low_bandwidth)
        return
    if args.first_frame:
        times = [first_frame() for _ in range(args.runs)]
        for i, (frame, reading) in enumerate(times, 1):
            print(f"run {i}: first frame {frame:.2f} s, first reading on screen {reading:.2f} s")
        print(f"median: first frame {statistics.median(t[0] for t in times):.2f} s, first "
              f"reading {statistics.median(t[1] for t in times):.2f} s")
        return
    mode = "low-bandwidth" if args.low_bandwidth else "default"
    print(f"viewer at peak feed ({PAGE:,} readings every {PERIOD} s, {UNITS * TAGS} tags), "
          f"120x40 pty, {mode} mode, {args.seconds:.0f} s a run, {WARMUP:.0f} s warm-up")
    runs = [run_once(args.seconds, args.low_bandwidth) for _ in range(args.runs)]
    for i, r in enumerate(runs, 1):
        print(f"run {i}: lag p95 {r['lag_p95_ms']:.1f} ms, max {r['lag_max_ms']:.1f} ms, "
              f"CPU {r['cpu_percent']:.0f} %, {r['bytes_per_s'] / 1024:.1f} KB/s to the "
              f"terminal, {r['readings']:,} readings; {r['gc_full']} full GCs, longest "
              f"{r['gc_max_ms']:.0f} ms, longest young {r['gc_young_max_ms']:.0f} ms; "
              f"RSS {r['rss_start_mb']:.0f} MB at {WARMUP:.0f} s, {_full(r)}"
              f"{r['rss_end_mb']:.0f} MB at the end")
    if len(runs) > 1:
        med = {k: statistics.median(r[k] for r in runs) for k in
               ("lag_p95_ms", "lag_max_ms", "cpu_percent", "bytes_per_s")}
        print(f"median: lag p95 {med['lag_p95_ms']:.1f} ms, max {med['lag_max_ms']:.1f} ms, "
              f"CPU {med['cpu_percent']:.0f} %, {med['bytes_per_s'] / 1024:.1f} KB/s")


if __name__ == "__main__":
    main()
