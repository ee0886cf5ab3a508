"""The live viewer: ``FluxApp`` and :func:`run_viewer` (``flux-tui``, ``flux-tui demo``).

The feed runs in one managed worker that hands whole batches to the :class:`LiveStore`;
widgets catch up with the store on a timer (4 Hz, 1 Hz in low-bandwidth mode), never once
per reading. Every worker failure is handled in ``on_worker_state_changed``: it becomes a
status-bar state and a notification, and the feed is retried (automatically for network
faults, with ``ctrl+r`` always).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from flux_tui.data.formats import safe_text
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, FeedProblem, FeedState, StateChanged
from flux_tui.ui.asset_tree import AssetTree, Scope
from flux_tui.ui.commands import FluxCommands
from flux_tui.ui.feed_status import classify_failure, status_from
from flux_tui.ui.filter_bar import FilterBar, Predicate
from flux_tui.ui.log_view import TagLog
from flux_tui.ui.login_dialog import LoginDialog
from flux_tui.ui.sparklines import SparkPanel
from flux_tui.ui.status_bar import StatusBar, StatusInfo
from flux_tui.ui.themes import DEFAULT_THEME, MONOCHROME_THEME, load_themes
from flux_tui.ui.view_actions import ViewActions

if TYPE_CHECKING:
    from flux_tui.config import Config, Profile
    from flux_tui.connect import Grant

Opener = Callable[[], Awaitable[Any]]
"""Opens a feed session: an object with ``.reader`` (async iterable of feed items) and
``aclose()``; ``.budget``, ``.tokens`` and ``.client`` are shown when present."""

NARROW = 100  # below this width the tree starts hidden
SHORT = 30  # below this height the sparkline panel starts hidden
_RETRY_MAX = 60.0
_GC_THRESHOLDS = (20_000, 10, 10)  # see on_mount


class FluxApp(ViewActions):
    """The Flux live viewer."""

    TITLE = "flux-tui"
    CSS = """
    Screen { layers: base; }
    #main { height: 1fr; }
    #right { width: 1fr; }
    """
    COMMANDS = App.COMMANDS | {FluxCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
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
        Binding("e", "decode_errors", "Errors", show=False, id="decode-errors"),
        Binding("ctrl+r", "reconnect", "Reconnect", show=False, id="reconnect"),
        Binding("tab", "focus_next", "Next panel", show=False, id="next-panel"),
    ]

    def __init__(self, opener: Opener, *, title: str = "flux-tui",
                 config: Config | None = None, low_bandwidth: bool = False,
                 clock: Callable[[], float] = time.time, capacity: int = 200_000,
                 utc: bool = False, theme: str | None = None,
                 user_theme_dir: Path | None = None) -> None:
        super().__init__()
        self._opener = opener
        self.sub_title = title
        self._config = config
        ui = config.ui if config is not None else {}
        self.low_bandwidth = low_bandwidth or bool(ui.get("low_bandwidth", False))
        self.clock = clock
        self.store = LiveStore(capacity, clock=clock)
        self.session: Any = None
        self.names: Any = None
        self._names_version = -1
        self.recording: str | None = None  # set by a recorder: "3,201 → pad7.jsonl"
        self._initial_utc = utc
        self._query: Predicate | None = None
        self._scope: Scope | None = None
        self._ticks = 0
        self._retry_delay = 2.0
        self._last_problem = ""
        self._state_before_login = FeedState.LIVE
        self._user_layout: dict[str, bool] = {}
        self._theme_setting = theme or ui.get("theme")
        self._user_theme_dir = user_theme_dir or (
            config.path.parent / "themes" if config is not None else None)
        self._theme_in_force: str | None = None  # the theme set at start-up or last saved
        keys = ui.get("keys")
        self._user_keys = {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {}

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield AssetTree(self.store, id="tree")
            with Vertical(id="right"):
                yield FilterBar(self._suggestion_words, id="filter")
                yield TagLog(self.store, id="log")
                yield SparkPanel(self.store, id="sparks",
                                 now=lambda: self.store.reference_ms(self.clock()) / 1000.0)
        yield StatusBar(id="status")
        yield Footer(compact=True)

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
        self._setup_themes()
        if self._user_keys:
            self.set_keymap(self._user_keys)
        self.log_view.utc = self._initial_utc
        self.log_view.plain = self.low_bandwidth
        self.log_view.focus()
        hz = 1.0 if self.low_bandwidth else 4.0
        self.set_interval(1.0 / hz, self._tick, name="refresh")
        # At peak a 10,000-reading page arrives every 0.6 s and Textual leaves reference
        # cycles behind every frame (strips and their caches). With the default thresholds
        # those survive two young collections within milliseconds and pile up in the oldest
        # generation, so full collections (~100 ms) come every few seconds. A larger young
        # generation lets them die young: measured, full collections drop to ~1 in 2 minutes
        # and RSS stays flat (benchmarks/bench_tui.py).
        gc.set_threshold(*_GC_THRESHOLDS)
        self._layout_for(self.size.width, self.size.height)
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

    def _save_theme(self, theme: Any) -> None:
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

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        """Collapse panels on small terminals unless the user chose otherwise."""
        self.asset_tree.display = self._user_layout.get("tree", width >= NARROW)
        # the palette's footer entry overlaps the keys when they overflow (80 columns):
        # ctrl+p still works and is in help
        self.query_one(Footer).show_command_palette = width >= NARROW
        # a wider tree on a wide screen: long tag names keep more of themselves
        self.asset_tree.styles.width = 50 if width >= 170 else 44 if width >= 140 else 36
        self.sparks.display = self._user_layout.get("sparks", height >= SHORT)

    # --- the feed ---------------------------------------------------------------------------

    def start_feed(self) -> None:
        """(Re)start the feed worker (exclusive: a running one is cancelled first)."""
        self.store.note(StateChanged(FeedState.CONNECTING, ""))
        self.run_worker(self._run_feed(), name="feed", group="feed", exclusive=True,
                        exit_on_error=False)

    async def _run_feed(self) -> None:
        session = await self._opener()
        self.session = session
        tokens: Any = getattr(session, "tokens", None)
        if getattr(tokens, "grant", None) == "device_code" and hasattr(tokens, "adopt"):
            # a person's login: when renewal needs them, the re-login dialog asks
            tokens.on_state = self._login_state
            if tokens.state == "login-required":
                self._login_state(tokens.state)
        names = getattr(session, "names", None)
        if names is not None and hasattr(names, "run"):
            # Enterprise Objects names: their own task; lookups read memory and never block
            self.names = self.asset_tree.names = self.log_view.names = names
            self.sparks.names = names
            self.filter_bar.names = names
            self.run_worker(names.run(), name="names", group="names", exclusive=True,
                            exit_on_error=False)
        try:
            store = self.store
            async for item in session.reader:
                if isinstance(item, Batch):
                    first = store.total == 0
                    store.ingest(item)
                    self._retry_delay = 2.0
                    if first and store.total:
                        self._tick()  # show the first readings now, not at the next tick
                else:
                    store.note(item)
                    if isinstance(item, FeedProblem):
                        self._problem(item)
                self.on_feed_item(item)  # recording and replay jumps (session_actions)
        finally:
            await session.aclose()

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is literal text: messages carry server errors, file paths,
        names and labels from the stream, and Textual would parse ``[...]`` in them as
        markup (a crash on a bad tag, or styling/links taking effect). Screens' notify()
        reaches this too; the app never means markup in a notification."""
        super().notify(safe_text(str(message)), title=safe_text(str(title)),
                       severity=severity, timeout=timeout, markup=False)

    def _problem(self, problem: FeedProblem) -> None:
        text = safe_text(str(problem.error))[:200]
        if text != self._last_problem:  # a repeating fault notifies once, not every retry
            self._last_problem = text
            when = f"; retrying in {problem.retry_in:.0f} s" if problem.retry_in else ""
            self.notify(f"{text}{when}", title="Feed problem", severity="warning")

    # --- a person's login -------------------------------------------------------------------

    def _login_state(self, state: str) -> None:
        """The token provider's state changed (called from inside the feed's token path:
        the dialog is opened after it returns)."""
        if state == "login-required":
            self.call_later(self._ask_login)

    def _ask_login(self) -> None:
        session = self.session
        tokens = getattr(session, "tokens", None)
        if tokens is None or tokens.state != "login-required":
            return
        if any(isinstance(s, LoginDialog) for s in self.screen_stack):
            return
        if self.store.state is not FeedState.AUTH_NEEDED:
            self._state_before_login = self.store.state
        self.store.note(StateChanged(FeedState.AUTH_NEEDED, "waiting for login"))
        profile = getattr(getattr(session, "profile", None), "name", "")
        self.push_screen(LoginDialog(session.device_flow, tokens.adopt,
                                     reason=tokens.problem or "", profile=profile),
                         callback=self._login_closed)

    def _login_closed(self, approved: bool | None) -> None:
        tokens = getattr(self.session, "tokens", None)
        if approved:
            self.store.note(StateChanged(self._state_before_login, ""))
            self.notify("Logged in: the feed carries on where it stopped", timeout=4)
        else:
            if tokens is not None:
                tokens.give_up()
            # Stop the feed ourselves: other callers (the names lookup, a reader's retry)
            # would only start waiting for a login again. ctrl+r opens it anew and asks.
            self.workers.cancel_group(self, "feed")
            self.workers.cancel_group(self, "names")
            self.store.note(StateChanged(FeedState.AUTH_NEEDED, "not logged in"))
            self.notify("Not logged in: the feed is stopped. Press ctrl+r to log in again.",
                        title="Feed auth needed", severity="warning", timeout=10)
        self._tick()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place feed failures are handled."""
        if event.worker.name != "feed":
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            state, retry = classify_failure(error)
            self.store.note(StateChanged(state, safe_text(str(error))[:80]))
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

    # --- the timer --------------------------------------------------------------------------

    def _tick(self) -> None:
        """Bring every widget up to date with the store (never per reading)."""
        self._ticks += 1
        store = self.store
        now = self.clock()
        log = self.log_view
        names = self.names
        if names is not None and names.version != self._names_version:
            self._names_version = names.version
            log.invalidate()  # unit names arrived: lines show them from now on
        log.refresh_from_store()
        scope = self.asset_tree.scope_title(self._scope) if self._scope else ""
        self.filter_bar.show_count(store.view_len(), store.held, scope)
        reference = store.reference_ms(now)
        # tree values and sparklines move slowly to the eye: redraw them less often
        # (2 Hz and 1 Hz; every 5 s on a low-bandwidth link)
        tree_every, sparks_every = (5, 5) if self.low_bandwidth else (2, 4)
        if self.asset_tree.display and self._ticks % tree_every == 0:
            self.asset_tree.refresh_from_store(reference)
        if self.sparks.display and self._ticks % sparks_every == 0:
            self.sparks.redraw()
        self.query_one(StatusBar).show(self.status_info(now))

    def status_info(self, now: float) -> StatusInfo:
        """The status bar's figures from the store and the session."""
        return status_from(self.store, self.session, now, paused=self.log_view.paused,
                           recording=self.recording, names=self.names)

    def action_reconnect(self) -> None:
        """Restart the feed now."""
        self._retry_delay = 2.0
        self._last_problem = ""
        self.notify("Reconnecting…", timeout=2)
        self.start_feed()

def run_viewer(profile: Profile, *, start: str | None = None, config: Config | None = None,
               low_bandwidth: bool = False, grant: Grant = "auto") -> int:
    """Run the viewer on ``profile`` until the user quits; returns the exit status.

    ``grant="device_code"`` uses a person's login (on the demo: no token at first, so the
    re-login dialog shows at once). With a person's login the feed waits for a new login
    instead of failing, so the dialog can resume it where it stopped.
    """
    from flux_tui.connect import open_feed

    async def opener() -> Any:
        return await open_feed(profile, start=start, grant=grant, wait_for_login=True)

    company = getattr(profile, "company", None)
    title = f"{profile.name}" + (f" · {company}" if company else "")
    app = FluxApp(opener, title=title, config=config, low_bandwidth=low_bandwidth)
    result = app.run()
    return int(result or 0)
