"""The tag log: a virtualized view over the store's (filtered) log ring.

Only the visible lines are rendered (``ScrollView`` + ``render_line``, as in Textualize's
toolong), with a small cache of rendered strips keyed by absolute position, so a 200,000-line
history costs nothing to draw. The widget is refreshed by the app's timer, never per reading.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from flux_tui.data.formats import format_time, format_value, safe_text
from flux_tui.data.session.pages import LogLines
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Reading
from flux_tui.ui.labels import clip_middle, unit_label

# A few screens: scrolling back and forth does not re-render. Not more: each cached line
# is ~15 objects the garbage collector walks (a strip and its caches), and following a
# live feed never shows an old line again (512 lines kept ~12,000 FIFOCaches alive).
_CACHE_LINES = 160
_NULL = Style()


def _no_style(_name: str) -> Style:
    return _NULL


def change_cell(val: Any, prev: Any) -> tuple[str, str]:
    """The change arrow against the previous value of the same tag, and its style name."""
    if prev is None or val is None:
        return "", ""
    num = (int, float)
    if isinstance(val, num) and isinstance(prev, num) and not isinstance(val, bool) \
            and not isinstance(prev, bool):
        delta = val - prev
        if delta > 0:
            return "↑" + format_value(delta if isinstance(delta, int) else float(delta)), "up"
        if delta < 0:
            return "↓" + format_value(-delta if isinstance(delta, int) else float(-delta)), "down"
        return "=", "same"
    try:
        changed = val != prev
    except Exception:  # noqa: BLE001 - exotic payload values: treat as changed rather than fail to draw
        changed = True
    return ("•", "changed") if changed else ("=", "same")


class TagLog(ScrollView, can_focus=True):
    """The log of readings, newest at the bottom, following the feed unless held."""

    DEFAULT_CSS = """
    TagLog {
        border: round $primary 40%;
        border-title-color: $text;
        border-subtitle-color: $warning;
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    TagLog:focus { border: round $primary; }
    TagLog > .taglog--time { color: $text-muted; }
    TagLog > .taglog--unit { color: $secondary; }
    TagLog > .taglog--up { color: $success; }
    TagLog > .taglog--down { color: $warning; }
    TagLog > .taglog--changed { color: $accent; }
    TagLog > .taglog--dim { color: $text-muted; }
    TagLog > .taglog--cursor { background: $primary 50%; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"taglog--time", "taglog--unit", "taglog--up", "taglog--down",
                         "taglog--changed", "taglog--dim", "taglog--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail", id="detail"),
        # "end Live" stays out of the footer (it is in help): room for r, s, o at 80 columns
        Binding("space", "pause", "Pause", id="pause"),
        Binding("end", "live", "Live", show=False, id="live"),
        Binding("up", "cursor(-1)", "Up", show=False, id="log-up"),
        Binding("down", "cursor(1)", "Down", show=False, id="log-down"),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False, id="log-page-up"),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False, id="log-page-down"),
        Binding("home", "oldest", "Oldest", show=False, id="log-home"),
    ]

    follow: reactive[bool] = reactive(True)
    """Keep the newest line in view."""
    paused: reactive[bool] = reactive(False)
    """Freeze the display (the feed keeps running and the store keeps filling)."""
    utc: reactive[bool] = reactive(False)
    show_tag_name: reactive[bool] = reactive(False)
    show_delay: reactive[bool] = reactive(False)
    plain: reactive[bool] = reactive(False)
    """Low-bandwidth mode: one colour per line (every colour change costs bytes on the wire)."""

    class OpenDetail(Message):
        """The user asked for the whole reading of a line."""

        def __init__(self, reading: Reading) -> None:
            self.reading = reading
            super().__init__()

    class CursorMoved(Message):
        """The highlighted line changed (the app scopes sparklines to its tag)."""

        def __init__(self, reading: Reading) -> None:
            self.reading = reading
            super().__init__()

    def __init__(self, store: LiveStore, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = store
        self.rows: LogLines = store  # where the lines come from (a replay pages its file)
        self.border_title = "Tag log"
        self._shown = 0  # view lines the display knows about (frozen while paused)
        self._anchor: int | None = None  # absolute position of the top line while held
        self.cursor: int | None = None  # absolute position of the highlighted line
        self._cache: OrderedDict[tuple[Any, ...], Strip] = OrderedDict()
        self._seen_version = -1
        self.names: Any = None  # a NameLookup: unit names instead of ids when known
        self.present: Any = None  # a Presentation: engineering units and state names
        self._hold_from: int | None = None
        self._pause_from: int | None = None

    # --- refresh from the store -------------------------------------------------------------

    def refresh_from_store(self) -> None:
        """Catch up with the store (called by the app's timer)."""
        store = self.rows
        following = self.follow and self.cursor is None
        if (store.version == self._seen_version and not self.paused
                and not (following and self.scroll_offset.y < self.max_scroll_y)):
            return
        self._seen_version = store.version
        total = store.view_len()
        if self.paused:
            self._update_subtitle(total)
            return
        old_top = self._anchor
        self._shown = total
        width = max(self.scrollable_content_region.width, 1)
        size = Size(width, total)
        if size != self.virtual_size:
            # Not `self.virtual_size = size`: that reactive asks for a layout pass, and a
            # layout repaints the whole screen (4x a second: most of the bytes on the wire).
            # Only the scrollbar needs to know, unless it appears or disappears.
            had_scrollbar = self.show_vertical_scrollbar
            self.set_reactive(TagLog.virtual_size, size)
            self._scroll_update(size)
            if self.show_vertical_scrollbar != had_scrollbar:
                self.refresh(layout=True)
        if following:
            # force: right after the first lines arrive the scrollbar (and with it
            # vertical scrolling) is not enabled until the next layout
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        elif old_top is not None:
            # lines that fell out of the ring shift indices: keep the same reading on top
            index = store.view_index_of(old_top)
            if index is None:
                index = 0
            self.scroll_to(y=index, animate=False, force=True)
        self._remember_top()
        self._update_subtitle(total)
        self.refresh()

    def use_rows(self, rows: LogLines) -> None:
        """Take the lines from ``rows`` from now on (the store, or a replayed file paged
        from disk); back to the newest line."""
        self.rows = rows
        self.cursor = None
        self._anchor = None
        self._hold_from = self._pause_from = None
        self._cache.clear()
        self._seen_version = -1
        if self.follow and not self.paused:
            self.refresh_from_store()

    def _remember_top(self) -> None:
        top = int(self.scroll_offset.y)
        try:
            self._anchor = self.rows.view_pos(top) if self._shown else None
        except IndexError:
            self._anchor = None

    def watch_follow(self, follow: bool) -> None:
        # remember where the hold began: "N new lines" counts what arrived since
        self._hold_from = None if follow else self.rows.total

    def _update_subtitle(self, total: int) -> None:
        hold_from = self._hold_from if not self.follow else None
        if self.paused and hold_from is None:
            hold_from = self._pause_from
        waiting = self.rows.view_count_since(hold_from) if hold_from is not None else 0
        parts = []
        if self.paused:
            parts.append("⏸ PAUSED · space resumes")
        if waiting:
            parts.append(f"{waiting:,} new lines · end for live")
        self.border_subtitle = " · ".join(parts)

    def invalidate(self) -> None:
        """Drop rendered lines (columns, time zone or theme changed)."""
        self._cache.clear()
        self.refresh()

    def on_resize(self) -> None:
        self._cache.clear()
        self._seen_version = -1
        self.refresh_from_store()

    def watch_utc(self) -> None:
        self.invalidate()

    def watch_show_tag_name(self) -> None:
        self.invalidate()

    def watch_show_delay(self) -> None:
        self.invalidate()

    def watch_plain(self) -> None:
        self.invalidate()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._shown:
            # the user scrolled away from the bottom: hold; scrolled back to it: follow
            at_bottom = new_value >= self.max_scroll_y - 0.5
            if not at_bottom and self.follow and round(old_value) > round(new_value):
                self.follow = False
            elif at_bottom and not self.follow and self.cursor is None and not self.paused:
                self.follow = True
            self._remember_top()
            self._update_subtitle(self.rows.view_len() if not self.paused else self._shown)

    # --- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if index >= self._shown:
            return Strip.blank(width, self.rich_style)
        try:
            pos = self.rows.view_pos(index)
        except IndexError:
            return Strip.blank(width, self.rich_style)
        selected = pos == self.cursor
        key = (pos, width, selected)
        strip = self._cache.get(key)
        if strip is None:
            reading = self.rows.reading_at(pos)
            text = self.line_text(reading, self.rows.prev_at(pos))
            if selected:
                text.stylize(self.get_component_rich_style("taglog--cursor"))
            segments = text.render(self.app.console, end="")
            strip = Strip(list(segments))
            if strip.cell_length != width:
                # crop_extend of a strip already ``width`` long returns the strip itself and
                # caches it in itself: a reference cycle only a full GC frees (with its
                # seven caches and their derived strips, ~15 objects a line, measured)
                strip = strip.crop_extend(0, width, self.rich_style)
            # the widget's style under every cell: unstyled text would sit on the terminal's
            # own background (black bands under a light theme)
            strip = strip.apply_style(self.rich_style)
            self._cache[key] = strip
            if len(self._cache) > _CACHE_LINES:
                self._cache.popitem(last=False)
        return strip

    def line_text(self, r: Reading, prev: Any) -> Text:
        """One log line as a ``Text`` (data text is appended literally, never as markup)."""
        width = self.scrollable_content_region.width
        style = _no_style if self.plain else self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        # narrow (80 columns with the tree shown): whole seconds, slimmer columns, so the
        # value stays on screen
        compact = width < 60
        when = format_time(r.epoch_ms, utc=self.utc)
        if compact:
            when = when[:8] + ("Z" if self.utc else "")
        gap, unit_w, arrow_w, least = (" ", 8, 6, 6) if compact else ("  ", 10, 8, 12)
        text.append(when, style("taglog--time"))
        text.append(gap)
        unit = self._unit_name(r.asset_id)
        text.append(f"{clip_middle(unit, unit_w):<{unit_w}}", style("taglog--unit"))
        text.append(gap)
        # column widths: time, unit, value and arrow are fixed; the label takes what is
        # left, the optional tag name gives way to it on narrow terminals
        fixed = len(when) + 2 * len(gap) + unit_w + len(gap) + 10 + 1 + arrow_w
        if self.show_delay:
            fixed += 9
        name_width = 0
        if self.show_tag_name:
            name_width = max(8, min(24, width - fixed - 2 - 12))
            fixed += name_width + 2
        label_width = max(least, width - fixed)
        label = safe_text(r.label or r.tag_name or f"tag {r.tag_id}")
        label = clip_middle(label, label_width)  # abbreviated, whole words (labels.py)
        text.append(f"{label:<{label_width}}")
        text.append(gap)
        value = (format_value(r.val) if self.present is None
                 else self.present.show(r.label, r.val, width=10))
        if len(value) > 10:
            value = value[:9] + "…"
        text.append(f"{value:>10}", _NULL if self.plain else Style(bold=True))
        text.append(" ")
        arrow, kind = change_cell(r.val, prev)
        text.append(f"{arrow[:arrow_w]:<{arrow_w}}", style(f"taglog--{kind}") if kind in
                    ("up", "down", "changed") else style("taglog--dim"))
        if self.show_tag_name:
            name = safe_text(r.tag_name)
            if len(name) > name_width:
                name = name[: name_width - 1] + "…"
            text.append(f" {name:<{name_width}} ", style("taglog--dim"))
        if self.show_delay:
            if r.rtms is not None and r.epoch_ms is not None:
                delay = f"{(r.rtms - r.epoch_ms) / 1000:.1f}s"
            else:
                delay = "—"
            text.append(f" {delay:>8}", style("taglog--dim"))
        return text

    def _unit_name(self, asset_id: Any) -> str:
        return "?" if asset_id is None else unit_label(self.names, asset_id)

    # --- actions ----------------------------------------------------------------------------

    def current_reading(self) -> Reading | None:
        """The highlighted reading, else the newest one in view."""
        pos = self.cursor
        if pos is None:
            if not self._shown:
                return None
            try:
                pos = self.rows.view_pos(min(self._shown, self.rows.view_len()) - 1)
            except IndexError:
                return None
        try:
            return self.rows.reading_at(pos)
        except IndexError:
            return None

    def action_detail(self) -> None:
        """Open the whole reading of the highlighted (or newest) line."""
        reading = self.current_reading()
        if reading is not None:
            self.post_message(self.OpenDetail(reading))

    def action_pause(self) -> None:
        """Freeze or resume the display; the feed keeps running."""
        self.paused = not self.paused
        self._pause_from = self.rows.total if self.paused else None
        self._seen_version = -1
        self.refresh_from_store()
        self._update_subtitle(self.rows.view_len())

    def action_live(self) -> None:
        """Back to the newest line, following."""
        self.cursor = None
        self.paused = False
        self.follow = True
        self._cache.clear()
        self._seen_version = -1
        self.refresh_from_store()

    def action_oldest(self) -> None:
        """Jump to the oldest held line (holding the view)."""
        if self._shown:
            self.follow = False
            self._set_cursor_index(0)

    def action_cursor(self, step: int) -> None:
        """Move the highlight; the first move picks the last visible line and holds."""
        if not self._shown:
            return
        if self.cursor is None:
            bottom = min(int(self.scroll_offset.y) + self.scrollable_content_region.height,
                         self._shown) - 1
            index = bottom  # the first move only picks the line; the next ones move
            self.follow = False
        else:
            found = self.rows.view_index_of(self.cursor)
            index = (0 if found is None else found) + step
        self._set_cursor_index(max(0, min(index, self._shown - 1)))

    def action_cursor_page(self, direction: int) -> None:
        """Move the highlight a screen up or down."""
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 1))

    def _set_cursor_index(self, index: int) -> None:
        try:
            pos = self.rows.view_pos(index)
        except IndexError:
            return
        self.cursor = pos
        self.follow = False
        top = int(self.scroll_offset.y)
        height = self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False, force=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, force=True)
        self._remember_top()
        self._cache.clear()
        self.refresh()
        self.post_message(self.CursorMoved(self.rows.reading_at(pos)))
