"""The help screen: every key binding in force (after the user's remapping), by panel."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "flux-tui shows the Flux Realtime feed live. Pick a unit or tag in the tree to scope the "
    "log and sparklines; type a filter with / (e.g. asset:1131 label:pressure); enter shows "
    "a whole reading; ctrl+p finds a unit or tag by words in any order (WHC-1131 suction); "
    "e lists every message whole."
)


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the app and its panels, as currently bound."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80%;
        max-width: 90;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help-close")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=14)
        table.add_column()
        for title, rows in self.sections:
            table.add_row(Text(title, style="underline"), "")
            for keys, description in rows:
                table.add_row(Text(keys), Text(description))
            table.add_row("", "")
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc close"
            yield Static(Text(INTRO), classes="intro")
            yield Static(table)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def key_sections(app: Any, keymap: dict[str, str],
                 panels: list[tuple[str, list[Any]]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Rows of (keys, description) per panel, with the user's remapping applied."""

    def rows(bindings: list[Any]) -> list[tuple[str, str]]:
        out = []
        for b in bindings:
            if not isinstance(b, Binding):
                continue
            keys = keymap.get(b.id, b.key) if b.id else b.key
            shown = ", ".join(app.get_key_display(Binding(k.strip(), b.action))
                              for k in keys.split(","))
            # the tooltip is the longer wording of a short footer label ("Rec")
            out.append((shown, b.tooltip or b.description or b.action))
        return out

    sections = [(title, rows(bindings)) for title, bindings in panels]
    sections[0][1].append(("ctrl+p", "Command palette"))
    sections.append(("Asset tree", [("enter", "Scope log and sparklines to the node"),
                                    ("space", "Expand / collapse")]))
    return sections
