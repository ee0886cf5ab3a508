"""ShardReader against a scripted in-memory stream on fake time (no real sleeps)."""

from __future__ import annotations

import asyncio
import base64
import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from flux_tui.api import errors
from flux_tui.api.budget import RateBudget
from flux_tui.api.models import GetRecordsResponse, SequenceNumberRange, Shard, StreamDescription
from flux_tui.base.events import (
    CaughtUp,
    FeedProblem,
    FeedState,
    Gap,
    ShardClosed,
    ShardOpened,
    StateChanged,
    Throttled,
)
from flux_tui.feed.reader import ShardReader
from flux_tui.feed.start import StartAt
from flux_tui.feed.types import Batch, FeedItem

EXPIRY = 300.0
ARRIVAL0 = 1_652_128_224.0


class FakeTime:
    """Virtual time: a sleep lets other tasks run first, then jumps the clock forward (unless
    it was cancelled meanwhile, as the reader's wait is when a call finishes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    async def sleep(self, delay: float) -> None:
        target = self.now + max(delay, 0.0)
        for _ in range(4):
            await asyncio.sleep(0)
        self.now = max(self.now, target)


@dataclass
class FakeShard:
    shard_id: str
    parents: tuple[str, ...] = ()
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    closed: bool = False
    trimmed: int = 0  # index of the first record still retained
    next_seq: int = 990  # crosses a digit boundary: string comparison would be wrong


class FakeStream:
    """A Kinesis stream behind the client's interface, passing the shared budget per call."""

    def __init__(self, time: FakeTime, budget: RateBudget) -> None:
        self.time = time
        self.budget = budget
        self.listener: Callable[[object], None] | None = None
        self.page_bytes = 0
        self.shards: dict[str, FakeShard] = {}
        self.iterators: dict[str, tuple[str, int, float]] = {}
        self.tokens = itertools.count()
        self.counter = itertools.count()
        self.calls: list[tuple[float, str, str | None, int | None]] = []
        self.failures: list[tuple[str, str | None, Exception]] = []
        self.latency = 0.0
        self.invalid_before = -1  # iterator tokens numbered below this are expired
        self.refuse: set[str] = set()  # iterator types refused, like a strict gateway
        self.kinds: list[str] = []  # iterator types opened, in order
        self.retention_hours = 10**6
        self.extra_behind_ms = 0  # added to MillisBehindLatest: how far the tip is ahead

    # --- scripting ---------------------------------------------------------------------

    def add_shard(self, shard_id: str, parents: tuple[str, ...] = (), n: int = 0) -> None:
        self.shards[shard_id] = FakeShard(shard_id, parents)
        self.put(shard_id, n)

    def put(self, shard_id: str, n: int, pad: int = 0) -> list[int]:
        shard = self.shards[shard_id]
        assert not shard.closed
        ids = []
        for _ in range(n):
            ident = next(self.counter)
            payload = {
                "epochMs": 1_652_128_223_000 + ident,
                "tagId": ident,
                "label": "L",
                "tagName": "t",
                "val": ident,
            }
            if pad:
                payload["pad"] = "x" * pad
            shard.records.append((shard.next_seq, payload))
            shard.next_seq += 5
            ids.append(ident)
        return ids

    def split(self, parent: str, children: tuple[str, ...]) -> None:
        self.shards[parent].closed = True
        for child in children:
            self.add_shard(child, (parent,))

    def expire_all(self) -> None:
        self.invalid_before = next(self.tokens)

    def fail(self, op: str, exc: Exception, shard: str | None = None, times: int = 1) -> None:
        self.failures.extend([(op, shard, exc)] * times)

    def count(self, op: str) -> int:
        return sum(1 for c in self.calls if c[1] == op)

    # --- the client interface ----------------------------------------------------------

    async def _call(self, op: str, shard: str | None, limit: int | None = None) -> None:
        await self.budget.acquire()
        self.calls.append((self.time.now, op, shard, limit))
        if self.latency:
            self.time.now += self.latency
        for i, (f_op, f_shard, exc) in enumerate(self.failures):
            if f_op == op and f_shard in (None, shard):
                del self.failures[i]
                raise exc
        await asyncio.sleep(0)

    async def describe_all(self) -> StreamDescription:
        await self._call("describe", None)
        shards = []
        for s in self.shards.values():
            ending = str(s.next_seq) if s.closed else None
            shards.append(
                Shard(
                    shard_id=s.shard_id,
                    parent_shard_id=s.parents[0] if s.parents else None,
                    adjacent_parent_shard_id=s.parents[1] if len(s.parents) > 1 else None,
                    sequence_number_range=SequenceNumberRange(
                        starting_sequence_number="990", ending_sequence_number=ending
                    ),
                )
            )
        return StreamDescription(
            shards=shards,
            stream_name="fake",
            stream_status="ACTIVE",
            retention_period_hours=self.retention_hours,
        )

    def _issue(self, shard_id: str, pos: int) -> str:
        token = next(self.tokens)
        self.iterators[f"it-{token}"] = (shard_id, pos, self.time.now)
        return f"it-{token}"

    async def get_shard_iterator(
        self,
        shard_id: str,
        kind: str,
        *,
        sequence: int | None = None,
        timestamp: float | None = None,
    ) -> str:
        await self._call("iterator", shard_id)
        shard = self.shards.get(shard_id)
        if shard is None:
            raise errors.ResourceNotFoundError("ResourceNotFoundException", "no shard", 400)
        self.kinds.append(kind)
        if kind in self.refuse:
            cause = errors.InvalidArgumentError("InvalidArgumentException", "no", 400)
            raise errors.IteratorTypeRefusedError(kind, cause)
        seqs = [seq for seq, _ in shard.records]
        if kind == "TRIM_HORIZON":
            pos = shard.trimmed
        elif kind == "AFTER_SEQUENCE_NUMBER":
            pos = max(shard.trimmed, bisect.bisect_right(seqs, sequence))
        elif kind == "AT_SEQUENCE_NUMBER":
            pos = max(shard.trimmed, bisect.bisect_left(seqs, sequence))
        elif kind == "AT_TIMESTAMP":
            assert timestamp is not None
            arrivals = [ARRIVAL0 + p["tagId"] for _, p in shard.records]
            pos = max(shard.trimmed, bisect.bisect_left(arrivals, timestamp))
        else:
            pos = len(shard.records)
        self.calls[-1] = (*self.calls[-1][:3], 0 if kind == "TRIM_HORIZON" else 1)
        return self._issue(shard_id, pos)

    async def get_records(
        self, iterator: str, limit: int, *, retry_slow: bool = True
    ) -> GetRecordsResponse:
        shard_id, pos, issued = self.iterators[iterator]
        await self._call("records", shard_id, limit)
        if int(iterator[3:]) < self.invalid_before or self.time.now - issued > EXPIRY:
            raise errors.ExpiredIteratorError("ExpiredIteratorException", "expired", 400)
        shard = self.shards[shard_id]
        pos = max(pos, shard.trimmed)
        page = shard.records[pos : pos + limit]
        end = pos + len(page)
        left = len(shard.records) - end
        nxt = None if shard.closed and left == 0 else self._issue(shard_id, end)
        records = [
            {
                "SequenceNumber": str(seq),
                "Data": base64.b64encode(orjson.dumps(payload)).decode(),
                "ApproximateArrivalTimestamp": ARRIVAL0 + payload["tagId"],
                "PartitionKey": "pk",
            }
            for seq, payload in page
        ]
        return GetRecordsResponse(
            records=records,
            next_shard_iterator=nxt,
            millis_behind_latest=left * 100 + self.extra_behind_ms,
        )


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def make(time_: FakeTime, calls: int = 100, window: float = 60.0) -> FakeStream:
    budget = RateBudget(
        calls, window, clock=time_.clock, wall=time_.wall, sleep=time_.sleep, margin=0
    )
    return FakeStream(time_, budget)


