"""The live viewer: ``FluxApp`` and :func:`run_viewer` (``flux-tui``, ``flux-tui demo``).

The app is thin: the :class:`~flux_tui.view.live.LiveView` (no Textual) owns the source,
the store, the names, the recorder and the replay, and dispatches every feed item. The app
runs it in one managed worker, refreshes the :class:`~flux_tui.ui.main_screen.MainScreen`
from the store on a timer (4 Hz, 1 Hz in low-bandwidth mode, never once per reading) and
turns keys into calls on the view and the screen. Every worker failure is handled in
``on_worker_state_changed``: it becomes a status-bar state and a notification, and the feed
is retried (automatically for network faults, with ``ctrl+r`` always).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input, TextArea
from textual.worker import Worker, WorkerState

from flux_tui.base.events import FeedProblem, FeedState, StateChanged
from flux_tui.config import UiSettings
from flux_tui.data.formats import safe_text
from flux_tui.data.session.recorder import RecorderState, default_session_name, distinct_path
from flux_tui.data.session.replay import SessionReplay, speed_label
from flux_tui.data.store import LiveStore
from flux_tui.ui.alarm_actions import (
    ALARM_BINDINGS,
    ALARM_CSS,
    AlarmActions,
    AlarmSetup,
    alarm_setup,
)
from flux_tui.ui.asset_tree import AssetTree, Scope
from flux_tui.ui.feed_status import classify_failure
from flux_tui.ui.filter_bar import FilterBar
from flux_tui.ui.gc_policy import install_gc_policy
from flux_tui.ui.help import HelpScreen, key_sections
from flux_tui.ui.info_screens import InfoScreen
from flux_tui.ui.log_view import TagLog
from flux_tui.ui.main_screen import MainScreen
from flux_tui.ui.notices import TOAST_CSS, NoticeBoard, notices_table, show_toast
from flux_tui.ui.sparklines import SparkPanel
from flux_tui.ui.status_bar import StatusInfo
from flux_tui.ui.themes import (
    DEFAULT_THEME,
    MONOCHROME_THEME,
    load_themes,
    redraw_everything,
)
from flux_tui.view.live import LiveView
from flux_tui.view.source import FeedSource, PersonLogin, SourceOpener

if TYPE_CHECKING:
    from textual.command import Provider

    from flux_tui.config import Config, Profile
    from flux_tui.connect import Grant
    from flux_tui.data.session.recorder import Recorder
    from flux_tui.ui.path_dialog import PathChoice
    from flux_tui.view.live import ViewNames

__all__ = ["SESSION_BINDINGS", "FluxApp", "alarm_setup", "run_viewer"]

_RETRY_MAX = 60.0


def _flux_commands() -> type[Provider]:
    """The palette's provider, loaded when the palette first opens (dialogs and screens not
    on the first screen load when used: start-up time)."""
    from flux_tui.ui.commands import FluxCommands

    return FluxCommands


SEEK_STEP = 60.0  # seconds of session time for j / l
JUMP_STEP = 0.10  # fraction of the session for [ / ]

SESSION_BINDINGS: list[BindingType] = [
    # in the footer: a technician must find recording without reading the help
    Binding("r", "record", "Rec", tooltip="Record on/off", id="record"),
    Binding("s", "save", "Save", tooltip="Save the log", id="save"),
    Binding("o", "open_session", "Open", tooltip="Open a session", id="open-session"),
    Binding("k", "replay_pause", "Replay pause/resume", show=False, id="replay-pause"),
    Binding("greater_than_sign", "replay_speed", "Replay speed 1×, 10×, max", show=False,
            id="replay-speed"),
    Binding("j", f"replay_seek({-SEEK_STEP})", "Replay back 1 min", show=False,
            id="replay-back"),
    Binding("l", f"replay_seek({SEEK_STEP})", "Replay on 1 min", show=False,
            id="replay-forward"),
    Binding("left_square_bracket", f"replay_jump({-JUMP_STEP})", "Replay back 10 %",
            show=False, id="replay-jump-back"),
    Binding("right_square_bracket", f"replay_jump({JUMP_STEP})", "Replay on 10 %",
            show=False, id="replay-jump-forward"),
]

VIEW_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="quit"),
    # priority: the app acts on it before forwarding the next key, so text typed right
    # after `/` lands in the filter, not in the log (widgets queue keys separately)
    Binding("slash", "filter", "Filter", id="filter", priority=True),
    Binding("question_mark,f1", "help", "Help", id="help"),
    Binding("space", "pause", "Pause", id="pause"),
    Binding("end", "live", "Live", id="live"),
    # fewer footer entries than keys: the footer keeps the ones used every visit (the
    # rest are in `?` help and the command palette)
    Binding("t", "utc", "UTC", show=False, id="utc"),
    Binding("p", "pin", "Pin", id="pin"),
    Binding("w", "window", "Window", id="window"),
    Binding("y", "copy", "Copy", show=False, id="copy"),
    Binding("a", "toggle_tree", "Assets", id="toggle-tree"),
    Binding("g", "toggle_sparks", "Graphs", id="toggle-sparks"),
    Binding("n", "tag_names", "Names", show=False, id="tag-names"),
    Binding("d", "delays", "Delay", show=False, id="delays"),
    Binding("x", "clear_scope", "Unscope", show=False, id="clear-scope"),
    Binding("i", "unit_details", "Unit info", show=False, id="unit-details"),
    Binding("e", "decode_errors", "Problems", show=False, id="decode-errors"),
    Binding("ctrl+r", "reconnect", "Reconnect", show=False, id="reconnect"),
    Binding("b", "look_back", "Look back (reopen the feed from earlier)", show=False,
            id="look-back"),
    Binding("tab", "focus_next", "Next panel", show=False, id="next-panel"),
]


class FluxApp(AlarmActions, App[int]):
    """The Flux live viewer."""

    TITLE = "flux-tui"
    CSS = TOAST_CSS + """
    Screen { layers: base; }
    #main { height: 1fr; }
    #right { width: 1fr; }
    """ + ALARM_CSS
    COMMANDS = App.COMMANDS | {_flux_commands}
    # the session keys first: the footer keeps the order the old class tower gave them
    BINDINGS: ClassVar[list[BindingType]] = [*SESSION_BINDINGS, *VIEW_BINDINGS, *ALARM_BINDINGS]

    def __init__(self, opener: SourceOpener, *, title: str = "flux-tui",
                 config: Config | None = None, low_bandwidth: bool = False,
                 clock: Callable[[], float] = time.time, capacity: int | None = None,
                 utc: bool = False, theme: str | None = None,
                 user_theme_dir: Path | None = None, alarms: AlarmSetup | None = None,
                 look_back: Callable[[str], SourceOpener] | None = None) -> None:
        """``look_back`` gives the opener of the live feed starting at a ``--from`` form
        (the `b` key); None: the key only says it is not available."""
        super().__init__()
        self._look_back = look_back
        self.sub_title = title
        self._config = config
        ui = config.ui_settings() if config is not None else UiSettings()  # [ui], read once
        self.low_bandwidth = low_bandwidth or ui.low_bandwidth
        self.store = LiveStore(capacity or ui.history, clock=clock)
        self.notices = NoticeBoard(clock=clock)
        self.view = LiveView(opener, store=self.store, clock=clock, listener=self)
        self.main = MainScreen(self.view, self.store, self._tick, utc=utc,
                               low_bandwidth=self.low_bandwidth, painted=self._first_paint)
        self._ticks = 0
        self._retry_delay = 2.0
        self._last_problem = ""
        self._recording_shown: str | None = None
        self._state_before_login = FeedState.LIVE
        self._theme_setting = theme or ui.theme
        self._user_theme_dir = user_theme_dir or (
            config.path.parent / "themes" if config is not None else None)
        self._theme_in_force: str | None = None  # the theme set at start-up or last saved
        self._user_keys = dict(ui.keys)
        self.init_alarms(alarms)  # rules, stale units, units and state names

    # --- what tests and the palette reach ---------------------------------------------------

    @property
    def names(self) -> ViewNames:
        """The names of the source on screen (one object for the app's life)."""
        return self.view.names

    @property
    def recorder(self) -> Recorder:
        """The viewer's recorder (one recording at a time)."""
        return self.view.recorder

    @property
    def replay(self) -> SessionReplay | None:
        """The session being replayed, if any."""
        return self.view.replay

    @property
    def recording(self) -> str | None:
        """``3,201 → pad7.jsonl`` while recording."""
        return self.view.recorder.status_text()

    @property
    def log_view(self) -> TagLog:
        return self.main.log_view

    @property
    def asset_tree(self) -> AssetTree:
        return self.main.asset_tree

    @property
    def sparks(self) -> SparkPanel:
        return self.main.sparks

    @property
    def filter_bar(self) -> FilterBar:
        return self.main.filter_bar

    def jump_to(self, scope: Scope) -> None:
        """Scope the view to a unit or tag (the command palette uses this)."""
        self.main.jump_to(scope)

    # --- start-up ---------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return self.main

    def on_mount(self) -> None:
        self._setup_themes()
        if self._user_keys:
            self.set_keymap(self._user_keys)
        hz = 1.0 if self.low_bandwidth else 4.0
        self.set_interval(1.0 / hz, self._tick, name="refresh")
        if not self.is_headless:  # no collection may hold the loop at peak (tests keep theirs)
            install_gc_policy()
        # the feed starts once the screen has been drawn (MainScreen calls _first_paint): a
        # replay at full speed, started here, held the loop while the screen was being
        # mounted and the first frame waited for ~80 pages (seconds on a loaded machine)
        self._note_opening()

    def _first_paint(self) -> None:
        """The main screen's first frame is out: now the feed (its first page is drawn at
        once, see :meth:`batch_taken`)."""
        self.start_feed()

    def _setup_themes(self) -> None:
        loaded = load_themes(self._user_theme_dir)
        for theme in loaded.themes.values():
            self.register_theme(theme)
        for problem in loaded.problems:
            self.notify(f"Theme skipped: {problem}", severity="warning", timeout=10)
        wanted = self._theme_setting or (MONOCHROME_THEME if os.environ.get("NO_COLOR")
                                         else DEFAULT_THEME)
        if wanted not in self.available_themes:
            self.notify(f"Theme {safe_text(str(wanted))!r} not found; using {DEFAULT_THEME}",
                        severity="warning", timeout=10)
            wanted = DEFAULT_THEME
        # Textual publishes theme_changed_signal on the next message (call_next), so the
        # subscriber below also hears this start-up theme: it is skipped by name, and only a
        # change by the user (palette, key) reaches the config file.
        self._theme_in_force = wanted
        self.theme = wanted
        self.theme_changed_signal.subscribe(self, self._save_theme)
        # every screen of the stack (a theme is often chosen from the palette, on top)
        self.theme_changed_signal.subscribe(self, self._redraw_screens)

    def _redraw_screens(self, _theme: Theme) -> None:
        for screen in self.screen_stack:
            redraw_everything(screen)

    def _save_theme(self, theme: Theme) -> None:
        """Remember the user's theme choice in the config file (never the start-up theme)."""
        if theme.name == self._theme_in_force:
            return
        self._theme_in_force = theme.name
        if self._config is None:
            return
        try:
            from flux_tui.config import save_ui_setting

            save_ui_setting(self._config.path, "theme", theme.name)
        except Exception as exc:  # noqa: BLE001 - a read-only config must not break the viewer
            self.notify(f"Could not save the theme: {exc}", severity="warning")

    # --- the feed: one worker awaiting the view ---------------------------------------------

    def _note_opening(self) -> None:
        # a saved session is read, not connected to: never "connecting" in replay
        replaying = self.view.replay is not None
        self.store.note(StateChanged(FeedState.REPLAY if replaying else FeedState.CONNECTING, ""))

    def start_feed(self) -> None:
        """(Re)start the feed worker (exclusive: a running one is cancelled first)."""
        self._note_opening()
        self.run_worker(self.view.run(), name="feed", group="feed", exclusive=True,
                        exit_on_error=False)

    # ViewListener: what the view tells the app at once

    def source_opened(self, source: FeedSource) -> None:
        login = source.person_login()
        if login is not None:
            # a person's login: when renewal needs them, the re-login dialog asks
            login.tokens.on_state = self._login_state
            if login.tokens.state == "login-required":
                self._login_state(login.tokens.state)

    def batch_taken(self, first: bool) -> None:
        self._retry_delay = 2.0
        if first:
            # the first readings now, not at the next tick; the tree and sparklines at the
            # next tick (building a node for each of ~1,000 tags held the first frame back)
            self._tick(first_page=True)

    def problem(self, problem: FeedProblem) -> None:
        text = safe_text(str(problem.error))[:200]
        if text != self._last_problem:  # a repeating fault notifies once, not every retry
            self._last_problem = text
            when = f"; retrying in {problem.retry_in:.0f} s" if problem.retry_in else ""
            self.notify(f"{text}{when}", title="Feed problem", severity="warning")

    def seeked(self, cleared: bool) -> None:
        if cleared:  # the log started again (the point is no longer held): a fresh tree
            self.run_worker(self.main.restart_tree(), group="replay-view", exclusive=True)
        self.main.log_view.action_live()  # show the point the replay is at

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every message is kept whole for the problems view (``e``); the toast, if any, is
        literal text (messages carry server errors, paths and names from the stream:
        Textual would parse ``[...]`` in them as markup), coalesced with its repeats, one of
        at most two, never over help (see :mod:`flux_tui.ui.notices`)."""
        notice = self.notices.note(message, title, severity)
        if isinstance(self.screen, HelpScreen | InfoScreen):
            return  # kept for the problems view; no toast over help
        show_toast(self, notice, severity, NoticeBoard.timeout(severity, timeout))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place feed failures are handled."""
        if event.worker.name != "feed":
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            state, retry = classify_failure(error)
            self.store.note(StateChanged(state, safe_text(str(error))[:300]))
            message = safe_text(f"{type(error).__name__}: {error}")[:300]
            if retry:
                message += f" — retrying in {self._retry_delay:.0f} s (ctrl+r now)"
                self.set_timer(self._retry_delay, self._auto_retry, name="retry")
                self._retry_delay = min(_RETRY_MAX, self._retry_delay * 2)
            else:
                message += " — fix it and press ctrl+r to retry"
            self.notify(message, title=f"Feed {state.value}", severity="error", timeout=15)
        elif event.state == WorkerState.SUCCESS:
            self.store.note(StateChanged(FeedState.STOPPED, "the feed ended"))

    def _auto_retry(self) -> None:
        if self.store.state in (FeedState.OFFLINE, FeedState.RECONNECTING):
            self.start_feed()

    # --- a person's login -------------------------------------------------------------------

    def _person_login(self) -> PersonLogin | None:
        source = self.view.source
        return source.person_login() if source is not None else None

    def _login_state(self, state: str) -> None:
        """The token provider's state changed (called from inside the feed's token path:
        the dialog is opened after it returns)."""
        if state == "login-required":
            self.call_later(self._ask_login)

    def _ask_login(self) -> None:
        login = self._person_login()
        if login is None or login.tokens.state != "login-required":
            return
        from flux_tui.ui.login_dialog import LoginDialog

        if any(isinstance(s, LoginDialog) for s in self.screen_stack):
            return
        if self.store.state is not FeedState.AUTH_NEEDED:
            self._state_before_login = self.store.state
        self.store.note(StateChanged(FeedState.AUTH_NEEDED, "waiting for login"))
        self.push_screen(LoginDialog(login.device_flow, login.tokens.adopt,
                                     reason=login.tokens.problem or "", profile=login.profile),
                         callback=self._login_closed)

    def _login_closed(self, approved: bool | None) -> None:
        login = self._person_login()
        if approved:
            self.store.note(StateChanged(self._state_before_login, ""))
            self.notify("Logged in: the feed carries on where it stopped", timeout=4)
        else:
            if login is not None:
                login.tokens.give_up()
            # Stop the feed ourselves: other callers (the names lookup, a reader's retry)
            # would only start waiting for a login again. ctrl+r opens it anew and asks.
            self.workers.cancel_group(self, "feed")
            self.store.note(StateChanged(FeedState.AUTH_NEEDED, "not logged in"))
            self.notify("Not logged in: the feed is stopped. Press ctrl+r to log in again.",
                        title="Feed auth needed", severity="warning", timeout=10)
        self._tick()

    # --- the timer --------------------------------------------------------------------------

    def _tick(self, first_page: bool = False) -> None:
        """Bring every widget up to date with the store (never per reading)."""
        self._ticks += 1
        self.view.tick()  # a recording's data reaches the disk once a second
        try:
            self.main.refresh_from_store(self._ticks, self.view.clock(),
                                         self._recording_status(), log_only=first_page)
        except NoMatches:
            return  # the app is closing: its widgets are already gone

    def _recording_status(self) -> str | None:
        recorder = self.view.recorder
        text = recorder.status_text()
        if recorder.state is RecorderState.FAILED and self._recording_shown is not None:
            self.notify(safe_text(recorder.error or "recording stopped"),
                        title="Recording stopped", severity="error", timeout=20)
        self._recording_shown = text
        return text

    def status_info(self, now: float) -> StatusInfo:
        """The status bar's figures from the store and the source."""
        return self.main.status_info(now, self.recording)

    # --- keys: the view ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`/` is text while typing in an input or a dialog is open."""
        if action == "filter":
            return (not isinstance(self.focused, Input | TextArea)
                    and self.screen is self.screen_stack[0])
        return True

    def action_reconnect(self) -> None:
        """Restart the feed now."""
        self._retry_delay = 2.0
        self._last_problem = ""
        self.notify("Reconnecting…", timeout=2)
        self.start_feed()

    def action_look_back(self) -> None:
        """Reopen the live feed from earlier (the prompt proposes 15m); the filter and the
        pinned tags stay, the log starts again from there."""
        if self._look_back is None or self.view.replay is not None:
            self.notify("Look back reopens a live feed: none is open", timeout=3)
            return

        def chosen(text: str | None) -> None:
            if text:
                self.run_worker(self.look_back(text), group="look-back", exclusive=True)

        from flux_tui.ui.look_back import LookBackDialog

        self.push_screen(LookBackDialog(), chosen)

    async def look_back(self, text: str) -> None:
        """Reopen the live feed at ``text`` (a ``--from`` form) from an empty log."""
        if self._look_back is None:
            return
        self.workers.cancel_group(self, "feed")  # no page of the old feed after the clear
        self.view.use_live(self._look_back(text))
        await self.main.restart_tree()
        self.notify(f"Reading again from {text}", timeout=4)
        self.start_feed()

    def action_filter(self) -> None:
        """Focus the filter bar."""
        self.main.focus_filter()

    def action_help(self) -> None:
        """Show every key."""
        self.clear_notifications()  # no toast over help (they are kept for `e`)
        self.push_screen(HelpScreen(self.key_sections()))

    def key_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Bindings by panel, with the keys in force (after the user's remapping)."""
        return key_sections(self, self._user_keys, [
            ("Everywhere", VIEW_BINDINGS), ("Sessions and replay", SESSION_BINDINGS),
            ("Tag log", TagLog.BINDINGS), ("Filter bar", FilterBar.BINDINGS),
            ("Alarms, marks, what changed", ALARM_BINDINGS)])

    def action_pause(self) -> None:
        """Pause or resume the display (the feed keeps running)."""
        self.log_view.action_pause()
        self._tick()

    def action_live(self) -> None:
        """Back to the newest line."""
        self.log_view.action_live()

    def action_utc(self) -> None:
        """Toggle local time / UTC."""
        self.main.toggle_utc()  # no toast: the time column shows it (a 'Z' after UTC times)

    def action_tag_names(self) -> None:
        """Show or hide the tag name column."""
        self.log_view.show_tag_name = not self.log_view.show_tag_name

    def action_delays(self) -> None:
        """Show or hide the field-to-cloud delay column."""
        self.log_view.show_delay = not self.log_view.show_delay

    def action_pin(self) -> None:
        """Pin or unpin the selected tag on the sparkline panel."""
        result = self.main.pin()
        if result == "no tag":
            self.notify("Select a tag first (tree, or a line in the log)", timeout=3)
        elif result == "full":
            self.notify("Eight tags are pinned already; unpin one first", severity="warning")

    def action_window(self) -> None:
        """Cycle the sparkline window (1m, 5m, 15m, 1h); the panel's title shows it."""
        self.sparks.cycle_window()
        if not self.sparks.display:  # a change nobody could see: show where it happened
            self.main.toggle_sparks()

    def action_copy(self) -> None:
        """Copy the highlighted (or newest) reading as JSON to the clipboard."""
        text = self.main.copy_text()
        if text is None:
            self.notify("Nothing to copy yet", timeout=2)
            return
        self.copy_to_clipboard(text)
        self.notify("Reading copied as JSON", timeout=2)

    def action_toggle_tree(self) -> None:
        """Show or hide the asset tree."""
        self.main.toggle_tree()

    def action_toggle_sparks(self) -> None:
        """Show or hide the sparkline panel."""
        self.main.toggle_sparks()

    def action_clear_scope(self) -> None:
        """Show every unit again."""
        self.main.clear_scope()

    def action_unit_details(self) -> None:
        """Show the unit of the highlighted line (or the scoped unit): names and live state."""
        dialog = self.main.unit_details()
        if dialog is None:
            self.notify("No unit yet", timeout=2)
        else:
            self.push_screen(dialog)

    def action_decode_errors(self) -> None:
        """The problems view: every message whole (newest first), then the records that
        could not be decoded, with their raw bytes."""
        self.push_screen(self.main.problems(notices_table(self.notices)))

    # --- keys: record, save, open, replay ---------------------------------------------------

    def _default_path(self) -> str:
        """A new file's name (company, filter, minute), distinct from any file there and
        from the recording in progress."""
        meta = self.view.metadata(self.main.filter_text)
        path = Path.cwd() / default_session_name(meta["company"], meta["filter"],
                                                 datetime.now())
        return str(distinct_path(path, self._busy_paths()))

    def _busy_paths(self) -> frozenset[Path]:
        recorder = self.view.recorder
        return frozenset({recorder.path}) if recorder.recording and recorder.path else (
            frozenset())

    def action_record(self) -> None:
        """Start recording what passes the filter from now on, or stop the recording."""
        view = self.view
        if view.recorder.recording:
            count = view.stop_recording()
            self._tick()
            if view.recorder.state is RecorderState.STOPPED:
                self.notify(f"Saved {count:,} readings to {view.recorder.path}",
                            title="Recording stopped", timeout=8)
            return

        def chosen(choice: PathChoice | None) -> None:
            if choice is None:
                return
            try:
                view.start_recording(choice.path, self.main.filter_text,
                                     overwrite=choice.overwrite)
            except OSError as error:  # exists (a race), folder missing, not writable
                self.notify(str(error), title="Cannot record", severity="error", timeout=15)
                return
            self._tick()
            self.notify(f"Recording to {choice.path} (r stops)", timeout=5)

        from flux_tui.ui.path_dialog import PathDialog

        self.push_screen(PathDialog("Record to", self._default_path(),
                                    busy=self._busy_paths()), chosen)

    def action_save(self) -> None:
        """Save the log's current view (filtered, including any backlog) to a file."""
        paging = self.main.paging  # a replayed file: its lines, re-read from it
        lines = paging.log.lines() if paging is not None else None
        held = lines if lines is not None else self.view.held()
        if not held:
            self.notify("The log is empty: nothing to save", timeout=3)
            return
        filter_text = self.main.filter_text

        async def write(choice: PathChoice) -> None:
            try:
                count = await self.view.save(held, choice.path, filter_text,
                                             overwrite=choice.overwrite)
            except OSError as error:
                self.notify(str(error), title="Not saved", severity="error", timeout=15)
                return
            self.notify(f"Saved {count:,} readings to {choice.path}", title="Saved", timeout=8)

        def chosen(choice: PathChoice | None) -> None:
            if choice is not None:
                self.run_worker(write(choice), group="save", exit_on_error=False)

        from flux_tui.ui.path_dialog import PathDialog

        self.push_screen(PathDialog(f"Save {len(held):,} readings to",
                                    self._default_path(), busy=self._busy_paths()), chosen)

    def action_open_session(self) -> None:
        """Open a saved session into the viewer (replayed at 1×)."""
        def chosen(choice: PathChoice | None) -> None:
            if choice is None:
                return
            try:
                replay = SessionReplay(choice.path, hold_at_end=True)
            except OSError as error:
                self.notify(str(error), title="Cannot open", severity="error")
                return
            self.run_worker(self.open_replay(replay), group="replay-view", exclusive=True)

        from flux_tui.ui.path_dialog import PathDialog

        self.push_screen(PathDialog("Open session", str(Path.cwd()) + "/", purpose="open"),
                         chosen)

    def replay_opener(self, replay: SessionReplay) -> SourceOpener:
        """Opens ``replay`` with the names of the profile that recorded it (when the config
        has that profile), so a replay shows and filters by the names the live view does."""
        config = self._config

        async def opener() -> FeedSource:
            name = replay.metadata.get("profile")
            if config is None or not isinstance(name, str) or name not in config.profile_names():
                # no such profile here to lend names: the API layer (httpx, pydantic, ~0.3 s
                # before the first page) is not even loaded
                return replay
            from flux_tui.connect import replay_source

            return await replay_source(replay, config)

        return opener

    async def open_replay(self, replay: SessionReplay) -> None:
        """Make ``replay`` the viewer's source: a fresh store, its clock, its header."""
        self.workers.cancel_group(self, "feed")  # no page of the old source after the clear
        self.view.use_replay(replay, self.replay_opener(replay))
        self.sub_title = replay.describe()
        await self.main.restart_tree()
        await self.main.mount_replay_bar(replay)
        self.start_feed()  # exclusive: the live feed (or the previous replay) is closed

    def _replaying(self) -> SessionReplay | None:
        if self.view.replay is None:
            self.notify("No session open (o opens one)", timeout=2)
        return self.view.replay

    def action_replay_pause(self) -> None:
        """Pause or resume the replay."""
        if (replay := self._replaying()) is not None:
            replay.toggle_pause()

    def action_replay_speed(self) -> None:
        """Cycle the replay speed: 1× → 10× → max."""
        if (replay := self._replaying()) is not None:
            self.notify(f"Replay at {speed_label(replay.cycle_speed())}", timeout=2)

    def action_replay_seek(self, seconds: float) -> None:
        """Jump by ``seconds`` of session time."""
        if (replay := self._replaying()) is not None:
            replay.seek_by(seconds)

    def action_replay_jump(self, fraction: float) -> None:
        """Jump by a fraction of the session's span."""
        if (replay := self._replaying()) is not None:
            now = replay.fraction if replay.fraction is not None else 0.0
            replay.seek_fraction(now + fraction)

    # --- the end ----------------------------------------------------------------------------

    def stop_signal(self, signum: int) -> None:
        """SIGHUP (the SSH link dropped) or SIGTERM: close the recording cleanly first (the
        terminal may already be gone), then end the viewer."""
        if self.view.recorder.recording:
            self.view.stop_recording()
        self.exit(return_code=128 + signum)

    async def on_unmount(self) -> None:
        if self.view.recorder.recording:
            self.view.stop_recording()  # quitting closes the file cleanly


STOP_GRACE_S = 5.0  # how long a signalled viewer may take to shut down before it is ended


def exit_soon(status: int, grace_s: float = STOP_GRACE_S) -> threading.Thread:
    """End the process with ``status`` if it is still alive ``grace_s`` seconds from now.

    Why: after SIGHUP the terminal is gone, and Textual's shutdown can then wait for ever on
    its output thread (seen twice in ten `tmux kill-server` runs: the main thread blocked in
    ``WriterThread.stop``), leaving a viewer behind on the field box after every dropped SSH
    link. The recording is closed before this is armed, so nothing of it is lost."""

    def end_later() -> None:
        time.sleep(grace_s)
        os._exit(status)

    watchdog = threading.Thread(target=end_later, name="flux-stop-watchdog", daemon=True)
    watchdog.start()
    return watchdog


def watch_stop_signals(app: FluxApp, grace_s: float | None = None) -> Callable[[], None]:
    """SIGHUP and SIGTERM would kill the viewer at once, losing the last second of a
    recording and leaving its sidecar incomplete: they end it through
    :meth:`FluxApp.stop_signal` instead. With ``grace_s``, a viewer whose shutdown is still
    not over that long after the signal is ended all the same (:func:`exit_soon`). Returns
    the undo (nothing outside the main thread)."""
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        app.stop_signal(signum)
        if grace_s is not None:
            exit_soon(128 + signum, grace_s)

    watched: list[int] = []
    for name in ("SIGHUP", "SIGTERM"):
        signum = getattr(signal, name, None)  # not every platform has SIGHUP
        if signum is None:
            continue
        try:
            loop.add_signal_handler(signum, on_signal, int(signum))
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or no such signals here
        watched.append(int(signum))

    def undo() -> None:
        for signum in watched:
            loop.remove_signal_handler(signum)

    return undo


async def run_app(app: FluxApp) -> int:
    """Run ``app`` to its end with the stop signals watched; its exit status (1 after a
    crash, with the crash report named on stderr; 128 + N after signal N)."""
    from flux_tui.ui.exit_status import viewer_exit_code

    undo = watch_stop_signals(app, grace_s=STOP_GRACE_S)
    try:
        await app.run_async()
    finally:
        undo()
    return viewer_exit_code(app)


def run_viewer(profile: Profile, *, start: str | None = None, config: Config | None = None,
               low_bandwidth: bool = False, grant: Grant = "auto") -> int:
    """Run the viewer on ``profile`` until the user quits; returns the exit status.

    ``grant="device_code"`` uses a person's login (on the demo: no token at first, so the
    re-login dialog shows at once). With a person's login the feed waits for a new login
    instead of failing, so the dialog can resume it where it stopped.
    """
    from flux_tui.connect import open_feed

    def opener_from(start_at: str | None) -> SourceOpener:
        async def opener() -> FeedSource:
            return await open_feed(profile, start=start_at, grant=grant, wait_for_login=True)

        return opener

    title = profile.name + (f" · {profile.company}" if profile.company else "")
    app = FluxApp(opener_from(start), title=title, config=config, low_bandwidth=low_bandwidth,
                  alarms=alarm_setup(config, profile.simulator), look_back=opener_from)
    return asyncio.run(run_app(app))
