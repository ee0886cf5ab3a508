"""The alarms list: raised alarms (state, severity, age, value) with acknowledge and shelve
keys, the silent units, and the latest transitions. All stream text is shown literally."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from flux_tui.alarms import Alarm, AlarmEngine, AlarmKey
from flux_tui.data.formats import format_time, safe_text
from flux_tui.data.presentation import Presentation
from flux_tui.ui.status_bar import human_duration

SEVERITY_STYLE = {"critical": "bold red", "warning": "bold yellow", "info": "cyan"}
SHELVE_MINUTES = 15.0  # the default; [alarm_options] shelve sets another
RECENT_SHOWN = 12


def shelve_text(minutes: float) -> str:
    """``15 min``, ``2 h``, ``1 h 30 min``: how long a shelve lasts."""
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


def alarm_rows(
    engine: AlarmEngine, present: Presentation, unit_title: Callable[[Any], str]
) -> list[tuple[AlarmKey, list[Text]]]:
    """One row per raised alarm (newest first): severity, state, age, unit, tag, value, rule."""
    now = engine.now_ms or 0
    rows = []
    for alarm in engine.raised():
        rows.append((alarm.key, _row(engine, alarm, now, present, unit_title)))
    return rows


def _row(
    engine: AlarmEngine,
    alarm: Alarm,
    now: int,
    present: Presentation,
    unit_title: Callable[[Any], str],
) -> list[Text]:
    rule = alarm.rule
    state = alarm.state
    if alarm.returned:
        state += ", back to normal"
    if engine.is_shelved(alarm.key):
        state += ", shelved"
    return [
        Text(rule.severity, style=SEVERITY_STYLE.get(rule.severity, "")),
        Text(state),
        Text(human_duration((now - alarm.raised_at) / 1000)),
        Text(unit_title(alarm.key[1])),
        Text(safe_text(alarm.label or str(alarm.key[2]))),
        Text(present.show(alarm.label, alarm.val)),
        Text(safe_text(rule.name)),
    ]


class AlarmsScreen(ModalScreen[None]):
    """The alarms list (``!`` or the palette)."""

    DEFAULT_CSS = """
    AlarmsScreen { align: center middle; }
    AlarmsScreen > Vertical {
        width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    AlarmsScreen DataTable { height: 1fr; }
    AlarmsScreen #alarms-help { color: $text-muted; height: 1; }
    AlarmsScreen #alarms-more { height: auto; max-height: 16; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,exclamation_mark", "dismiss", "Close", id="alarms-close"),
        Binding("a,enter", "acknowledge", "Acknowledge", id="alarms-ack"),
        Binding("s", "shelve", "Shelve", id="alarms-shelve"),
    ]

    def __init__(
        self,
        engine: AlarmEngine,
        present: Presentation,
        unit_title: Callable[[Any], str],
        *,
        utc: bool = False,
        marks: list[dict[str, Any]] | None = None,
        shelve_minutes: float = SHELVE_MINUTES,
    ) -> None:
        super().__init__()
        self.engine, self.present, self.unit_title, self.utc = engine, present, unit_title, utc
        self.marks = marks or []
        self.shelve_minutes = shelve_minutes
        self._keys: list[AlarmKey] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="alarms-title")
            yield DataTable(id="alarms-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="alarms-more")
            yield Static(
                f"a/enter acknowledge · s shelve {shelve_text(self.shelve_minutes)} · esc close",
                id="alarms-help",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("severity", "state", "age", "unit", "tag", "value", "rule")
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows, name="alarms-refresh")
        table.focus()

    def refresh_rows(self) -> None:
        """Rebuild the table from the engine, keeping the cursor on the same alarm."""
        table = self.query_one(DataTable)
        rows = alarm_rows(self.engine, self.present, self.unit_title)
        keep = self._keys[table.cursor_row] if 0 <= table.cursor_row < len(self._keys) else None
        table.clear()
        self._keys = [key for key, _ in rows]
        for key, cells in rows:
            table.add_row(*cells)
        if keep in self._keys:
            table.move_cursor(row=self._keys.index(keep))
        counts = self.engine.counts()
        title = Text.assemble(
            ("Alarms  ", "bold"),
            (f"{counts['critical']} critical", SEVERITY_STYLE["critical"]),
            " · ",
            (f"{counts['warning']} warning", SEVERITY_STYLE["warning"]),
            " · ",
            (f"{counts['info']} info", SEVERITY_STYLE["info"]),
        )
        if not rows:
            title.append("   no raised alarms", style="dim")
        self.query_one("#alarms-title", Static).update(title)
        self.query_one("#alarms-more", Static).update(self._more())

    def _more(self) -> Text:
        """Silent units and the latest transitions, oldest first."""
        out = Text()
        stale = self.engine.stale
        if stale is not None and stale.stale_units():
            titles = ", ".join(self.unit_title(a) for a in stale.stale_units()[:10])
            out.append(f"Silent units: {titles}\n", style="yellow")
        if self.marks:
            out.append("Marks\n", style="bold")
        for mark in self.marks[-RECENT_SHOWN:]:
            note = safe_text(str(mark.get("note") or "(no note)"))
            out.append(f"{format_time(mark['epochMs'], utc=self.utc)}  {note}\n")
        recent = list(self.engine.journal)[-RECENT_SHOWN:]
        if recent:
            out.append("Latest transitions\n", style="bold")
        for x in recent:
            what = safe_text(x.label or "(whole unit)")
            value = self.present.show(x.label, x.val) if x.label is not None else ""
            out.append(
                f"{format_time(x.time_ms, utc=self.utc)}  {x.state:<12} "
                f"{safe_text(x.rule):<22.22} {self.unit_title(x.asset_id):<14.14} "
                f"{what:<28.28} {value}\n",
                style=SEVERITY_STYLE.get(x.severity, "") if x.state == "active" else "",
            )
        return out

    def _selected(self) -> AlarmKey | None:
        row = self.query_one(DataTable).cursor_row
        return self._keys[row] if 0 <= row < len(self._keys) else None

    def action_acknowledge(self) -> None:
        """Acknowledge the highlighted alarm."""
        key = self._selected()
        if key is not None and self.engine.acknowledge(key):
            self.refresh_rows()

    def action_shelve(self) -> None:
        """Shelve the highlighted alarm: it neither rings nor counts for a while."""
        key = self._selected()
        if key is not None and self.engine.shelve(key, self.shelve_minutes):
            self.notify(f"Shelved for {shelve_text(self.shelve_minutes)}", timeout=2)
            self.refresh_rows()
