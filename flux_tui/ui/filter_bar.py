"""The filter bar: a query typed at the top of the log, applied as you type.

It compiles the text with the shared query engine (``flux_tui.data.query``), shows
"matches of total", keeps a history (up/down), suggests words seen in the feed, and on a
syntax error shows where it is while the last good filter stays in force.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label

from flux_tui.data.formats import safe_text
from flux_tui.feed.types import Reading
from flux_tui.ui.labels import clip_middle

Predicate = Callable[[Reading], bool]
_HISTORY = 50


class FilterError(Exception):
    """A filter that does not parse; ``position`` is the 0-based column of the problem."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def compile_filter(text: str, names: Any = None) -> Predicate | None:
    """The predicate for ``text`` (None for an empty filter). Raises :class:`FilterError`.

    ``names`` (a NameLookup) lets bare words and ``asset:``/``site:``/``org:`` match names."""
    text = text.strip()
    if not text:
        return None
    try:
        from flux_tui.data.query import QuerySyntaxError, compile_query
    except ImportError:  # the query engine is not there yet: plain text matching
        return _substring(text)
    try:
        query = compile_query(text, names)
    except QuerySyntaxError as exc:
        position = getattr(exc, "position", None)
        expected = getattr(exc, "expected", None)
        found = getattr(exc, "found", None)
        message = f"expected {expected}" if expected else (str(exc) or "syntax error")
        if found is not None:
            message += f", found {found}"
        raise FilterError(message, position) from None
    return query.matches  # type: ignore[no-any-return]


def _substring(text: str) -> Predicate:
    needle = text.lower()

    def matches(r: Reading) -> bool:
        return (needle in r.label.lower() or needle in r.tag_name.lower()
                or needle in str(r.asset_id))

    return matches


class WordSuggester(Suggester):
    """Completes the last word of the filter from labels, tag names and units seen."""

    def __init__(self, words: Callable[[], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._words = words

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(" ")
        prefix = ""
        if ":" in last:  # field terms: complete what follows `label:` etc.
            field, _, last = last.partition(":")
            prefix = field + ":"
        if len(last) < 2:
            return None
        quoted = last.startswith('"')
        needle = last.lstrip('"').lower()
        for word in self._words():
            if word.lower().startswith(needle) and len(word) > len(needle):
                shown = f'"{word}"' if (" " in word or quoted) else word
                return (head + " " if head else "") + prefix + shown
        return None


_COUNT_WIDTH = 36  # the count label's width (CSS below), padding included


class FilterBar(Horizontal):
    """``/`` query input, its match count, and an in-place error line."""

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        width: 1fr;
        background: $boost;
    }
    FilterBar > #filter-prompt { width: 2; color: $accent; padding: 0 0 0 1; }
    FilterBar > Input {
        border: none;
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $boost;
    }
    FilterBar > Input:focus { border: none; background: $surface; }
    FilterBar > #filter-count {
        width: 36; color: $text-muted; padding: 0 1; text-align: right;
    }
    FilterBar > #filter-count.-error { width: auto; color: $error; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave filter", id="filter-leave"),
        Binding("up", "history(-1)", "Previous filter", show=False, id="filter-prev"),
        Binding("down", "history(1)", "Next filter", show=False, id="filter-next"),
    ]

    class Changed(Message):
        """A new good filter: ``predicate`` is None for none."""

        def __init__(self, text: str, predicate: Predicate | None) -> None:
            self.text = text
            self.predicate = predicate
            super().__init__()

    class Left(Message):
        """The user left the filter bar (escape or enter)."""

    def __init__(self, words: Callable[[], Iterable[str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._words = words
        self.names: Any = None  # a NameLookup, set by the app when the feed has one
        self.history: list[str] = []
        self._history_at: int | None = None
        self.good_text = ""
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("/", id="filter-prompt")
        yield Input(placeholder="filter (press /): words, label:…, val>100",
                    suggester=WordSuggester(self._words), id="filter-input",
                    select_on_focus=False)
        yield Label("", id="filter-count")

    @property
    def input(self) -> Input:
        """The text input."""
        return self.query_one("#filter-input", Input)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.apply(event.value)

    def apply(self, text: str) -> None:
        """Compile ``text``; announce it when good, else show the error in place."""
        try:
            predicate = compile_filter(text, self.names)
        except FilterError as exc:
            where = f"col {exc.position + 1}: " if exc.position is not None else ""
            self.error = f"✗ {where}{exc}"
            self._count_label.update(Text(safe_text(self.error)[:60]))
            self._count_label.add_class("-error")
            self._count_label.tooltip = f"{self.error} — still showing: {self.good_text!r}"
            return
        self.error = None
        self._count_label.remove_class("-error")
        self.good_text = text.strip()
        self.post_message(self.Changed(self.good_text, predicate))

    @property
    def _count_label(self) -> Label:
        return self.query_one("#filter-count", Label)

    def show_count(self, matches: int, total: int, scope: str = "") -> None:
        """Show "matches of total" (unless an error is on show)."""
        if self.error is not None:
            return
        filtered = bool(self.good_text or scope)
        text = f"{matches:,} of {total:,}" if filtered else f"{total:,} lines"
        if scope:
            room = max(8, _COUNT_WIDTH - 2 - len(text) - 3)  # the unit's name, as much as fits
            text = f"{clip_middle(safe_text(scope), room)} · {text}"
        # fixed width: no layout pass (a layout repaints the whole screen: bytes on the wire)
        self._count_label.update(Text(text), layout=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remember(event.value)
        self.post_message(self.Left())

    def remember(self, text: str) -> None:
        """Add ``text`` to the history (most recent last, no duplicates)."""
        text = text.strip()
        if text:
            if text in self.history:
                self.history.remove(text)
            self.history.append(text)
            del self.history[:-_HISTORY]
        self._history_at = None

    def action_leave(self) -> None:
        """Leave the filter bar; the filter stays."""
        self.remember(self.input.value)
        self.post_message(self.Left())

    def action_history(self, step: int) -> None:
        """Walk the history (up: older, down: newer)."""
        if not self.history:
            return
        at = len(self.history) if self._history_at is None else self._history_at
        at = max(0, min(len(self.history), at + step))
        self._history_at = at
        value = self.history[at] if at < len(self.history) else ""
        self.input.value = value
        self.input.cursor_position = len(value)

    def set_text(self, text: str) -> None:
        """Replace the filter text (the app's commands and tests use this)."""
        self.input.value = text

    @staticmethod
    def words_from(tags: Iterable[Any]) -> list[str]:
        """Suggestion words from tag states: labels, tag names, unit ids (deduplicated)."""
        seen: dict[str, None] = {}
        for t in tags:
            for word in (t.label, t.tag_name, str(t.asset_id)):
                if word:
                    seen.setdefault(safe_text(word), None)
        return list(seen)
