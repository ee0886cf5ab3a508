"""Command palette entries: jump to any unit or tag, toggle panels and columns."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from flux_tui.data.formats import safe_text
from flux_tui.ui.asset_tree import AssetTree, Scope


class PaletteHost(Protocol):
    """What the palette calls on the app (``FluxApp``), named here so that this module does
    not import the app that imports it."""

    @property
    def asset_tree(self) -> AssetTree: ...

    def jump_to(self, scope: Scope) -> None: ...
    def action_toggle_tree(self) -> None: ...
    def action_toggle_sparks(self) -> None: ...
    def action_utc(self) -> None: ...
    def action_tag_names(self) -> None: ...
    def action_delays(self) -> None: ...
    def action_clear_scope(self) -> None: ...
    def action_live(self) -> None: ...
    def action_reconnect(self) -> None: ...


def literal_highlight(matcher: Matcher, name: str) -> Content:
    """``name`` with the fuzzy match highlighted, as literal text: Textual's own
    ``Matcher.highlight`` and a ``str`` prompt parse markup, and unit and tag names come
    from the stream and the API ('[/]' would crash the palette, '[link=…]' take effect)."""
    content = Content(name)
    score, offsets = matcher.fuzzy_search.match(matcher.query, name)
    if score:
        for offset in offsets:
            if not name[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
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
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, literal_highlight(matcher, name), callback, help=help_text)
