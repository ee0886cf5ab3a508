"""The bounded live state the viewer reads: the log (a ring of columns, :mod:`columns`),
per-tag state and tiered history, the asset tree, feed counters and a filtered view.

Fed whole batches by the reader's worker; read by widgets on a timer. Pure Python (no Textual):
the hot path is :meth:`LiveStore.ingest`, which hands the batch to :mod:`encode` (C-level passes
over a plain page, reading by reading otherwise).
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, compress
from typing import Any

from flux_tui.base.events import CaughtUp, FeedState, Gap, ReaderEvent, StateChanged, Throttled
from flux_tui.data.store.columns import MISSING_MS, SPARSE, ReadingColumns, _verdict
from flux_tui.data.store.encode import PageEncoder
from flux_tui.data.store.tag_state import (
    HistoryBacklog,
    SeriesStats,
    TagKey,
    TagState,
    UnitState,
    tell_apart,
)
from flux_tui.feed.types import Batch, DecodeError, Reading

# The tag and unit state live in tag_state; they are re-exported for the store's readers.
__all__ = ["DEFAULT_HISTORY", "LiveStore", "Predicate", "SeriesStats", "TagKey", "TagState",
           "UnitState"]

Predicate = Callable[[Reading], bool]

_RATE_WINDOW = 5.0  # seconds the readings/s figure averages over
DEFAULT_HISTORY = 2_000_000  # readings the log holds ([ui] history, config/ui.py)
_MAX_VARIANTS = 8  # templates a tag may have (a label that changes...); then sparse
_I32 = 2**31
_SEQ_DIGITS = 18  # the sequence number's digits kept as a number (< 2**63)
_NO_DELTA = -(2**31)  # the columns' "none" for rtms/arrival


class LiveStore:
    """The bounded live state. ``ingest(batch)`` per page; widgets read the rest.

    The log is a ring of :class:`~flux_tui.data.store.columns.ReadingColumns` addressed by
    *absolute position* (0 for the first reading ever ingested): position ``p`` is held
    while ``p >= total - capacity``. A held reading costs 44 bytes of typed arrays (plus 8
    in the match index when a filter keeps it); ``reading_at`` rebuilds the ``Reading``
    and its payload exactly. Nothing per reading is tracked by the garbage collector, so a
    full collection does not grow with the history.
    """

    def __init__(self, capacity: int = DEFAULT_HISTORY, *,
                 clock: Callable[[], float] = time.time, error_capacity: int = 200) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.clock = clock
        self.cols = ReadingColumns(capacity)
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
        self._verdicts: list[bool | None] = []  # the filter's answer per template, if fixed
        self._matches = array("q")  # absolute positions that pass the predicate, ascending
        self._match_start = 0  # index of the first match still held (lazy trim)
        self._tag_of: list[TagState] = []  # template number -> its tag
        self._backlog = HistoryBacklog()
        self._encoder = PageEncoder(self.cols, self.tags, self._new_tag, self._tag_of,
                                    self._backlog)

    def clear(self, *, keep_state: bool = True, capacity: int | None = None) -> None:
        """Forget every reading, tag and counter (another session was opened); the filter
        stays, and so does the feed state unless ``keep_state`` is False. The version
        counters keep growing, so widgets that compare them notice the change. ``capacity``
        gives the log another size from now on."""
        if capacity is not None:
            if capacity <= 0:
                raise ValueError("capacity must be positive")
            self.capacity = capacity
        version, tree_version, predicate = self.version, self.tree_version, self._predicate
        state, detail = self.state, self.state_detail
        # Re-running __init__ resets every field, including ones added later.
        self.__init__(self.capacity, clock=self.clock,  # type: ignore[misc]
                      error_capacity=self.errors.maxlen or 200)
        self.version, self.tree_version = version + 1, tree_version + 1
        self._predicate = predicate
        if keep_state:
            self.state, self.state_detail = state, detail

    @property
    def total(self) -> int:
        """Readings ever ingested (the next absolute position)."""
        return self.cols.total

    # --- ingest ---------------------------------------------------------------------------

    def ingest(self, batch: Batch) -> None:
        """Take one decoded page: the log, per-tag state and history, counters, filter."""
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
            self.cols.skip(n - self.capacity)
            readings = readings[-self.capacity:]
        start = self.total
        encoder = self._encoder
        encoder.latest_ms = self.latest_ms
        encoded = encoder.encode(readings)
        self.latest_ms = encoder.latest_ms
        if encoder.delay_ms is not None:
            self.delay_ms = encoder.delay_ms
        last = readings[-1]
        if last.epoch_ms is not None and type(last.arrival) is float:
            self.arrival_delay_ms = last.arrival * 1000.0 - last.epoch_ms
        for u in {r.asset_id for r in readings}:  # cheap: a page holds few units
            unit = self.units.get(u)
            if unit is not None:
                unit.last_ms = max(unit.last_ms, max(
                    (t.last_ms for t in unit.tags.values()), default=0))
        self.cols.write(encoded)
        if self._predicate is not None:
            self._match_new(readings, encoded.tpl, start)
        self.version += 1

    def _match_new(self, readings: list[Reading], numbers: array[int], start: int) -> None:
        """Add the new readings that pass the filter to the match index: the filter's
        verdict per template where it is fixed, else the filter on the reading as it came
        (it is at hand: no need to rebuild it from the columns)."""
        predicate = self._predicate
        assert predicate is not None
        verdicts = self._verdicts
        templates = self.cols.templates
        if len(verdicts) < len(templates):
            verdicts.extend(_verdict(predicate, t.facts) for t in templates[len(verdicts):])
        matches = self._matches
        if SPARSE in numbers:  # a reading kept whole: every one its own way
            for i, number in enumerate(numbers):
                verdict = verdicts[number] if number != SPARSE else None
                if verdict is True or (verdict is not False and predicate(readings[i])):
                    matches.append(start + i)
        else:  # the fixed verdicts at C speed, the filter itself only where it must
            keep = [v is True for v in verdicts]
            test = [v is not True and v is not False for v in verdicts]
            kept: Iterable[int] = compress(range(len(numbers)), map(keep.__getitem__, numbers))
            if any(test):
                tested = [i for i in compress(range(len(numbers)), map(test.__getitem__, numbers))
                          if predicate(readings[i])]
                kept = sorted(chain(kept, tested))
            matches.extend(map(start.__add__, kept))
        self._trim_matches()

    def _new_tag(self, key: TagKey, r: Reading) -> TagState:
        t = self.tags[key] = TagState(key, r)
        self._backlog.register(t)
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
        return self.cols.first

    @property
    def held(self) -> int:
        """How many readings the log holds."""
        return self.total - self.first

    def reading_at(self, pos: int) -> Reading:
        """The reading at absolute position ``pos`` (IndexError once it left the ring)."""
        if not self.first <= pos < self.total:
            raise IndexError(pos)
        return self.cols.reading(pos)

    def prev_at(self, pos: int) -> Any:
        """The previous value of the same tag (None when it is no longer held)."""
        if not self.first <= pos < self.total:
            raise IndexError(pos)
        return self.cols.prev_value(pos)

    def time_at(self, pos: int) -> int | None:
        """The epochMs of position ``pos`` without rebuilding the reading."""
        if not self.first <= pos < self.total:
            raise IndexError(pos)
        ms = self.cols.ms[pos % self.capacity]
        return None if ms == MISSING_MS else ms

    def truncate(self, total: int) -> None:
        """Forget the readings from position ``total`` on (a replay went back to it): the
        log, the filter's matches, each tag's last values and its history after that time."""
        total = max(self.first, min(total, self.total))
        if total == self.total:
            return
        cut_ms = self.time_at(total)
        self.cols.truncate(total)
        m = self._matches
        del m[bisect_left(m, total, self._match_start):]
        self._backlog.flush()  # the history as of now, then cut
        self._restore_tags(cut_ms)
        self.version += 1

    def _restore_tags(self, cut_ms: int | None) -> None:
        """Each tag's last/prev/last_pos as of the end of the (shortened) log."""
        pending: dict[int, TagState] = {id(t): t for t in self.tags.values()}
        for t in pending.values():
            t.last_pos, t.last, t.prev = -1, None, None
            if cut_ms is not None:
                t.tiers.clear_after(cut_ms // 1000)
        cols, tag_of, cap = self.cols, self._tag_of, self.capacity
        tpl, sparse = cols.tpl, cols.sparse
        for pos in range(self.total - 1, self.first - 1, -1):
            if not pending:
                break
            number = tpl[pos % cap]
            if number == SPARSE:
                r = sparse[pos]
                tag_id = r[9]
                t = self.tags.get((r[8], tag_id if tag_id is not None else r[11]))  # type: ignore[assignment]
            else:
                t = tag_of[number]
            if t is not None and pending.pop(id(t), None) is not None:
                t.last_pos, t.last, t.prev = pos, cols.value(pos), cols.prev_value(pos)
                ms = cols.ms[pos % cap]
                if ms != MISSING_MS:
                    t.last_ms = ms
        if cut_ms is not None:
            self.latest_ms = min(self.latest_ms, cut_ms)

    # --- the filtered view ----------------------------------------------------------------

    @property
    def predicate(self) -> Predicate | None:
        """The current filter (None shows every line)."""
        return self._predicate

    def set_filter(self, predicate: Predicate | None) -> None:
        """Filter held lines and every new one; ``None`` removes the filter."""
        self._predicate = predicate
        self._verdicts = []
        self._matches = array("q")
        self._match_start = 0
        if predicate is not None:
            self._matches.extend(self.cols.filter(predicate, verdicts=self._verdicts))
        self.version += 1

    def _trim_matches(self) -> None:
        first = self.first
        m = self._matches
        s = self._match_start
        if s < len(m) and m[s] < first:  # positions that fell out of the ring
            s = bisect_left(m, first, s)
        if s > 4096 and s > len(m) // 2:  # compact only now and then
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

    def view_index_at_or_after(self, pos: int) -> int:
        """The view index of the first line at position ``pos`` or later (view_len() when
        there is none)."""
        if self._predicate is None:
            return max(0, min(pos, self.total) - self.first)
        self._trim_matches()
        return bisect_left(self._matches, pos, self._match_start) - self._match_start

    def view_count_since(self, pos: int) -> int:
        """How many view lines are at absolute position ``pos`` or later."""
        return self.view_len() - self.view_index_at_or_after(pos)

    def view_slice(self, start: int, stop: int) -> Iterator[tuple[int, Reading, Any]]:
        """(position, reading, previous value) for view lines ``start`` to ``stop``."""
        cols = self.cols
        for index in range(max(0, start), min(stop, self.view_len())):
            pos = self.view_pos(index)
            yield pos, cols.reading(pos), cols.prev_value(pos)

    def position_at_time(self, epoch_ms: int) -> int:
        """The first held position whose time reaches ``epoch_ms`` (readings are in arrival
        order, so this is a scan over the running maximum; total when none does)."""
        cols, cap = self.cols, self.capacity
        ms = cols.ms
        for pos in range(self.first, self.total):
            if ms[pos % cap] >= epoch_ms:
                return pos
        return self.total

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