def reader_for(stream: FakeStream, **kw: Any) -> ShardReader:
    kw.setdefault("start", "trim-horizon")
    return ShardReader(
        stream,
        stream.budget,
        clock=stream.time.clock,
        sleep=stream.time.sleep,
        wall=stream.time.wall,
        **kw,
    )


async def collect(
    reader: ShardReader, until: Callable[[FeedItem, list[FeedItem]], bool], guard: float = 10.0
) -> list[FeedItem]:
    items: list[FeedItem] = []

    async def run() -> None:
        async for item in reader:
            items.append(item)
            if until(item, items):
                return

    await asyncio.wait_for(run(), guard)  # a guard against hanging, not a wait for anything
    return items


def caught_up(item: FeedItem, _items: list[FeedItem]) -> bool:
    return isinstance(item, CaughtUp)


def delivered(items: list[FeedItem]) -> list[tuple[str, int]]:
    return [(b.shard, r.val) for b in items if isinstance(b, Batch) for r in b.readings]


def kinds(items: list[FeedItem], cls: type) -> list[Any]:
    return [i for i in items if isinstance(i, cls)]


# --- reading -----------------------------------------------------------------------------


async def test_trim_horizon_reads_every_record_once_then_reports_caught_up(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=25)
    stream.add_shard("s1", n=7)
    reader = reader_for(stream, page_limit=10)
    items = await collect(reader, caught_up)
    await reader.aclose()
    got = delivered(items)
    assert sorted(v for _, v in got) == list(range(32))
    assert [v for s, v in got if s == "s0"] == list(range(25))  # in order per shard
    states = [i.state for i in kinds(items, StateChanged)]
    assert states[:2] == [FeedState.CATCHING_UP, FeedState.LIVE]
    assert [o.shard for o in kinds(items, ShardOpened)] == ["s0", "s1"]
    assert reader.caught_up and reader.state is FeedState.STOPPED
    assert reader.stats.readings == 32 and reader.stats.pages >= 4
    assert reader.shards["s0"].status == "caught up" and reader.shards["s0"].last_seq == str(
        990 + 24 * 5
    )


