"""The reading detail: every payload field of one reading, plus its shard and sequence number.

Opened with enter on a log line; ``y`` copies the reading as JSON (the same JSONL line the
headless commands write) through the terminal's clipboard (OSC 52, works over SSH).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from flux_tui.data.formats import format_time, format_value, json_text, jsonl_line, safe_text
from flux_tui.feed.types import Reading

# A list/object value is shown this deep and this long; `y` still copies it whole. A value
# nested 300 levels deep crashed the viewer when shown in full.
DETAIL_DEPTH = 8
DETAIL_CHARS = 2000


def detail_value(value: Any) -> str:
    """A payload value for the detail table: containers limited in depth and length."""
    if isinstance(value, dict | list | tuple):
        return safe_text(json_text(value, max_depth=DETAIL_DEPTH, max_chars=DETAIL_CHARS))
    return format_value(value)


def reading_json(reading: Reading) -> str:
    """The reading as one line of JSON (payload fields plus ``_shard``, ``_seq``...)."""
    return jsonl_line(reading).decode().rstrip("\n")


def detail_table(reading: Reading, prev: Any = None, *, utc: bool = False,
                 unit: str | None = None, shown: str | None = None) -> Table:
    """A two-column table of the reading (all text literal: no markup is interpreted);
    ``unit`` is the unit's name (Enterprise Objects) when known."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    rows: list[tuple[str, str]] = [
        ("unit", safe_text(f"{unit} ({reading.asset_id})" if unit else str(reading.asset_id))),
        ("time", format_time(reading.epoch_ms, utc=utc, date=True)),
        *([("shown as", shown)] if shown else []),  # engineering unit / state name
        ("shard", safe_text(reading.shard)),
        ("sequence", safe_text(reading.seq) + (f" / {reading.sub}" if reading.sub else "")),
        ("arrival", f"{reading.arrival:.3f}"),
    ]
    if reading.rtms is not None and reading.epoch_ms is not None:
        rows.append(("field→cloud", f"{(reading.rtms - reading.epoch_ms) / 1000:.3f} s"))
    if prev is not None:
        rows.append(("previous val", format_value(prev)))
    for key, value in reading.payload.items():
        rows.append((safe_text(str(key)), detail_value(value)))
    for key, value in rows:
        table.add_row(Text(key), Text(value))
    return table


class ReadingDetail(ModalScreen[None]):
    """A modal with the whole reading."""

    DEFAULT_CSS = """
    ReadingDetail { align: center middle; }
    ReadingDetail > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="detail-close"),
        Binding("y", "copy", "Copy JSON", id="detail-copy"),
    ]

    def __init__(self, reading: Reading, prev: Any = None, *, utc: bool = False,
                 unit: str | None = None, shown: str | None = None) -> None:
        super().__init__()
        self._shown = shown
        self._unit = unit
        self.reading = reading
        self._prev = prev
        self._utc = utc

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = Text(safe_text(self.reading.label or self.reading.tag_name
                                                 or "reading")[:60])
            scroll.border_subtitle = "y copy JSON · esc close"
            yield Static(detail_table(self.reading, self._prev, utc=self._utc, unit=self._unit,
                                      shown=self._shown))

    def action_copy(self) -> None:
        """Copy the reading as JSON to the clipboard (OSC 52)."""
        self.app.copy_to_clipboard(reading_json(self.reading))
        self.notify("Reading copied as JSON", timeout=2)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
