"""The filter's text field and its helpers: :class:`QueryInput` (one logical line that wraps,
so a long query stays visible whole), the completion of the last word, and the close word
proposed when a query matches nothing."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from textual import events
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import TextArea

__all__ = ["FIELDS", "QueryInput", "WordSuggester", "close_word", "suggest_query"]


class WordSuggester(Suggester):
    """Completes the last word of the filter from labels, tag names and units seen."""

    def __init__(self, words: Callable[[], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._words = words

    async def get_suggestion(self, value: str) -> str | None:
        return self.suggest(value)

    def suggest(self, value: str) -> str | None:
        """``value`` with its last word completed, or None."""
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


FIELDS = ("asset", "site", "org", "tag", "label", "register", "val", "since", "until")
_TERM = re.compile(r'(-?)(?:([A-Za-z]+)(:|[<>]=?|!=|=))?("(?:[^"\\]|\\.)*"|[^\s()"]+)')


def close_word(word: str, vocabulary: Iterable[str]) -> str | None:
    """The vocabulary word nearest to ``word`` when one is close (a typo), else None."""
    lower = {v.lower(): v for v in vocabulary if v}
    found = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.75)
    return lower[found[0]] if found else None


def suggest_query(text: str, vocabulary: Iterable[str]) -> str | None:
    """``text`` with its first word that occurs nowhere replaced by a close word that does
    (``label:presure`` → ``label:pressure``); None when every word occurs or none is close."""
    words = list(dict.fromkeys(vocabulary))
    lowered = [w.lower() for w in words]
    for m in _TERM.finditer(text):
        field, op, value = m.group(2), m.group(3), m.group(4)
        if value in ("OR", "AND", "NOT") or (field and field.lower() in ("val", "since",
                                                                           "until")):
            continue
        if op is not None and op != ":":
            continue
        needle = value.strip('"').lower()
        if not needle or "*" in needle or any(needle in w for w in lowered):
            continue
        near = close_word(needle, words)
        if near is None:
            continue
        if value.islower():
            near = near.lower()
        shown = f'"{near}"' if " " in near else near
        return text[:m.start(4)] + shown + text[m.end(4):]
    return None


class QueryInput(TextArea):
    """The filter's text: one logical line that wraps onto a second (and third) row so the
    whole query stays visible; enter submits, up/down walk the history on the first/last
    row, right accepts the suggested completion."""

    class Submitted(Message):
        """Enter was pressed."""

    class History(Message):
        """Up on the first row or down on the last: walk the history by ``step``."""

        def __init__(self, step: int) -> None:
            self.step = step
            super().__init__()

    def __init__(self, words: Callable[[], Iterable[str]], *, placeholder: str = "",
                 id: str | None = None) -> None:
        super().__init__(soft_wrap=True, compact=True, show_line_numbers=False,
                         tab_behavior="focus", placeholder=placeholder, id=id)
        self._suggester = WordSuggester(words)
        self.full_suggestion: str | None = None  # the whole query the suggestion would make

    @property
    def value(self) -> str:
        """The query text."""
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(" ".join(text.splitlines()))
        self.move_cursor(self.document.end)

    @property
    def cursor_position(self) -> int:
        """The cursor's column in the (single-line) query."""
        return self.cursor_location[1]

    @cursor_position.setter
    def cursor_position(self, column: int) -> None:
        self.move_cursor((0, column))

    async def _on_key(self, event: events.Key) -> None:
        # enter, ctrl+u and ctrl+k here, in this widget's own queue: as bindings they ran
        # out of order with the typed text queued before them (in tmux, ctrl+u then
        # 'asset:1111' sometimes ended with an empty filter)
        special = {"enter": self._submit, "ctrl+u": self.action_delete_to_start_of_line,
                   "ctrl+k": self.action_delete_to_end_of_line}.get(event.key)
        if special is not None:
            event.stop()
            event.prevent_default()
            special()
            return
        await super()._on_key(event)

    def _submit(self) -> None:
        self.post_message(self.Submitted())

    def _row(self) -> tuple[int, int]:
        """(the cursor's wrapped row, the number of rows)."""
        wrapped = self.wrapped_document
        return wrapped.location_to_offset(self.cursor_location).y, wrapped.height

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self._row()[0] == 0:
            self.post_message(self.History(-1))
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        row, rows = self._row()
        if not select and row >= rows - 1:
            self.post_message(self.History(1))
            return
        super().action_cursor_down(select)

    def update_suggestion(self) -> None:
        value = self.text
        full = None
        if self.cursor_location == self.document.end and "\n" not in value:
            full = self._suggester.suggest(value)
        self.full_suggestion = full
        if not full:
            self.suggestion = ""
        elif full.lower().startswith(value.lower()):
            self.suggestion = full[len(value):]
        else:  # the completion adds quotes or changes case: shown whole, right takes it
            self.suggestion = f"  → {full}"

    def action_delete_to_start_of_line(self) -> None:
        """ctrl+u: everything before the cursor (the query is one line, however wrapped)."""
        self.delete((0, 0), self.cursor_location)

    def action_delete_to_end_of_line(self) -> None:
        """ctrl+k: everything after the cursor."""
        self.delete(self.cursor_location, self.document.end)

    def action_cursor_right(self, select: bool = False) -> None:
        if not select and self.full_suggestion and self.cursor_location == self.document.end:
            self.value = self.full_suggestion
            return
        super().action_cursor_right(select)