async def test_latest_skips_closed_shards_and_old_records(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("old", n=5)
    stream.split("old", ("new",))
    stream.put("new", 3)
    reader = reader_for(stream, start="latest")
    items = await collect(reader, caught_up)
    assert delivered(items) == []
    assert reader.shards["old"].status == "skipped"
    fresh = stream.put("new", 4)
    items = await collect(reader, lambda i, its: len(delivered(its)) == 4)
    await reader.aclose()
    assert [v for _, v in delivered(items)] == fresh
    assert ("iterator", "new") in [(c[1], c[2]) for c in stream.calls]
    assert not any(c[2] == "old" for c in stream.calls)


async def test_caught_up_needs_a_short_page_and_is_reported_once(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=10)
    reader = reader_for(stream, page_limit=10, max_limit=10)
    items = await collect(reader, caught_up)
    # the first page was full (10 of 10) with MillisBehindLatest 0: not caught up yet
    assert sum(1 for c in stream.calls if c[1] == "records") == 2
    stream.put("s0", 3)
    items += await collect(reader, lambda i, its: len(delivered(its)) == 3)
    time_.now += 30  # quiet: several idle polls
    stream.put("s0", 1)
    items += await collect(reader, lambda i, its: len(delivered(its)) == 1)
    await reader.aclose()
    assert len(kinds(items, CaughtUp)) == 1


# --- scheduling and budget ----------------------------------------------------------------


async def test_backlog_drains_within_the_budget_and_the_per_shard_limit(time_: FakeTime) -> None:
    stream = make(time_, calls=10, window=10.0)
    for i in range(3):
        stream.add_shard(f"s{i}", n=200)
    reader = reader_for(stream, page_limit=10, max_limit=10)
    items = await collect(reader, caught_up, guard=20)
    await reader.aclose()
    assert len(delivered(items)) == 600
    times = [c[0] for c in stream.calls]
    for t in times:  # sliding window: never more than 10 calls in any 10 s
        assert sum(1 for u in times if t <= u < t + 10.0) <= 10
    for shard in ("s0", "s1", "s2"):
        mine = [c[0] for c in stream.calls if c[2] == shard]
        assert all(b - a >= 0.2 - 1e-9 for a, b in itertools.pairwise(mine))
    # ~63 calls at 1/s: the backlog uses (nearly) all of the budget
    assert times[-1] - times[0] <= len(times) / 1.0 * 1.1


async def test_a_shard_rests_after_big_pages_instead_of_being_refused(time_: FakeTime) -> None:
    stream = make(time_, calls=1000, window=1.0)
    stream.add_shard("s0")
    stream.put("s0", 40, pad=100_000)  # ~4 MB: about 1 s of a shard's 2 MiB/s each 10 records
    reader = reader_for(stream, page_limit=10)
    items = await collect(reader, caught_up)
    await reader.aclose()
    assert len(delivered(items)) == 40
    starts = [c[0] for c in stream.calls if c[1] == "records"]
    assert all(b - a >= 0.45 for a, b in itertools.pairwise(starts))  # ~1 MB pages: 0.48 s


async def test_a_behind_shard_goes_before_caught_up_ones(time_: FakeTime) -> None:
    stream = make(time_, calls=10, window=10.0)
    stream.add_shard("busy", n=100)
    stream.add_shard("quiet", n=1)
    reader = reader_for(stream, page_limit=10, max_limit=10)
    await collect(reader, caught_up, guard=20)
    await reader.aclose()
    reads = [c[2] for c in stream.calls if c[1] == "records"]
    # quiet answered once and was caught up; busy took nearly every later call
    assert reads.count("quiet") <= 3 and reads.count("busy") == 11


async def test_idle_polling_keeps_budget_headroom(time_: FakeTime) -> None:
    stream = make(time_, calls=10, window=10.0)
    for i in range(4):
        stream.add_shard(f"s{i}", n=1)
    reader = reader_for(stream, idle_interval=0.5)
    await collect(reader, caught_up)
    start = time_.now
    task = asyncio.ensure_future(collect(reader, lambda i, its: False, guard=5))
    while time_.now < start + 120:
        await asyncio.sleep(0)
    task.cancel()
    await reader.aclose()
    recent = [c for c in stream.calls if start <= c[0] < start + 120]
    assert recent, "idle shards are still polled"
    assert len(recent) <= 0.7 * 10 * 12 + 4  # ≤ 70 % of 10 calls/10 s (+ rounding)


async def test_backpressure_pollers_wait_for_a_slow_consumer(time_: FakeTime) -> None:
    stream = make(time_, calls=1000, window=1.0)
    stream.add_shard("s0", n=500)
    stream.add_shard("s1", n=500)
    reader = reader_for(stream, page_limit=10, max_limit=10, queue_size=3)
    first = await collect(reader, lambda i, its: isinstance(i, Batch))
    for _ in range(200):  # let pollers run as far as they can while nobody reads
        await asyncio.sleep(0)
    pages = stream.count("records")
    assert pages <= 1 + 3 + 2  # consumed + queued + one blocked call per shard
    rest = await collect(reader, caught_up, guard=20)
    await reader.aclose()
    assert len(delivered(first + rest)) == 1000


# --- lineage -----------------------------------------------------------------------------


async def test_parents_are_read_to_their_end_before_children(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("p", n=30)
    stream.split("p", ("c1", "c2"))
    stream.put("c1", 5)
    stream.put("c2", 5)
    stream.add_shard("a", n=3)  # a merge: m has two parents
    stream.add_shard("b", n=3)
    stream.shards["a"].closed = stream.shards["b"].closed = True
    stream.add_shard("m", ("a", "b"), n=2)
    reader = reader_for(stream, page_limit=10)
    items = await collect(reader, caught_up)
    await reader.aclose()
    order = [s for s, _ in delivered(items)]
    assert max(i for i, s in enumerate(order) if s == "p") < min(
        i for i, s in enumerate(order) if s in ("c1", "c2")
    )
    assert max(i for i, s in enumerate(order) if s in ("a", "b")) < order.index("m")
    closed = {c.shard: c.children for c in kinds(items, ShardClosed)}
    assert set(closed["p"]) == {"c1", "c2"} and closed["a"] == ("m",)
    assert len(delivered(items)) == 30 + 10 + 6 + 2
    assert reader.shards["p"].status == "finished"
    assert list(reader.shards).index("p") < list(reader.shards).index("c1")


async def test_a_split_during_the_run_is_followed_without_loss(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=5)
    reader = reader_for(stream, start="latest", describe_interval=60)
    await collect(reader, caught_up)
    produced = stream.put("s0", 4)
    stream.split("s0", ("s1", "s2"))
    produced += stream.put("s1", 6) + stream.put("s2", 2)
    items = await collect(reader, lambda i, its: len(delivered(its)) >= len(produced))
    await reader.aclose()
    assert sorted(v for _, v in delivered(items)) == sorted(produced)
    assert [c.shard for c in kinds(items, ShardClosed)] == ["s0"]
    assert {o.shard for o in kinds(items, ShardOpened)} == {"s1", "s2"}


async def test_a_shard_that_disappears_is_dropped_after_describing_again(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=2)
    stream.add_shard("s1", n=2)
    reader = reader_for(stream)
    await collect(reader, caught_up)
    del stream.shards["s1"]
    stream.fail(
        "records", errors.ResourceNotFoundError("ResourceNotFoundException", "gone", 400), "s1"
    )
    items = await collect(reader, lambda i, its: isinstance(i, ShardClosed))
    await reader.aclose()
    assert items[-1] == ShardClosed("s1", ())
    assert reader.shards["s1"].status == "gone"


# --- iterator expiry -------------------------------------------------------------------


STRICT = {"AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"}


@pytest.mark.parametrize("strict", [False, True], ids=["passthrough", "strict"])
async def test_expired_iterators_are_reopened_without_dupes_or_loss(
    time_: FakeTime, strict: bool
) -> None:
    stream = make(time_)
    if strict:
        stream.refuse = set(STRICT)
    stream.add_shard("s0", n=23)
    reader = reader_for(stream, page_limit=10, max_limit=10)
    items = await collect(reader, lambda i, its: len(delivered(its)) >= 10)
    stream.expire_all()
    items += await collect(reader, caught_up)
    stream.put("s0", 4)
    time_.now += EXPIRY + 1  # every iterator is now too old as well
    items += await collect(reader, lambda i, its: len(delivered(its)) == 4)
    await reader.aclose()
    assert [v for _, v in delivered(items)] == list(range(27))
    assert kinds(items, Gap) == []
    limits = [c[3] for c in stream.calls if c[1] == "records"]
    if strict:
        # The refusal is remembered: one refused call, then TRIM_HORIZON and skip, in the
        # biggest pages a call allows.
        assert stream.kinds.count("AFTER_SEQUENCE_NUMBER") == 1
        assert reader.stats.reopens >= 2 and reader.stats.duplicates_skipped >= 10
        assert set(limits) == {10, 10_000}
        assert "oldest retained record" in reader.notice
    else:
        assert stream.kinds[1:] == ["AFTER_SEQUENCE_NUMBER"] * reader.stats.reopens
        assert reader.stats.reopens >= 2 and reader.stats.duplicates_skipped == 0
        assert set(limits) == {10} and not reader.notice
        problems = kinds(items, FeedProblem)
        assert [p.retry_in for p in problems] == [0.0] * reader.stats.reopens


@pytest.mark.parametrize("strict", [False, True], ids=["passthrough", "strict"])
async def test_records_trimmed_while_expired_are_reported_as_a_gap(
    time_: FakeTime, strict: bool
) -> None:
    stream = make(time_)
    if strict:
        stream.refuse = set(STRICT)
    stream.retention_hours = 1
    stream.add_shard("s0", n=10)
    reader = reader_for(stream, page_limit=100)
    items = await collect(reader, caught_up)
    if not strict:
        # Two hours pass on the server: its tip is ahead of everything the fake holds.
        stream.extra_behind_ms = 2 * 3_600_000
    stream.put("s0", 10)  # 10..19: never read, then 10..14 expire from retention
    stream.shards["s0"].trimmed = 15
    stream.expire_all()
    items = await collect(reader, lambda i, its: len(delivered(its)) == 5)
    await reader.aclose()
    (gap,) = kinds(items, Gap)
    assert gap.shard == "s0" and gap.start_ms == (1_652_128_224 + 9) * 1000
    assert gap.end_ms == (1_652_128_224 + 15) * 1000
    assert [v for _, v in delivered(items)] == [15, 16, 17, 18, 19]
    assert reader.stats.gaps == 1


@pytest.mark.parametrize("strict", [False, True], ids=["passthrough", "strict"])
async def test_a_start_time_gives_exactly_what_arrived_from_it_on_every_shard(
    time_: FakeTime, strict: bool
) -> None:
    stream = make(time_)
    if strict:
        stream.refuse = set(STRICT)
    stream.add_shard("s0", n=30)
    stream.split("s0", ("s1", "s2"))  # s0 closed, still in retention
    stream.put("s1", 5)
    stream.put("s2", 5)
    since = ARRIVAL0 + 20  # records 20.. of s0, and all of the children
    reader = reader_for(stream, start=StartAt("time", since, "x"))
    items = await collect(reader, caught_up)
    await reader.aclose()
    assert sorted(v for _, v in delivered(items)) == list(range(20, 40))
    assert reader.stats.gaps == 0
    if strict:
        assert reader.stats.duplicates_skipped == 20 and "starting at" in reader.notice
    else:
        assert reader.stats.duplicates_skipped == 0 and "AT_TIMESTAMP" in stream.kinds


async def test_a_latest_tail_with_nothing_read_reopens_at_latest_with_a_gap(
    time_: FakeTime,
) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=3)
    reader = reader_for(stream, start="latest")
    await collect(reader, caught_up)
    stream.expire_all()
    items = await collect(reader, lambda i, its: isinstance(i, Gap))
    stream.put("s0", 2)
    items += await collect(reader, lambda i, its: len(delivered(its)) == 2)
    await reader.aclose()
    gap = kinds(items, Gap)[0]
    assert "LATEST" in gap.reason and gap.start_ms is not None and gap.end_ms >= gap.start_ms
    assert [v for _, v in delivered(items)] == [3, 4]


# --- page limit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        errors.PayloadTooLargeError("Payload too large", 413),
        errors.GatewayServerError("HTTP 504: Endpoint request timed out", 504),
        errors.GatewayServerError("HTTP 502: bad gateway", 502),
        errors.TimeoutError("no answer"),
    ],
)
async def test_page_limit_halves_after_oversized_or_slow_answers(
    time_: FakeTime, exc: Exception
) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=50)
    stream.fail("records", exc, times=2)
    reader = reader_for(stream, page_limit=1000, min_limit=10)
    items = await collect(reader, caught_up)
    await reader.aclose()
    limits = [c[3] for c in stream.calls if c[1] == "records"]
    assert limits[:3] == [1000, 500, 250]
    assert len(delivered(items)) == 50 and reader.state is FeedState.STOPPED


