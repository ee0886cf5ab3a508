"""The whole session file as the tag log's lines, paged from disk (as lnav does): the rows
played so far, filtered over the whole file through the :class:`SessionIndex`, the readings
of the lines on screen re-read from the file and kept in a small bounded cache.

:class:`PagedLog` answers the questions the log asks of a :class:`LiveStore` (``view_len``,
``view_pos``, ``reading_at``...), with *file rows* as positions. The rows still held by the
store come from it (no disk read); older ones from the file. Until the index is loaded, or
while a new filter is counted over the whole file, it answers from the store alone (those
rows only) and :attr:`whole` says so.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from itertools import compress
from typing import Any, Protocol

from flux_tui.data.query import Query
from flux_tui.data.session.index import SessionIndex
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Reading

__all__ = ["CACHED_READINGS", "PREV_SCAN", "REPLAY_HELD", "FileLines", "LogLines", "PagedLog", "whole_file_rows"]

REPLAY_HELD = 250_000
"""Readings a replay keeps in memory (the store's log, at most ``[ui] history``); the rest
of the file is paged from disk through its index (about 33 bytes a row instead of 44)."""
CACHED_READINGS = 2048  # readings re-read from the file kept for redraws (a few screens)
PREV_SCAN = 50_000  # rows looked back for a line's previous value of the same tag

KeyTest = Callable[[Reading], bool]


class LogLines(Protocol):
    """What the tag log reads to draw its lines: a :class:`LiveStore` (positions are the
    store's) or a :class:`PagedLog` (positions are file rows)."""

    @property
    def version(self) -> Any: ...  # changes whenever the lines may have changed

    @property
    def total(self) -> int: ...  # the next position

    def view_len(self) -> int: ...

    def view_pos(self, index: int) -> int: ...

    def view_index_of(self, pos: int) -> int | None: ...

    def view_count_since(self, pos: int) -> int: ...

    def reading_at(self, pos: int) -> Reading: ...

    def prev_at(self, pos: int) -> Any: ...


def whole_file_rows(index: SessionIndex, query: Query | None,
                    key_test: KeyTest | None = None) -> array[int] | None:
    """The rows of the whole file that ``query`` keeps and ``key_test`` (a test of a
    reading's tag and unit only: the tree's scope) accepts, in order; None for every row.
    ``key_test`` is decided once per distinct tag, not per row."""
    if (query is None or query.is_empty) and key_test is None:
        return None
    rows = index.filter(query) if query is not None else array("I", range(len(index)))
    if key_test is None:
        return rows
    templates = [index._template(k) for k in range(len(index.keys))]
    keep = [bool(key_test(t)) for t in templates]  # type: ignore[arg-type]  # Reading-shaped
    key_of = index.key_of
    return array("I", compress(rows, (keep[key_of[row]] for row in rows)))


class FileLines:
    """Rows of a session file, as readings read from it one at a time when iterated (in a
    thread, to save them: the index reads with ``pread``, safe beside the viewer's own
    reads); ``len()`` without reading."""

    def __init__(self, index: SessionIndex, rows: Sequence[int]) -> None:
        self.index = index
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Reading]:
        return self.index.readings(self.rows)


class PagedLog:
    """The replayed session's rows ``0 .. played`` as the log's lines. ``row0()`` is the
    file row of the store's position 0 (a jump back past what the store held starts it
    again there)."""

    def __init__(self, store: LiveStore, row0: Callable[[], int], *,
                 cache: int = CACHED_READINGS) -> None:
        self.store = store
        self._row0 = row0
        self.index: SessionIndex | None = None
        self._matches: array[int] | None = None  # whole-file rows kept; None: all
        self.whole = False  # the lines cover the whole file (index loaded, filter counted)
        self._serial = 0
        self._cache: OrderedDict[int, Reading] = OrderedDict()
        self._limit = cache

    # --- what the viewer sets -----------------------------------------------------------

    def use_index(self, index: SessionIndex) -> None:
        """The whole file's index is loaded (lines still follow the store until
        :meth:`use_rows` gives the filter's rows)."""
        self.index = index
        self._cache.clear()
        self._serial += 1

    def held_only(self) -> None:
        """A new filter is being counted: answer from the store's rows meanwhile."""
        self.whole = False
        self._serial += 1

    def use_rows(self, rows: array[int] | None) -> None:
        """The whole file's rows the filter keeps (None: no filter, every row)."""
        self._matches = rows
        self.whole = self.index is not None
        self._serial += 1

    @property
    def cached(self) -> int:
        """Readings held in the page cache."""
        return len(self._cache)

    # --- counts for the filter bar ------------------------------------------------------

    def file_count(self) -> tuple[int, int] | None:
        """(matching rows, rows) of the whole file; None until they are known."""
        if not self.whole or self.index is None:
            return None
        rows = len(self.index)
        return (rows if self._matches is None else len(self._matches)), rows

    def lines(self) -> FileLines | None:
        """Every line of the log (the rows played that the filter keeps) as the readings
        re-read from the file, exactly as recorded (to save them); None when the lines
        are the store's (the index not loaded, a filter being counted)."""
        if not self.whole or self.index is None:
            return None
        played = self._played()
        if self._matches is None:
            return FileLines(self.index, range(played))
        return FileLines(self.index, self._matches[:bisect_left(self._matches, played)])

    # --- the store's log questions, with file rows as positions ----------------------------

    @property
    def version(self) -> tuple[int, int]:
        return self.store.version, self._serial

    @property
    def total(self) -> int:
        """Rows played so far (the next row's number)."""
        return self._row0() + self.store.total

    def _played(self) -> int:
        assert self.index is not None
        return min(self.total, len(self.index))

    def view_len(self) -> int:
        if not self.whole:
            return self.store.view_len()
        if self._matches is None:
            return self._played()
        return bisect_left(self._matches, self._played())

    def view_pos(self, index: int) -> int:
        if not self.whole:
            return self.store.view_pos(index) + self._row0()
        if not 0 <= index < self.view_len():
            raise IndexError(index)
        return index if self._matches is None else self._matches[index]

    def view_index_of(self, pos: int) -> int | None:
        if not self.whole:
            return self.store.view_index_of(pos - self._row0())
        if not 0 <= pos < self._played():
            return None
        if self._matches is None:
            return pos
        at = bisect_left(self._matches, pos)
        return at if at < len(self._matches) and self._matches[at] == pos else None

    def view_index_at_or_after(self, pos: int) -> int:
        if not self.whole:
            return self.store.view_index_at_or_after(pos - self._row0())
        pos = max(0, min(pos, self._played()))
        return pos if self._matches is None else bisect_left(self._matches, pos)

    def view_count_since(self, pos: int) -> int:
        return self.view_len() - self.view_index_at_or_after(pos)

    def reading_at(self, pos: int) -> Reading:
        """The reading of file row ``pos``: from the store while it holds it, else re-read
        from the file (the exact original, payload and all)."""
        held = pos - self._row0()
        store = self.store
        if store.first <= held < store.total:
            return store.reading_at(held)
        cached = self._cache.get(pos)
        if cached is not None:
            self._cache.move_to_end(pos)
            return cached
        if self.index is None or not 0 <= pos < len(self.index):
            raise IndexError(pos)
        reading = self.index.reading(pos)
        self._cache[pos] = reading
        if len(self._cache) > self._limit:
            self._cache.popitem(last=False)
        return reading

    def prev_at(self, pos: int) -> Any:
        """The previous value of the same tag (None when not found close enough)."""
        held = pos - self._row0()
        store = self.store
        if store.first <= held < store.total:
            value = store.prev_at(held)
            if value is not None or self.index is None:  # None: maybe no longer held
                return value
        index = self.index
        if index is None or not 0 <= pos < len(index):
            return None
        key_of = index.key_of
        key = key_of[pos]
        for row in range(pos - 1, max(-1, pos - 1 - PREV_SCAN), -1):
            if key_of[row] == key:
                return index.value(row)
        return None
