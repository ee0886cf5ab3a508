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

    def count(self) -> tuple[int, int] | None:
        """(matches, rows) of the whole file; None while it is not known yet."""
        return self.log.file_count()

    @property
    def note(self) -> str:
        """What to say while the count covers only the readings held."""
        if self.failed is not None:
            return "held only"
        return "indexing file…" if self.log.index is None else "counting file…"