async def test_page_limit_shrinks_after_very_slow_answers_and_grows_when_quick(
    time_: FakeTime,
) -> None:
    stream = make(time_, calls=1000, window=1.0)
    stream.add_shard("s0", n=2000)
    reader = reader_for(stream, page_limit=100, max_limit=300)
    stream.latency = 12.0
    await collect(reader, lambda i, its: isinstance(i, Batch))
    assert reader.page_limit == 50
    stream.latency = 0.1
    await collect(reader, caught_up)
    await reader.aclose()
    limits = [c[3] or 0 for c in stream.calls if c[1] == "records"]
    assert limits[:5] == [100, 50, 75, 112, 168] and max(limits) == 300


# --- errors and state --------------------------------------------------------------------


async def test_transient_errors_back_off_and_recover(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=5)
    stream.fail("describe", errors.ConnectError("connection refused"), times=2)
    stream.fail("records", errors.GatewayServerError("HTTP 500: server error", 500))
    reader = reader_for(stream)
    items = await collect(reader, caught_up)
    await reader.aclose()
    states = [i.state for i in kinds(items, StateChanged)]
    assert states[:1] == [FeedState.OFFLINE] and FeedState.LIVE in states
    problems = kinds(items, FeedProblem)
    assert len(problems) == 3 and all(p.retry_in and p.retry_in > 0 for p in problems)
    assert len(delivered(items)) == 5


