"""What changed: the tags of a scope ranked by how much they moved over a recent window
(delta, delta as a share of the tag's range, min/max, number of state changes), computed
from the series the store keeps for every tag. Pure: the viewer's "what changed" view
draws the result."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from flux_tui.data.store.tag_state import TagState

__all__ = ["WINDOWS", "TagChange", "rank_changes"]

WINDOWS = (300.0, 900.0, 3600.0)  # 5, 15 and 60 minutes
MIN_BASELINE = 5  # points before the window needed to compare with


@dataclass(frozen=True, slots=True)
class TagChange:
    """How one tag moved in the window: ``delta`` last minus first, ``share`` |delta| over
    the tag's range before the window (None when it had none), ``low``/``high`` the window's
    min and max, ``changes`` how often the value changed. ``score`` ranks: how far the
    window's mean moved from the mean before it, in ranges before it (so noise that swings
    the whole range all the time ranks low, and a sink or a stop ranks high); a text tag by
    its changes (each a fifth)."""

    tag: TagState
    numeric: bool
    first: float | None
    last: float | None
    delta: float | None
    share: float | None
    low: float | None
    high: float | None
    changes: int
    score: float


def _change(tag: TagState, now: float, window: float) -> TagChange | None:
    times = tag.times
    start = bisect.bisect_left(times, now - window)
    recent = [v for v in tag.values[start:] if not math.isnan(v)]
    if not recent:
        return None
    changes = sum(1 for a, b in itertools.pairwise(recent) if a != b)
    if not tag.numeric:
        return TagChange(tag, False, None, None, None, None, None, None, changes,
                         min(1.0, changes * 0.2))  # fmt: skip
    before = [v for v in tag.values[:start] if not math.isnan(v)]
    delta = recent[-1] - recent[0]
    if len(before) < MIN_BASELINE:  # no history before the window: its first fifth is
        cut = max(1, len(recent) // 5)
        before, recent = recent[:cut], recent[cut:] or recent
    share, score = None, 0.0
    if before:
        span = max(before) - min(before)
        shift = abs(sum(recent) / len(recent) - sum(before) / len(before))
        if span > 0:
            share, score = abs(delta) / span, shift / span
        elif shift > 0:
            score = 1.0  # it never moved before, and now it has
    return TagChange(tag, True, recent[0], recent[-1], delta, share, min(recent), max(recent),
                     changes, score)  # fmt: skip


def rank_changes(tags: Iterable[TagState], now: float, window: float) -> list[TagChange]:
    """The tags that reported in the last ``window`` seconds before ``now`` (epoch seconds),
    the most changed first."""
    found = [c for c in (_change(t, now, window) for t in tags) if c is not None]
    found.sort(key=lambda c: (-c.score, -c.changes, c.tag.display_name))
    return found
