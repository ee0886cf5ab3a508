"""Stale tags and silent units, decided on reading time alone.

A tag is stale when the reading clock has moved ``stale_after`` past its last reading; by
default that is 3× the tag's own median interval, at least a minute. A unit is stale when
all its tags are. The clock is the newest reading time seen, so a replay of a recording
decides exactly what the live run decided. No I/O, no wall clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from flux_tui.alarms.transition import STALE_RULE, Transition
from flux_tui.feed.types import Reading

__all__ = ["StalePolicy", "StaleTracker", "TagClock"]

_WINDOW = 9  # intervals kept per tag for the median (odd: the median is one of them)
_RECOMPUTE_EVERY = 8  # readings of a tag between two recomputations of its stale_after
MAX_TAGS = 200_000  # a bound on what is tracked; tags beyond it are not watched
# Shards are read a page at a time, so while catching up one shard's readings may be many
# minutes (hours, on a day's backlog) ahead of another's: a tag's silence is judged on the
# newest reading time of the shard it reports on, never on a shard that was simply read
# further. A shard that has delivered nothing while the others delivered many pages (see
# AlarmEngine) is idle or closed: its tags follow the newest reading time instead.


@dataclass(frozen=True, slots=True)
class StalePolicy:
    """How staleness is decided. ``after_ms`` fixes ``stale_after`` for every tag (None: 3×
    the tag's median interval); ``minimum_ms`` is the floor; a tag whose cadence is not known
    yet (fewer than two intervals) uses ``unknown_ms``. ``report_tags`` also puts single
    stale tags in the transitions (silent units always are)."""

    after_ms: int | None = None
    minimum_ms: int = 60_000
    unknown_ms: int = 180_000
    multiple: float = 3.0
    report_tags: bool = False
    severity: str = "warning"


class TagClock:
    """When one tag last reported, its recent intervals and whether it is stale now."""

    __slots__ = (
        "after",
        "count",
        "intervals",
        "key",
        "label",
        "last",
        "last_val",
        "live",
        "shard",
        "stale",
        "stale_at",
        "tag_name",
        "unit",
    )

    def __init__(self, key: tuple[Any, Any], unit: UnitClock, t: int, after: int) -> None:
        self.key = key
        self.unit = unit
        self.last = t
        self.intervals: deque[int] = deque(maxlen=_WINDOW)
        self.count = 1
        self.after = after
        self.stale = False
        self.stale_at = 0
        self.label: str | None = None
        self.tag_name: str | None = None
        self.last_val: Any = None
        self.shard = ""
        # Seen reporting in step with its shard at least once. A tag only ever seen in data
        # far older than its shard's other readings (a backfill, a replayed test stream) was
        # never live here, so it cannot fall silent: it is not judged stale.
        self.live = False


class UnitClock:
    """How many of a unit's tags there are and how many are stale."""

    __slots__ = ("live_tags", "stale", "stale_tags", "tags")

    def __init__(self) -> None:
        self.tags: list[TagClock] = []
        self.live_tags = 0
        self.stale_tags = 0
        self.stale = False


class StaleTracker:
    """Feed it readings in arrival order (:meth:`observe`) and the reading clock
    (:meth:`advance`); both append what became stale or reports again to ``out``."""

    def __init__(self, policy: StalePolicy | None = None) -> None:
        self.policy = policy or StalePolicy()
        self.tags: dict[tuple[Any, Any], TagClock] = {}
        self.units: dict[Any, UnitClock] = {}
        # No tag can go stale before this reading time: readings only push deadlines later,
        # so the earliest deadline found by a scan bounds the next one (scans stay rare).
        self._next_due: int | None = None

    def _initial_after(self) -> int:
        p = self.policy
        return p.after_ms if p.after_ms is not None else max(p.minimum_ms, p.unknown_ms)

    def observe(self, r: Reading, t: int, out: list[Transition], top: int | None = None) -> None:
        """Note reading ``r`` taken at ``t`` (its epochMs); ``top`` is the newest reading
        time its shard had carried before it."""
        key = (r[8], r[9] if r[9] is not None else r[11])
        clock = self.tags.get(key)
        if clock is None:
            if len(self.tags) >= MAX_TAGS:
                return
            unit = self.units.get(r[8])
            if unit is None:
                unit = self.units[r[8]] = UnitClock()
            clock = self.tags[key] = TagClock(key, unit, t, self._initial_after())
            clock.label, clock.tag_name, clock.last_val, clock.shard = r[12], r[11], r[13], r[0]
            unit.tags.append(clock)
            if top is None or t >= top - clock.after:
                self._go_live(clock, t, out)
            return
        if t <= clock.last:
            return  # a repeat or an older reading does not move this tag's clock
        if not clock.stale and t - clock.last > clock.after:
            self._catch_up(key[0], clock.unit, t, out)  # went stale between two readings
        interval = t - clock.last
        clock.last, clock.last_val, clock.shard = t, r[13], r[0]
        clock.label = r[12]
        after = clock.after
        self._learn(clock, interval)
        if not clock.live:
            if top is None or t >= top - clock.after:
                self._go_live(clock, t, out)
            return
        if clock.stale:
            self._report(clock, t, out)
        elif clock.after >= after:
            return
        due, next_due = t + clock.after, self._next_due  # reporting again, or sooner stale
        if next_due is None or due < next_due:
            self._next_due = due

    def _go_live(self, clock: TagClock, t: int, out: list[Transition]) -> None:
        clock.live = True
        unit = clock.unit
        unit.live_tags += 1
        if unit.stale:  # a new live tag of a silent unit: the unit reports again
            unit.stale = False
            out.append(self._unit_transition(clock.key[0], "reporting", t, clock))
        due = t + clock.after
        if self._next_due is None or due < self._next_due:
            self._next_due = due

    def _learn(self, clock: TagClock, interval: int) -> None:
        intervals = clock.intervals
        intervals.append(interval)
        count = clock.count = clock.count + 1
        if count % _RECOMPUTE_EVERY and count > 4:
            return
        policy = self.policy
        if policy.after_ms is None and len(intervals) >= 2:
            median = sorted(intervals)[len(intervals) // 2]
            clock.after = max(policy.minimum_ms, int(policy.multiple * median))

    def advance(
        self,
        now: int,
        out: list[Transition],
        shard_top: dict[str, int] | None = None,
        idle: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """The reading clock is at ``now`` (``shard_top``: each shard's newest reading time,
        ``idle``: shards whose tags follow ``now``): tags past their ``stale_after`` on their
        shard's clock become stale."""
        if self._next_due is None or now <= self._next_due:
            return  # each shard's clock is at most `now`: nothing can be due yet
        next_due: int | None = None
        tops = shard_top or {}
        for clock in self.tags.values():
            if clock.stale or not clock.live:
                continue
            due = clock.last + clock.after
            ref = now if clock.shard in idle else tops.get(clock.shard, now)
            if ref > due:
                self._mark(clock, due, out)
            elif next_due is None or due < next_due:
                next_due = due
        self._next_due = next_due

    def _catch_up(self, asset: Any, unit: UnitClock, t: int, out: list[Transition]) -> None:
        """What the clock would have found stale in this unit before ``t`` (when the unit's
        silence is seen only now, with nothing else moving the clock)."""
        late = [t_ for t_ in unit.tags if t_.live and not t_.stale and t - t_.last > t_.after]
        late.sort(key=lambda tag: tag.last + tag.after)  # in the order they fell silent
        for tag in late:
            self._mark(tag, tag.last + tag.after, out)

    def _mark(self, clock: TagClock, at: int, out: list[Transition]) -> None:
        key = clock.key
        clock.stale, clock.stale_at = True, at
        unit = clock.unit
        unit.stale_tags += 1
        if self.policy.report_tags:
            out.append(self._tag_transition(clock, "stale", at))
        if unit.stale_tags == unit.live_tags and not unit.stale:
            unit.stale = True
            at_unit = max(tag.stale_at for tag in unit.tags if tag.live)
            out.append(self._unit_transition(key[0], "stale", at_unit, None))

    def _report(self, clock: TagClock, t: int, out: list[Transition]) -> None:
        key = clock.key
        clock.stale = False
        unit = clock.unit
        unit.stale_tags -= 1
        if unit.stale:
            unit.stale = False
            out.append(self._unit_transition(key[0], "reporting", t, clock))
        if self.policy.report_tags:
            out.append(self._tag_transition(clock, "reporting", t))

    def _tag_transition(self, clock: TagClock, state: str, at: int) -> Transition:
        key = clock.key
        return Transition(
            at,
            STALE_RULE,
            self.policy.severity,
            state,
            key[0],
            key[1],
            clock.label,
            clock.last_val,
            clock.tag_name,
        )

    def _unit_transition(
        self, asset: Any, state: str, at: int, clock: TagClock | None
    ) -> Transition:
        # A unit reporting again names the reading that showed it; going stale names no tag.
        if clock is None:
            return Transition(at, STALE_RULE, self.policy.severity, state, asset, None)
        return Transition(
            at,
            STALE_RULE,
            self.policy.severity,
            state,
            asset,
            None,
            clock.label,
            clock.last_val,
            clock.tag_name,
        )

    # --- what the viewer asks -----------------------------------------------------------

    def tag(self, asset_id: Any, tag_id: Any) -> TagClock | None:
        """The clock of one tag, or None when it never reported."""
        return self.tags.get((asset_id, tag_id))

    def unit_stale(self, asset_id: Any) -> bool:
        """True while every tag of the unit is stale."""
        unit = self.units.get(asset_id)
        return unit is not None and unit.stale

    def stale_units(self) -> list[Any]:
        """The units that are silent now."""
        return [asset for asset, unit in self.units.items() if unit.stale]
