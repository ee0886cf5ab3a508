"""ShardReader: every shard of the stream, read in order, within the rate budget, exactly once.

It describes the stream, opens an iterator per shard, polls them from one scheduler (the
decisions live in :mod:`flux_tui.feed.schedule`), decodes pages and hands batches and events
to the consumer through a bounded outbox (pollers wait when the consumer is slow).

Example::

    reader = ShardReader(client, budget, start="trim-horizon")
    try:
        async for item in reader:
            if isinstance(item, Batch):
                for reading in item.readings:
                    print(reading.tag_name, reading.val)
            elif isinstance(item, CaughtUp):
                break
    finally:
        await reader.aclose()
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Self

from flux_tui.api import errors
from flux_tui.api.iterator_refusals import IteratorRefusals
from flux_tui.base.errors import Action, FluxError
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
from flux_tui.feed.decoder import decode_records
from flux_tui.feed.progress import CatchUp
from flux_tui.feed.schedule import (
    SKIP_LIMIT,
    Health,
    PageLimit,
    ShardInfo,
    ShardTrack,
    TrackStatus,
    arrival_ms,
    drop_delivered_subs,
    fill_seconds,
    idle_interval,
    info,
    lineage_order,
    note_delivered,
    open_plan,
    pick_next,
    read_pause,
    release_children,
    retention_gap,
    trim_gap,
    undelivered,
)
from flux_tui.feed.start import StartAt, parse_start
from flux_tui.feed.types import Batch, FeedItem, ReaderStats

Start = Literal["latest", "trim-horizon"]
#: A resumed session's position on one shard: (sequence number, last sub-record delivered
#: or None for the whole record, its arrival in epoch ms or None).
Position = tuple[int, int | None, int | None]
DEFAULT_PAGE_LIMIT = 10_000  # the API's most: Limit delays nothing, so a backlog drains fast
_HEALTHY = (FeedState.CONNECTING, FeedState.CATCHING_UP, FeedState.LIVE)
BIG_PAGE_BYTES = 4_000_000  # pages above this do not grow the limit (gateway cap is 10 MB)


class _End:
    """Marks the end of the outbox; carries the error that stopped the reader, if any."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _Outbox:
    """Items for the consumer, in order. Batches are bounded (the backpressure), events are
    not: they are few and are produced by synchronous callbacks that cannot wait."""

    def __init__(self, max_batches: int) -> None:
        self._items: deque[FeedItem | _End] = deque()
        self._batches = 0
        self._max = max(1, max_batches)
        self._readable = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def put_event(self, item: FeedItem | _End) -> None:
        self._items.append(item)
        self._readable.set()

    async def put_batch(self, batch: Batch) -> None:
        while self._batches >= self._max:
            self._writable.clear()
            await self._writable.wait()
        self._batches += 1
        self._items.append(batch)
        self._readable.set()

    async def get(self) -> FeedItem | _End:
        while not self._items:
            self._readable.clear()
            await self._readable.wait()
        item = self._items.popleft()
        if isinstance(item, Batch):
            self._batches -= 1
            self._writable.set()
        return item


def _ms(wall: float | None) -> int | None:
    return None if wall is None else int(wall * 1000)


