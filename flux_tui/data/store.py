"""The bounded live state the viewer reads: a log ring of readings, per-tag state and series,
the asset tree, feed counters and a filtered view of the log.

Fed whole batches by the reader's worker; read by widgets on a timer. Pure Python (no Textual):
the hot path is :meth:`LiveStore.ingest`, a single loop over plain tuples.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from flux_tui.data.tag_state import (
    SERIES_KEEP,
    SeriesStats,
    TagKey,
    TagState,
    UnitState,
    tell_apart,
)
from flux_tui.feed.types import (
    Batch,
    CaughtUp,
    DecodeError,
    FeedState,
    Gap,
    ReaderEvent,
    Reading,
    StateChanged,
    Throttled,
)

# The tag and unit state live in tag_state; they are re-exported for the store's readers.
__all__ = ["LiveStore", "Predicate", "SeriesStats", "TagKey", "TagState", "UnitState"]

Predicate = Callable[[Reading], bool]

_RATE_WINDOW = 5.0  # seconds the readings/s figure averages over


class LiveStore:
    """The bounded live state. ``ingest(batch)`` per page; widgets read the rest.

    The log is a fixed-size ring addressed by *absolute position* (0 for the first reading
    ever ingested): position ``p`` is held while ``p >= total - capacity``. A parallel ring
    holds each line's previous value of the same tag (for the change arrow), so a retained
    reading costs three list slots (24 bytes) plus, with a filter, 8 bytes in the match index.

    Why readings are kept as plain tuples of their scalar fields with the payload apart:
    a ``Reading`` (a tuple subclass holding a dict) stays tracked by the garbage collector
    for ever, and a full collection walking 200,000 of them stalls the UI for 50-200 ms. A
    plain tuple of scalars is untracked by the first young collection; the payload dicts
    (JSON scalars only) are untracked from birth. ``reading_at`` rebuilds the ``Reading``.
    """

    def __init__(self, capacity: int = 200_000, *, clock: Callable[[], float] = time.time,
                 error_capacity: int = 200) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.clock = clock
        self._ring: list[tuple[Any, ...] | None] = [None] * capacity  # Reading[:-1]
        self._payload: list[dict[str, Any] | None] = [None] * capacity
        self._prev: list[Any] = [None] * capacity
        self.total = 0  # readings ever ingested (the next absolute position)
        self.tags: dict[TagKey, TagState] = {}
        self.units: dict[Any, UnitState] = {}
        # org -> site -> [unit ids]: the tree model, in first-seen order
        self.tree: dict[Any, dict[Any, list[Any]]] = {}
        self.tree_version = 0  # bumps when a node appears, so the tree adds only then
        self.version = 0  # bumps on every ingest/filter change: widgets redraw only on change
        self.errors: deque[DecodeError] = deque(maxlen=error_capacity)
        self.error_total = 0
        self.state = FeedState.CONNECTING
        self.state_detail = ""
        self.throttled_until = 0.0
        self.caught_up = False
        self.gaps: deque[Gap] = deque(maxlen=100)
        self._behind: dict[str, int] = {}
        self._rate: deque[tuple[float, int]] = deque()
        self.delay_ms: float | None = None  # field-to-cloud delay (rtms - epochMs), last batch
        self.arrival_delay_ms: float | None = None  # arrival - epochMs, last batch
        self.latest_ms = 0  # newest epochMs seen: the stream's "now" while catching up
        self._predicate: Predicate | None = None
        self._matches = array("q")  # absolute positions that pass the predicate, ascending
        self._match_start = 0  # index of the first match still held (lazy trim)

    def clear(self) -> None:
        """Forget every reading, tag and counter (a replay jumped, or another session was
        opened); the filter stays. The version counters keep growing, so widgets that
        compare them notice the change."""
        version, tree_version, predicate = self.version, self.tree_version, self._predicate
        # Re-running __init__ resets every field, including ones added later.
        self.__init__(self.capacity, clock=self.clock,  # type: ignore[misc]
                      error_capacity=self.errors.maxlen or 200)
        self.version, self.tree_version = version + 1, tree_version + 1
        self._predicate = predicate

    # --- ingest ---------------------------------------------------------------------------

    def ingest(self, batch: Batch) -> None:
        """Take one decoded page: log ring, per-tag state and series, counters, filter."""
        readings = batch.readings
        if batch.errors:
            self.errors.extend(batch.errors)
            self.error_total += len(batch.errors)
        self._behind[batch.shard] = batch.millis_behind
        now = batch.received_at or self.clock()
        n = len(readings)
        self._rate.append((now, n))
        if not n:
            self.version += 1
            return
        if n > self.capacity:  # only the newest fit; skipped ones still count as seen
            self.total += n - self.capacity
            readings = readings[-self.capacity:]
            n = self.capacity
        tags = self.tags
        prevs: list[Any] = [None] * n
        delay_sum = 0
        delay_n = 0
        latest = self.latest_ms
        i = 0
        for r in readings:
            tag_id = r.tag_id
            key = (r.asset_id, tag_id if tag_id is not None else r.tag_name)
            t = tags.get(key)
            if t is None:
                t = self._new_tag(key, r)
            prev = t.last
            prevs[i] = prev
            i += 1  # noqa: SIM113 - a manual index is cheaper than enumerate here
            val = r.val
            t.prev = prev
            t.last = val
            t.count += 1
            ms = r.epoch_ms
            if ms is not None:
                gap = ms - t.last_ms
                if gap > 0:
                    if t.count > 1:
                        # EWMA of the reporting interval: adapts, but one late point moves it little
                        t.interval_ms = gap if t.interval_ms == 0 else t.interval_ms * 0.8 + gap * 0.2
                    t.last_ms = ms
                latest = max(latest, ms)
                rt = r.rtms
                if rt is not None:
                    delay_sum += rt - ms
                    delay_n += 1
                sec = ms // 1000
                times = t.times
                # one point per second: a faster tag overwrites its point (keeps memory fixed)
                if times and times[-1] == sec:
                    t.values[-1] = val if type(val) is float else t.code_of(val)
                else:
                    times.append(sec)
                    t.values.append(val if type(val) is float else t.code_of(val))
                    if len(times) > 2 * SERIES_KEEP:
                        del times[:SERIES_KEEP]
                        del t.values[:SERIES_KEEP]
        self.latest_ms = latest
        if delay_n:
            self.delay_ms = delay_sum / delay_n
        last = readings[-1]
        if last.epoch_ms is not None:
            self.arrival_delay_ms = last.arrival * 1000.0 - last.epoch_ms
        for u in {r.asset_id for r in readings}:  # cheap: a page holds few units
            unit = self.units.get(u)
            if unit is not None:
                unit.last_ms = max(unit.last_ms, max(
                    (t.last_ms for t in unit.tags.values()), default=0))
        self._write_ring(readings, prevs)
        self.version += 1

    def _write_ring(self, readings: list[Reading], prevs: list[Any]) -> None:
        start = self.total
        n = len(readings)
        cap = self.capacity
        slot = start % cap
        first = min(n, cap - slot)  # slice assignment: the ring write costs ~nothing per reading
        scalars = [r[:14] for r in readings]  # see the class docstring: GC-untrackable
        payloads = [r[14] for r in readings]
        self._ring[slot:slot + first] = scalars[:first]
        self._payload[slot:slot + first] = payloads[:first]
        self._prev[slot:slot + first] = prevs[:first]
        if first < n:
            self._ring[0:n - first] = scalars[first:]
            self._payload[0:n - first] = payloads[first:]
            self._prev[0:n - first] = prevs[first:]
        self.total = start + n
        pred = self._predicate
        if pred is not None:
            matches = self._matches
            matches.extend(start + i for i, r in enumerate(readings) if pred(r))
            self._trim_matches()

    def _new_tag(self, key: TagKey, r: Reading) -> TagState:
        t = self.tags[key] = TagState(key, r)
        unit = self.units.get(r.asset_id)
        if unit is None:
            unit = self.units[r.asset_id] = UnitState(r.org_id, r.site_id, r.asset_id)
            self.tree.setdefault(r.org_id, {}).setdefault(r.site_id, []).append(r.asset_id)
        if any(o.base_name == t.base_name for o in unit.tags.values()):
            unit.tags[key] = t
            tell_apart(unit.tags.values())  # rare: only when a label repeats in a unit
        unit.tags[key] = t
        self.tree_version += 1
        return t

    def note(self, event: ReaderEvent) -> None:
        """Take a reader event: state, throttling, gaps, caught-up."""
        if isinstance(event, StateChanged):
            self.state = event.state
            self.state_detail = event.detail
        elif isinstance(event, Throttled):
            self.throttled_until = event.until
        elif isinstance(event, Gap):
            self.gaps.append(event)
        elif isinstance(event, CaughtUp):
            self.caught_up = True
        self.version += 1

    # --- the log --------------------------------------------------------------------------

    @property
    def first(self) -> int:
        """The oldest absolute position still held."""
        return max(0, self.total - self.capacity)

    @property
    def held(self) -> int:
        """How many readings the ring holds."""
        return self.total - self.first

    def reading_at(self, pos: int) -> Reading:
        """The reading at absolute position ``pos`` (IndexError once it left the ring)."""
        if not self.first <= pos < self.total:
            raise IndexError(pos)
        return self._rebuild(pos % self.capacity)

    def _rebuild(self, slot: int) -> Reading:
        fields = self._ring[slot]
        assert fields is not None
        return Reading._make((*fields, self._payload[slot]))

    def prev_at(self, pos: int) -> Any:
        """The previous value of the same tag, as it was when ``pos`` arrived."""
        if not self.first <= pos < self.total:
            raise IndexError(pos)
        return self._prev[pos % self.capacity]

    # --- the filtered view ----------------------------------------------------------------

    @property
    def predicate(self) -> Predicate | None:
        """The current filter (None shows every line)."""
        return self._predicate

    def set_filter(self, predicate: Predicate | None) -> None:
        """Filter held lines and every new one; ``None`` removes the filter."""
        self._predicate = predicate
        self._matches = array("q")
        self._match_start = 0
        if predicate is not None:
            cap = self.capacity
            rebuild = self._rebuild
            self._matches.extend(
                p for p in range(self.first, self.total) if predicate(rebuild(p % cap))
            )
        self.version += 1

    def _trim_matches(self) -> None:
        first = self.first
        m = self._matches
        s = self._match_start
        # advance past positions that fell out of the ring, compact only now and then
        while s < len(m) and m[s] < first:
            s += 1
        if s > 4096 and s > len(m) // 2:
            del m[:s]
            s = 0
        self._match_start = s

    def view_len(self) -> int:
        """Lines in the (filtered) view."""
        if self._predicate is None:
            return self.held
        self._trim_matches()
        return len(self._matches) - self._match_start

    def view_pos(self, index: int) -> int:
        """Absolute position of the ``index``-th line of the view (0 = oldest held)."""
        if self._predicate is None:
            if not 0 <= index < self.held:
                raise IndexError(index)
            return self.first + index
        self._trim_matches()
        if not 0 <= index < len(self._matches) - self._match_start:
            raise IndexError(index)
        return self._matches[self._match_start + index]

    def view_index_of(self, pos: int) -> int | None:
        """The view index of absolute position ``pos`` (None when filtered out or gone)."""
        if self._predicate is None:
            return pos - self.first if self.first <= pos < self.total else None
        self._trim_matches()
        m = self._matches
        lo = bisect_left(m, pos, self._match_start)
        return lo - self._match_start if lo < len(m) and m[lo] == pos else None

    def view_count_since(self, pos: int) -> int:
        """How many view lines are at absolute position ``pos`` or later."""
        if self._predicate is None:
            return max(0, self.total - max(pos, self.first))
        self._trim_matches()
        m = self._matches
        return len(m) - bisect_left(m, pos, self._match_start)

    def view_slice(self, start: int, stop: int) -> Iterator[tuple[int, Reading, Any]]:
        """(position, reading, previous value) for view lines ``start`` to ``stop``."""
        cap = self.capacity
        for index in range(max(0, start), min(stop, self.view_len())):
            pos = self.view_pos(index)
            yield pos, self._rebuild(pos % cap), self._prev[pos % cap]

    # --- counters -------------------------------------------------------------------------

    def rate(self, now: float | None = None) -> float:
        """Readings a second over the last few seconds."""
        now = self.clock() if now is None else now
        rate = self._rate
        while rate and rate[0][0] < now - _RATE_WINDOW:
            rate.popleft()
        if not rate:
            return 0.0
        return sum(n for _, n in rate) / _RATE_WINDOW

    @property
    def lag_ms(self) -> int:
        """How far the slowest shard is behind the stream's tip (MillisBehindLatest)."""
        return max(self._behind.values(), default=0)

    def reference_ms(self, now: float | None = None) -> float:
        """"Now" for staleness: wall clock minus the lag, so a backlog is not all stale."""
        now = self.clock() if now is None else now
        return now * 1000.0 - self.lag_ms

    def tags_of(self, asset_id: Any) -> list[TagState]:
        """The tags of one unit, first-seen order."""
        unit = self.units.get(asset_id)
        return list(unit.tags.values()) if unit else []