async def test_a_fatal_error_stops_the_reader_and_is_raised(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=5)
    denied = errors.AccessDeniedKinesisError("AccessDeniedException", "no", 400)
    stream.fail("records", denied)
    reader = reader_for(stream)
    items: list[FeedItem] = []
    with pytest.raises(errors.AccessDeniedKinesisError):
        async for item in reader:
            items.append(item)
    assert items[-2:] == [FeedProblem(denied, None), StateChanged(FeedState.STOPPED, str(denied))]
    assert [i async for i in reader] == []
    await reader.aclose()


async def test_an_auth_error_shows_auth_needed_before_stopping(time_: FakeTime) -> None:
    stream = make(time_)
    stream.fail("describe", errors.InvalidClientError("wrong client id or secret"))
    reader = reader_for(stream)
    items: list[FeedItem] = []
    with pytest.raises(errors.InvalidClientError):
        async for item in reader:
            items.append(item)
    assert [i.state for i in kinds(items, StateChanged)] == [
        FeedState.AUTH_NEEDED,
        FeedState.STOPPED,
    ]


async def test_client_notices_are_forwarded_and_shown_as_state(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=2)
    reader = reader_for(stream)
    await collect(reader, caught_up)
    assert stream.listener is not None
    stream.listener(Throttled(until=123.0))
    items = await collect(
        reader, lambda i, its: isinstance(i, StateChanged) and i.state is FeedState.LIVE
    )
    await reader.aclose()
    assert items[0] == Throttled(123.0)
    assert items[1] == StateChanged(FeedState.THROTTLED, "rate limited (429)")
    assert reader.stats.throttled == 1
    assert stream.listener is None  # released on close


