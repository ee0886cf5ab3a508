"""Marks and the alarm journal as session events: ``m`` notes a moment (with a short text),
alarm transitions are kept, both travel in a recording's sidecar, and a replay jumps to the
next or previous one (``.`` and ``,``). The list of events is pure (:class:`SessionEvents`);
:class:`MarkDialog` asks for the note."""

from __future__ import annotations

import bisect
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from flux_tui.alarms import Transition
from flux_tui.alarms.transition import iso_utc
from flux_tui.data.formats import safe_text

__all__ = ["MAX_EVENTS", "MarkDialog", "SessionEvents"]

MAX_EVENTS = 5_000  # alarm transitions and marks kept for a session's sidecar
NOTE_LENGTH = 200


class SessionEvents:
    """The alarm journal and the marks of one viewing, as JSON-able lists for the sidecar,
    plus the times a replay can jump to (``times``, sorted)."""

    def __init__(self) -> None:
        self.alarms: list[dict[str, Any]] = []
        self.marks: list[dict[str, Any]] = []
        self.dropped = 0

    def add_transitions(self, transitions: list[Transition]) -> bool:
        """Keep these transitions; True when the journal changed."""
        room = MAX_EVENTS - len(self.alarms)
        self.dropped += max(0, len(transitions) - room)
        self.alarms += [x.as_json() for x in transitions[: max(0, room)]]
        return bool(transitions) and room > 0

    def add_mark(self, epoch_ms: int, note: str, asset_id: Any = None, tag_id: Any = None) -> dict:
        """Keep a mark at reading time ``epoch_ms``."""
        mark = {"time": iso_utc(epoch_ms), "epochMs": epoch_ms, "note": note[:NOTE_LENGTH],
                "assetId": asset_id, "tagId": tag_id}  # fmt: skip
        if len(self.marks) < MAX_EVENTS:
            self.marks.append(mark)
        return mark

    @staticmethod
    def times_in(metadata: dict[str, Any]) -> list[int]:
        """Every alarm (``active``/``stale``) and mark time a session's sidecar holds."""
        out = []
        for key in ("alarms", "marks"):
            items = metadata.get(key)
            if not isinstance(items, list):
                continue  # a hand-edited sidecar must not break a replay
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("epochMs"), int):
                    continue
                if key == "alarms" and item.get("state") not in ("active", "stale"):
                    continue
                out.append(item["epochMs"])
        return sorted(set(out))

    @staticmethod
    def next_time(times: list[int], now_ms: int, forward: bool) -> int | None:
        """The first event after (or the last before) ``now_ms``, None at either end."""
        if forward:
            i = bisect.bisect_right(times, now_ms + 999)  # not the one we stand on
            return times[i] if i < len(times) else None
        i = bisect.bisect_left(times, now_ms - 999)
        return times[i - 1] if i > 0 else None


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
