"""The asset tree: organisation → site → unit → tags, grown as readings arrive.

Nodes are added only when the store's tree model gains one, and labels are changed in place
(only when their text changes), so the cursor, the expanded nodes and the scroll position
never move while data streams in. Selecting a node scopes the log and the sparklines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from flux_tui.data.formats import format_value, safe_text
from flux_tui.data.store import LiveStore, TagKey
from flux_tui.feed.types import Reading
from flux_tui.ui.labels import clip_apart, clip_middle

_SEVERITY = {"critical": "bold red", "warning": "bold yellow", "info": "cyan"}
COMPACT_TERMINAL = 90  # terminals narrower than this get the compact tree
COMPACT_WIDTH = 23  # its width: 20 cells inside the border and the scrollbar
COMPACT_BELOW = 30  # a tree with fewer cells inside than this is compact


def human_age(seconds: float) -> str:
    """45s, 12m, 3h, 2d: how long a unit has been quiet, in the tree's few cells."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


@dataclass(frozen=True, slots=True)
class Scope:
    """What a tree node stands for; ``matches`` says whether a reading belongs to it."""

    kind: str  # "org" | "site" | "unit" | "tag"
    org_id: Any = None
    site_id: Any = None
    asset_id: Any = None
    tag: TagKey | None = None
    title: str = ""

    def matches(self, r: Reading) -> bool:
        """Whether ``r`` is inside this node."""
        if self.kind == "tag" and self.tag is not None:
            tag_id = r.tag_id if r.tag_id is not None else r.tag_name
            return r.asset_id == self.tag[0] and tag_id == self.tag[1]
        if self.kind == "unit":
            return r.asset_id == self.asset_id
        if self.kind == "site":
            return r.org_id == self.org_id and r.site_id == self.site_id
        return r.org_id == self.org_id


