"""Reaching the past in calls: the real client and reader against the in-process simulator on
its manual clock, with a gateway forwarding every iterator type (passthrough) and one that
refuses all but TRIM_HORIZON/LATEST (strict). Prints GetRecords calls; asserts nothing.

1. One shard holds 60,000 older records; every iterator expires; 600 new readings arrive:
   calls until all 600 are delivered (O(outage) with AFTER_SEQUENCE_NUMBER).
2. A 60,000-record backlog on one shard with the default page limit at 12 calls/6 s:
   calls until caught up, and 429s.
3. Start 30 minutes back in a stream holding 3 hours (4 shards, 50 readings/s):
   calls until caught up (AT_TIMESTAMP, or TRIM_HORIZON + skip).

Run: python benchmarks/bench_past.py
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from flux_tui.api.auth import ClientCredentialsProvider
from flux_tui.api.budget import RateBudget
from flux_tui.api.client import RealtimeClient
from flux_tui.base.events import CaughtUp
from flux_tui.config import DEFAULT_PAGE_LIMIT
from flux_tui.feed.reader import ShardReader
from flux_tui.feed.start import parse_start
from flux_tui.feed.types import Batch
from flux_tui.sim import SimClock, SimSettings, Simulator

T0 = 1_700_000_000.0


class Rig:
    def __init__(self, strict: bool, calls: int, window: float, start: Any = "trim-horizon",
                 **settings: Any) -> None:  # fmt: skip
        settings.setdefault("throttle", f"{calls}/{window:g}s")
        self.clock = clock = SimClock.manual_at(T0)
        self.sim = Simulator(SimSettings(strict_iterators=strict, **settings), clock)

        async def vsleep(delay: float) -> None:
            target = clock.now() + max(delay, 0.0)
            for _ in range(4):
                await asyncio.sleep(0)
            if target > clock.now():
                clock.advance(target - clock.now())

        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.sim.app),
                                      base_url="http://sim")  # fmt: skip
        tokens = ClientCredentialsProvider("http://sim/oauth/token", "https://api.axil.ai",
                                           "flux-demo", "demo-secret", http=self.http,
                                           clock=clock.now)  # fmt: skip
        budget = RateBudget(calls, window, clock=clock.now, wall=clock.now, sleep=vsleep)
        self.client = RealtimeClient("http://sim/realtime", "demo", tokens=tokens, budget=budget,
                                     http=self.http, sleep=vsleep)  # fmt: skip
        if callable(start):
            start = start(clock.now())
        self.reader = ShardReader(self.client, budget, start=start, page_limit=DEFAULT_PAGE_LIMIT,
                                  clock=clock.now, sleep=vsleep, wall=clock.now)  # fmt: skip
        self.readings: list[Any] = []

    @property
    def record_calls(self) -> int:
        return int(self.sim.counters.endpoint_calls.get("records", 0))

    async def run(self, until: Callable[[Rig, object], bool]) -> None:
        async for item in self.reader:
            if isinstance(item, Batch):
                self.readings.extend(item.readings)
            if until(self, item):
                return

    async def close(self) -> None:
        await self.reader.aclose()
        await self.http.aclose()

    def put(self, n: int, tag: int = 0) -> None:
        now = self.sim.clock.now_ms()
        for i in range(n):
            payload = {"epochMs": now, "assetId": 1111, "tagId": tag, "val": i, "label": "x" * 100}
            self.sim.stream.put("1_333_2222_1111_1754_889_21_108", orjson.dumps(payload), now)


def caught_up(_: Rig, item: object) -> bool:
    return isinstance(item, CaughtUp)


async def resume(strict: bool) -> str:
    rig = Rig(strict, 100, 60.0, shards=1, rate=0.01, backlog_seconds=1.0)
    rig.put(60_000)
    await rig.run(caught_up)
    rig.sim.control.advance_clock(rig.sim.settings.iterator_ttl + 1)
    rig.put(600, tag=1)
    before, mark = rig.record_calls, len(rig.readings)
    await rig.run(lambda r, _: sum(1 for x in r.readings[mark:] if x.tag_id == 1) >= 600)
    new = sum(1 for x in rig.readings if x.tag_id == 1)
    await rig.close()
    return f"{rig.record_calls - before} GetRecords calls, {new} new readings delivered"


async def backlog(strict: bool) -> str:
    rig = Rig(strict, 12, 6.0, shards=1, rate=0.01, backlog_seconds=1.0)
    rig.put(60_000)
    await rig.run(caught_up)
    await rig.close()
    return (f"{rig.record_calls} GetRecords calls for {len(rig.readings):,} readings, "
            f"{rig.sim.counters.throttled} 429s")  # fmt: skip


async def start_back(strict: bool) -> str:
    rig = Rig(strict, 100, 60.0, start=lambda now: parse_start("30m", now=now), shards=4,
              rate=50.0, backlog_seconds=3 * 3600, max_catch_up_seconds=4 * 3600,
              shard_read_bytes_per_second=None)  # fmt: skip
    await rig.run(caught_up)
    notice = rig.reader.notice
    await rig.close()
    said = f"; said: {notice!r}" if notice else ""
    return f"{rig.record_calls} GetRecords calls for {len(rig.readings):,} readings{said}"


def main() -> None:
    for name, scenario in (("resume after expiry", resume), ("60,000 backlog", backlog),
                           ("start 30m back of 3 h", start_back)):  # fmt: skip
        for strict in (False, True):
            mode = "strict" if strict else "passthrough"
            print(f"{name:22} {mode:12} {asyncio.run(scenario(strict))}")


if __name__ == "__main__":
    main()
