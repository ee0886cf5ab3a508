"""ShardReader + the real RealtimeClient against the simulator in process, on its manual clock.

Every wait (the reader's idle polling, the budget, the client's backoff) advances the
simulator's clock instead of sleeping, so a minute of feed runs in a moment.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from flux_tui.api.auth import ClientCredentialsProvider
from flux_tui.api.budget import RateBudget
from flux_tui.api.client import RealtimeClient
from flux_tui.base.events import CaughtUp, FeedProblem, ShardClosed, ShardOpened
from flux_tui.feed.reader import ShardReader
from flux_tui.feed.types import Batch, DecodeError, FeedItem, Reading
from flux_tui.sim import ReshardStep, SimClock, SimSettings, Simulator

T0 = 1_700_000_000.0


@dataclass
class Rig:
    sim: Simulator
    client: RealtimeClient
    budget: RateBudget
    reader: ShardReader
    readings: list[Reading] = field(default_factory=list)
    errors: list[DecodeError] = field(default_factory=list)
    events: list[FeedItem] = field(default_factory=list)

    async def run(self, until: Callable[[Rig], bool], guard: float = 30.0) -> None:
        """Consume until ``until(rig)`` holds after an item (a hang guard, not a wait)."""

        async def consume() -> None:
            async for item in self.reader:
                if isinstance(item, Batch):
                    self.readings.extend(item.readings)
                    self.errors.extend(item.errors)
                else:
                    self.events.append(item)
                if until(self):
                    return

        await asyncio.wait_for(consume(), guard)

    def check_exactly_once(self, *, from_first: bool = False) -> None:
        """No reading twice; on every shard, nothing produced before the last one read lost
        (nor, with ``from_first``, a LATEST tail's, after the first one read)."""
        keys = Counter((r.shard, r.seq, r.sub) for r in self.readings)
        assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
        bad = Counter((e.shard, e.seq) for e in self.errors)
        assert not bad or max(bad.values()) == 1
        finished = {e.shard for e in self.events if isinstance(e, ShardClosed)}
        reached: dict[str, int] = {}
        began: dict[str, int] = {}
        positions = [(r.shard, int(r.seq)) for r in self.readings]
        positions += [(e.shard, int(e.seq)) for e in self.errors]
        for shard, seq in positions:
            reached[shard] = max(reached.get(shard, 0), seq)
            began[shard] = min(began.get(shard, seq), seq)
        expected = {
            (shard, seq)
            for shard, seq, _, _ in self.sim.control.produced()
            if (shard in finished or (shard in reached and int(seq) <= reached[shard]))
            and (not from_first or int(seq) >= began.get(shard, 0))
        }
        assert {(s, q) for s, q, _ in keys} | set(bad) == expected


def build_rig(
    *,
    calls: int = 10,
    window: float = 10.0,
    start: Any = "trim-horizon",
    reader_options: dict[str, Any] | None = None,
    **settings: Any,
) -> tuple[Rig, httpx.AsyncClient]:
    """Simulator, real client and reader sharing the simulator's manual clock."""
    settings.setdefault("rate", 10.0)
    settings.setdefault("backlog_seconds", 30.0)
    settings.setdefault("throttle", f"{calls}/{window:g}s")
    clock = SimClock.manual_at(T0)
    sim = Simulator(SimSettings(**settings), clock)

    async def vsleep(delay: float) -> None:
        target = clock.now() + max(delay, 0.0)
        for _ in range(4):  # let other tasks run first; a cancelled sleep moves nothing
            await asyncio.sleep(0)
        if target > clock.now():
            clock.advance(target - clock.now())

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim")
    tokens = ClientCredentialsProvider(
        token_url="http://sim/oauth/token",
        audience="https://api.axil.ai",
        client_id="flux-demo",
        client_secret="demo-secret",
        http=http,
        clock=clock.now,
    )
    budget = RateBudget(calls, window, clock=clock.now, wall=clock.now, sleep=vsleep)
    client = RealtimeClient(
        "http://sim/realtime", "demo", tokens=tokens, budget=budget, http=http, sleep=vsleep
    )
    options: dict[str, Any] = {"page_limit": 100, **(reader_options or {})}
    if callable(start):
        start = start(clock.now())  # a start relative to the simulator's clock
    reader = ShardReader(
        client, budget, start=start, clock=clock.now, sleep=vsleep, wall=clock.now, **options
    )
    return Rig(sim, client, budget, reader), http


@pytest.fixture
async def make_rig() -> AsyncIterator[Callable[..., Rig]]:
    built: list[tuple[Rig, httpx.AsyncClient]] = []

    def build(**kw: Any) -> Rig:
        built.append(build_rig(**kw))
        return built[-1][0]

    yield build
    for rig, http in built:
        await rig.reader.aclose()
        await http.aclose()


def caught_up(rig: Rig) -> bool:
    return bool(rig.events) and isinstance(rig.events[-1], CaughtUp)


async def test_trim_horizon_catches_up_with_everything_once(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(shards=3)
    await rig.run(caught_up)
    rig.check_exactly_once()
    assert len(rig.readings) >= 0.9 * len(rig.sim.control.produced())
    assert {e.shard for e in rig.events if isinstance(e, ShardOpened)} == set(rig.reader.shards)
    assert rig.sim.counters.throttled == 0 and rig.client.stats.throttled == 0
    assert rig.readings[0].tag_name and rig.readings[0].epoch_ms


async def test_latest_tail_reads_only_new_records(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(start="latest")
    await rig.run(caught_up)
    backlog_end = T0 * 1000
    first_clock = rig.sim.clock.now()
    await rig.run(lambda r: r.sim.clock.now() > first_clock + 20 and caught_up(r))
    assert rig.readings, "new records arrive"
    assert min(r.arrival for r in rig.readings) * 1000 >= backlog_end - 1000
    rig.check_exactly_once(from_first=True)


async def test_a_minute_with_a_split_and_expired_iterators_stays_exact_and_unthrottled(
    make_rig: Callable[..., Rig],
) -> None:
    """The issue's "done when": 10 calls / 10 s, small pages, a split, iterators expiring."""
    rig = make_rig(
        shards=2,
        iterator_ttl=30.0,
        reshard_schedule=(ReshardStep(at=20.0, action="split"),),
    )
    jumped = False

    def until(r: Rig) -> bool:
        nonlocal jumped
        now = r.sim.clock.now()
        if not jumped and now > T0 + 40:
            jumped = True
            r.sim.control.advance_clock(31.0)  # the reader was paused: every iterator expires
        return now > T0 + 100 and caught_up(r)

    await rig.run(until)
    rig.check_exactly_once()
    assert rig.sim.counters.throttled == 0 and rig.client.stats.throttled == 0
    # Re-opened after the last record read (AFTER_SEQUENCE_NUMBER): nothing re-read.
    assert rig.reader.stats.reopens >= 2 and rig.reader.stats.duplicates_skipped == 0
    closed = [e for e in rig.events if isinstance(e, ShardClosed)]
    assert len(closed) == 1 and len(closed[0].children) == 2
    assert all(rig.reader.shards[c].readings > 0 for c in closed[0].children)
    finished_at = max(i for i, r in enumerate(rig.readings) if r.shard == closed[0].shard)
    first_child = min(i for i, r in enumerate(rig.readings) if r.shard in closed[0].children)
    assert finished_at < first_child  # parent read to its end before its children


async def test_faults_and_bad_records_never_stop_the_reader_nor_break_exactly_once(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(shards=2, bad_record_probability=0.05, calls=20)
    rig.sim.control.random_faults(0.15, seed=3, delay=2.0)
    await rig.run(lambda r: r.sim.clock.now() > T0 + 120 and caught_up(r), guard=60)
    rig.check_exactly_once()
    problems = [e for e in rig.events if isinstance(e, FeedProblem)]
    assert problems and all(p.retry_in is not None for p in problems)
    assert rig.errors and rig.reader.stats.decode_errors >= len(rig.errors)
    assert any(r.sub > 0 for r in rig.readings)  # arrays / NDJSON / KPL sub-records
