"""The viewer's alarms: the engine is fed every page the feed brings, new alarms ring (when
their rule asks) and flash (critical ones), the status bar counts them by severity, the tree
marks units and tags, and ``!`` opens the list. :class:`AlarmActions` is a mixin of
:class:`~flux_tui.ui.app.FluxApp`; the engine sees every reading as a watcher of the
:class:`~flux_tui.view.live.LiveView` (before the log's filter)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import App
from textual.binding import Binding, BindingType

from flux_tui.alarms import AlarmEngine, AlarmRule, StalePolicy, Transition
from flux_tui.alarms.transition import iso_utc
from flux_tui.data.formats import safe_text
from flux_tui.data.presentation import Presentation
from flux_tui.data.session.replay import ReplaySeeked
from flux_tui.feed.types import Reading
from flux_tui.ui.alarms_screen import SEVERITY_STYLE, SHELVE_MINUTES, AlarmsScreen
from flux_tui.ui.changes_screen import ChangesScreen
from flux_tui.ui.marks import MarkDialog, SessionEvents
from flux_tui.ui.status_bar import human_duration
from flux_tui.view.source import ViewEvent

if TYPE_CHECKING:
    from flux_tui.config import Config
    from flux_tui.data.session.recorder import Recorder
    from flux_tui.data.session.replay import SessionReplay
    from flux_tui.data.store import LiveStore
    from flux_tui.ui.asset_tree import AssetTree
    from flux_tui.ui.log_view import TagLog
    from flux_tui.ui.main_screen import MainScreen
    from flux_tui.view.live import LiveView, ViewNames

    _AppBase = App[int]
else:
    _AppBase = object

__all__ = ["ALARM_BINDINGS", "ALARM_CSS", "AlarmActions", "AlarmSetup", "alarm_setup"]

ALARM_BINDINGS: list[BindingType] = [
    Binding("exclamation_mark", "alarms", "Alarms", show=False, id="alarms"),
    Binding("m", "mark", "Mark", show=False, id="mark"),
    Binding("c", "changes", "What changed", show=False, id="changes"),
    Binding("full_stop", "replay_event(1)", "Replay: next alarm or mark", show=False,
            id="replay-next-event"),
    Binding("comma", "replay_event(-1)", "Replay: previous alarm or mark", show=False,
            id="replay-previous-event"),
]  # fmt: skip
ALARM_CSS = """
Screen.-alarm-flash { background: $error 25%; }
"""

FLASH_SECONDS = 0.8
SLICE = 1_000  # readings the engine takes before the event loop gets a turn
MAX_PENDING = 64  # pages waiting for the engine at most (it is many times faster than a feed)
LEAD_MS = 30_000  # a replay jump to an alarm lands this long before it
_RANK = {"info": 1, "warning": 2, "critical": 3}


def _in_scope(scope: Any, tag: Any) -> bool:
    if scope.kind == "unit":
        return bool(tag.asset_id == scope.asset_id)
    if scope.kind == "site":
        return bool(tag.org_id == scope.org_id and tag.site_id == scope.site_id)
    return bool(tag.org_id == scope.org_id)


class AlarmSetup:
    """What the viewer's alarms are built from: rules, stale policy, units and names."""

    def __init__(
        self,
        rules: list[AlarmRule] | tuple[AlarmRule, ...] = (),
        stale: StalePolicy | None = None,
        present: Presentation | None = None,
        *,
        watch_stale: bool = True,
        shelve_minutes: float = SHELVE_MINUTES,
    ) -> None:
        self.rules, self.stale, self.watch_stale = list(rules), stale, watch_stale
        self.present = present or Presentation()
        self.shelve_minutes = shelve_minutes  # how long `s` in the alarms list silences one

    def engine(self, names: Any = None) -> AlarmEngine:
        """A fresh engine (a replay that seeks starts again from where it lands)."""
        return AlarmEngine(self.rules, names=names, stale=self.stale, watch_stale=self.watch_stale)


class _Watcher:
    """The alarms as a watcher of the view: every reading, replay jumps; no tick needed."""

    def __init__(self, app: AlarmActions) -> None:
        self.app = app

    def take(self, readings: list[Reading]) -> None:
        self.app.alarm_enqueue(readings)

    def note(self, event: ViewEvent) -> None:
        if isinstance(event, ReplaySeeked):  # a replay jumped: start the alarms again there
            self.app.alarm_enqueue(None)

    def tick(self) -> None:
        """Transitions are handled as they come."""


