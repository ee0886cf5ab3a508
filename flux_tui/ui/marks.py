"""Marks and the alarm journal as session events: ``m`` notes a moment (with a short text),
alarm transitions are kept, both travel in a recording's sidecar, and a replay jumps to the
next or previous one (``.`` and ``,``). The list of events is pure
(:class:`~flux_tui.alarms.journal.SessionEvents`, shared with ``record``); :class:`MarkDialog`
asks for the note."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from flux_tui.alarms.journal import MAX_EVENTS, NOTE_LENGTH, SessionEvents
from flux_tui.data.formats import safe_text

__all__ = ["MAX_EVENTS", "MarkDialog", "SessionEvents"]


class MarkDialog(ModalScreen[str | None]):
    """Asks for a mark's note; enter keeps it (an empty note is fine), esc drops the mark."""

    DEFAULT_CSS = """
    MarkDialog { align: center middle; }
    MarkDialog > Vertical {
        width: 70%; max-width: 90; height: auto; border: thick $primary;
        background: $surface; padding: 0 1;
    }
    MarkDialog Label { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="mark-cancel")
    ]

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Mark"
            yield Input(placeholder="a short note (optional)", max_length=NOTE_LENGTH,
                        id="mark-note")  # fmt: skip
            yield Label(Text(safe_text(self.where) + " · enter to mark · esc to cancel"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Drop the mark."""
        self.dismiss(None)
