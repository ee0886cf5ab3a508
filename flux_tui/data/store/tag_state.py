"""Per-tag and per-unit live state: a tag's last value, its usual interval, its tiered
history for the sparklines (1 s / 10 s / 1 min buckets over 24 h, :mod:`tiers`), and a
unit's tags in the tree.

Pure Python, no Textual; :class:`~flux_tui.data.store.LiveStore` fills these on ingest.
"""

from __future__ import annotations

import math
import os
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby, repeat
from operator import floordiv, itemgetter
from typing import Any

from flux_tui.data.store.tiers import SPAN, Tiers
from flux_tui.feed.types import Reading

__all__ = ["SERIES_SECONDS", "HistoryBacklog", "SeriesStats", "TagKey", "TagState", "UnitState",
           "tell_apart"]

TagKey = tuple[Any, Any]
"""(asset id, tag id or tag name): one tag of one unit."""

SERIES_SECONDS = SPAN  # sparklines look back 24 hours at most
_STALE_FACTOR = 3.0  # quiet for longer than 3x the usual interval -> stale


@dataclass(slots=True)
class SeriesStats:
    """last/min/max/avg of a numeric tag over a window (None when there are no points)."""

    last: float | None
    min: float | None
    max: float | None
    avg: float | None
    count: int


MAX_CODES = 64  # distinct non-numeric values a tag keeps a code for (a state strip's states)


class TagState:
    """What the viewer knows about one tag: last value, the one before, when it was last
    seen, its usual interval, and its tiered history (``tiers``).

    Numeric values go into the tiers as floats; other values (status text, booleans,
    None) are coded as small integers through ``codes`` so a state strip can be drawn.
    ``template``/``variants``/``last_pos`` belong to the store's columns.
    """

    __slots__ = (
        "asset_id",
        "backlog",
        "codes",
        "count",
        "interval_ms",
        "key",
        "label",
        "last",
        "last_ms",
        "last_pos",
        "number",
        "numeric",
        "org_id",
        "prev",
        "site_id",
        "suffix",
        "tag_id",
        "tag_name",
        "template",
        "tiers",
        "variants",
    )  # fmt: skip

    def __init__(self, key: TagKey, r: Reading) -> None:
        self.key = key
        self.org_id = r.org_id
        self.site_id = r.site_id
        self.asset_id = r.asset_id
        self.tag_id = r.tag_id
        self.label: str = r.label
        self.tag_name: str = r.tag_name
        self.last: Any = None
        self.prev: Any = None
        self.last_ms: int = 0
        self.interval_ms: float = 0.0
        self.count = 0
        self.numeric = True
        self.tiers = Tiers()
        self.template: Any = None  # the store's Template for this tag's readings
        self.variants: list[Any] = []  # other templates seen (a label changed...)
        self.last_pos = -1  # the store position of the newest reading
        self.number = -1  # the tag's number in its store (HistoryBacklog.register)
        self.backlog: HistoryBacklog | None = None  # readings waiting to go into ``tiers``
        self.codes: dict[Any, int] = {}
        self.suffix = ""  # " #2" when the unit has other tags of the same label

    @property
    def base_name(self) -> str:
        """The label, else the tag name, else the id."""
        return self.label or self.tag_name or f"tag {self.tag_id}"

    @property
    def display_name(self) -> str:
        """The base name, plus what tells it from same-named tags of its unit."""
        return self.base_name + self.suffix

    def code_of(self, val: Any) -> float:
        """The series value of ``val``: the float for numbers, a stable small code otherwise."""
        if isinstance(val, (int, float)) and not isinstance(val, bool):
            return float(val)
        self.numeric = False
        try:
            code = self.codes.get(val)
        except TypeError:  # an unhashable value (list/object): one shared code
            val = "<object>"
            code = self.codes.get(val)
        if code is None:
            if len(self.codes) >= MAX_CODES:
                # free text (messages, serials) would grow this forever over a shift: past
                # MAX_CODES distinct values, new ones share one "other" code
                return float(MAX_CODES)
            code = self.codes[val] = len(self.codes)
        return float(code)

    def history(self) -> Tiers:
        """The tiered history, with every reading taken so far in it."""
        if self.backlog is not None:
            self.backlog.flush()
        return self.tiers

    def window(self, seconds: float, now: float) -> tuple[list[float], list[float]]:
        """Points (bucket start seconds, value) newer than ``now - seconds``: the bucket's
        mean for a numeric tag, its last state for the others; coarser buckets further back."""
        times, _, _, sums, counts, lasts = self.history().points(now - seconds, now + 1)
        if self.numeric:
            return times, [s / n for s, n in zip(sums, counts)]
        return times, lasts

    @property
    def times(self) -> list[float]:
        """The whole history's points' times (oldest first; 1 min buckets further back,
        1 s ones recently): what ``data/changes.py`` reads."""
        return self.window(SERIES_SECONDS, self._now())[0]

    @property
    def values(self) -> list[float]:
        """The values of :attr:`times`' points (means, or states' last codes)."""
        return self.window(SERIES_SECONDS, self._now())[1]

    def _now(self) -> float:
        return self.last_ms / 1000.0 + 1.0

    def stats(self, seconds: float, now: float) -> SeriesStats:
        """last/min/max/avg over the window (only meaningful for numeric tags)."""
        _, lows, highs, sums, counts, lasts = self.history().points(now - seconds, now + 1)
        total = sum(counts)
        if not total:
            return SeriesStats(None, None, None, None, 0)
        return SeriesStats(lasts[-1], min(lows), max(highs), math.fsum(sums) / total, total)

    def is_stale(self, now_ms: float) -> bool:
        """Quiet for longer than ~3x the usual interval (never stale before two readings)."""
        if self.interval_ms <= 0:
            return False
        return now_ms - self.last_ms > _STALE_FACTOR * max(self.interval_ms, 1000.0)


