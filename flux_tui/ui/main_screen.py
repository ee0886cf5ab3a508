"""The viewer's screen: the asset tree, the filter bar, the tag log, the sparklines, the
status bar and the footer, and what the keys do to them (filter and scope, pause, pins,
columns, panels, copy, the info dialogs).

:class:`MainScreen` reads the :class:`~flux_tui.view.live.LiveView` the app runs: its store
on every refresh, its names (handed to the widgets once: the view's names answer for
whatever source is open), and it sets the view's filter (the log's, and a recording's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from rich.console import Group
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget

from flux_tui.data.session.replay import SessionReplay
from flux_tui.data.store import LiveStore, TagKey
from flux_tui.feed.types import Reading
from flux_tui.ui.asset_tree import AssetTree, Scope
from flux_tui.ui.detail import ReadingDetail, reading_json
from flux_tui.ui.feed_status import status_from
from flux_tui.ui.file_paging import FilePaging
from flux_tui.ui.filter_bar import FilterBar, Predicate
from flux_tui.ui.info_screens import InfoScreen, errors_table, unit_table
from flux_tui.ui.log_view import TagLog
from flux_tui.ui.panels import NARROW, SHORT, PanelChoices
from flux_tui.ui.replay_bar import ReplayBar
from flux_tui.ui.sparklines import SparkPanel
from flux_tui.ui.status_bar import KeyFooter, StatusBar, StatusInfo
from flux_tui.view.live import LiveView

__all__ = ["NARROW", "SHORT", "MainScreen", "PinResult"]

PinResult = Literal["done", "no tag", "full"]
STARTED_ANYWAY = 0.5  # seconds after the first frame: ``painted`` is called by then at the latest
INDEX_ANYWAY = 2.0  # seconds after ``painted``: a replay's index loads by then at the latest



class MainScreen(Screen[None]):
    """The live view's panels and what the keys do to them."""

    def __init__(self, view: LiveView, store: LiveStore, refresh_now: Callable[[], None], *,
                 utc: bool = False, low_bandwidth: bool = False,
                 painted: Callable[[], None] | None = None,
                 id: str | None = "_default") -> None:
        """``painted`` is called once, after the screen's first frame (the app starts its
        feed then, so a fast source cannot hold the loop while the screen is built)."""
        super().__init__(id=id)
        self._painted = painted
        self.view = view
        self._refresh_now = refresh_now  # the app's refresh, at once (not at the next tick)
        self.store = store
        self.low_bandwidth = low_bandwidth
        self._initial_utc = utc
        self._query: Predicate | None = None
        self._scope: Scope | None = None
        self.user_layout = PanelChoices()  # panels the user showed or hid, at this size
        self._names_version = -1
        self._trees = 0  # asset trees built so far (each needs its own id)
        # set by the app's alarms: units and state names, tree marks, status counts, health
        self.present: Any = None
        self.alarm_marks: Callable[[Any, Any], str | None] | None = None
        self.alarm_counts: Callable[[], tuple[int, int, int]] | None = None
        self.unit_health: Callable[[Any, float], Any] | None = None
        self.paging: FilePaging | None = None  # a replayed file's whole-file log and count
        self._paging_later: FilePaging | None = None  # its index starts after the first page

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        store = self.store
        with Horizontal(id="main"):
            yield AssetTree(store, id="tree")
            with Vertical(id="right"):
                yield FilterBar(self._suggestion_words, id="filter")
                yield TagLog(store, id="log")
                yield SparkPanel(store, id="sparks",
                                 now=lambda: store.reference_ms(self.view.clock()) / 1000.0)
        yield StatusBar(id="status")
        yield KeyFooter(compact=True)

    @property
    def log_view(self) -> TagLog:
        """The tag log widget."""
        return self.query_one(TagLog)

    @property
    def asset_tree(self) -> AssetTree:
        """The asset tree widget."""
        return self.query_one(AssetTree)

    @property
    def sparks(self) -> SparkPanel:
        """The sparkline panel."""
        return self.query_one(SparkPanel)

    @property
    def filter_bar(self) -> FilterBar:
        """The filter bar."""
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        names = self.view.names  # the one path names take to the widgets
        self.asset_tree.names = self.log_view.names = names
        self.sparks.names = self.filter_bar.names = names
        self.asset_tree.present = self.log_view.present = self.sparks.present = self.present
        self.asset_tree.marks = self.alarm_marks
        self.log_view.utc = self._initial_utc
        self.log_view.plain = self.low_bandwidth
        self.log_view.focus()
        if self.view.replay is not None:  # opened at start: no bar to replace yet
            # the whole-file index reads the file in a thread: not while the first screen
            # and the first readings are being drawn (see _index_later)
            self._show_replay(self.view.replay, index_now=False)
        self.layout_for(self.app.size.width, self.app.size.height)
        if self._painted is not None:
            # The footer composes its keys when the screen's bindings are first published
            # (after the focus above), and that recompose holds the screen's updates until
            # its keys are mounted: the app's feed starts after it (queued behind it), or
            # half a second after the first frame if no bindings are published.
            self.bindings_updated_signal.subscribe(self, self._bindings_published)
            self.call_after_refresh(self.set_timer, STARTED_ANYWAY, self._settled)

    def _bindings_published(self, _screen: Screen[Any]) -> None:
        self.bindings_updated_signal.unsubscribe(self)
        self.call_after_refresh(self._settled)

    def _settled(self) -> None:
        painted, self._painted = self._painted, None
        if painted is not None:
            painted()
            self.set_timer(INDEX_ANYWAY, self._index_later)

    def _index_later(self) -> None:
        """Start loading the replayed file's index (once): after the frame with the first
        readings, or :data:`INDEX_ANYWAY` after the feed started if none came. Started with
        the screen, its thread held the GIL while the screen and the first page were drawn."""
        paging, self._paging_later = self._paging_later, None
        if paging is not None and paging is self.paging:
            paging.start(self)

    def on_resize(self, event: Resize) -> None:
        self.layout_for(event.size.width, event.size.height)

    def layout_for(self, width: int, height: int) -> None:
        """Collapse panels on small terminals unless the user chose otherwise."""
        tree = self.asset_tree
        shown = self.user_layout.for_size(width, height)
        tree.display = shown["tree"]
        # a wider tree on a wide screen: long tag names keep more of themselves
        tree.styles.width = AssetTree.width_for(width)
        self.sparks.display = shown["sparks"]

    async def mount_replay_bar(self, replay: SessionReplay) -> None:
        """Show the replay bar of ``replay`` above the status bar (replacing one shown).
        The old bar is gone before the new one mounts: both have the id ``replay-bar``."""
        await self.query(ReplayBar).remove()
        self._show_replay(replay)

    def _show_replay(self, replay: SessionReplay, *, index_now: bool = True) -> None:
        """Mount the replay bar (none is shown) and page the log from ``replay``'s file;
        its whole-file index loads now or (``index_now=False``) once its first readings
        are drawn."""
        bar = ReplayBar(replay)
        bar.utc = self.log_view.utc  # the bar's times in the log's zone (t switches both)
        self.mount(bar, before=self.query_one(StatusBar))
        self.paging = FilePaging(replay, self.store, lambda: self.view.replay_row0,
                                 self._refresh_now)
        self.log_view.use_rows(self.paging.log)
        if index_now:
            self.paging.start(self)
        else:
            self._paging_later = self.paging
        self._refilter_file()

    def _refilter_file(self) -> None:
        paging = self.paging
        if paging is not None:
            scope = self._scope
            paging.refilter(self.filter_bar.good_text if self._query is not None else "",
                            self.view.names, scope.matches if scope is not None else None,
                            host=self)

    async def restart_tree(self) -> None:
        """Rebuild the widgets that remember readings once the store was cleared (a jump,
        or another session)."""
        tree = self.asset_tree
        self._trees += 1
        fresh = AssetTree(self.store, id=f"tree-{self._trees}")
        fresh.names, fresh.display = tree.names, tree.display
        fresh.present, fresh.marks = tree.present, tree.marks  # units, names, alarm marks
        parent = tree.parent
        if isinstance(parent, Widget):
            # The new tree goes in first (query_one finds it): the app's timer never sees
            # a screen without a tree.
            await parent.mount(fresh, before=tree)
            await tree.remove()
        self.clear_scope()  # a scope chosen in the old tree no longer applies
        self.log_view.action_live()

    # --- the refresh (the app's timer) ------------------------------------------------------

    def refresh_from_store(self, tick: int, now: float, recording: str | None, *,
                           log_only: bool = False) -> None:
        """Bring every widget up to date with the store (never per reading). ``log_only``:
        the log, its count and the status bar, not the tree and the sparklines (the first
        page: its readings on screen first)."""
        store = self.store
        log = self.log_view
        names = self.view.names
        if names.version != self._names_version:
            self._names_version = names.version
            log.invalidate()  # unit names arrived: lines show them from now on
        if self.paging is not None and self.view.replay is not self.paging.replay:
            self.paging = None  # back to the live feed (or another session is opening)
            log.use_rows(store)
        log.refresh_from_store()
        if log_only and self._paging_later is not None:
            self.call_after_refresh(self._index_later)  # the first readings are drawn
        tree = self.asset_tree
        scope = tree.scope_title(self._scope) if self._scope else ""
        whole = self.paging.count() if self.paging is not None else None
        if whole is not None:
            self.filter_bar.show_count(*whole, scope)
        else:
            note = self.paging.note if self.paging is not None else ""
            self.filter_bar.show_count(store.view_len(), store.held, scope, note=note)
        reference = store.reference_ms(now)
        # tree values and sparklines move slowly to the eye: redraw them less often
        # (2 Hz and 1 Hz; every 5 s on a low-bandwidth link)
        tree_every, sparks_every = (5, 5) if self.low_bandwidth else (2, 4)
        if tree.display and tick % tree_every == 0 and not log_only:
            tree.refresh_from_store(reference)
        if self.sparks.display and tick % sparks_every == 0 and not log_only:
            self.sparks.redraw()
        self.query_one(StatusBar).show(self.status_info(now, recording))

    def status_info(self, now: float, recording: str | None = None) -> StatusInfo:
        """The status bar's figures from the store and the source."""
        view = self.view
        info = status_from(self.store, view.facts(), now, paused=self.log_view.paused,
                           recording=recording, names_state=view.names.state)
        if self.alarm_counts is not None:
            info.alarms = self.alarm_counts()
        return info

    # --- filter and scope -------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        """The filter as typed (the last one that compiled)."""
        return self.filter_bar.good_text

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self._query = event.predicate
        self._apply_filter()

    def on_filter_bar_left(self, event: FilterBar.Left) -> None:
        self.set_focus(self.log_view)

    def on_asset_tree_scope_chosen(self, event: AssetTree.ScopeChosen) -> None:
        self._scope = event.scope
        if event.scope.kind == "tag" and event.scope.tag is not None:
            self.sparks.select(event.scope.tag)
        self._apply_filter()

    def on_tag_log_cursor_moved(self, event: TagLog.CursorMoved) -> None:
        r = event.reading
        self.sparks.select((r.asset_id, r.tag_id if r.tag_id is not None else r.tag_name))

    def on_tag_log_open_detail(self, event: TagLog.OpenDetail) -> None:
        name = self.sparks.unit_label(event.reading.asset_id)
        unit = name if name != str(event.reading.asset_id) else None
        reading, present = event.reading, self.present
        shown = present.show_raw_too(reading.label, reading.val) if present else None
        self.app.push_screen(ReadingDetail(reading, utc=self.log_view.utc, unit=unit,
                                           shown=shown))

    def _apply_filter(self) -> None:
        query, scope = self._query, self._scope
        predicate: Predicate | None
        if scope is not None and query is not None:
            inside = scope.matches

            def predicate(r: Reading) -> bool:
                return inside(r) and query(r)
        else:
            predicate = scope.matches if scope is not None else query
        self.view.set_filter(predicate)  # the log's view and a recording's filter
        self._refilter_file()  # a replayed file: its whole-file rows, counted in a thread
        self._refresh_now()

    def _suggestion_words(self) -> list[str]:
        return FilterBar.words_from(self.store.tags.values())

    def jump_to(self, scope: Scope) -> None:
        """Scope the view to a unit or tag (the command palette uses this)."""
        tree = self.asset_tree
        if not tree.display:
            self.user_layout["tree"] = True
            tree.display = True
        tree.reveal(scope)

    def clear_scope(self) -> None:
        """Show every unit again."""
        self._scope = None
        self._apply_filter()

    def focus_filter(self) -> None:
        """Focus the filter bar at once (keys typed right after ``/`` belong to it)."""
        self.set_focus(self.filter_bar.input)

    # --- panels and columns -----------------------------------------------------------------

    def toggle_utc(self) -> bool:
        """Local time / UTC; True when UTC now."""
        log = self.log_view
        log.utc = not log.utc
        for bar in self.query(ReplayBar):
            bar.utc = log.utc
        return log.utc

    def toggle_tree(self) -> None:
        """Show or hide the asset tree."""
        self.user_layout["tree"] = not self.asset_tree.display
        self.asset_tree.display = self.user_layout["tree"]

    def toggle_sparks(self) -> None:
        """Show or hide the sparkline panel."""
        self.user_layout["sparks"] = not self.sparks.display
        self.sparks.display = self.user_layout["sparks"]

    def selected_tag(self) -> TagKey | None:
        """The tag of the highlighted line, else the sparklines' selection."""
        log = self.log_view
        if log.cursor is not None:
            r = log.current_reading()
            if r is not None:
                return (r.asset_id, r.tag_id if r.tag_id is not None else r.tag_name)
        selected: TagKey | None = self.sparks.selected
        return selected

    def pin(self) -> PinResult:
        """Pin or unpin the selected tag (the sparkline panel shows itself for a pin)."""
        key = self.selected_tag()
        if key is None:
            return "no tag"
        result = self.sparks.toggle_pin(key)
        if not self.sparks.display:
            self.user_layout["sparks"] = True
            self.sparks.display = True
        return "full" if result is None else "done"

    def unit_details(self) -> InfoScreen | None:
        """The unit dialog of the highlighted line (or the scoped unit); None: no unit yet."""
        log = self.log_view
        asset_id: Any = None
        if log.cursor is not None:
            reading = log.current_reading()
            asset_id = reading.asset_id if reading is not None else None
        if asset_id is None and self._scope is not None:
            asset_id = self._scope.asset_id
        if asset_id is None:
            reading = log.current_reading()
            asset_id = reading.asset_id if reading is not None else None
        if asset_id is None:
            return None
        try:
            details = self.view.names.details(asset_id)
        except Exception:  # noqa: BLE001 - the dialog shows what the feed knows anyway
            details = None
        now_ms = self.store.reference_ms(self.view.clock())
        body: Any = unit_table(asset_id, self.store.units.get(asset_id), details, now_ms)
        if self.unit_health is not None:  # the alarms' health card under the details
            body = Group(body, self.unit_health(asset_id, now_ms))
        return InfoScreen(self.asset_tree.unit_title(asset_id), body)

    def problems(self, messages: Any) -> InfoScreen:
        """The problems view: ``messages`` (every notification, whole), then the decode
        errors with their raw bytes."""
        from rich.console import Group

        store = self.store
        parts: list[Any] = [messages]
        if store.error_total:
            parts += ["", errors_table(store.errors, store.error_total)]
        return InfoScreen("Problems and messages", Group(*parts))

    def copy_text(self) -> str | None:
        """The highlighted (or newest) reading as JSON; None when there is none yet."""
        reading = self.log_view.current_reading()
        return reading_json(reading) if reading is not None else None