class AssetTree(Tree[Scope]):
    """The fleet as a tree, with last values and reporting/stale markers."""

    DEFAULT_CSS = """
    AssetTree {
        width: 36;
        border: round $primary 40%;
        border-title-color: $text;
        scrollbar-size-vertical: 1;
    }
    AssetTree:focus { border: round $primary; }
    """

    class ScopeChosen(Message):
        """The user picked a node: the log and sparklines narrow to it."""

        def __init__(self, scope: Scope) -> None:
            self.scope = scope
            super().__init__()

    def __init__(self, store: LiveStore, *, id: str | None = None) -> None:
        super().__init__("fleet", id=id)
        self.store = store
        self.show_root = False
        self.auto_expand = False  # enter scopes; space expands (scoping must not collapse)
        self.guide_depth = 2
        self.border_title = "Assets"
        self._node_of: dict[tuple[Any, ...], TreeNode[Scope]] = {}
        self._labels: dict[tuple[Any, ...], str] = {}
        self._tree_version = -1
        self._labels_width = -1  # the name width the tag labels were made for
        self._first_unit = True
        self.names: Any = None  # a NameLookup (Enterprise Objects) once the feed has one
        self.present: Any = None  # a Presentation: engineering units and state names
        # (asset, tag or None) -> the worst raised alarm's severity, None when there is none
        self.marks: Any = None
        self._names_version = -1

    def refresh_from_store(self, now_ms: float) -> None:
        """Add new nodes and update the labels that changed (visible ones only)."""
        store = self.store
        self._sync()
        width = self._name_width()
        # a new width relabels the hidden tags too: a label of the old width left in a
        # collapsed unit keeps the tree wider than its panel (a stray scrollbar at 80)
        everything = width != self._labels_width
        self._labels_width = width
        names = self.names
        if everything or names is not None and names.version != self._names_version:
            self._names_version = names.version if names is not None else -1
            for org_id, sites in store.tree.items():
                self._set_label(("org", org_id), Text(self._fit(self.org_title(org_id), 0)))
                for site_id in sites:
                    self._set_label(("site", org_id, site_id),
                                    Text(self._fit(self.site_title(site_id), 1)))
        for asset_id, unit in store.units.items():
            node = self._node_of.get(("unit", asset_id))
            if node is None:
                continue
            stale = unit.is_stale(now_ms)
            if stale:  # how long it has been quiet: a technician's first question
                age = human_age((now_ms - unit.last_ms) / 1000)
                mark = Text(f"○ {age}" if self.compact else f"○ stale {age}", style="dim")
            else:
                mark = Text("●", style="green")
            severity = self.marks(asset_id, None) if self.marks is not None else None
            alarm = Text(" ▲", style=_SEVERITY.get(severity, "")) if severity else Text("")
            title = self._fit(self.unit_title(asset_id), 2, len(mark) + len(alarm) + 1)
            self._set_label(("unit", asset_id), Text.assemble(f"{title} ", mark, alarm))
            if not node.is_expanded and not everything:
                continue  # hidden tag labels are brought up to date when shown
            tags = list(unit.tags.values())
            names = clip_apart([safe_text(t.display_name) for t in tags], width)
            for tag, name in zip(tags, names):
                severity = self.marks(asset_id, tag.key[1]) if self.marks is not None else None
                self._set_label(("tag", tag.key), self._tag_label(name, tag, tag.is_stale(now_ms),
                                                                  severity))
        if everything:
            # Textual's Tree measures its width when its lines are built, not when a label
            # changes: rebuild them once so narrower labels narrow the tree too
            self._invalidate()

    def on_resize(self) -> None:
        """Fit the labels to the new width now, not at the next redraw (half a second of
        the wider tree's labels cut by the narrower panel)."""
        if self.display and self._labels_width not in (-1, self._name_width()):
            self.refresh_from_store(self.store.reference_ms())

    def _lookup_name(self, kind: str, ident: Any) -> str | None:
        names = self.names
        if names is None or ident is None:
            return None
        try:
            name = getattr(names, f"{kind}_name")(ident)
        except Exception:  # noqa: BLE001 - names are a nicety: never break the tree
            return None
        return safe_text(name) if name else None

    def unit_name(self, asset_id: Any) -> str | None:
        """The unit's name from Enterprise Objects, None while unknown."""
        return self._lookup_name("asset", asset_id)

    def unit_title(self, asset_id: Any) -> str:
        """The unit's name from Enterprise Objects, else ``Unit <id>``."""
        return self._lookup_name("asset", asset_id) or f"Unit {safe_text(str(asset_id))}"

    def site_title(self, site_id: Any) -> str:
        """The site's name, else ``Site <id>``."""
        return self._lookup_name("site", site_id) or f"Site {safe_text(str(site_id))}"

    def org_title(self, org_id: Any) -> str:
        """The organisation's name, else ``Org <id>``."""
        return self._lookup_name("org", org_id) or f"Org {safe_text(str(org_id))}"

    def scope_title(self, scope: Scope) -> str:
        """What ``scope`` is called now: names from Enterprise Objects when known, ids until
        then (the filter bar's scope text, the command palette)."""
        if scope.kind == "tag" and scope.tag is not None:
            tag = self.store.tags.get(scope.tag)
            name = tag.display_name if tag is not None else str(scope.tag[1])
            return f"{safe_text(name)} @ {self.unit_title(scope.asset_id)}"
        if scope.kind == "unit":
            return self.unit_title(scope.asset_id)
        if scope.kind == "site":
            return self.site_title(scope.site_id)
        return self.org_title(scope.org_id)

    @property
    def compact(self) -> bool:
        """A narrow panel (below 90 columns, where the log beside it needs the room): tag
        names without their values, and a shorter stale mark on units."""
        return self.scrollable_content_region.width < COMPACT_BELOW

    def _fit(self, title: str, depth: int, beside: int = 0) -> str:
        """A node's title clipped (at word ends) to the panel at tree ``depth`` (org 0, site
        1, unit 2) with ``beside`` cells of marks after it: a longer one would make the
        whole tree scroll sideways."""
        room = self.scrollable_content_region.width - 2 * depth - 3 - beside
        return title if len(title) <= room or room < 4 else clip_middle(title, room)

    def _name_width(self) -> int:
        """Cells for a tag's name: the panel minus guides (9) and the value column (9);
        compact, minus the guides only (6: a tag row is ``│ │ ├ name``)."""
        width = self.scrollable_content_region.width
        if self.compact:
            return max(8, width - 6)
        return max(13, width - 9 - 9)

    @staticmethod
    def width_for(terminal_width: int) -> int:
        """The panel's width on a terminal ``terminal_width`` wide: it grows with it (36 at
        90 and 100 columns, 40 at 120, 50 at 170, at most 64), so long tag names keep more
        of themselves where there is room. Below 90 columns it is compact (23: names only),
        so the log beside it keeps a label column of 18 cells at 80 (6 beside a 36-wide
        tree, where every pressure read ``…Press``)."""
        if terminal_width < COMPACT_TERMINAL:
            return COMPACT_WIDTH
        return max(36, min(64, 16 + terminal_width // 5))

    def _tag_label(self, name: str, tag: Any, stale: bool, severity: str | None = None) -> Text:
        """``name`` (already clipped to :meth:`_name_width`) and the value, in columns; an
        alarm's severity puts a ▲ before the name. Compact: the name alone."""
        if self.compact:
            if not severity:
                return Text(name, style="dim" if stale else "")
            text = Text("▲", style=_SEVERITY.get(severity, ""))
            text.append(name[: self._name_width() - 1], style="dim" if stale else "")
            return text
        value = tag.last
        shown = (format_value(value) if self.present is None
                 else self.present.show(tag.label, value, width=8))
        if len(shown) > 8:
            shown = shown[:7] + "…"
        name_width = self._name_width()
        if severity:
            text = Text("▲", style=_SEVERITY.get(severity, ""))
            text.append(f"{name[: name_width - 1]:<{name_width - 1}} ",
                        style="dim" if stale else "")
        else:
            text = Text(f"{name:<{name_width}} ", style="dim" if stale else "")
        text.append(f"{shown:>8}", style="dim" if stale else "bold")
        return text

    def _set_label(self, key: tuple[Any, ...], label: Text) -> None:
        plain = label.plain + str(label.spans)
        if self._labels.get(key) != plain:
            self._labels[key] = plain
            self._node_of[key].set_label(label)

    def _sync(self) -> None:
        """Add the nodes the store gained since the last look."""
        if self.store.tree_version != self._tree_version:
            self._tree_version = self.store.tree_version
            self._grow()

    def _grow(self) -> None:
        store = self.store
        for org_id, sites in store.tree.items():
            org = self._node(("org", org_id), self.root, self._fit(self.org_title(org_id), 0),
                             Scope("org", org_id=org_id, title=f"org {org_id}"), expand=True)
            for site_id, units in sites.items():
                site = self._node(("site", org_id, site_id), org,
                                  self._fit(self.site_title(site_id), 1),
                                  Scope("site", org_id=org_id, site_id=site_id,
                                        title=f"site {site_id}"), expand=True)
                for asset_id in units:
                    if ("unit", asset_id) not in self._node_of and self.names is not None:
                        self.names.lookup_missing(asset_id)  # queued; the name comes later
                    unit = self._node(("unit", asset_id), site,
                                      self._fit(self.unit_title(asset_id), 2, 2),
                                      Scope("unit", org_id, site_id, asset_id,
                                            title=f"unit {asset_id}"),
                                      expand=self._first_unit)
                    self._first_unit = False
                    for key, tag in store.units[asset_id].tags.items():
                        # fitted at once: a long name in a collapsed unit would widen the tree
                        self._node(("tag", key), unit,
                                   clip_middle(tag.display_name, self._name_width()),
                                   Scope("tag", org_id, site_id, asset_id, key,
                                         title=f"{tag.display_name} @ {asset_id}"),
                                   leaf=True)

    def _node(self, key: tuple[Any, ...], parent: TreeNode[Scope], label: str, scope: Scope,
              *, expand: bool = False, leaf: bool = False) -> TreeNode[Scope]:
        node = self._node_of.get(key)
        if node is None:
            text = Text(safe_text(label))
            if leaf:
                node = parent.add_leaf(text, data=scope)
            else:
                node = parent.add(text, data=scope, expand=expand)
            self._node_of[key] = node
        return node

    def on_tree_node_selected(self, event: Tree.NodeSelected[Scope]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ScopeChosen(event.node.data))

    def scopes(self) -> list[Scope]:
        """Every unit and tag node (the command palette jumps to them)."""
        self._sync()
        return [n.data for k, n in self._node_of.items() if k[0] in ("unit", "tag") and n.data]

    def reveal(self, scope: Scope) -> None:
        """Move the cursor to the node of ``scope`` (expanding its parents) and choose it."""
        self._sync()
        key: tuple[Any, ...] = ("tag", scope.tag) if scope.kind == "tag" else ("unit",
                                                                                scope.asset_id)
        node = self._node_of.get(key)
        if node is None:
            return
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self.move_cursor, node)
        self.post_message(self.ScopeChosen(scope))
