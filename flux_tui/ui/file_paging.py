"""A replayed session's whole file in the tag log and the filter bar's count: loads the
replay's :class:`~flux_tui.data.session.index.SessionIndex` in the background, hands the log
a :class:`~flux_tui.data.session.pages.PagedLog`, and counts each filter over the whole file
in a thread (a million rows in a fraction of a second), so typing never waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode

from flux_tui.data.query import Query, compile_query
from flux_tui.data.session.index import SessionIndex
from flux_tui.data.session.pages import KeyTest, PagedLog, whole_file_rows
from flux_tui.data.session.prefilter import FileCount, count_file
from flux_tui.data.session.replay import SessionReplay
from flux_tui.data.store import LiveStore

__all__ = ["FilePaging"]


class FilePaging:
    """The whole-file side of one replay. ``refilter(text, names, key_test)`` on every
    filter change; ``count()`` for the filter bar."""

    def __init__(self, replay: SessionReplay, store: LiveStore, row0: Callable[[], int],
                 on_change: Callable[[], None]) -> None:
        self.replay = replay
        self.log = PagedLog(store, row0)
        self._on_change = on_change  # redraw now (the count or the lines are known)
        self._filter: tuple[str, Any, KeyTest | None] = ("", None, None)
        self._serial = 0
        self._counting = False
        # Before the index is loaded: the whole file's count from the byte prefilter, for
        # the filter (text, key test) it was counted for; one scan at a time, the newest.
        self._quick: tuple[tuple[str, KeyTest | None], FileCount] | None = None
        self._scanning = False
        self._unscannable: tuple[str, KeyTest | None] | None = None  # no text to scan for
        self.failed: str | None = None  # why the file could not be indexed

    def start(self, host: DOMNode) -> None:
        """Load the index in the background (a worker of ``host``)."""
        host.run_worker(self._load(host), group="replay-index", exclusive=True,
                        exit_on_error=False)

    async def _load(self, host: DOMNode) -> None:
        try:
            index = await self.replay.load_index()
        except (OSError, ValueError) as error:
            self.failed = str(error)
            return
        self.log.use_index(index)
        self.refilter(*self._filter, host=host)

    def refilter(self, text: str, names: Any, key_test: KeyTest | None, *,
                 host: DOMNode) -> None:
        """The filter changed: the log follows the store's rows until the whole file is
        counted (in a thread), then shows the whole file's matching rows. One count runs
        at a time; filters typed meanwhile are skipped for the newest one."""
        self._filter = (text, names, key_test)
        self._serial += 1
        index = self.log.index
        if index is None:
            if text and not self._scanning:
                self._scanning = True
                host.run_worker(self._scan_newest(), group="replay-scan", exit_on_error=False)
            return
        self.log.held_only()
        if not self._counting:
            self._counting = True
            host.run_worker(self._count_newest(index), group="replay-count",
                            exit_on_error=False)

    async def _count_newest(self, index: SessionIndex) -> None:
        try:
            while True:
                serial = self._serial
                text, names, key_test = self._filter
                query: Query | None = compile_query(text, names) if text else None
                rows = await asyncio.to_thread(whole_file_rows, index, query, key_test)
                if serial == self._serial:  # else a newer filter came meanwhile: count it
                    self.log.use_rows(rows)
                    self._on_change()
                    return
        finally:
            self._counting = False

    def _wanted(self) -> tuple[str, KeyTest | None]:
        text, _, key_test = self._filter
        return text, key_test

    async def _scan_newest(self) -> None:
        """Count the newest filter over the whole file by the byte prefilter (while the
        index loads); a filter it cannot count waits for the index."""
        try:
            while self.log.index is None:
                wanted = self._wanted()
                text, names, key_test = self._filter
                if not text:
                    return
                try:
                    query = compile_query(text, names)
                except ValueError:
                    return

                def stale(wanted: tuple[str, KeyTest | None] = wanted) -> bool:
                    return self._wanted() != wanted or self.log.index is not None

                found = await asyncio.to_thread(count_file, self.replay.path, query,
                                                key_test, stale)
                if self._wanted() == wanted:
                    if found is None:
                        self._unscannable = wanted
                    else:
                        self._quick = (wanted, found)
                        self._on_change()
                    return
        except OSError:
            return  # the index will say what is wrong with the file
        finally:
            self._scanning = False

    def count(self) -> tuple[int, int] | None:
        """(matches, rows) of the whole file; None while it is not known yet. Before the
        index is counted, the prefilter's count (its total is the file's lines)."""
        whole = self.log.file_count()
        if whole is not None:
            return whole
        quick = self._quick
        if quick is not None and quick[0] == self._wanted():
            return quick[1]
        return None

    @property
    def note(self) -> str:
        """What to say while the count covers only the readings held."""
        if self.failed is not None:
            return "held only"
        if self.log.index is not None:
            return "counting file…"
        if self._filter[0] and self._unscannable != self._wanted():
            return "counting file…"
        return "indexing file…"
