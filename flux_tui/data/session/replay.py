"""Playing a saved session back through the live pipeline: :class:`SessionReplay` is an
async iterator of the same feed items a :class:`~flux_tui.feed.reader.ShardReader` yields
(``Batch`` and ``StateChanged``), paced by the readings' own times at 1x, 10x or as fast
as possible, with pause, speed changes and seeking.

The first batches come straight from the file as it streams (a million-reading session
shows data at once); the compact :class:`SessionIndex` loads in a thread meanwhile and is
what seeking and the exact duration need.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from flux_tui.base.events import FeedState, Gap, StateChanged
from flux_tui.data.session.gzip_points import GzipPoints
from flux_tui.data.session.index import LOAD_GATE, SessionIndex
from flux_tui.data.session.read import SessionFile, open_session
from flux_tui.data.session.replay_rows import RowIndex, locate, positioned, rows_from
from flux_tui.feed.types import Batch, FeedItem, Reading, SourceFacts

__all__ = ["SPEEDS", "ReplaySeeked", "SessionReplay", "Speed", "speed_label"]

Speed = float | None
"""Replay speed: a factor of real time, or None for as fast as possible."""
SPEEDS: tuple[Speed, ...] = (1.0, 10.0, None)
_NAP = 0.1  # longest sleep between checks for pause, seek and speed changes (seconds)
# At full speed, the pause after each page. Not 0: a zero sleep lets every other task take
# one step a page, and the viewer's chains of steps (mount, layout, then a frame) waited a
# page (tens of ms) a step; 2 ms lets them run on (benchmarks/bench_first_screen.py)
_BREATH = 0.002
# At full speed, a whole-file count (a thread scanning the file, prefilter.py) holds the
# replay back, for at most this long a page: the two share one interpreter, and with 2 ms
# pauses between pages the replay kept half of it (a count typed during a max-speed replay
# took 2.4-2.6 s; 0.94-1.0 s with the replay paused). The count is what the user waits
# for; the replay goes on at full speed once it is done.
_YIELD_TO_COUNT_S = 3.0
REPLAY_SHARD = "replay"  # the Batch.shard of replayed pages (the store keys lag by shard)


def speed_label(speed: Speed) -> str:
    """``1×``, ``10×``, ``max``."""
    return "max" if speed is None else f"{speed:g}×"


@dataclass(frozen=True, slots=True)
class ReplaySeeked:
    """The replay jumped to ``position_ms``. Forwards, every reading up to there was played
    (fast) before this arrives. Backwards, what follows continues from ``row`` (the file's
    row number), so a viewer cuts its log back to the reading of that row."""

    position_ms: int | None
    backwards: bool
    row: int = 0


class SessionReplay:
    """A saved session as a feed source. ``async for item in replay`` (or
    ``replay.reader``, the shape the viewer's opener returns); ``await replay.aclose()``.

    ``clock``/``sleep`` are injectable so tests control time. With ``hold_at_end`` the
    iterator waits at the end for a seek (the viewer) instead of finishing.
    """

    def __init__(self, path: str | os.PathLike[str], *, speed: Speed = 1.0,
                 batch_size: int = 1000, hold_at_end: bool = False,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.path = Path(path)
        self._stream_file = open_session(self.path)  # FileNotFoundError now, not later
        if self._stream_file.compressed:  # resume points: seeking back needs no re-read
            self._stream_file.gzip_points = GzipPoints()
        self.metadata: dict[str, Any] = self._stream_file.metadata
        self._speed: Speed = speed
        self.batch_size = batch_size
        self.hold_at_end = hold_at_end
        self._clock, self._sleep = clock, sleep
        self.paused = False
        self.at_end = False
        self.position_ms: int | None = None  # data time of the newest reading played
        self.row = 0  # the next row to play
        self.index: SessionIndex | None = None
        self._index_task: asyncio.Task[SessionIndex] | None = None
        self._seek: tuple[str, float] | None = None
        self._ahead_to: int | None = None  # a forward jump's target time
        self.rows = RowIndex()  # where the rows read so far are in the file (seeking back)
        self._fresh: Iterator[tuple[int, Reading]] = self._stream_rows()  # the file, read once
        self._source: Iterator[tuple[int, Reading]] = self._fresh
        self._tail_ms: int | None | bool = False  # the file's last time, read from its end
        self._pending: tuple[int, Reading] | None = None
        self._anchor: tuple[float, int] | None = None  # (clock, data ms) pacing starts from
        self._reanchor = False
        self._closed = False
        self._iterating = False
        self._wake: asyncio.Event | None = None

    # --- the FeedSource shape (flux_tui.view.source) ------------------------------------

    names: None = None  # a session file carries ids only

    @property
    def reader(self) -> SessionReplay:
        """The replay itself (a feed session has ``.reader``; so does this)."""
        return self

    def facts(self) -> SourceFacts:
        """Who recorded the session (for a recording made from the replay)."""
        meta = self.metadata
        profile, company = meta.get("profile"), meta.get("company")
        return SourceFacts(profile=profile if isinstance(profile, str) else None,
                           company=company if isinstance(company, str) else None,
                           origin=self.path.name)

    def person_login(self) -> None:
        """No login to renew: the file is local."""
        return

    async def aclose(self) -> None:
        """Stop playing and release the files (the index may still be loading)."""
        self._closed = True
        self._poke()
        close = getattr(self._fresh, "close", None)
        if close is not None and not self._iterating:
            close()
        task = self._index_task
        if task is not None and not task.done():
            task.add_done_callback(_close_when_loaded)
        elif self.index is not None:
            self.index.close()

    # --- controls -----------------------------------------------------------------------

    @property
    def speed(self) -> Speed:
        """The current speed (None: as fast as possible)."""
        return self._speed

    @speed.setter
    def speed(self, speed: Speed) -> None:
        self._speed = speed
        self._reanchor = True  # pace from the current position at the new speed
        self._poke()

    def cycle_speed(self) -> Speed:
        """1× → 10× → max → 1×; returns the new speed."""
        at = SPEEDS.index(self._speed) if self._speed in SPEEDS else -1
        self.speed = SPEEDS[(at + 1) % len(SPEEDS)]
        return self._speed

    def pause(self) -> None:
        """Hold at the current position."""
        self.paused = True
        self._poke()

    def resume(self) -> None:
        """Play on from the current position."""
        self.paused = False
        self._reanchor = True
        self._poke()

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused."""
        self.resume() if self.paused else self.pause()
        return self.paused

    def seek(self, epoch_ms: int) -> None:
        """Jump to the first reading taken at or after ``epoch_ms``."""
        self._request(("at", float(epoch_ms)))

    def seek_fraction(self, fraction: float) -> None:
        """Jump to a point of the session's time span (0.0 start, 1.0 end)."""
        self._request(("fraction", min(1.0, max(0.0, fraction))))

    def seek_by(self, seconds: float) -> None:
        """Jump forwards (or back, negative) by ``seconds`` of session time; repeated
        presses before the jump happens add up."""
        if self._seek is not None and self._seek[0] == "by":
            seconds += self._seek[1]
        self._request(("by", seconds))

    # --- progress and metadata ----------------------------------------------------------

    @property
    def start_ms(self) -> int | None:
        """The session's first reading time (the sidecar's, else the earliest read so far)."""
        if self.rows.complete and self.rows.start_ms is not None:
            return self.rows.start_ms
        meta = _int_or_none(self.metadata.get("first_epoch_ms"))
        return meta if meta is not None else self.rows.start_ms

    @property
    def end_ms(self) -> int | None:
        """The session's last reading time (exact once the file was read to its end; before,
        the sidecar's, else the time of the file's last lines)."""
        if self.rows.complete:
            return self.rows.end_ms
        meta = _int_or_none(self.metadata.get("last_epoch_ms"))
        if meta is not None:
            return meta
        if self._tail_ms is False:
            self._tail_ms = _tail_end_ms(self._stream_file)
        return self._tail_ms if isinstance(self._tail_ms, int) else self.rows.end_ms

    @property
    def duration_ms(self) -> int | None:
        """The session's time span, when known."""
        start, end = self.start_ms, self.end_ms
        return None if start is None or end is None else end - start

    @property
    def fraction(self) -> float | None:
        """How far the replay has got, 0.0 to 1.0 (None when the span is unknown)."""
        start, span = self.start_ms, self.duration_ms
        if start is None or span is None or self.position_ms is None:
            return None
        return 1.0 if span <= 0 else min(1.0, max(0.0, (self.position_ms - start) / span))

    @property
    def total(self) -> int | None:
        """Readings in the file (exact once it was read to its end, else the sidecar's)."""
        if self.rows.complete:
            return len(self.rows)
        return _int_or_none(self.metadata.get("count"))

    @property
    def problems(self) -> list[tuple[int, str]]:
        """Damaged lines skipped so far, ``(line_no, reason)``."""
        return self._stream_file.problems

    def now(self) -> float:
        """The replay's "now" in epoch seconds (the time of the newest reading played): the
        viewer's clock for staleness, rates and sparkline windows while replaying."""
        if self.position_ms is None:
            start = self.start_ms
            return start / 1000.0 if start is not None else time.time()
        return self.position_ms / 1000.0

    def describe(self) -> str:
        """One line for the header: profile, company, filter, time span, count, gaps."""
        meta = self.metadata
        parts = [str(meta[k]) for k in ("profile", "company") if meta.get(k)]
        if meta.get("filter"):
            parts.append(f"filter {meta['filter']}")
        start, end = _int_or_none(meta.get("first_epoch_ms")), _int_or_none(meta.get("last_epoch_ms"))
        if start is not None and end is not None:
            first, last = _utc(start), _utc(end)
            # the end's date too when the capture runs past midnight (UTC)
            parts.append(f"{first}–{last[11:] if last[:10] == first[:10] else last} UTC")
        count = _int_or_none(meta.get("count"))  # a hand-edited sidecar must not crash open
        if count is not None:
            parts.append(f"{count:,} readings")
        gaps = meta.get("gaps")
        gaps = gaps if isinstance(gaps, list) else []
        if gaps:
            parts.append(f"{len(gaps)} gap{'s' if len(gaps) > 1 else ''}")
        if meta.get("complete") is False:
            parts.append("incomplete")
        if meta.get("app_version"):
            parts.append(f"v{meta['app_version']}")
        return f"{self.path.name}: " + " · ".join(parts) if parts else self.path.name

    async def load_index(self) -> SessionIndex:
        """The compact index of the whole file, loaded once in a thread (for whole-file
        filtering; playing and seeking do not need it: they use :attr:`rows`)."""
        self.load_index_soon()
        assert self._index_task is not None
        return await asyncio.shield(self._index_task)

    def _build_index(self) -> SessionIndex:
        # A separate SessionFile: its problem list is the index's own, not the stream's.
        index = open_session(self.path).index()
        self.index = index
        return index

    # --- playing ------------------------------------------------------------------------

    async def __aiter__(self) -> AsyncIterator[FeedItem | ReplaySeeked]:
        self._wake = asyncio.Event()
        shown = self._detail()
        yield StateChanged(FeedState.REPLAY, shown)
        gaps = self.metadata.get("gaps")
        for gap in gaps if isinstance(gaps, list) else []:
            if isinstance(gap, dict):
                yield Gap(str(gap.get("shard", "")), _int_or_none(gap.get("start_ms")),
                          _int_or_none(gap.get("end_ms")), str(gap.get("reason", "")))
        self._iterating = True
        try:
            while not self._closed:
                if self._seek is not None:
                    seeked = await self._start_seek()
                    if seeked is not None:
                        yield seeked
                    continue
                detail = self._detail()
                if detail != shown:
                    shown = detail
                    yield StateChanged(FeedState.REPLAY, detail)
                if (self.paused or self.at_end) and self._ahead_to is None:
                    if self.at_end and not self.hold_at_end:
                        return
                    assert self._wake is not None
                    self._wake.clear()
                    if not self._closed and self._seek is None:
                        await self._wake.wait()
                    self._anchor = None
                    continue
                if self._reanchor:
                    self._reanchor, self._anchor = False, None
                now = self._clock()
                batch, due = self._next_batch(now)
                if batch:
                    yield Batch(REPLAY_SHARD, batch, [], 0, self.now())
                ahead = self._ahead_to
                if ahead is not None and (self._reached(ahead) or self.at_end):
                    # a jump forwards played every reading up to its target: it is done
                    self._ahead_to, self._anchor = None, None
                    if not self.at_end:
                        self.position_ms = ahead
                    yield ReplaySeeked(self.position_ms, False, self.row)
                    continue
                if self.at_end:
                    continue
                if self._speed is None or ahead is not None:
                    await self._sleep(_BREATH)  # let the viewer draw between pages
                    await self._yield_to_count()
                elif not batch or due > now:
                    await self._sleep(min(max(due - now, 0.0), _NAP))
        finally:
            self._iterating = False
            close = getattr(self._fresh, "close", None)
            if close is not None:
                close()

    async def _yield_to_count(self) -> None:
        """While a whole-file count runs, wait (at most :data:`_YIELD_TO_COUNT_S`)."""
        waited = 0.0
        while not LOAD_GATE.open and waited < _YIELD_TO_COUNT_S and self._seek is None:
            await self._sleep(0.05)
            waited += 0.05

    def _stream_rows(self) -> Iterator[tuple[int, Reading]]:
        """The file read once, front to back, each row's place recorded in :attr:`rows`."""
        rows = self.rows
        add = rows.add
        for offset, _, reading in positioned(self._stream_file):
            row = len(rows)
            add(offset, reading.epoch_ms)
            yield row, reading
        rows.complete = True

    def _reached(self, target: int) -> bool:
        """The next reading to play is at or past ``target`` (it would move time there)."""
        pending = self._pending
        if pending is None:
            return False
        ms = pending[1].epoch_ms
        return ms is not None and max(ms, self.position_ms or ms) >= target

    async def _start_seek(self) -> ReplaySeeked | None:
        """Act on a seek request. Forwards: play every reading up to the target at full
        speed (the viewer's log keeps them all; ``ReplaySeeked`` follows when there).
        Backwards: read the recorded rows again from the target's; the viewer cuts its log
        back to that row."""
        target = self._resolve_seek()
        self._anchor = None
        if target is None:
            return None
        played = self.position_ms
        if played is None or target > played:
            self._ahead_to = target
            self._poke()
            return None
        self._ahead_to = None
        row = await asyncio.to_thread(locate, self._stream_file, self.rows, target)
        self._source = chain(rows_from(self._stream_file, self.rows, row), self._fresh)
        self._pending, self.row, self.at_end = None, row, False
        self.position_ms = target
        return ReplaySeeked(target, True, row)

    def _next_batch(self, now: float) -> tuple[list[Reading], float]:
        """The readings due by ``now`` (at most a batch; all of them up to a forward jump's
        row), and when the next one is due."""
        ahead = self._ahead_to
        speed = None if ahead is not None else self._speed
        batch: list[Reading] = []
        due = now
        while len(batch) < self.batch_size:
            if self._pending is None:
                self._pending = next(self._source, None)
                if self._pending is None:
                    self.at_end = True
                    break
            row, reading = self._pending
            ms = reading.epoch_ms
            if ahead is not None and ms is not None and max(ms, self.position_ms or ms) >= ahead:
                break
            if speed is not None and ms is not None:
                if self._anchor is None:
                    self._anchor = (now, self.position_ms if self.position_ms is not None
                                    else ms)
                due = self._anchor[0] + (ms - self._anchor[1]) / 1000.0 / speed
                if due > now:
                    break
            batch.append(reading)
            self._pending = None
            self.row = row + 1
            if ms is not None and (self.position_ms is None or ms > self.position_ms):
                self.position_ms = ms
        return batch, due

    def load_index_soon(self) -> None:
        """Start loading the index in the background (seeking and the exact span need it)."""
        if self._index_task is None:
            self._index_task = asyncio.ensure_future(asyncio.to_thread(self._build_index))

    def _resolve_seek(self) -> int | None:
        """The target time of the pending seek request (None when the span is unknown);
        clears the request."""
        request, self._seek = self._seek, None
        assert request is not None
        kind, value = request
        start, end = self.start_ms, self.end_ms
        if kind == "fraction":
            if start is None or end is None:
                return None
            target = start + round((end - start) * value)
        elif kind == "by":
            base = self.position_ms if self.position_ms is not None else start
            if base is None:
                return None
            target = base + round(value * 1000)
        else:
            target = int(value)
        if start is not None:
            target = max(target, start)
        return min(target, end) if end is not None else target

    def _request(self, request: tuple[str, float]) -> None:
        self._seek = request
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _detail(self) -> str:
        if self.at_end and self._seek is None:
            return "end of session"
        return "paused" if self.paused else speed_label(self._speed)


def _close_when_loaded(task: asyncio.Task[SessionIndex]) -> None:
    """Close an index whose loading finished after the replay was closed."""
    if not task.cancelled() and task.exception() is None:
        task.result().close()


def _tail_end_ms(session: SessionFile) -> int | None:
    """The latest epochMs among the last lines of a plain JSONL file (a session without a
    sidecar still shows its span before it was read to the end)."""
    if session.compressed or session.format != "jsonl":
        return None
    try:
        with open(session.path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 65536))
            lines = handle.read().split(b"\n")[1:]
    except OSError:
        return None
    best: int | None = None
    for line in lines:
        try:
            ms = orjson.loads(line).get("epochMs")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if type(ms) is int and (best is None or ms > best):
            best = ms
    return best


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _utc(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, OSError):  # a time out of range in a damaged sidecar
        return str(ms)
