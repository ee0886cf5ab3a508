"""Two read-only dialogs: a unit's details (Enterprise Objects plus what the feed shows) and
the decode errors kept with their raw bytes. All text from the API or the stream is literal."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flux_tui.data.formats import format_time, safe_text
from flux_tui.data.store import UnitState
from flux_tui.feed.types import DecodeError

_RAW_SHOWN = 160  # bytes of a bad record shown (escaped); enough to recognise it


def _grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _when(value: Any) -> Any:
    """An epoch time (seconds or milliseconds) as a date and time; anything else as is."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return format_time(int(value if value > 1e11 else value * 1000), date=True)
    return value


def unit_table(asset_id: Any, unit: UnitState | None, details: Any, now_ms: float) -> Table:
    """What is known of one unit: its Enterprise Objects record and its live state."""
    rows: list[tuple[str, Any]] = [("unit id", asset_id)]
    if details is not None:
        mechanic = details.mechanic
        connectivity = details.connectivity
        rows += [
            ("name", details.name),
            ("organisation", details.organization and details.organization.name),
            ("site", details.site and details.site.name),
            ("operating area", details.operating_area and details.operating_area.name),
            ("type", details.asset_type),
            ("device", details.device_id),
            ("IP address", details.ip_address),
            ("mechanic", mechanic and mechanic.name),
            ("  email", mechanic and mechanic.email),
            ("  phone", mechanic and mechanic.phone),
            ("connectivity", connectivity and connectivity.status),
            ("  checked", _when(connectivity and connectivity.last_update_time)),
        ]
    else:
        rows.append(("name", "(no Enterprise Objects record yet)"))
    if unit is not None:
        rows += [
            ("org / site ids", f"{unit.org_id} / {unit.site_id}"),
            ("tags seen", len(unit.tags)),
            ("last reading", format_time(unit.last_ms, date=True) if unit.last_ms else None),
            ("reporting", "stale (quiet for over 3× its interval)" if unit.is_stale(now_ms)
             else "yes"),
        ]
    table = _grid()
    for key, value in rows:
        if value is not None and value != "":
            table.add_row(Text(key), Text(safe_text(str(value))))
    return table


def errors_table(errors: Iterable[DecodeError], total: int) -> Table:
    """The kept decode errors, newest first, raw bytes escaped."""
    table = Table(expand=True, show_edge=False, pad_edge=False)
    table.add_column("shard / seq", no_wrap=True, ratio=2)
    table.add_column("why", ratio=2)
    table.add_column("raw bytes (escaped)", ratio=4, overflow="fold")
    for err in reversed(list(errors)):
        raw = repr(err.raw[:_RAW_SHOWN])[2:-1] + ("…" if len(err.raw) > _RAW_SHOWN else "")
        # each part sanitized on its own: the line break between them is ours, not data
        where = Text(f"{safe_text(str(err.shard))}\n{safe_text(str(err.seq))}")
        table.add_row(where, Text(safe_text(err.reason)), Text(safe_text(raw)))
    table.caption = f"{total:,} decode errors in all; the newest are kept"
    return table


class InfoScreen(ModalScreen[None]):
    """A scrollable dialog around one renderable."""

    DEFAULT_CSS = """
    InfoScreen { align: center middle; }
    InfoScreen > VerticalScroll {
        width: 90%;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "dismiss", "Close", id="info-close")]

    def __init__(self, title: str, body: Any) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text(safe_text(self._title))
            scroll.border_subtitle = "esc close"
            yield Static(self._body)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
