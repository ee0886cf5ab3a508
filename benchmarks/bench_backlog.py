"""Backlog drain against a real `flux-tui sim` process: how close to the API's ceiling?

The ceiling is the rate budget times the most records a call may return (10,000):
100 calls/min x 10,000 = 16,667 records/s. The reader, with the profile's default page
limit, drains a backlog from TRIM_HORIZON until caught up; this prints records/s and
readings/s from the first page to caught-up, and the ratio to the ceiling (target >= 90 %).
A fresh window lets a first burst of calls through at once, so the steady figure (after
the first window) is the one to compare; the default throttle 20/12s is the same 100
calls a minute with a window short enough for the drain to span several.
Prints figures; asserts nothing.

Run: python benchmarks/bench_backlog.py [--rate 5000] [--shards 4] [--backlog 120]
     [--throttle 20/12s] [--strict]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx

from flux_tui.api.budget import RateBudget
from flux_tui.base.events import CaughtUp
from flux_tui.config import Profile
from flux_tui.connect import open_feed
from flux_tui.feed.types import Batch

RECORDS_PER_CALL = 10_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sim(args: argparse.Namespace, port: int, home: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "flux_tui", "sim", "--port", str(port),
               "--rate", str(args.rate), "--shards", str(args.shards),
               "--backlog", str(args.backlog), "--throttle", args.throttle]  # fmt: skip
    if args.strict:
        command.append("--strict-iterators")
    env = {**os.environ, "XDG_CACHE_HOME": home, "XDG_CONFIG_HOME": home}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sim/counters", timeout=2)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the simulator did not start")


async def drain(args: argparse.Namespace, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    profile = Profile(
        name=f"bench-backlog-{port}",
        base_url=f"{base}/realtime",
        token_url=f"{base}/oauth/token",
        company="demo",
        client_id="flux-demo",
        client_secret="demo-secret",
        rate_limit=args.throttle,
    )
    session = await open_feed(profile, start="trim-horizon")
    readings = 0
    records: set[tuple[str, str]] = set()
    first = last = None
    budget = RateBudget.parse(args.throttle)
    at_window: int | None = None  # records drained when the first window ended
    pages: list[int] = []  # records a page
    async with session:
        async for item in session.reader:
            if isinstance(item, Batch) and item.readings:
                first = first or time.perf_counter()
                last = time.perf_counter()
                readings += len(item.readings)
                pages.append(len({r.seq for r in item.readings}))
                records.update((r.shard, r.seq) for r in item.readings)
                if at_window is None and last - first >= budget.window:
                    at_window = len(records)
            elif isinstance(item, CaughtUp) and first is not None:
                last = time.perf_counter()
                break
        stats = session.client.stats
        limit = session.reader.page_limit
    async with httpx.AsyncClient() as http:
        counters = (await http.get(f"{base}/_sim/counters", timeout=10)).json()
    ceiling = budget.calls / budget.window * RECORDS_PER_CALL
    seconds = (last or 0) - (first or 0)
    per_second = len(records) / seconds if seconds else 0.0
    mode = "strict" if args.strict else "passthrough"
    print(f"sim: --rate {args.rate:g} --shards {args.shards} --backlog {args.backlog:g} "
          f"--throttle {args.throttle} ({mode}); default page limit (now {limit:,})")  # fmt: skip
    print(f"drained {len(records):,} records ({readings:,} readings) in {seconds:.1f} s, "
          f"{stats.requests} requests, {stats.throttled} throttled (429), "
          f"{counters['throttled']} 429s sent by the sim")  # fmt: skip
    full = sum(1 for n in pages if n >= RECORDS_PER_CALL)
    calls = counters.get("endpoint_calls", {})
    print(f"sim: {calls} calls, Kinesis errors {counters.get('kinesis_errors', {})}; "
          f"client retries {stats.retries}; page sizes below full: "
          f"{sorted(n for n in pages if n < RECORDS_PER_CALL)[:12]}")  # fmt: skip
    print(f"{len(pages)} pages with records, {full} full; load average {os.getloadavg()[0]:.1f}")
    print(
        f"records/s:  {per_second:,.0f}   readings/s: {readings / seconds if seconds else 0:,.0f}"
    )
    print(f"ceiling (budget x {RECORDS_PER_CALL:,}): {ceiling:,.0f} records/s; "
          f"ratio {per_second / ceiling:.1%} overall")  # fmt: skip
    steady = seconds - budget.window
    if at_window is not None and steady > budget.window:
        rate = (len(records) - at_window) / steady
        print(f"steady (after the first {budget.window:g} s window): {rate:,.0f} records/s, "
              f"ratio {rate / ceiling:.1%} (target >= 90 %)")  # fmt: skip
    else:
        print("steady: the drain was shorter than two windows; use a longer --backlog")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--backlog", type=float, default=120.0)
    parser.add_argument("--throttle", default="20/12s")
    parser.add_argument("--strict", action="store_true", help="sim refuses extra iterator types")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        os.environ["XDG_CACHE_HOME"] = home  # the budget ledger and refusals stay private
        sim = start_sim(args, port, home)
        try:
            asyncio.run(drain(args, port))
        finally:
            sim.send_signal(signal.SIGINT)
            try:
                sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.kill()


if __name__ == "__main__":
    main()
