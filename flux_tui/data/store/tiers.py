"""Downsampled history of one tag for the sparklines: buckets of 1 s, 10 s and 1 min, each
with min, max, sum, count and last, over 24 hours.

Readings go into the 1 s tier (the newest bucket is updated in place). When the 1 s tier
spans more than :data:`FINE_KEEP` seconds its oldest whole 10 s groups are folded into the
10 s tier, a group at a time with C-level ``min``/``max``/``sum`` over array slices; the
10 s tier folds into the 1 min tier the same way, and the 1 min tier drops what is older
than 24 h. A window (1 min to 24 h) reads the buckets of all three tiers that fall in it:
the older part comes coarse, the recent part fine, and nothing depends on the log ring, so
the windows survive its eviction.

A sparkline has 30-80 cells, so a window needs no finer buckets than that: 1m and 5m read
1 s buckets (60/300), 15m 10 s ones (90), 1h the last 15 min in 10 s buckets and the rest
in 1 min ones (~135), 6h and 24h 1 min ones (360/1440).

Memory: a tag reporting every second holds at most ~6 min of 1 s buckets, ~20 min of 10 s
and 24 h of 1 min ones: ~1,900 buckets of 44 bytes, ~85 KB after a day; a slower tag less.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from itertools import repeat
from operator import lt

__all__ = ["FINE_KEEP", "MID_KEEP", "SPAN", "Tier", "Tiers"]

FINE_KEEP = 5 * 60  # seconds of 1 s buckets kept before folding (the 1m and 5m windows)
MID_KEEP = 15 * 60  # seconds of 10 s buckets (the 15m window; 1h is 1 min further back)
SPAN = 24 * 3600  # the longest window (6h and 24h read 1 min buckets)
_FOLD_FINE = 60  # fold this much at a time (fewer, larger folds)
_FOLD_MID = 5 * 60


class Tier:
    """Buckets of ``width`` seconds in time order: start (bucket number × width), min, max,
    sum, count, last. ``head`` is the index of the first live bucket (cheap trimming)."""

    __slots__ = ("head", "hi", "idx", "last", "lo", "n", "sum", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.idx = array("q")  # bucket number (epoch seconds // width)
        self.lo = array("d")
        self.hi = array("d")
        self.sum = array("d")
        self.n = array("I")
        self.last = array("d")
        self.head = 0

    def __len__(self) -> int:
        return len(self.idx) - self.head

    def merge(self, b: int, lo: float, hi: float, s: float, n: int, last: float) -> None:
        """Add a bucket's figures to bucket ``b`` (appended, or merged where it belongs)."""
        idx = self.idx
        if len(idx) > self.head and idx[-1] >= b:
            at = bisect_left(idx, b, self.head)
            if at < len(idx) and idx[at] == b:
                self.lo[at] = min(self.lo[at], lo)
                self.hi[at] = max(self.hi[at], hi)
                self.sum[at] += s
                self.n[at] += n
                if at == len(idx) - 1:
                    self.last[at] = last
                return
            for column, value in ((idx, b), (self.lo, lo), (self.hi, hi), (self.sum, s),
                                  (self.n, n), (self.last, last)):
                column.insert(at, value)  # type: ignore[attr-defined]
            return
        idx.append(b)
        self.lo.append(lo)
        self.hi.append(hi)
        self.sum.append(s)
        self.n.append(n)
        self.last.append(last)

    def fold_into(self, coarse: Tier, before: int) -> None:
        """Move the buckets that start before second ``before`` into ``coarse``, grouped
        by its width."""
        idx = self.idx
        start = self.head
        stop = bisect_left(idx, before // self.width, start)
        ratio = coarse.width // self.width
        a = start
        lo, hi, sm, n, last = self.lo, self.hi, self.sum, self.n, self.last
        while a < stop:
            group = idx[a] // ratio
            b = bisect_left(idx, (group + 1) * ratio, a, stop)
            coarse.merge(group, min(lo[a:b]), max(hi[a:b]), math.fsum(sm[a:b]), sum(n[a:b]),
                         last[b - 1])
            a = b
        self.drop_before_index(stop)

    def drop_before_index(self, stop: int) -> None:
        """Forget the buckets before index ``stop``. Folds come once a minute or so per tag
        and move a few kilobytes: the arrays are compacted at once (dead buckets kept for
        later would be most of a tier's memory)."""
        if stop > 0:
            for column in (self.idx, self.lo, self.hi, self.sum, self.n, self.last):
                del column[:stop]
        self.head = 0

    def drop_before(self, second: int) -> None:
        """Forget buckets that start before ``second``."""
        self.drop_before_index(bisect_left(self.idx, second // self.width, self.head))

    def span(self, t0: float, t1: float) -> tuple[int, int]:
        """Index range of the buckets that start in ``[t0, t1)`` seconds."""
        w = self.width
        a = bisect_left(self.idx, math.ceil(t0 / w), self.head)
        b = bisect_left(self.idx, math.ceil(t1 / w), a)
        return a, b


class Tiers:
    """The three tiers of one tag."""

    __slots__ = ("coarse", "fine", "mid")

    def __init__(self) -> None:
        self.fine = Tier(1)
        self.mid = Tier(10)
        self.coarse = Tier(60)

    def add(self, second: int, value: float) -> None:
        """One reading (``value`` a number, or a state's code) at epoch ``second``."""
        fine = self.fine
        idx = fine.idx
        if idx:
            newest = idx[-1]
            if newest == second:  # the same second: update the newest bucket in place
                if value < fine.lo[-1]:
                    fine.lo[-1] = value
                elif value > fine.hi[-1]:
                    fine.hi[-1] = value
                fine.sum[-1] += value
                fine.n[-1] += 1
                fine.last[-1] = value
                return
            if newest > second:  # late: into the bucket where it belongs
                if second < idx[0]:
                    self._late(second, value)
                else:
                    fine.merge(second, value, value, value, 1, value)
                return
        idx.append(second)  # a new second (the newest bucket is never folded)
        fine.lo.append(value)
        fine.hi.append(value)
        fine.sum.append(value)
        fine.n.append(1)
        fine.last.append(value)
        if second - idx[0] > FINE_KEEP + _FOLD_FINE:
            self._fold(second)

    def add_many(self, seconds: list[int], values: list[float]) -> None:
        """Readings in the order they came, as :meth:`add` one by one would take them; in
        time order (what a live feed gives) a run of one second, or a run of new seconds,
        is taken at once."""
        fine = self.fine
        idx = fine.idx
        if (idx and seconds[0] < idx[-1]) or seconds != sorted(seconds):
            for second, value in zip(seconds, values):
                self.add(second, value)
            return
        if (not idx or seconds[0] > idx[-1]) and all(map(lt, seconds, seconds[1:])):
            self._append_new(seconds, values)
            return
        n = len(seconds)
        i = 0
        while i < n:
            second = seconds[i]
            j = bisect_right(seconds, second, i)
            run = values[i:j]
            if idx and idx[-1] == second:
                lo = min(run)
                fine.lo[-1] = min(fine.lo[-1], lo)
                hi = max(run)
                fine.hi[-1] = max(fine.hi[-1], hi)
                fine.sum[-1] = sum(run, fine.sum[-1])
                fine.n[-1] += j - i
                fine.last[-1] = run[-1]
            else:
                self._append_new([second], [run[0]])
                if j - i > 1:  # the rest of the run into that new bucket
                    rest = run[1:]
                    fine.lo[-1] = min(fine.lo[-1], min(rest))
                    fine.hi[-1] = max(fine.hi[-1], max(rest))
                    fine.sum[-1] = sum(rest, fine.sum[-1])
                    fine.n[-1] += j - i - 1
                    fine.last[-1] = run[-1]
            i = j

    def _append_new(self, seconds: list[int], values: list[float]) -> None:
        """New 1 s buckets for strictly increasing ``seconds`` past the newest, one value
        each, folding where :meth:`add` would."""
        fine = self.fine
        idx = fine.idx
        while seconds:
            oldest = idx[0] if idx else seconds[0]
            # the first second past which add() would fold (none: take them all)
            cut = bisect_right(seconds, oldest + FINE_KEEP + _FOLD_FINE)
            take = seconds[:cut + 1], values[:cut + 1]
            idx.extend(take[0])
            fine.lo.extend(take[1])
            fine.hi.extend(take[1])
            fine.sum.extend(take[1])
            fine.n.extend(repeat(1, len(take[0])))
            fine.last.extend(take[1])
            if cut < len(seconds):
                self._fold(seconds[cut])
            seconds, values = seconds[cut + 1:], values[cut + 1:]

    def _late(self, second: int, value: float) -> None:
        """A reading older than the 1 s tier holds: into the coarser tiers."""
        mid = self.mid
        if len(mid) and second < mid.idx[mid.head] * 10:
            self.coarse.merge(second // 60, value, value, value, 1, value)
        else:
            mid.merge(second // 10, value, value, value, 1, value)

    def _fold(self, now: int) -> None:
        cut = (now - FINE_KEEP) // 60 * 60  # whole minutes: 10 s and 1 min groups stay whole
        self.fine.fold_into(self.mid, cut)
        mid = self.mid
        if len(mid) and now - mid.idx[mid.head] * 10 > MID_KEEP + _FOLD_MID:
            mid.fold_into(self.coarse, (now - MID_KEEP) // 60 * 60)
            self.coarse.drop_before(now - SPAN)

    def points(self, t0: float, t1: float) -> tuple[list[float], list[float], list[float],
                                                      list[float], list[int], list[float]]:
        """Buckets starting in ``[t0, t1)``, oldest first, from all tiers: (start seconds,
        min, max, sum, count, last) as lists."""
        times: list[float] = []
        out: tuple[list[float], list[float], list[float], list[int], list[float]] = (
            [], [], [], [], [])
        for tier in (self.coarse, self.mid, self.fine):
            a, b = tier.span(t0, t1)
            if a >= b:
                continue
            w = tier.width
            times.extend(float(i * w) for i in tier.idx[a:b])
            for column, target in zip((tier.lo, tier.hi, tier.sum, tier.n, tier.last), out):
                target.extend(column[a:b])  # type: ignore[arg-type]
        return (times, *out)

    def clear_after(self, second: int) -> None:
        """Forget buckets from ``second`` on (a replay went back in time)."""
        for tier in (self.fine, self.mid, self.coarse):
            cut = bisect_left(tier.idx, math.ceil(second / tier.width), tier.head)
            for column in (tier.idx, tier.lo, tier.hi, tier.sum, tier.n, tier.last):
                del column[cut:]
