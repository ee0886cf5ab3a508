"""The "what changed" view (``c``): the tags of the scoped unit (or site, organisation, or
the whole feed) ranked by how much they moved in the last 5, 15 or 60 minutes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from flux_tui.data.formats import format_value, safe_text
from flux_tui.data.presentation import Presentation
from flux_tui.data.store.changes import WINDOWS, TagChange, rank_changes
from flux_tui.data.store.tag_state import TagState

SHOWN = 200  # rows at most: the most changed


def change_cells(
    c: TagChange, present: Presentation, unit_title: Callable[[Any], str]
) -> list[Text]:
    """One row: tag, unit, now, delta, % of range, min–max, changes."""
    tag = c.tag
    now = present.show(tag.label, tag.last)
    if c.numeric and c.delta is not None:
        delta = ("+" if c.delta > 0 else "") + format_value(round(c.delta, 3))
        if c.share is None:
            share = "—"
        else:  # a range measured over little history makes huge shares: say so, not 4013 %
            share = f"{c.share * 100:.0f} %" if c.share < 10 else "> 999 %"
        span = f"{format_value(c.low)}–{format_value(c.high)}"
    else:
        delta, share, span = "", "", ""
    return [
        Text(safe_text(tag.display_name)),
        Text(unit_title(tag.asset_id)),
        Text(now),
        Text(delta, style="bold" if c.score >= 0.5 else ""),
        Text(share),
        Text(span),
        Text(str(c.changes) if c.changes else ""),
    ]


class ChangesScreen(ModalScreen[None]):
    """What changed in a scope over a window (``w`` cycles 5/15/60 min)."""

    DEFAULT_CSS = """
    ChangesScreen { align: center middle; }
    ChangesScreen > Vertical {
        width: 95%; height: 90%; border: round $primary; background: $surface; padding: 0 1;
    }
    ChangesScreen DataTable { height: 1fr; }
    ChangesScreen #changes-help { color: $text-muted; height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,c", "dismiss", "Close", id="changes-close"),
        Binding("w", "window", "Window 5/15/60 min", id="changes-window"),
    ]

    def __init__(
        self,
        tags: Callable[[], list[TagState]],
        now: Callable[[], float],
        present: Presentation,
        unit_title: Callable[[Any], str],
        scope: str,
    ) -> None:
        super().__init__()
        self.tags, self.now, self.present, self.unit_title = tags, now, present, unit_title
        self.scope = scope
        self.window = WINDOWS[0]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="changes-title")
            yield DataTable(id="changes-table", cursor_type="row", zebra_stripes=True)
            yield Static("w window 5/15/60 min · esc close", id="changes-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("tag", "unit", "now", "delta", "of range", "min–max", "changes")
        self.refresh_rows()
        self.set_interval(2.0, self.refresh_rows, name="changes-refresh")
        table.focus()

    def refresh_rows(self) -> None:
        """Rank again (new readings keep arriving)."""
        ranked = rank_changes(self.tags(), self.now(), self.window)[:SHOWN]
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for c in ranked:
            table.add_row(*change_cells(c, self.present, self.unit_title))
        if ranked:
            table.move_cursor(row=min(row, len(ranked) - 1))
        minutes = int(self.window // 60)
        title = Text.assemble(("What changed", "bold"), f" in the last {minutes} min · ",
                              safe_text(self.scope), f" · {len(ranked)} tags")  # fmt: skip
        self.query_one("#changes-title", Static).update(title)

    def action_window(self) -> None:
        """5 → 15 → 60 minutes."""
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.refresh_rows()
