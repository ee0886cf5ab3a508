"""The sparkline panel: the selected tag and up to eight pinned tags over a chosen window.

Numeric tags draw a sparkline with last/min/max/avg; status and enum tags draw a state strip
(one glyph per state, so it reads without colour too). Redrawn on a slow timer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.widget import Widget

from flux_tui.data.formats import format_value, safe_text
from flux_tui.data.store import LiveStore, TagKey, TagState
from flux_tui.ui.labels import clip_apart, clip_middle, unit_label

# Every window reads the tag's tiered buckets (data/tiers.py): instant, and independent of
# how much of the log the ring still holds.
WINDOWS: tuple[tuple[str, int], ...] = (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600),
                                        ("6h", 6 * 3600), ("24h", 24 * 3600))
MAX_PINS = 8
_BARS = "▁▂▃▄▅▆▇█"
_STATES = "█▓▒░▚▞▙▟"
_HINTS = ("Select a tag (tree or log) to see its sparkline; p pins it.",
          "Select a tag to see its sparkline; p pins it.", "p pins the selected tag")
_STATE_COLOURS = ("green", "red", "yellow", "cyan", "magenta", "blue", "white", "bright_black")


def spark(values: list[float], lo: float, hi: float) -> str:
    """Bars for ``values`` scaled between ``lo`` and ``hi`` (NaN -> blank)."""
    span = hi - lo
    out = []
    for v in values:
        if math.isnan(v):
            out.append(" ")
        elif span <= 0:
            out.append(_BARS[len(_BARS) // 2])
        else:
            out.append(_BARS[min(len(_BARS) - 1, int((v - lo) / span * len(_BARS)))])
    return "".join(out)


def bucket(times: list[float], values: list[float], start: float, seconds: float,
           cells: int, *, numeric: bool) -> list[float]:
    """Resample points into ``cells`` buckets: the mean (numeric) or the last state."""
    sums = [0.0] * cells
    counts = [0] * cells
    last = [math.nan] * cells
    step = seconds / cells
    for t, v in zip(times, values):
        i = int((t - start) / step)
        if 0 <= i < cells and not math.isnan(v):
            sums[i] += v
            counts[i] += 1
            last[i] = v
    out = [s / c if c else math.nan for s, c in zip(sums, counts)] if numeric else last
    # a tag holds its value between reports: carry it over empty cells (after the first)
    held = math.nan
    for i, v in enumerate(out):
        if math.isnan(v):
            out[i] = held
        else:
            held = v
    return out


class SparkPanel(Widget):
    """Selected and pinned tags as sparklines or state strips."""

    DEFAULT_CSS = """
    SparkPanel {
        height: auto;
        max-height: 11;
        min-height: 3;
        border: round $primary 40%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    SparkPanel > .spark--name { color: $text; }
    SparkPanel > .spark--bars { color: $accent; }
    SparkPanel > .spark--dim { color: $text-muted; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"spark--name", "spark--bars", "spark--dim"}

    def __init__(self, store: LiveStore, *, now: Callable[[], float] | None = None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        # "now" in epoch seconds: the stream's time (wall clock minus lag) while catching up
        self._now = now or (lambda: store.reference_ms() / 1000.0)
        self.selected: TagKey | None = None
        self.pinned: list[TagKey] = []
        self.window_index = 0
        self._lines = 1
        self.names: Any = None  # asset names (Enterprise Objects) once the feed has them
        self.present: Any = None  # a Presentation: engineering units and state names
        self._update_titles()

    def unit_label(self, asset_id: Any) -> str:
        """The unit's name when known, else its id (literal text)."""
        return unit_label(self.names, asset_id)

    @property
    def window(self) -> tuple[str, int]:
        """The current window (name, seconds)."""
        return WINDOWS[self.window_index]

    def _update_titles(self) -> None:
        name = self.window[0]
        self.border_title = f"Sparklines · {name}"
        self.border_subtitle = f"p pin ({len(self.pinned)}/{MAX_PINS}) · w window"

    def cycle_window(self) -> str:
        """Next window (1m → 5m → 15m → 1h → 6h → 24h → 1m); returns its name."""
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        self._update_titles()
        self.refresh()
        return self.window[0]

    def select(self, key: TagKey | None) -> None:
        """Show ``key`` as the selected tag."""
        if key != self.selected:
            self.selected = key
            self.redraw()

    def toggle_pin(self, key: TagKey) -> bool | None:
        """Pin or unpin ``key``; True pinned, False unpinned, None when eight are pinned."""
        if key in self.pinned:
            self.pinned.remove(key)
            result: bool | None = False
        elif len(self.pinned) >= MAX_PINS:
            return None
        else:
            self.pinned.append(key)
            result = True
        self._update_titles()
        self.redraw()
        return result

    def redraw(self) -> None:
        """Repaint; lay out again only when the number of lines changed (a layout pass
        repaints the whole screen)."""
        lines = max(1, len(self.shown()))
        self.refresh(layout=lines != self._lines)
        self._lines = lines

    def shown(self) -> list[TagState]:
        """Tags on the panel: the selected one first, then the pinned ones."""
        keys = ([self.selected] if self.selected is not None and self.selected not in
                self.pinned else []) + self.pinned
        return [self.store.tags[k] for k in keys if k in self.store.tags]

    def get_content_height(self, container, viewport, width) -> int:  # type: ignore[no-untyped-def]
        return max(1, len(self.shown()))

    def render(self) -> Text:
        tags = self.shown()
        if not tags:  # the hint whole at any width (at 80 with the tree it was cut)
            hint = next(h for h in _HINTS if len(h) <= self.size.width or h is _HINTS[-1])
            return Text(hint, style=self.get_component_rich_style("spark--dim"))
        width = self.content_region.width or self.size.width
        name_width = min(32, max(20, width // 3))  # "WHC-1131 Stg 1…Press" at least
        # last, min, max and avg while the bars keep a dozen cells or more; else the last
        full = width >= 100
        stats_width = 46 if full else 35 if width >= 64 else 10
        cells = max(4, width - name_width - stats_width - 3)
        seconds = self.window[1]
        self.now = self._now()
        labels = self.labels(tags, name_width)
        lines = [self._line(t, label, seconds, cells, name_width, stats_width)
                 for t, label in zip(tags, labels)]
        return Text("\n").join(lines)

    def labels(self, tags: list[TagState], width: int) -> list[str]:
        """"unit tag" for each line in ``width`` cells: the unit whole (up to 12 cells), the
        tags fitted by the tree's rules (abbreviated, whole words, the words that tell the
        lines apart kept)."""
        units = [clip_middle(self.unit_label(t.asset_id), 12) for t in tags]
        room = max(4, width - max(len(u) for u in units) - 1)
        names = clip_apart([safe_text(t.display_name) for t in tags], room)
        return [f"{unit} {name}" for unit, name in zip(units, names)]

    def _line(self, t: TagState, name: str, seconds: int, cells: int, name_width: int,
              stats_width: int) -> Text:
        style = self.get_component_rich_style
        pin = " ⚑" if t.key in self.pinned else "  "
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{name:<{name_width}}", style("spark--name"))
        line.append(" ")
        times, values = t.window(seconds, self.now)
        cellv = bucket(times, values, self.now - seconds, seconds, cells, numeric=t.numeric)
        last = (format_value(t.last) if self.present is None
                else self.present.show(t.label, t.last, width=9))[:9]
        figures = Text(f" {last:>9}")
        if t.numeric:
            stats = t.stats(seconds, self.now)
            if stats.count:
                assert stats.min is not None and stats.max is not None
                line.append(spark(cellv, stats.min, stats.max), style("spark--bars"))
                if stats_width >= 46:  # " min 29.5 max 33.0 avg 31.2"
                    for label, value in (("min", stats.min), ("max", stats.max),
                                         ("avg", round(stats.avg or 0.0, 3))):
                        figures.append(f" {label} ", style("spark--dim"))
                        figures.append(f"{format_value(value)[:7]:>7}")
                elif stats_width >= 35:  # " 29.5–33.0 avg 31.2": the range, then the mean
                    lo, hi = format_value(stats.min)[:6], format_value(stats.max)[:6]
                    figures.append(f" {lo:>6}–{hi:<6}")
                    figures.append(" avg ", style("spark--dim"))
                    figures.append(f"{format_value(round(stats.avg or 0.0, 3))[:6]:<6}")
            else:
                line.append(" " * cells)
        else:
            self._strip(line, cellv)
        line.append(figures)
        line.append(pin)
        return line

    @staticmethod
    def _strip(line: Text, cells: list[float]) -> None:
        for v in cells:
            if math.isnan(v):
                line.append(" ")
            else:
                code = int(v)
                line.append(_STATES[code % len(_STATES)],
                            _STATE_COLOURS[code % len(_STATE_COLOURS)])
