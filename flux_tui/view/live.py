"""The live view without a terminal: one source, the store, names, the recorder and the taps.

:class:`LiveView` is the one place feed items are dispatched (:meth:`LiveView.dispatch`, a
single ``match``). ``flux-tui tail`` and ``record`` run it headless with
``await view.run(StopWhen(count=..., headless=True))``; the Textual app runs the same object
in its feed worker and calls its methods from the keys.

Taps are fed in reading order: every batch's readings that pass the view's filter (the one
place the filter is applied for them), every other item, and a tick about once a second. The
recorder is a tap while it records; ``tail``'s output is one; ``flux-tui alarms`` runs its
alarm engine as one. :attr:`LiveView.watchers` are taps that see every reading, before the
filter: the viewer's alarms (a filter typed to read the log must not silence an alarm).

    view = LiveView(lambda: open_feed(profile), store=None)
    view.taps.append(my_tap)
    summary = await view.run(StopWhen(until_caught_up=True, headless=True))
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flux_tui.api import errors
from flux_tui.base.errors import FluxError
from flux_tui.base.events import CaughtUp, FeedProblem, FeedState, Gap, StateChanged
from flux_tui.data.session.pages import REPLAY_HELD
from flux_tui.data.session.recorder import Recorder, save_snapshot
from flux_tui.data.session.replay import ReplaySeeked, SessionReplay
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, Reading, SourceFacts
from flux_tui.view.source import (
    FeedSource,
    NameDirectory,
    NamesState,
    SourceItem,
    SourceOpener,
    ViewEvent,
)

if TYPE_CHECKING:  # the type only: enterprise brings httpx and pydantic (a replay needs neither)
    from flux_tui.api.enterprise import Asset

__all__ = ["LiveView", "RunSummary", "StopRun", "StopWhen", "Tap", "ViewListener", "ViewNames",
           "ends_run"]

Predicate = Callable[[Reading], bool]

TICK_EVERY = 1.0  # seconds between the taps' ticks while running
PART = 2000  # readings of a page the store takes at a time (the UI draws in between)
_NAMES_POLL = 0.05  # seconds between looks at the names while waiting for them
_REACHED = (FeedState.LIVE, FeedState.CATCHING_UP)

# Failures that mean "the API was never reached": before the first answer they end a
# headless run (a script wants exit 4 now, not retries forever); later they are waited out.
_UNREACHABLE = (errors.AuthUnreachableError, errors.ConnectError, errors.TimeoutError)


def ends_run(problem: FeedProblem, reached: bool) -> bool:
    """Whether a reader problem ends a headless run, or is waited out while the reader
    retries. ``reached``: the API has answered at least once in this run."""
    if problem.retry_in is None:
        return True
    error = problem.error
    if isinstance(error, errors.AuthError) and not isinstance(
        error, errors.AuthThrottledError | errors.AuthUnreachableError
    ):
        return True
    if reached:
        return False
    # A page that is not JSON and not a server error (a web page at a wrong base_url, a
    # captive portal, a CDN refusing GET with a body) is not the API: retrying cannot help.
    not_the_api = isinstance(error, errors.NonJSONResponse) and error.status < 500
    return not_the_api or isinstance(error, _UNREACHABLE)


class Tap(Protocol):
    """An observer the view feeds in reading order (recorder, ``tail``'s output, alarms)."""

    def take(self, readings: list[Reading]) -> None:
        """The readings of one batch that pass the view's filter (never an empty list)."""

    def note(self, event: ViewEvent) -> None:
        """Any other item, after the store took it."""

    def tick(self) -> None:
        """About once a second: put what waits on disk. An OSError ends the run."""


class ViewListener(Protocol):
    """What a front end is told at once instead of at its next look at the store."""

    def source_opened(self, source: FeedSource) -> None: ...

    def batch_taken(self, first: bool) -> None: ...  # first: the store's first readings

    def problem(self, problem: FeedProblem) -> None: ...

    def seeked(self, cleared: bool) -> None: ...  # a replay jumped (cleared: the store too)


class StopRun(Exception):
    """Raised by a tap to end the run (``tail``'s reader closed the pipe)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StopWhen:
    """When :meth:`LiveView.run` ends besides the source ending (default: never)."""

    count: int | None = None  # readings passed to the taps (after the filter)
    duration: float | None = None  # seconds
    caught_up: bool = False  # every shard read up to now
    #: Failures end the run into ``summary.error`` instead of raising, and reader problems
    #: that retrying cannot fix end it (``tail``/``record``). The viewer retries instead.
    headless: bool = False
    names_wait: float = 0.0  # seconds to wait for the source's names before reading


@dataclass
class RunSummary:
    """What one run did, for the closing line of ``tail``/``record``."""

    readings: int = 0  # passed to the taps (after the filter); counted when there are taps
    seen: int = 0  # decoded, before the filter
    filtered: bool = False  # a filter was set (a count alone also leaves readings unseen)
    decode_errors: int = 0
    gaps: int = 0
    requests: int = 0
    throttled: int = 0
    reached: bool = False  # the API answered at least once
    stopped_by: str = "end"
    signal: int | None = None
    error: BaseException | None = field(default=None, repr=False)

    def line(self, noun: str = "readings") -> str:
        shown = self.filtered and self.seen != self.readings
        filtered = f" ({self.seen:,} before the filter)" if shown else ""
        return (
            f"{self.readings:,} {noun}{filtered}, {self.decode_errors:,} decode errors, "
            f"{self.requests:,} requests, {self.throttled:,} throttled (429), "
            f"{self.gaps:,} gaps"
        )


class ViewNames:
    """The names of whatever source the view reads, as one stable object: widgets and
    filters hold it once, and it answers for the current source (none before one opens, or
    for a source without names)."""

    def __init__(self) -> None:
        self.directory: NameDirectory | None = None
        self._swaps = 0

    def use(self, directory: NameDirectory | None) -> None:
        """The source changed: answer from ``directory`` from now on."""
        self.directory = directory
        self._swaps += 1

    @property
    def version(self) -> int:
        """Grows with every change of names (or of the source)."""
        inner = self.directory.version if self.directory is not None else 0
        return (self._swaps << 40) + inner

    @property
    def state(self) -> NamesState | None:
        """The directory's state; None when the source has no names (a replay)."""
        return self.directory.state if self.directory is not None else None

    def asset_name(self, asset_id: Any) -> str | None:
        return self.directory.asset_name(asset_id) if self.directory is not None else None

    def site_name(self, site_id: Any) -> str | None:
        return self.directory.site_name(site_id) if self.directory is not None else None

    def org_name(self, org_id: Any) -> str | None:
        return self.directory.org_name(org_id) if self.directory is not None else None

    def details(self, asset_id: Any) -> Asset | None:
        return self.directory.details(asset_id) if self.directory is not None else None

    def lookup_missing(self, asset_id: Any) -> bool:
        return self.directory is not None and self.directory.lookup_missing(asset_id)


class _RecorderTap:
    """The viewer's recorder as a tap: what passes the filter, gaps, the flush."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def take(self, readings: list[Reading]) -> None:
        self.recorder.offer(readings)

    def note(self, event: ViewEvent) -> None:
        if isinstance(event, Gap):
            self.recorder.note_gap(event)

    def tick(self) -> None:
        self.recorder.tick()  # a write error stops the recording, never the view


class LiveView:
    """One source read into the store (optional: ``tail`` keeps none) and the taps."""

    def __init__(self, open_source: SourceOpener, *, store: LiveStore | None = None,
                 clock: Callable[[], float] = time.time,
                 listener: ViewListener | None = None) -> None:
        self._open = open_source
        self.store = store
        self.clock = clock
        self._live_clock = clock
        self.listener = listener
        self.names = ViewNames()
        self.source: FeedSource | None = None
        self.replay: SessionReplay | None = None  # the session file being replayed
        self.recorder = Recorder()
        self.taps: list[Tap] = []
        self.watchers: list[Tap] = []  # fed every reading, before the filter (alarms)
        self._recorder_tap = _RecorderTap(self.recorder)
        self._filter: Predicate | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._stop_reason: str | None = None
        self._tick_error: OSError | None = None
        self._replay_row0 = 0
        self.history = store.capacity if store is not None else 0  # [ui] history

    # --- the filter (the log's, the recording's and tail's) -------------------------------

    @property
    def filter(self) -> Predicate | None:
        """What the view selects (None: every reading)."""
        return self._filter

    def set_filter(self, predicate: Predicate | None) -> None:
        """Select readings by ``predicate``: the store's view and every tap from now on."""
        self._filter = predicate
        if self.store is not None:
            self.store.set_filter(predicate)

    def selected(self, readings: list[Reading]) -> list[Reading]:
        """The readings that pass the filter, in order."""
        predicate = self._filter
        return readings if predicate is None else [r for r in readings if predicate(r)]

    # --- facts ----------------------------------------------------------------------------

    def facts(self) -> SourceFacts:
        """The current source's figures (none before one opened)."""
        return self.source.facts() if self.source is not None else SourceFacts()

    def metadata(self, filter_text: str) -> dict[str, Any]:
        """A session file's metadata for what the view shows now."""
        facts = self.facts()
        meta: dict[str, Any] = {"profile": facts.profile, "company": facts.company,
                                "filter": filter_text}
        if facts.origin is not None:
            meta["source"] = facts.origin
        return meta

    # --- recording and saving -------------------------------------------------------------

    def start_recording(self, path: str | os.PathLike[str], filter_text: str, *,
                        overwrite: bool = False) -> None:
        """Record what passes the filter from now on (OSError: nothing changed)."""
        self.recorder.start(path, self.metadata(filter_text), overwrite=overwrite)
        if self._recorder_tap not in self.taps:
            self.taps.append(self._recorder_tap)

    def stop_recording(self) -> int:
        """Close the recording; the readings it holds."""
        count = self.recorder.stop()
        if self._recorder_tap in self.taps:
            self.taps.remove(self._recorder_tap)
        return count

    def held(self) -> list[Reading]:
        """What the store's (filtered) view holds now, oldest first."""
        store = self.store
        if store is None:
            return []
        return [reading for _, reading, _ in store.view_slice(0, store.view_len())]

    async def save(self, readings: Iterable[Reading], path: str | os.PathLike[str],
                   filter_text: str, *, overwrite: bool = False) -> int:
        """Write ``readings`` to a new session file (in a thread); how many were written."""
        return await asyncio.to_thread(save_snapshot, readings, path,
                                       self.metadata(filter_text), overwrite=overwrite)

    def tick(self) -> None:
        """Let the taps flush (the run does it once a second; a front end may too)."""
        for tap in [*self.watchers, *self.taps]:
            tap.tick()

    # --- replay ---------------------------------------------------------------------------

    def use_replay(self, replay: SessionReplay, opener: SourceOpener | None = None) -> None:
        """Make ``replay`` the source of the next :meth:`run`: its clock, an empty store.
        ``opener`` may wrap it (with names, :func:`flux_tui.connect.replay_source`)."""
        self.replay = replay
        self.clock = replay.now
        self._replay_row0 = 0  # the replay's row at the store's position 0
        if self.store is not None:
            self.store.clock = replay.now
            # the file itself is the history (paged from disk through its index): memory
            # holds only its newest readings
            self.store.clear(capacity=min(self.history, REPLAY_HELD))

        async def just_the_replay() -> FeedSource:
            return replay

        self._open = opener or just_the_replay

    @property
    def replay_row0(self) -> int:
        """The replayed file's row at the store's position 0 (it moves when a jump back
        past what the store held starts the store again)."""
        return self._replay_row0

    def use_live(self, opener: SourceOpener) -> None:
        """Make a live feed the source of the next :meth:`run`, from an empty store (the
        viewer's look-back reopens the feed at an earlier start this way). The filter
        stays; a replay being shown is left."""
        self.replay = None
        self.clock = self._live_clock
        if self.store is not None:
            self.store.clock = self._live_clock
            self.store.clear(capacity=self.history)
        self._open = opener

    # --- running --------------------------------------------------------------------------

    def stop(self, reason: str, signum: int | None = None, summary: RunSummary | None = None
             ) -> None:
        """End the current run (a signal handler calls this)."""
        self._stop_reason = reason
        if summary is not None:
            summary.stopped_by, summary.signal = reason, signum
        if self._consumer is not None:
            self._consumer.cancel()

    async def run(self, until: StopWhen | None = None, *,
                  summary: RunSummary | None = None) -> RunSummary:
        """Open the source and dispatch its items until it ends or ``until`` says so; the
        source is closed on the way out. Headless, foreseeable failures end up in
        ``summary.error``; otherwise they are raised (the viewer retries)."""
        until = until or StopWhen()
        summary = summary or RunSummary()
        summary.filtered = self._filter is not None
        self._stop_reason, self._tick_error = None, None
        source = await self._open()
        self.source = source
        names = source.names
        self.names.use(names)
        names_task = asyncio.create_task(names.run()) if names is not None else None
        consumer = asyncio.create_task(self._consume(source, until, summary))
        self._consumer = consumer
        ticker = asyncio.create_task(self._ticker())
        try:
            if self.listener is not None:
                self.listener.source_opened(source)
            await self._wait(consumer, until, summary)
        finally:
            for task in (consumer, ticker, names_task):
                if task is not None and not task.done():
                    task.cancel()
            self._consumer = None
            facts = source.facts()
            summary.requests, summary.throttled = facts.requests, facts.throttled
            await self._close(source, until)
        return summary

    async def _wait(self, consumer: asyncio.Task[None], until: StopWhen,
                    summary: RunSummary) -> None:
        done, _ = await asyncio.wait({consumer}, timeout=until.duration)
        if not done:
            self.stop("duration", summary=summary)
        error: BaseException | None = None
        try:
            await consumer
        except asyncio.CancelledError:
            if self._stop_reason is None:
                raise  # cancelled by neither us nor a stop(): not ours to swallow
        except (FluxError, OSError) as exc:
            error = exc
        error = error or self._tick_error
        if error is not None:
            if not until.headless:
                raise error
            summary.error, summary.stopped_by = error, "error"

    async def _close(self, source: FeedSource, until: StopWhen) -> None:
        try:
            await source.aclose()
        except (FluxError, OSError):
            if not until.headless:
                raise  # headless: closing a feed that failed must not hide the first error

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_EVERY)
            try:
                self.tick()
            except OSError as exc:  # a recording's disk failed: stop like any error
                self._tick_error = exc
                self.stop("error")
                return

    async def _consume(self, source: FeedSource, until: StopWhen, summary: RunSummary) -> None:
        if until.names_wait > 0 and source.names is not None:
            await _names_loaded(source.names, until.names_wait)
        try:
            async for item in source:
                reason = await self._dispatch_parts(self._parts(item), until, summary)
                # Nothing may hold a page while the next one is awaited: its readings would
                # stay alive for the garbage collector to walk (see ui/gc_policy.py).
                del item
                if reason is not None:
                    summary.stopped_by = reason
                    return
        except StopRun as stop:
            summary.stopped_by = stop.reason

    async def _dispatch_parts(self, parts: list[SourceItem], until: StopWhen,
                              summary: RunSummary) -> str | None:
        """Dispatch an item (or a page's parts, the UI drawing between them)."""
        for number, part in enumerate(parts):
            if number:
                await asyncio.sleep(0)  # let the UI draw between parts of a page
            reason = self.dispatch(part, until, summary)
            if reason is not None:
                return reason
        return None

    def _parts(self, item: SourceItem) -> list[SourceItem]:
        """A big page for the store in parts of :data:`PART` readings: ingesting a
        10,000-reading page in one go would hold the event loop (the viewer's lag at peak
        feed). Decode errors go with the last part. Headless runs take pages whole."""
        if not isinstance(item, Batch) or self.store is None or len(item.readings) <= PART:
            return [item]
        readings = item.readings
        starts = range(0, len(readings), PART)
        return [Batch(item.shard, readings[a:a + PART],
                      item.errors if a + PART >= len(readings) else [], item.millis_behind,
                      item.received_at) for a in starts]

    def dispatch(self, item: SourceItem, until: StopWhen, summary: RunSummary) -> str | None:
        """Hand one item to the store, the taps and the listener: the one place items are
        told apart. Returns why the run stops now, if it does."""
        match item:
            case Batch():
                return self._take(item, until, summary)
            case ReplaySeeked():
                cleared = self._replay_seeked(item)
                self._note(item)
                if self.listener is not None:
                    self.listener.seeked(cleared)
            case FeedProblem():
                self._note(item)
                if self.listener is not None:
                    self.listener.problem(item)
                if until.headless and ends_run(item, summary.reached):
                    raise item.error
            case CaughtUp():
                summary.reached = True
                self._note(item)
                if until.caught_up:
                    return "caught up"
            case Gap():
                summary.gaps += 1
                self._note(item)
            case StateChanged(state=state):
                summary.reached = summary.reached or state in _REACHED
                self._note(item)
            case _:  # Throttled, ShardOpened, ShardClosed
                self._note(item)
        return None

    def _replay_seeked(self, item: ReplaySeeked) -> bool:
        """The store keeps the history before a jump. Forwards every reading up to the
        target was played already; backwards the store is cut back to the target's row
        (what follows continues from there), so a paused replay shows the readings at that
        point. True when that point is no longer held and the store started again."""
        store = self.store
        if store is None or not item.backwards:
            return False
        pos = item.row - self._replay_row0
        if pos >= store.first:
            store.truncate(pos)
            return False
        store.clear()  # now: the next page must land in the empty store
        self._replay_row0 = item.row
        return True

    def _take(self, batch: Batch, until: StopWhen, summary: RunSummary) -> str | None:
        summary.reached = True
        readings = batch.readings
        summary.seen += len(readings)
        summary.decode_errors += len(batch.errors)
        store = self.store
        if store is not None:
            first = store.total == 0
            store.ingest(batch)
            if self.listener is not None:
                self.listener.batch_taken(first and store.total > 0)
        if readings:
            for watcher in self.watchers:
                watcher.take(readings)
        if not self.taps and until.count is None:
            return None  # nobody needs the filtered readings: not filtered twice
        chosen = self.selected(readings)
        if until.count is not None:
            chosen = chosen[: until.count - summary.readings]
        if chosen:
            summary.readings += len(chosen)
            for tap in self.taps:
                tap.take(chosen)
        if until.count is not None and summary.readings >= until.count:
            return "count"
        return None

    def _note(self, event: ViewEvent) -> None:
        if self.store is not None and not isinstance(event, ReplaySeeked):
            self.store.note(event)
        for tap in [*self.watchers, *self.taps]:
            tap.note(event)


async def _names_loaded(names: NameDirectory, timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) until the first names arrived or failed to."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while names.state == "loading" and loop.time() < deadline:
        await asyncio.sleep(_NAMES_POLL)


def install_stop_signals(view: LiveView, summary: RunSummary,
                         signums: Iterable[int]) -> Callable[[], None]:
    """Let ``signums`` end ``view``'s run cleanly (named in the summary); returns the undo.
    Outside the main thread (no signals there) nothing is installed."""
    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def on_signal(signum: int) -> None:
        view.stop(signal.Signals(signum).name, signum, summary)

    for signum in signums:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals here: Ctrl-C still interrupts

    def undo() -> None:
        for signum in installed:
            loop.remove_signal_handler(signum)

    return undo