async def test_decode_errors_are_delivered_and_counted(time_: FakeTime) -> None:
    stream = make(time_)
    stream.add_shard("s0", n=2)
    real = stream.get_records

    async def with_garbage(
        iterator: str, limit: int, *, retry_slow: bool = True
    ) -> GetRecordsResponse:
        page = await real(iterator, limit, retry_slow=retry_slow)
        if page.records:
            page.records[0]["Data"] = "%%%"
        return page

    stream.get_records = with_garbage  # type: ignore[method-assign]
    reader = reader_for(stream)
    items = await collect(reader, caught_up)
    await reader.aclose()
    batch = kinds(items, Batch)[0]
    assert len(batch.readings) == 1 and batch.errors[0].raw == b"%%%"
    assert reader.stats.decode_errors == 1


def test_bad_start_is_refused(time_: FakeTime) -> None:
    with pytest.raises(ValueError, match="start"):
        reader_for(make(time_), start="earliest")


async def test_by_default_the_configured_page_limit_is_the_ceiling(time_: FakeTime) -> None:
    stream = make(time_, calls=1000, window=1.0)
    stream.add_shard("s0", n=100)
    reader = reader_for(stream, page_limit=10)
    await collect(reader, caught_up)
    await reader.aclose()
    assert {c[3] for c in stream.calls if c[1] == "records"} == {10}
