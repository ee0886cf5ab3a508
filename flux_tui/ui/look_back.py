"""The look-back prompt (`b`): how far back to reopen the live feed, e.g. ``15m``.

Any ``--from`` form is accepted (a duration, a time, ``trim-horizon``); a form that is not
one is said under the field and the dialog stays open.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from flux_tui.data.formats import safe_text
from flux_tui.feed.start import StartFormError, parse_start

DEFAULT_LOOK_BACK = "15m"
HINT = "how far back: 15m, 2h, 2026-11-29T06:00 · enter to reopen · esc to cancel"


class LookBackDialog(ModalScreen[str | None]):
    """Asks where to reopen the feed; dismisses with the form typed, or None (esc)."""

    DEFAULT_CSS = """
    LookBackDialog { align: center middle; }
    LookBackDialog > Vertical {
        width: 70%;
        max-width: 90;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    LookBackDialog .look-hint { color: $text-muted; }
    LookBackDialog .look-warning { color: $warning; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="look-back-cancel")]

    def __init__(self, default: str = DEFAULT_LOOK_BACK) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Look back: reopen the feed from"
            yield Input(value=self.default, id="look-back-input")
            yield Label(Text(HINT), classes="look-hint", id="look-back-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            parse_start(text)
        except StartFormError as error:
            hint = self.query_one("#look-back-hint", Label)
            why = "is in the future" if "future" in str(error) else "is not a start"
            # what was typed is shown literally, never as markup
            hint.update(Text(f"{safe_text(text)!r} {why}: try 15m, 2h, 2026-11-29T06:00"))
            hint.set_classes("look-warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """Close without reopening."""
        self.dismiss(None)