class AlarmActions(_AppBase):
    """Alarms in the viewer (mixed into FluxApp, which calls :meth:`init_alarms`)."""

    if TYPE_CHECKING:  # provided by FluxApp
        view: LiveView
        main: MainScreen
        store: LiveStore

        @property
        def names(self) -> ViewNames: ...
        @property
        def recorder(self) -> Recorder: ...
        @property
        def replay(self) -> SessionReplay | None: ...
        @property
        def log_view(self) -> TagLog: ...
        @property
        def asset_tree(self) -> AssetTree: ...

    alarm_setup: AlarmSetup
    _alarms: AlarmEngine | None = None
    _events: SessionEvents | None = None
    _event_cursor: int | None = None  # the event the last replay jump went to
    _alarm_running = False

    def init_alarms(self, setup: AlarmSetup | None) -> None:
        """Watch the view's readings and hand the screen its hooks."""
        self.alarm_setup = setup or AlarmSetup()
        # pages (None: a replay jump) waiting for the engine, in feed order
        self._alarm_pending: deque[list[Any] | None] = deque()
        self.view.watchers.append(_Watcher(self))
        main = self.main
        main.present = self.present
        main.alarm_marks, main.alarm_counts = self.alarm_mark, self.alarm_counts
        main.unit_health = self.unit_health

    @property
    def events(self) -> SessionEvents:
        """The alarm journal and the marks of this viewing (they go into recordings)."""
        if self._events is None:
            self._events = SessionEvents()
        return self._events

    @property
    def alarms(self) -> AlarmEngine:
        """The alarm engine of the current feed (built on first use)."""
        if self._alarms is None:
            self._alarms = self.alarm_setup.engine(self.names)
        return self._alarms

    @property
    def present(self) -> Presentation:
        """Units and state names for everything the viewer shows."""
        return self.alarm_setup.present

    def alarm_enqueue(self, work: list[Any] | None) -> None:
        """A page for the engine (None: a replay jumped), taken in slices of :data:`SLICE`
        readings with the event loop free in between (a 10,000-reading page at once would
        hold it for tens of milliseconds)."""
        pending = self._alarm_pending
        if len(pending) >= MAX_PENDING:  # the engine fell behind: catch up now, lose nothing
            self._alarm_step(pending.popleft())
        pending.append(work)
        if not self._alarm_running:
            self._alarm_running = True
            self.run_worker(self._alarm_pump(), name="alarms", group="alarms", exit_on_error=False)

    async def _alarm_pump(self) -> None:
        pending = self._alarm_pending
        try:
            while pending:
                work = pending.popleft()
                if work is None:
                    self._alarm_step(None)
                    continue
                for start in range(0, len(work), SLICE):
                    self._alarm_step(work[start : start + SLICE])
                    await asyncio.sleep(0)
        finally:
            self._alarm_running = False

    def _alarm_step(self, readings: list[Any] | None) -> None:
        if readings is None:
            self._alarms = None
        else:
            self.alarm_transitions(self.alarms.observe(readings))

    def alarm_transitions(self, transitions: list[Transition]) -> None:
        """React to new transitions: bell for rules that ask, a flash for critical ones."""
        if transitions and self.replay is None and self.events.add_transitions(transitions):
            self.recorder.annotate("alarms", self.events.alarms)  # the journal, in the sidecar
        new = [x for x in transitions if x.state in ("active", "stale") and not x.shelved]
        if not new:
            return
        if any(x.bell for x in new):
            self.bell()
        worst = max(new, key=lambda x: _RANK.get(x.severity, 0))
        if worst.severity == "critical":
            # the main screen itself, not the screen stack's top: the flash must also end
            # when a dialog is open, or the app is closing
            main = self.main
            main.add_class("-alarm-flash")
            self.set_timer(FLASH_SECONDS, lambda: main.remove_class("-alarm-flash"))
        what = safe_text(worst.label or "silent unit")
        unit = self.asset_tree.unit_title(worst.asset_id)
        more = f" (+{len(new) - 1} more)" if len(new) > 1 else ""
        self.notify(
            f"{worst.rule}: {unit} {what} {self.present.show(worst.label, worst.val)}{more}"
            if worst.label
            else f"{unit} stopped reporting{more}",
            title=f"{worst.severity.upper()} alarm",
            severity="error" if worst.severity == "critical" else "warning",
            timeout=8,
        )

    def action_mark(self) -> None:
        """Mark the highlighted reading (or the newest) with a short note."""
        reading = self.log_view.current_reading()
        at = reading.epoch_ms if reading is not None else self.alarms.now_ms
        if at is None:
            self.notify("Nothing to mark yet", timeout=2)
            return
        asset = reading.asset_id if reading is not None else None
        tag = reading.tag_id if reading is not None else None
        where = iso_utc(at) + (f" · {self.asset_tree.unit_title(asset)}" if asset else "")

        def chosen(note: str | None) -> None:
            if note is None:
                return
            self.events.add_mark(at, note, asset, tag)
            self.recorder.annotate("marks", self.events.marks)
            self.notify(f"Marked {where}" + (": " + note if note else ""), timeout=3)

        self.push_screen(MarkDialog(where), callback=chosen)

    def action_replay_event(self, step: int) -> None:
        """In a replay, jump to the next (1) or previous (-1) alarm or mark of the session."""
        replay = self.replay
        if replay is None:
            self.notify("Next/previous alarm works in a replay (flux-tui open FILE)", timeout=3)
            return
        times = SessionEvents.times_in(replay.metadata)
        position = replay.position_ms or 0
        # a jump lands a little before its event: the next press goes on from the event
        last = self._event_cursor
        if last is not None and abs(position - last) <= 2 * LEAD_MS:
            position = max(position, last) if step > 0 else min(position, last)
        target = SessionEvents.next_time(times, position, step > 0) if times else None
        if target is None:
            self.notify(
                "No more alarms or marks that way"
                if times
                else "This session has no alarms or marks",
                timeout=3,
            )
            return
        self._event_cursor = target
        replay.seek(max(0, target - LEAD_MS))  # land a little before, to see it come
        self.notify(f"Alarm or mark at {iso_utc(target)}", timeout=3)

    def action_changes(self) -> None:
        """What changed in the scoped unit (or site, org, everything) over 5/15/60 min."""
        scope = self.main._scope
        if scope is not None and scope.kind == "tag":
            scope = type(scope)("unit", scope.org_id, scope.site_id, scope.asset_id)
        title = self.asset_tree.scope_title(scope) if scope is not None else "all units"

        def tags() -> list[Any]:
            if scope is None:
                return list(self.store.tags.values())
            return [t for t in self.store.tags.values() if _in_scope(scope, t)]

        def now() -> float:
            return self.store.reference_ms(self.view.clock()) / 1000.0

        self.push_screen(ChangesScreen(tags, now, self.present, self.asset_tree.unit_title, title))

    def action_alarms(self) -> None:
        """Open the alarms list."""
        self.push_screen(
            AlarmsScreen(
                self.alarms,
                self.present,
                self.asset_tree.unit_title,
                utc=self.log_view.utc,
                marks=self.events.marks,
                shelve_minutes=self.alarm_setup.shelve_minutes,
            )
        )

    def alarm_counts(self) -> tuple[int, int, int]:
        """Raised, unshelved alarms: (critical, warning, info), for the status bar."""
        counts = self.alarms.counts()
        return counts["critical"], counts["warning"], counts["info"]

    def alarm_mark(self, asset_id: Any, tag: Any = None) -> str | None:
        """The worst severity raised on a unit (``tag`` None) or one tag, for the tree."""
        worst = None
        for alarm in self.alarms.unit_alarms(asset_id):
            if tag is not None and alarm.key[2] != tag:
                continue
            if self.alarms.is_shelved(alarm.key):
                continue
            severity = alarm.rule.severity
            if worst is None or _RANK[severity] > _RANK[worst]:
                worst = severity
        return worst

    def unit_health(self, asset_id: Any, now_ms: float) -> Any:
        """The health card under the unit's details: run status, alarms, each tag's age."""
        unit = self.store.units.get(asset_id)
        table = Table(title="Health", title_justify="left", expand=True, show_edge=False)
        for column in ("tag", "value", "age", "alarm"):
            table.add_column(column, no_wrap=True)
        raised = {a.key[2]: a for a in self.alarms.unit_alarms(asset_id)}
        run = None
        for tag in unit.tags.values() if unit is not None else ():
            shown = self.present.show(tag.label, tag.last)
            if tag.label.lower() == "run status":
                run = shown
            alarm = raised.get(tag.key[1])
            age = human_duration(max(0.0, now_ms - tag.last_ms) / 1000) if tag.last_ms else "—"
            stale = tag.is_stale(now_ms)
            table.add_row(
                Text(safe_text(tag.display_name)),
                Text(shown),
                Text(age + (" stale" if stale else ""), style="yellow" if stale else ""),
                Text(
                    f"{alarm.rule.severity}: {alarm.rule.name}" if alarm else "",
                    style=SEVERITY_STYLE.get(alarm.rule.severity, "") if alarm else "",
                ),
            )
        stale_engine = self.alarms.stale
        silent = stale_engine is not None and stale_engine.unit_stale(asset_id)
        head = Text.assemble(
            ("run status: ", "bold"),
            run or "unknown",
            "   ",
            ("alarms: ", "bold"),
            str(len(raised)),
            "   ",
            ("silent" if silent else "reporting", "yellow" if silent else "green"),
        )
        return Group(Text(""), head, table)


def alarm_setup(config: Config | None, simulator: bool) -> AlarmSetup:
    """The viewer's alarms from the config file: its ``[[alarms]]`` (the demo's built-in
    rules on the simulator when it has none), ``[alarm_options]``, ``[stale]``, ``[units]``,
    ``[value_names]``."""
    from flux_tui.config.field import alarm_rules, presentation, shelve_minutes, stale_policy

    data = config.data if config is not None else {}
    file = str(config.path) if config is not None and config.exists else None
    rules = alarm_rules(data, file)
    if not rules and simulator:
        from flux_tui.alarms.demo import DEMO_RULES

        rules = list(DEMO_RULES)
    policy = stale_policy(data, file)
    return AlarmSetup(rules, policy, presentation(data, file, demo=simulator),
                      watch_stale=policy is not None, shelve_minutes=shelve_minutes(data, file))