class HistoryBacklog:
    """Readings on their way into their tags' tiered history: the store hands them over a
    page (or part of one) at a time, whole columns at once, and they are folded in, tag
    by tag, when a tag's history is read or :data:`LIMIT` of them wait. A tag then takes
    a few dozen readings in one call instead of one call a reading (at peak a page part of
    2,000 readings holds ~3 of each of 600 tags)."""

    LIMIT = 50_000  # readings that may wait (1.2 MB of arrays at most)

    def __init__(self) -> None:
        self.tags: list[TagState] = []  # by number
        self.numbers = array("I")  # each waiting reading's tag
        self.ms = array("q")  # its epochMs
        self.values = array("d")  # its value for the history (TagState.code_of for states)

    def register(self, tag: TagState) -> None:
        """Give ``tag`` its number, and this backlog."""
        tag.number = len(self.tags)
        tag.backlog = self
        self.tags.append(tag)

    def add(self, numbers: Iterable[int], ms: Iterable[int], values: Iterable[float]) -> None:
        """Readings of the tags ``numbers`` (columns of the same length, in reading order)."""
        self.numbers.extend(numbers)
        self.ms.extend(ms)
        self.values.extend(values)
        if len(self.ms) >= self.LIMIT:
            self.flush()

    def flush(self) -> None:
        """Fold every waiting reading into its tag's history, in reading order per tag."""
        numbers, ms, values = self.numbers, self.ms, self.values
        if not numbers:
            return
        self.numbers, self.ms, self.values = array("I"), array("q"), array("d")
        tags = self.tags
        # a stable sort: each tag's readings stay in their order
        order = sorted(range(len(numbers)), key=numbers.__getitem__)
        for number, group in groupby(order, numbers.__getitem__):
            rows = list(group)
            history = tags[number].tiers
            if len(rows) == 1:
                history.add(ms[rows[0]] // 1000, values[rows[0]])
            else:
                get = itemgetter(*rows)
                history.add_many(list(map(floordiv, get(ms), repeat(1000))),
                                 list(get(values)))


def tell_apart(tags: Iterable[TagState]) -> None:
    """Give tags of one unit that share a label a suffix from the part of their tag names
    that differs: four "Valve Loaded Position" tags named ``loading_valve_#1_status`` ..
    ``#4`` become "Valve Loaded Position #1" .. "#4"."""
    groups: dict[str, list[TagState]] = {}
    for t in tags:
        groups.setdefault(t.base_name, []).append(t)
    for group in groups.values():
        if len(group) < 2:
            continue
        names = [t.tag_name or str(t.tag_id) for t in group]
        if len(set(names)) < len(names):
            names = [str(t.tag_id) for t in group]
        prefix = len(os.path.commonprefix(names))
        rests = [n[prefix:] for n in names]
        suffix = len(os.path.commonprefix([r[::-1] for r in rests]))
        for t, rest, name in zip(group, rests, names):
            diff = rest[: len(rest) - suffix] or name
            t.suffix = f" #{diff}" if diff.isdigit() else f" ({diff})"


@dataclass(slots=True)
class UnitState:
    """One unit (asset) in the tree: its tags in first-seen order and its place."""

    org_id: Any
    site_id: Any
    asset_id: Any
    tags: dict[TagKey, TagState] = field(default_factory=dict)
    last_ms: int = 0

    def is_stale(self, now_ms: float) -> bool:
        """A unit is stale when even its most frequent tag has gone quiet for 3x its interval."""
        intervals = [t.interval_ms for t in self.tags.values() if t.interval_ms > 0]
        if not intervals:
            return False
        return now_ms - self.last_ms > _STALE_FACTOR * max(min(intervals), 1000.0)
