"""What the viewer's keys and panels do to the view: filter and scope, pause, pins, columns,
panels, copy and the info dialogs. :class:`ViewActions` is a base of
:class:`~flux_tui.ui.app.FluxApp`; the feed, the timer and the login live there."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.widgets import Input

from flux_tui.ui.asset_tree import AssetTree, Scope
from flux_tui.ui.detail import ReadingDetail, reading_json
from flux_tui.ui.filter_bar import FilterBar, Predicate
from flux_tui.ui.help import HelpScreen, key_sections
from flux_tui.ui.info_screens import InfoScreen, errors_table, unit_table
from flux_tui.ui.log_view import TagLog
from flux_tui.ui.session_actions import SESSION_BINDINGS, SessionApp

if TYPE_CHECKING:
    from flux_tui.ui.sparklines import SparkPanel

__all__ = ["ViewActions"]


class ViewActions(SessionApp):
    """The view's actions and the messages of its widgets (mixed into FluxApp)."""

    if TYPE_CHECKING:  # set up by FluxApp
        names: Any
        clock: Callable[[], float]
        _query: Predicate | None
        _scope: Scope | None
        _user_layout: dict[str, bool]
        _user_keys: dict[str, str]

        @property
        def log_view(self) -> TagLog: ...
        @property
        def asset_tree(self) -> AssetTree: ...
        @property
        def sparks(self) -> SparkPanel: ...
        @property
        def filter_bar(self) -> FilterBar: ...
        def _tick(self) -> None: ...

    # --- messages from widgets --------------------------------------------------------------

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self._query = event.predicate
        self._apply_filter()

    def on_filter_bar_left(self, event: FilterBar.Left) -> None:
        self.screen.set_focus(self.log_view)

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
        self.push_screen(ReadingDetail(event.reading, utc=self.log_view.utc, unit=unit))

    def _apply_filter(self) -> None:
        query, scope = self._query, self._scope
        predicate: Predicate | None
        if scope is not None and query is not None:
            inside = scope.matches

            def predicate(r: Any) -> bool:
                return inside(r) and query(r)
        else:
            predicate = scope.matches if scope is not None else query
        self.store.set_filter(predicate)
        self._tick()

    def _suggestion_words(self) -> list[str]:
        return FilterBar.words_from(self.store.tags.values())

    def jump_to(self, scope: Scope) -> None:
        """Scope the view to a unit or tag (the command palette uses this)."""
        if not self.asset_tree.display:
            self._user_layout["tree"] = True
            self.asset_tree.display = True
        self.asset_tree.reveal(scope)

    # --- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`/` is text while typing in an input or a dialog is open."""
        if action == "filter":
            return not isinstance(self.focused, Input) and self.screen is self.screen_stack[0]
        return True

    def action_filter(self) -> None:
        """Focus the filter bar."""
        # at once, not via Widget.focus() (deferred): keys typed right after `/` belong to it
        self.screen.set_focus(self.filter_bar.input)

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.key_sections()))

    def key_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Bindings by panel, with the keys in force (after the user's remapping)."""
        return key_sections(self, self._user_keys, [
            ("Everywhere", self.BINDINGS), ("Sessions and replay", SESSION_BINDINGS),
            ("Tag log", TagLog.BINDINGS), ("Filter bar", FilterBar.BINDINGS)])

    def action_pause(self) -> None:
        """Pause or resume the display (the feed keeps running)."""
        self.log_view.action_pause()
        self._tick()

    def action_live(self) -> None:
        """Back to the newest line."""
        self.log_view.action_live()

    def action_utc(self) -> None:
        """Toggle local time / UTC."""
        self.log_view.utc = not self.log_view.utc
        self.notify("Times in UTC" if self.log_view.utc else "Times in local time", timeout=2)

    def action_tag_names(self) -> None:
        """Show or hide the tag name column."""
        self.log_view.show_tag_name = not self.log_view.show_tag_name

    def action_delays(self) -> None:
        """Show or hide the field-to-cloud delay column."""
        self.log_view.show_delay = not self.log_view.show_delay

    def _selected_tag(self) -> Any:
        log = self.log_view
        if log.cursor is not None:
            r = log.current_reading()
            if r is not None:
                return (r.asset_id, r.tag_id if r.tag_id is not None else r.tag_name)
        return self.sparks.selected

    def action_pin(self) -> None:
        """Pin or unpin the selected tag on the sparkline panel."""
        key = self._selected_tag()
        if key is None:
            self.notify("Select a tag first (tree, or a line in the log)", timeout=3)
            return
        result = self.sparks.toggle_pin(key)
        if result is None:
            self.notify("Eight tags are pinned already; unpin one first", severity="warning")
        if not self.sparks.display:
            self._user_layout["sparks"] = True
            self.sparks.display = True

    def action_window(self) -> None:
        """Cycle the sparkline window (1m, 5m, 15m, 1h)."""
        self.notify(f"Sparkline window {self.sparks.cycle_window()}", timeout=2)

    def action_copy(self) -> None:
        """Copy the highlighted (or newest) reading as JSON to the clipboard."""
        reading = self.log_view.current_reading()
        if reading is None:
            self.notify("Nothing to copy yet", timeout=2)
            return
        self.copy_to_clipboard(reading_json(reading))
        self.notify("Reading copied as JSON", timeout=2)

    def action_toggle_tree(self) -> None:
        """Show or hide the asset tree."""
        self._user_layout["tree"] = not self.asset_tree.display
        self.asset_tree.display = self._user_layout["tree"]

    def action_toggle_sparks(self) -> None:
        """Show or hide the sparkline panel."""
        self._user_layout["sparks"] = not self.sparks.display
        self.sparks.display = self._user_layout["sparks"]

    def action_clear_scope(self) -> None:
        """Show every unit again."""
        self._scope = None
        self._apply_filter()

    def action_unit_details(self) -> None:
        """Show the unit of the highlighted line (or the scoped unit): names and live state."""
        asset_id = None
        if self.log_view.cursor is not None:
            reading = self.log_view.current_reading()
            asset_id = reading.asset_id if reading is not None else None
        if asset_id is None and self._scope is not None:
            asset_id = self._scope.asset_id
        if asset_id is None:
            reading = self.log_view.current_reading()
            asset_id = reading.asset_id if reading is not None else None
        if asset_id is None:
            self.notify("No unit yet", timeout=2)
            return
        details = None
        if self.names is not None:
            try:
                details = self.names.details(asset_id)
            except Exception:  # noqa: BLE001 - the dialog shows what the feed knows anyway
                details = None
        table = unit_table(asset_id, self.store.units.get(asset_id), details,
                           self.store.reference_ms(self.clock()))
        self.push_screen(InfoScreen(self.asset_tree.unit_title(asset_id), table))

    def action_decode_errors(self) -> None:
        """List the records that could not be decoded, with their raw bytes."""
        if not self.store.error_total:
            self.notify("No decode errors", timeout=2)
            return
        self.push_screen(InfoScreen("Decode errors",
                                    errors_table(self.store.errors, self.store.error_total)))
