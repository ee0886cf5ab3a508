"""A small modal that asks for a file path: record to, save to, or open.

Writing dialogs never replace a file silently: when the path exists, the first ``enter``
only warns, a second ``enter`` on the same path confirms the overwrite. Opening dialogs
insist the file exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from flux_tui.data.formats import safe_text

Purpose = Literal["write", "open"]


@dataclass(frozen=True, slots=True)
class PathChoice:
    """What the user chose: the path, and whether replacing an existing file was confirmed."""

    path: Path
    overwrite: bool = False


class PathDialog(ModalScreen[PathChoice | None]):
    """Asks for a path with a default; dismisses with a :class:`PathChoice` or None (esc)."""

    DEFAULT_CSS = """
    PathDialog { align: center middle; }
    PathDialog > Vertical {
        width: 80%;
        max-width: 100;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    PathDialog .path-hint { color: $text-muted; width: 1fr; }
    PathDialog .path-warning { color: $warning; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="path-cancel")]

    def __init__(self, title: str, default: str, *, purpose: Purpose = "write",
                 hint: str = "", busy: frozenset[Path] = frozenset()) -> None:
        super().__init__()
        self.busy = frozenset(p.resolve() for p in busy)  # the recording in progress
        self.title_text = title
        self.default = default
        self.purpose = purpose
        self.hint = hint or ("enter to accept · esc to cancel · .csv/.gz by extension"
                             if purpose == "write" else "enter to open · esc to cancel")
        self._confirming: Path | None = None  # an existing path shown once with a warning

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Input(value=self.default, id="path-input")
            yield Label(Text(safe_text(self.hint)), classes="path-hint", id="path-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def input(self) -> Input:
        """The path field."""
        return self.query_one(Input)

    def _say(self, text: str, warning: bool = True) -> None:
        label = self.query_one("#path-hint", Label)
        label.update(Text(safe_text(text)))  # a path typed or proposed is never markup
        label.set_class(warning, "path-warning")

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._confirming is not None:  # a new path: ask again before replacing anything
            self._confirming = None
            self._say(self.hint, warning=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self._say("type a file name")
            return
        path = Path(text).expanduser()
        if self.purpose == "open":
            if not (path.is_file() or path.is_dir()):  # a folder: Parquet parts, a capture
                self._say(f"{path} is not a file or folder")
                return
            self.dismiss(PathChoice(path))
            return
        if path.is_dir():
            self._say(f"{path} is a folder: add a file name")
            return
        if path.resolve() in self.busy:
            self._say(f"{path.name} is the recording in progress: choose another name")
            return
        if path.exists():
            if self._confirming == path:
                self.dismiss(PathChoice(path, overwrite=True))
                return
            self._confirming = path
            self._say(f"{path.name} exists: enter again to replace it, or change the name")
            return
        self.dismiss(PathChoice(path))

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
