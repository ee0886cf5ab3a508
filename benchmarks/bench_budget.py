"""How much a RateBudget costs per call, uncontended and with many waiting callers.

Prints figures; never asserts. Run: python benchmarks/bench_budget.py
"""

from __future__ import annotations

import asyncio
import time

from flux_tui.api.budget import RateBudget


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await asyncio.sleep(0)


async def uncontended(n: int) -> float:
    budget = RateBudget(n * 2, 60.0)
    started = time.perf_counter()
    for _ in range(n):
        await budget.acquire()
    return (time.perf_counter() - started) / n


def try_only(n: int) -> float:
    budget = RateBudget(n * 2, 60.0)
    started = time.perf_counter()
    for _ in range(n):
        budget.try_acquire()
    return (time.perf_counter() - started) / n


async def contended(callers: int, each: int) -> float:
    t = FakeTime()
    budget = RateBudget(100, 60.0, clock=t.clock, wall=t.clock, sleep=t.sleep)

    async def caller() -> None:
        for _ in range(each):
            await budget.acquire()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return (time.perf_counter() - started) / (callers * each)


def main() -> None:
    print(
        f"acquire, uncontended:            {asyncio.run(uncontended(100_000)) * 1e6:7.2f} µs/call"
    )
    print(f"try_acquire:                     {try_only(100_000) * 1e6:7.2f} µs/call")
    secs = asyncio.run(contended(50, 200))
    print(f"acquire, 50 callers on 100/60s:  {secs * 1e6:7.2f} µs/call (fake clock, real CPU)")


if __name__ == "__main__":
    main()
