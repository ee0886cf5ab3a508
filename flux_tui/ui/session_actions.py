"""Sessions in the viewer: record (``r``), save what the log holds (``s``), open a saved
session (``o``) and control its replay (``k`` pause, ``>`` speed, ``j``/``l`` and
``[``/``]`` seek).

:class:`SessionApp` is the base class of :class:`~flux_tui.ui.app.FluxApp`: the app hands
every feed item to :meth:`SessionApp.on_feed_item`, which is all recording needs; a replay
is just another feed source (the opener returns a :class:`SessionReplay`).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widget import Widget

from flux_tui.data.formats import safe_text
from flux_tui.data.recorder import Recorder, RecorderState, default_session_name, save_snapshot
from flux_tui.data.replay import ReplaySeeked, SessionReplay, speed_label
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, FeedItem, Gap, Reading
from flux_tui.ui.path_dialog import PathChoice, PathDialog
from flux_tui.ui.replay_bar import ReplayBar

__all__ = ["SESSION_BINDINGS", "SessionApp"]

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


class SessionApp(App[int]):
    """Recording, saving, opening and replaying, for the viewer built on top of it."""

    BINDINGS: ClassVar[list[BindingType]] = SESSION_BINDINGS

    # Provided by the viewer (FluxApp) that subclasses this.
    store: LiveStore
    session: Any
    recording: str | None
    clock: Callable[[], float]
    _opener: Callable[[], Any]

    replay: SessionReplay | None = None
    """The session being replayed (set before running for ``flux-tui open``)."""
    _recorder: Recorder | None = None
    _trees = 0  # asset trees built so far (each needs its own id)
    _flush_timer: Timer | None = None  # puts recorded data on disk once a second

    def start_feed(self) -> None:  # pragma: no cover - FluxApp defines it
        raise NotImplementedError

    # --- the feed tap ---------------------------------------------------------------------

    @property
    def recorder(self) -> Recorder:
        """The viewer's recorder (one recording at a time)."""
        if self._recorder is None:
            self._recorder = Recorder()
        return self._recorder

    def on_feed_item(self, item: FeedItem | ReplaySeeked) -> None:
        """Called by the feed loop for every item after the store took it."""
        recorder = self._recorder
        if isinstance(item, Batch):
            if recorder is not None and recorder.recording:
                predicate = self.store.predicate  # the filter and scope the log shows
                readings: list[Reading] = item.readings
                recorder.offer(readings if predicate is None else
                               [r for r in readings if predicate(r)])
                self._show_recording()
        elif isinstance(item, Gap):
            if recorder is not None:
                recorder.note_gap(item)
        elif isinstance(item, ReplaySeeked):
            self.store.clear()  # now: the next page must land in the empty store
            self.run_worker(self._restart_view(), group="replay-view", exclusive=True)

    def _show_recording(self) -> None:
        recorder = self.recorder
        if recorder.state is RecorderState.FAILED and self.recording is not None:
            self.notify(safe_text(recorder.error or "recording stopped"),
                        title="Recording stopped", severity="error", timeout=20)
        self.recording = recorder.status_text()
        if not recorder.recording and self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    def _recorder_tick(self) -> None:
        self.recorder.tick()
        self._show_recording()

    # --- r: record ------------------------------------------------------------------------

    def _metadata(self) -> dict[str, Any]:
        replay = self.replay
        profile = getattr(self.session, "profile", None)
        meta: dict[str, Any] = {
            "profile": getattr(profile, "name", None) or (replay.metadata.get("profile")
                                                         if replay else None),
            "company": getattr(profile, "company", None) or (replay.metadata.get("company")
                                                             if replay else None),
            "filter": self._filter_text(),
        }
        if replay is not None:
            meta["source"] = replay.path.name
        return meta

    def _filter_text(self) -> str:
        from flux_tui.ui.filter_bar import FilterBar

        try:
            return self.query_one(FilterBar).good_text
        except Exception:  # noqa: BLE001 - no filter bar (a test app): no filter text
            return ""

    def _default_path(self) -> str:
        meta = self._metadata()
        return str(Path.cwd() / default_session_name(meta["company"], meta["filter"],
                                                    datetime.now()))

    def action_record(self) -> None:
        """Start recording what passes the filter from now on, or stop the recording."""
        recorder = self.recorder
        if recorder.recording:
            count = recorder.stop()
            self._show_recording()
            if recorder.state is RecorderState.STOPPED:
                self.notify(f"Saved {count:,} readings to {safe_text(str(recorder.path))}",
                            title="Recording stopped", timeout=8)
            return

        def chosen(choice: PathChoice | None) -> None:
            if choice is None:
                return
            try:
                recorder.start(choice.path, self._metadata(), overwrite=choice.overwrite)
            except OSError as error:  # exists (a race), folder missing, not writable
                self.notify(safe_text(str(error)), title="Cannot record", severity="error",
                            timeout=15)
                return
            if self._flush_timer is not None:
                self._flush_timer.stop()
            self._flush_timer = self.set_interval(1.0, self._recorder_tick, name="recorder-tick")
            self._show_recording()
            self.notify(f"Recording to {safe_text(str(choice.path))} (r stops)", timeout=5)

        self.push_screen(PathDialog("Record to", self._default_path()), chosen)

    # --- s: save what the log holds -------------------------------------------------------

    def action_save(self) -> None:
        """Save the log's current view (filtered, including any backlog) to a file."""
        store = self.store
        held = [reading for _, reading, _ in store.view_slice(0, store.view_len())]
        if not held:
            self.notify("The log is empty: nothing to save", timeout=3)
            return
        metadata = self._metadata()

        async def write(choice: PathChoice) -> None:
            try:
                count = await asyncio.to_thread(save_snapshot, held, choice.path, metadata,
                                                overwrite=choice.overwrite)
            except OSError as error:
                self.notify(safe_text(str(error)), title="Not saved", severity="error",
                            timeout=15)
                return
            self.notify(f"Saved {count:,} readings to {safe_text(str(choice.path))}",
                        title="Saved", timeout=8)

        def chosen(choice: PathChoice | None) -> None:
            if choice is not None:
                self.run_worker(write(choice), group="save", exit_on_error=False)

        self.push_screen(PathDialog(f"Save {len(held):,} readings to",
                                    self._default_path()), chosen)

    # --- o: open a saved session ----------------------------------------------------------

    def action_open_session(self) -> None:
        """Open a saved session into the viewer (replayed at 1×)."""
        def chosen(choice: PathChoice | None) -> None:
            if choice is None:
                return
            try:
                replay = SessionReplay(choice.path, hold_at_end=True)
            except OSError as error:
                self.notify(safe_text(str(error)), title="Cannot open", severity="error")
                return
            self.run_worker(self.open_replay(replay), group="replay-view", exclusive=True)

        self.push_screen(PathDialog("Open session", str(Path.cwd()) + "/", purpose="open"),
                         chosen)

    async def open_replay(self, replay: SessionReplay) -> None:
        """Make ``replay`` the viewer's source: a fresh store, its clock, its header."""
        self.replay = replay
        self.clock = self.store.clock = replay.now

        async def opener() -> SessionReplay:
            return replay

        self._opener = opener
        self.sub_title = replay.describe()
        self.workers.cancel_group(self, "feed")  # no page of the old source after the clear
        self.store.clear()
        await self._restart_view()
        self._mount_replay_bar()
        self.start_feed()  # exclusive: the live feed (or the previous replay) is closed

    def _mount_replay_bar(self) -> None:
        from flux_tui.ui.status_bar import StatusBar

        if self.replay is None:
            return
        for old in self.query(ReplayBar):
            old.remove()
        self.mount(ReplayBar(self.replay), before=self.query_one(StatusBar))

    async def _restart_view(self) -> None:
        """Rebuild the widgets that remember readings once the store was cleared (a jump,
        or another session)."""
        from flux_tui.ui.asset_tree import AssetTree
        from flux_tui.ui.log_view import TagLog

        tree = self.query_one(AssetTree)
        self._trees += 1
        fresh = AssetTree(self.store, id=f"tree-{self._trees}")
        fresh.names, fresh.display = tree.names, tree.display
        parent = tree.parent
        if isinstance(parent, Widget):
            # The new tree goes in first (query_one finds it): the app's timer never sees
            # a screen without a tree.
            await parent.mount(fresh, before=tree)
            await tree.remove()
        if hasattr(self, "action_clear_scope"):
            self.action_clear_scope()  # a scope chosen in the old tree no longer applies
        self.query_one(TagLog).action_live()

    # --- replay controls ------------------------------------------------------------------

    def _replaying(self) -> SessionReplay | None:
        if self.replay is None:
            self.notify("No session open (o opens one)", timeout=2)
        return self.replay

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

    def on_mount(self) -> None:
        if self.replay is not None:
            self._mount_replay_bar()
        self._watch_stop_signals()

    def _watch_stop_signals(self) -> None:
        """SIGHUP (the SSH link dropped) and SIGTERM would kill the viewer at once, losing
        the last second of a recording and leaving its sidecar incomplete: they close the
        recording cleanly and end the viewer instead."""
        self._signals_watched: list[int] = []
        loop = asyncio.get_running_loop()
        for name in ("SIGHUP", "SIGTERM"):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            try:
                loop.add_signal_handler(signum, self._stop_signal, int(signum))
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or no such signals here
            self._signals_watched.append(int(signum))

    def _stop_signal(self, signum: int) -> None:
        recorder = self._recorder
        if recorder is not None and recorder.recording:
            recorder.stop()  # first: the terminal may already be gone
        self.exit(return_code=128 + signum)

    async def on_unmount(self) -> None:
        recorder = self._recorder
        if recorder is not None and recorder.recording:
            recorder.stop()  # quitting closes the file cleanly
        loop = asyncio.get_running_loop()
        for signum in getattr(self, "_signals_watched", []):
            loop.remove_signal_handler(signum)
        self._signals_watched = []