class ShardReader:
    """Reads every shard of a Flux Realtime stream; ``async for item in reader`` yields
    :data:`~flux_tui.feed.types.FeedItem`s (batches of readings and reader events).

    ``start`` is where shards listed at start-up begin: ``latest`` (skips closed shards),
    ``trim-horizon``, or a :class:`~flux_tui.feed.start.StartAt` time (or any ``--from``
    form): exactly the records that arrived at or after it, on every listed shard, closed
    parents included. Shards that appear later are read from their beginning, after their
    parents. ``positions`` (a resumed session) gives shards the record to continue after.
    ``page_limit`` is the GetRecords ``Limit`` ceiling (default the API's 10,000): pages
    shrink on trouble (down to ``min_limit``) and grow back while behind. ``refusals``
    remembers iterator types the gateway refused (then TRIM_HORIZON and skip).
    ``idle_interval`` is the shortest pause between polls of a caught-up shard (stretched so
    steady polling keeps budget headroom). ``clock``/``sleep``
    (monotonic, for scheduling) and ``wall`` (epoch seconds, for stamps) are injectable.
    """

    def __init__(
        self,
        client: Any,
        budget: Any = None,
        *,
        start: Start | StartAt | str = "latest",
        positions: Mapping[str, Position] | None = None,
        refusals: IteratorRefusals | None = None,
        page_limit: int = DEFAULT_PAGE_LIMIT,
        min_limit: int = 10,
        max_limit: int | None = None,
        idle_interval: float = 1.0,
        describe_interval: float = 300.0,
        slow_answer: float = 10.0,
        quick_answer: float = 2.0,
        max_in_flight: int = 4,
        queue_size: int = 16,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.start_at = parse_start(start, now=wall())  # ValueError for a bad form
        self.start: Start = "latest" if self.start_at.kind == "latest" else "trim-horizon"
        self.client = client
        self.budget = budget if budget is not None else client.budget
        self.positions = dict(positions or {})
        self.refusals = refusals if refusals is not None else IteratorRefusals()
        # The configured page_limit is "the most records asked for in one call" unless the
        # caller allows more: by default the limit shrinks and grows back up to it.
        ceiling = page_limit if max_limit is None else max_limit
        self._limit = PageLimit(page_limit, min(min_limit, ceiling), ceiling)
        self._skip_limit = PageLimit(SKIP_LIMIT, min(min_limit, ceiling), SKIP_LIMIT)
        self.idle_floor = idle_interval
        self.describe_interval = describe_interval
        self.slow_answer = slow_answer
        self.quick_answer = quick_answer
        self.max_in_flight = max(1, max_in_flight)
        self._clock, self._sleep, self._wall = clock, sleep, wall
        self.stats = ReaderStats()
        self.stream: Any = None  # the last StreamDescription
        self.progress = CatchUp()
        self.notice = ""  # the fallback's one sentence (with its cost), once known
        self._tracks: dict[str, ShardTrack] = {}
        self._outbox = _Outbox(queue_size)
        self._state = FeedState.CONNECTING
        self._health = Health(rng)
        self._caught_up = False
        self._describe_requested = False
        self._last_describe = -float("inf")
        self._describe_retry_at = 0.0
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._fatal: BaseException | None = None
        self._runner: asyncio.Task[None] | None = None
        self._closed = False
        self._finished = False
        self._previous_listener = getattr(client, "listener", None)

    # --- what callers read -----------------------------------------------------------------

    @property
    def state(self) -> FeedState:
        """The connection state shown in the status bar."""
        return self._state

    @property
    def caught_up(self) -> bool:
        """Every open shard answered MillisBehindLatest == 0 with a short page."""
        return self._caught_up

    @property
    def page_limit(self) -> int:
        """The GetRecords ``Limit`` currently used."""
        return self._limit.value

    @property
    def millis_behind(self) -> int:
        """The largest MillisBehindLatest of the shards being read."""
        return max((t.millis_behind for t in self._reading()), default=0)

    @property
    def shards(self) -> dict[str, ShardInfo]:
        """Every known shard, parents before children."""
        return {t.shard_id: info(t) for t in lineage_order(self._tracks.values())}

    # --- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> FeedItem:
        if self._finished or self._closed:
            raise StopAsyncIteration
        if self._runner is None:
            self.client.listener = self._on_client_event
            self._runner = asyncio.create_task(self._run(), name="flux-shard-reader")
        item = await self._outbox.get()
        if isinstance(item, _End):
            self._finished = True
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop polling and release the client's listener. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        pending = [t for t in (self._runner, *self._tasks) if t is not None and not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self.client.listener = self._previous_listener
        self._set_state(FeedState.STOPPED)
        self._outbox.put_event(_End(None))

    # --- events and state ----------------------------------------------------------------

    def _emit(self, item: FeedItem) -> None:
        self._outbox.put_event(item)

    def _set_state(self, state: FeedState, detail: str = "") -> None:
        if state is not self._state:
            self._state = state
            self._emit(StateChanged(state, detail))

    def _refresh_state(self) -> None:
        if self._health.trouble is not None:
            self._set_state(self._health.trouble, self._health.detail)
        elif self.stream is None:
            self._set_state(FeedState.CONNECTING)
        else:
            self._set_state(FeedState.LIVE if self._caught_up else FeedState.CATCHING_UP)

    def _on_client_event(self, event: object) -> None:
        """The client's notices (429s, retries) as they happen: forwarded, and shown as state."""
        if self._health.notice(event):
            if isinstance(event, Throttled):
                self.stats.throttled += 1
            self._emit(event)  # type: ignore[arg-type]
            self._refresh_state()

    def _note_success(self) -> None:
        self._health.success()
        self._refresh_state()

    def _note_failure(self, exc: FluxError) -> float:
        """A transient error the client gave up on: back every shard off and keep going."""
        delay = self._health.failure(exc, self._clock())
        self._emit(FeedProblem(exc, delay))
        self._refresh_state()
        return delay

    def _update_caught_up(self) -> None:
        reading = self._reading()
        now = (
            self.stream is not None
            and not self._describe_requested  # a closed shard's children are not known yet
            and all(t.caught_up and not t.hold for t in reading)
            and not any(t.status is TrackStatus.WAITING for t in self._tracks.values())
        )
        became = now and not self._caught_up
        self._caught_up = now
        self._refresh_state()
        if became:
            self._emit(CaughtUp())  # after StateChanged(LIVE): a consumer may stop here

    def _reading(self) -> list[ShardTrack]:
        return [t for t in self._tracks.values() if t.status is TrackStatus.READING]

    # --- the scheduler -------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._loop()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - every stop is reported the same way
            for task in list(self._tasks):
                task.cancel()
            if isinstance(exc, (errors.AuthError, errors.UnauthorizedError)):
                self._set_state(FeedState.AUTH_NEEDED, str(exc))
            self._emit(FeedProblem(exc, None))  # type: ignore[arg-type]
            self._set_state(FeedState.STOPPED, str(exc))
            self._outbox.put_event(_End(exc))

    async def _loop(self) -> None:
        while True:
            if self._fatal is not None:
                raise self._fatal
            now = self._clock()
            describe_at = self._next_describe_at(now)
            if describe_at <= now:
                await self._describe()
                continue
            idle = idle_interval(
                len(self._reading()), self.budget.calls, _span(self.budget), self.idle_floor
            )
            track, due = pick_next(self._tracks.values(), idle, self._health.backoff_until)
            wake_at = min(due, describe_at)
            if track is not None and due <= now:
                # Calls already launched may not have taken their budget slot yet: count them
                # as taken, so the scheduler (not the budget's queue) decides who goes next.
                if self._in_flight < self.max_in_flight and self.budget.remaining > self._in_flight:
                    self._launch(track, now)
                    continue
                # Blocked: a finishing call wakes us; with none in flight, the budget's window.
                wake_at = describe_at
                if self._in_flight == 0:
                    wake_at = min(wake_at, now + max(self.budget.resets_in, 0.01))
            await self._wait(wake_at - now)

    def _next_describe_at(self, now: float) -> float:
        if self.stream is None or self._describe_requested:
            return self._describe_retry_at
        return max(self._last_describe + self.describe_interval, self._describe_retry_at)

    async def _wait(self, delay: float) -> None:
        """Until ``delay`` passes or a call finishes, whichever is first."""
        if self._wake.is_set():
            self._wake.clear()
            return
        sleeper = asyncio.ensure_future(self._sleep(max(0.0, delay)))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
            self._wake.clear()

    def _launch(self, track: ShardTrack, now: float) -> None:
        track.in_flight = True
        track.last_call = now
        self._in_flight += 1
        task = asyncio.create_task(self._turn(track), name=f"flux-poll-{track.shard_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _turn(self, track: ShardTrack) -> None:
        """One call for one shard: open its iterator, or read one page."""
        try:
            if track.iterator is None:
                await self._open(track)
            else:
                await self._read(track)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below; bugs stop the reader
            self._on_error(track, exc)
        finally:
            track.in_flight = False
            self._in_flight -= 1
            self._wake.set()

    def _on_error(self, track: ShardTrack, exc: Exception) -> None:
        if not isinstance(exc, FluxError):
            self._fatal = exc
            return
        action = exc.action
        if action is Action.NEW_ITERATOR:
            track.iterator = None
            self.stats.reopens += 1
            self._emit(FeedProblem(exc, 0.0))
        elif action is Action.REDESCRIBE:
            # Held until the stream is described again; a shard still listed is retried with
            # its iterator (re-opening would mean re-reading it), a vanished one is dropped.
            track.hold = True
            self._describe_requested = True
            self._emit(FeedProblem(exc, 0.0))
        elif (action is Action.SHRINK or _slow(exc)) and self._limit_for(track).shrink():
            self._emit(FeedProblem(exc, 0.0))  # retried at once with the smaller page
        elif action in (Action.RETRY, Action.THROTTLED, Action.SHRINK):
            self._note_failure(exc)
        else:
            self._fatal = exc

    # --- describing ----------------------------------------------------------------------

    async def _describe(self) -> None:
        self._describe_requested = False
        try:
            stream = await self.client.describe_all()
        except FluxError as exc:
            self.stats.requests += 1
            if exc.action in (Action.FATAL, Action.REAUTH):
                raise
            self._describe_retry_at = self._clock() + self._note_failure(exc)
            self._describe_requested = True
            return
        self.stats.requests += 1
        self._last_describe = self._clock()
        self._describe_retry_at = 0.0
        self._apply_description(stream)
        self._note_success()

    def _apply_description(self, stream: Any) -> None:
        first = self.stream is None
        self.stream = stream
        listed = {s.shard_id: s for s in stream.shards}
        for shard_id, shard in listed.items():
            if shard_id in self._tracks:
                continue
            parents = tuple(p for p in (shard.parent_shard_id, shard.adjacent_parent_shard_id) if p)
            track = ShardTrack(shard_id, parents, initial=first)
            if first and self.start_at.kind == "latest" and shard.is_closed:
                track.status = TrackStatus.SKIPPED  # a LATEST tail has nothing to read there
            if first:
                track.since_ms = self.start_at.at_ms  # every shard listed now, closed ones too
            self._place(track)
            self._tracks[shard_id] = track
        for track in self._tracks.values():
            if track.shard_id in listed:
                track.hold = False  # still there: re-open it (TRIM_HORIZON, skipping)
            elif track.hold or track.status is TrackStatus.WAITING:
                # Gone (deleted or expired from retention) before we could finish it.
                track.status = TrackStatus.GONE
                track.hold = False
                self._emit(ShardClosed(track.shard_id, self._children_of(track.shard_id)))
        if first:
            self._report_lost_positions(listed)
        release_children(self._tracks)
        self._update_caught_up()

    def _place(self, track: ShardTrack) -> None:
        """A resumed session's position on this shard, if it has one."""
        position = self.positions.get(track.shard_id)
        if position is None:
            return
        track.last_seq, track.last_sub, track.last_arrival_ms = position
        track.since_ms = None
        if track.status is TrackStatus.SKIPPED:
            track.status = TrackStatus.WAITING  # resuming: read the rest of a closed shard

    def _report_lost_positions(self, listed: Mapping[str, Any]) -> None:
        """Shards of a resumed session no longer listed: their rest expired unread."""
        for shard_id, (_, _, arrival) in self.positions.items():
            if shard_id not in listed:
                self.stats.gaps += 1
                reason = "the shard is no longer in the stream's retention"
                self._emit(Gap(shard_id, arrival, _ms(self._wall()), reason))

    def _children_of(self, shard_id: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
        children = list(extra)
        for other in self._tracks.values():
            if shard_id in other.parents and other.shard_id not in children:
                children.append(other.shard_id)
        return tuple(children)

    # --- one shard -----------------------------------------------------------------------

    async def _open(self, track: ShardTrack) -> None:
        plan = open_plan(track, self.start_at.kind == "latest", self.refusals.refused)
        gap_from = _ms(track.last_ok_wall)
        try:
            iterator = await self.client.get_shard_iterator(
                track.shard_id, plan.kind, sequence=plan.sequence, timestamp=plan.timestamp
            )
        except errors.IteratorTypeRefusedError as exc:
            self.stats.requests += 1
            self.refusals.note(exc.iterator_type)  # the next open plans the fallback
            self._emit(FeedProblem(exc, 0.0))
            return
        self.stats.requests += 1
        track.iterator = iterator
        track.behind, track.caught_up = True, False
        if not track.opened:
            track.opened, track.start_kind = True, plan.kind
            track.last_ok_wall = self._wall()
            self._emit(ShardOpened(track.shard_id, track.parents))
        elif plan.gap:
            self.stats.gaps += 1
            reason = "iterator expired before any record was read; re-opened at LATEST"
            self._emit(Gap(track.shard_id, gap_from, _ms(self._wall()), reason))
        self._note_success()
        self._update_caught_up()

    async def _read(self, track: ShardTrack) -> None:
        skipping = track.skipping
        limit = self._limit_for(track).value
        started = self._clock()
        page = await self.client.get_records(track.iterator, limit, retry_slow=False)
        latency = self._clock() - started
        self.stats.requests += 1
        self.stats.pages += 1
        track.last_ok_wall = received = self._wall()
        count = len(page.records)
        self._check_gaps(track, page)
        records, skipped = undelivered(track, page.records)
        self.stats.duplicates_skipped += skipped
        track.millis_behind = page.millis_behind_latest
        track.behind = page.millis_behind_latest > 0 or count >= limit
        track.caught_up = not track.behind
        track.iterator = page.next_shard_iterator
        track.retry_at = started + read_pause(page.records)
        track.fill_seconds = fill_seconds(page.records, self._limit.maximum)
        if skipping:
            self._estimate_fallback(track, page.records, count >= limit)
            track.skipping = not records and track.behind
        else:
            self._adapt_limit(latency, track.behind)
        self._note_success()
        if records:
            readings, decode_errors = decode_records(track.shard_id, records)
            readings = drop_delivered_subs(track, readings)
            note_delivered(track, records)
            track.readings += len(readings)
            self.stats.readings += len(readings)
            self.stats.decode_errors += len(decode_errors)
            batch = Batch(track.shard_id, readings, decode_errors, track.millis_behind, received)
            await self._outbox.put_batch(batch)  # waits while the consumer is behind
        self.progress.note(received, self.stats.readings, self.millis_behind)
        if track.iterator is None:
            self._finish(track, page)
        self._update_caught_up()

    def _check_gaps(self, track: ShardTrack, page: Any) -> None:
        """Records between the last delivered one and this page that retention trimmed."""
        span = trim_gap(track, page.records, page.millis_behind_latest)
        if span is None:
            hours = getattr(self.stream, "retention_period_hours", None)
            retention = int(hours * 3_600_000) if hours else None
            behind, now = page.millis_behind_latest, _ms(self._wall()) or 0
            span = retention_gap(track, page.records, behind, retention, now)
        if span is not None:
            self.stats.gaps += 1
            reason = "records after the last one read may have expired from retention"
            self._emit(Gap(track.shard_id, span[0], span[1], reason))

    def _estimate_fallback(self, track: ShardTrack, records: Any, full: bool) -> None:
        """Say once, on the state line, what the TRIM_HORIZON fallback costs: from the
        first skipped page, the calls left to reach the position on each shard skipping."""
        if not track.fallback or self.notice:
            return
        target: int | None
        if track.since_ms is not None and self.start_at.at is not None:
            what, refused = f"starting at {self.start_at.describe()}", "AT_TIMESTAMP"
            target = track.since_ms
        else:
            what, refused = "resuming after the last record read", "AFTER_SEQUENCE_NUMBER"
            target = track.last_arrival_ms
        calls = 1
        first = arrival_ms(records[0]) if records else None
        last = arrival_ms(records[-1]) if records else None
        if full and target is not None and first is not None and last is not None:
            calls += max(0, math.ceil((target - last) / max(1, last - first)))
        shards = max(1, sum(1 for t in self._tracks.values() if t.fallback or t.skipping))
        self.notice = (
            f"{what} means reading from the oldest retained record: ~{calls * shards:,} calls "
            f"(the API refused {refused})"
        )
        self._emit(StateChanged(self._state, self.notice))

    def _limit_for(self, track: ShardTrack) -> PageLimit:
        return self._skip_limit if track.skipping else self._limit

    def _adapt_limit(self, latency: float, behind: bool) -> None:
        if latency > self.slow_answer:
            self._limit.shrink()
        elif behind and latency < self.quick_answer:
            page_bytes = getattr(self.client, "page_bytes", 0)
            if not isinstance(page_bytes, int) or page_bytes < BIG_PAGE_BYTES:
                self._limit.grow()

    def _finish(self, track: ShardTrack, page: Any) -> None:
        """The end of a closed shard: drop it, let its children start, look for them."""
        track.status = TrackStatus.FINISHED
        track.caught_up, track.behind, track.millis_behind = True, False, 0
        named = tuple(c.shard_id for c in (getattr(page, "child_shards", None) or []))
        self._emit(ShardClosed(track.shard_id, self._children_of(track.shard_id, named)))
        self._describe_requested = True
        release_children(self._tracks)


def _span(budget: Any) -> float:
    return float(getattr(budget, "span", None) or budget.window)


def _slow(exc: FluxError) -> bool:
    """Answers a smaller page may cure: gateway 502/504 and our own timeouts."""
    if isinstance(exc, errors.TimeoutError):
        return True
    return isinstance(exc, errors.GatewayServerError) and exc.status in (502, 504)
