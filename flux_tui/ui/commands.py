"""Command palette entries: jump to any unit or tag, toggle panels and columns. Entries are
found by whole words in any order (a unit by its name, id or type), not by scattered
letters: "1111" found GLC-1168 and "WHC-1131 suction" found nothing."""

from __future__ import annotations

import re
from functools import partial
from typing import Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from flux_tui.data.formats import safe_text
from flux_tui.ui.asset_tree import AssetTree, Scope


class PaletteHost(Protocol):
    """What the palette calls on the app (``FluxApp``), named here so that this module does
    not import the app that imports it."""

    @property
    def asset_tree(self) -> AssetTree: ...

    def jump_to(self, scope: Scope) -> None: ...
    def action_alarms(self) -> None: ...
    def action_changes(self) -> None: ...
    def action_toggle_tree(self) -> None: ...
    def action_toggle_sparks(self) -> None: ...
    def action_utc(self) -> None: ...
    def action_tag_names(self) -> None: ...
    def action_delays(self) -> None: ...
    def action_clear_scope(self) -> None: ...
    def action_live(self) -> None: ...
    def action_reconnect(self) -> None: ...


_WORD = re.compile(r"[\w#]+(?:[-.][\w#]+)*")


def words_of(text: str) -> list[str]:
    """The searchable words of a title, lower case: "WHC-1131" gives "whc-1131", "whc" and
    "1131", so a unit is found by its name, its id or its type."""
    out: list[str] = []
    for m in _WORD.finditer(text.lower()):
        word = m.group()
        out.append(word)
        if "-" in word or "." in word:
            out.extend(p for p in re.split(r"[-.]", word) if p)
    return out


def word_score(query: str, title: str) -> float:
    """How well every word of ``query`` (in any order) matches a word of ``title``: an
    exact word 3, the start of a word 2, inside a word 1; 0 when one word matches nothing.
    Scaled to 0..1 (all exact: 1)."""
    wanted = words_of(query)
    if not wanted:
        return 0.0
    have = words_of(title)
    total = 0
    for w in wanted:
        best = max((3 if h == w else 2 if h.startswith(w) else 1 if w in h else 0
                    for h in have), default=0)
        if best == 0:
            return 0.0
        total += best
    return total / (3 * len(wanted))


def literal_highlight(query: str, name: str, style: Any) -> Content:
    """``name`` with the query's words highlighted, as literal text (Textual's own
    ``Matcher.highlight`` and a ``str`` prompt parse markup, and unit and tag names come
    from the stream and the API: '[/]' would crash the palette, '[link=…]' take effect)."""
    content = Content(name)
    lower = name.lower()
    for word in set(words_of(query)):
        start = lower.find(word)
        while start >= 0:
            content = content.stylize(style, start, start + len(word))
            start = lower.find(word, start + len(word))
    return content


class FluxCommands(Provider):
    """Units, tags and view toggles, searchable by name."""

    def _commands(self) -> list[tuple[str, Any, str]]:
        app: PaletteHost = self.app  # type: ignore[assignment]
        commands: list[tuple[str, Any, str]] = [
            ("Alarms", app.action_alarms, "raised alarms: acknowledge, shelve (key !)"),
            ("What changed", app.action_changes, "tags ranked by change over 5/15/60 min (c)"),
            ("Toggle asset tree", app.action_toggle_tree, "show or hide the tree panel"),
            ("Toggle sparklines", app.action_toggle_sparks, "show or hide the sparkline panel"),
            ("Toggle UTC / local time", app.action_utc, "time column time zone"),
            ("Toggle tag name column", app.action_tag_names, "log column"),
            ("Toggle delay column", app.action_delays, "log column: field-to-cloud delay"),
            ("Clear scope", app.action_clear_scope, "show every unit again"),
            ("Back to live", app.action_live, "follow the newest line"),
            ("Reconnect", app.action_reconnect, "restart the feed"),
        ]
        tree = app.asset_tree
        for scope in tree.scopes():
            # by name and by id: a technician may know either
            name = tree.unit_name(scope.asset_id)
            unit = f"{name} ({scope.asset_id})" if name else f"unit {scope.asset_id}"
            if scope.kind == "unit":
                title = f"Go to unit: {name} ({scope.asset_id})" if name else (
                    f"Go to unit: {scope.asset_id}")
            else:
                title = f"Go to tag: {tree.scope_title(scope).split(' @ ')[0]} @ {unit}"
            commands.append((safe_text(title), partial(app.jump_to, scope), "scope the log and sparklines"))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands()[:8]:
            yield DiscoveryHit(Content(name), callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Every command whose words match the query's words, in any order: exact words
        first ("1111" finds unit 1111, not 1168), then the shorter title (the unit before
        its tags), then by title ("Suction Pressure" before "Suction Temperature")."""
        style = self.matcher(query).match_style
        scored = [(word_score(query, name), name, callback, help_text)
                  for name, callback, help_text in self._commands()]
        ranked = sorted((c for c in scored if c[0] > 0),
                        key=lambda c: (-c[0], len(words_of(c[1])), c[1].lower()))
        for rank, (score, name, callback, help_text) in enumerate(ranked):
            # the palette orders hits by score alone: the rank keeps ties in title order
            yield Hit(score - rank * 1e-6, literal_highlight(query, name, style), callback,
                      help=help_text)
