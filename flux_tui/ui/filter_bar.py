"""The filter bar: a query typed at the top of the log, applied as you type.

It compiles the text with the shared query engine (``flux_tui.data.query``), shows
"matches of total", keeps a history (up/down), suggests words seen in the feed, and on a
syntax error shows where it is while the last good filter stays in force. The whole query
is always visible: it wraps onto a second row (the count moving below it) when it is long,
and errors and empty results are said whole on the row below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, TextArea

from flux_tui.data.formats import safe_text
from flux_tui.feed.types import Reading
from flux_tui.ui.labels import clip_middle
from flux_tui.ui.query_input import (  # noqa: F401 - WordSuggester, suggest_query re-exported
    FIELDS,
    QueryInput,
    WordSuggester,
    close_word,
    suggest_query,
)

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


_PLACEHOLDERS = ("filter (press /): words, label:…, val>100", "filter: words, label:…, val>100",
                 "filter: val>100", "/ filter")


class FilterBar(Vertical):
    """``/`` query input, its match count, and a line below for an error or an empty
    result (each shown whole)."""

    DEFAULT_CSS = """
    FilterBar {
        height: auto;
        width: 1fr;
        background: $boost;
    }
    FilterBar > #filter-row { height: auto; }
    FilterBar #filter-prompt { width: 3; color: $accent; padding: 0 1; }
    FilterBar QueryInput {
        border: none;
        height: auto;
        max-height: 4;
        width: 1fr;
        padding: 0 1 0 0;
        background: $boost;
        scrollbar-size: 0 0;
    }
    FilterBar QueryInput:focus { border: none; background: $surface; }
    FilterBar .filter-count {
        width: auto; color: $text-muted; padding: 0 1; text-align: right;
    }
    FilterBar > #filter-below { height: auto; display: none; }
    FilterBar > #filter-below.-shown { display: block; }
    FilterBar #filter-note { width: 1fr; height: auto; padding: 0 1 0 3; color: $text-muted; }
    FilterBar #filter-note.-error { color: $error; text-style: bold; }
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
        self.note = ""  # what the line below says (an error or an empty result)
        self._count_text = ""
        self._suggested: tuple[str, str | None] = ("", None)

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield Label("/", id="filter-prompt")
            yield QueryInput(self._words, placeholder=_PLACEHOLDERS[0], id="filter-input")
            yield Label("", id="filter-count", classes="filter-count")
        with Horizontal(id="filter-below"):
            yield Label("", id="filter-note")
            yield Label("", id="filter-count-below", classes="filter-count")

    @property
    def input(self) -> QueryInput:
        """The text input."""
        return self.query_one("#filter-input", QueryInput)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = self.input.text
        if "\n" in text:  # a paste with line breaks: one line of query
            self.input.value = text
            return
        self.apply(text)
        self._arrange()

    def on_resize(self) -> None:
        self._arrange()

    def apply(self, text: str) -> None:
        """Compile ``text``; announce it when good, else show the error whole below."""
        try:
            predicate = compile_filter(text, self.names)
        except FilterError as exc:
            where = f"col {exc.position + 1}: " if exc.position is not None else ""
            self.error = f"✗ {where}{exc}{self._field_hint(str(exc))}"
            self._set_note(self.error, error=True)
            return
        self.error = None
        self.good_text = text.strip()
        self._set_note("")
        self.post_message(self.Changed(self.good_text, predicate))

    @staticmethod
    def _field_hint(message: str) -> str:
        """" — did you mean label:?" after an unknown field close to a known one."""
        m = re.search(r"found '([A-Za-z]+):", message)
        if "known field" not in message or m is None:
            return ""
        near = close_word(m.group(1), FIELDS)
        return f" — did you mean {near}:?" if near else ""

    def _set_note(self, text: str, *, error: bool = False) -> None:
        labels = self.query("#filter-note").results(Label)
        label = next(labels, None)
        if label is None or (text == self.note and error == label.has_class("-error")):
            return  # not composed yet, or being removed
        self.note = text
        label.update(Text(safe_text(text)))
        label.set_class(error, "-error")
        self._arrange()

    def _arrange(self) -> None:
        """The count beside the query while both fit on one row, else on the row below (so
        the query gets the whole width); the row below shows when it has something."""
        if not self.is_mounted or not self.query("#filter-below"):
            return
        width = self.size.width
        count = len(self._count_text) + 2
        text = self.input.text
        below = bool(text) and len(text) + 3 + 1 > width - count
        up = self.query_one("#filter-count", Label)
        down = self.query_one("#filter-count-below", Label)
        up.display, down.display = not below, below
        self.query_one("#filter-below").set_class(below or bool(self.note), "-shown")
        room = width - 3 - (0 if below else count) - 1
        placeholder = next((p for p in _PLACEHOLDERS if len(p) <= room), _PLACEHOLDERS[-1])
        if self.input.placeholder != placeholder:
            self.input.placeholder = placeholder

    def show_count(self, matches: int, total: int, scope: str = "", *, note: str = "") -> None:
        """Show "matches of total"; an empty result also says so below, with a close word
        when the query has one that occurs nowhere. ``note`` says the figures are not the
        whole of it yet (a replayed file being indexed: they cover the readings held)."""
        filtered = bool(self.good_text or scope)
        text = f"{matches:,} of {total:,}" if filtered else f"{total:,} lines"
        if note:
            text = f"{text} held · {note}"
        if scope:
            text = f"{clip_middle(safe_text(scope), 24)} · {text}"
        if text != self._count_text:
            resized = len(text) != len(self._count_text)
            self._count_text = text
            for label in self.query(".filter-count").results(Label):
                # a layout pass only when the width changes (it repaints the whole screen)
                label.update(Text(text), layout=resized)
            if resized:
                self._arrange()
        if self.error is not None:
            return
        if matches == 0 and total and filtered and not note:
            self._set_note(self.empty_message(total, scope))
        else:
            self._set_note("")

    def empty_message(self, total: int, scope: str = "") -> str:
        """``no reading matches <query> (0 of N)``, and a close query when there is one."""
        what = " ".join(p for p in (self.good_text, f"in {scope}" if scope else "") if p)
        message = f"no reading matches {what} (0 of {total:,})"
        if self._suggested[0] != self.good_text:
            self._suggested = (self.good_text, suggest_query(self.good_text, self.vocabulary()))
        better = self._suggested[1]
        return f"{message} — try {better}" if better else message

    def vocabulary(self) -> list[str]:
        """Words the feed has shown: labels and their words, tag names, unit ids and names."""
        words = list(self._words())
        out = dict.fromkeys(words)
        for w in words:
            out.update(dict.fromkeys(w.split()))
            if self.names is not None and w.isdigit():
                try:
                    name = self.names.asset_name(int(w))
                except Exception:  # noqa: BLE001 - names are a nicety
                    name = None
                if name:
                    out[safe_text(str(name))] = None
        return list(out)

    def on_query_input_submitted(self, event: QueryInput.Submitted) -> None:
        event.stop()
        self.remember(self.input.value)
        self.post_message(self.Left())

    def on_query_input_history(self, event: QueryInput.History) -> None:
        event.stop()
        self.action_history(event.step)

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
