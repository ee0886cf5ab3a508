"""The alarm engine: rules and stale tags turned into alarm transitions, on reading time.

Pure decisions, like :mod:`flux_tui.feed.schedule`: no I/O, no wall clock. The clock is the
newest reading time seen (``epochMs``), so feeding a recording gives exactly the transitions
the live run gave. Each (rule, unit, tag) is its own alarm; it goes pending when ``when``
first holds, active once it has held for the rule's on-delay, acknowledged by the user, and
cleared when the value is back beyond the deadband (a latched alarm also needs its
acknowledgement). Shelving silences an alarm key for a while.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from flux_tui.alarms.rules import AlarmRule, CompiledRule, compile_rule
from flux_tui.alarms.stale import StalePolicy, StaleTracker
from flux_tui.alarms.transition import STALE_RULE, Transition
from flux_tui.feed.types import Reading

__all__ = ["Alarm", "AlarmEngine", "AlarmKey"]

AlarmKey = tuple[str, Any, Any]
MAX_ALARMS = 50_000  # pending and raised alarms tracked at once; more are not watched
JOURNAL_SIZE = 5_000  # transitions remembered for the viewer's list and the session journal
SCAN_EVERY_MS = 1_000  # reading time between two stale scans
# A device whose clock runs ahead would drag the reading clock into the future and make the
# whole fleet look stale: a reading only moves the clock when it is not later than its own
# arrival in the cloud (rtms) by more than this.
AHEAD_MS = 60_000
# A shard is idle (nothing left on it, or closed by resharding) once it has delivered no
# reading while the clock moved this far and the other shards delivered this many readings
# each: more than the pages a reader alternating between shards hands out meanwhile.
SHARD_IDLE_MS = 5 * 60_000
SHARD_IDLE_READINGS = 25_000


class Alarm:
    """One (rule, unit, tag) alarm: pending, active or acknowledged (cleared ones are gone)."""

    __slots__ = (
        "acked",
        "compiled",
        "key",
        "label",
        "last_ms",
        "raised",
        "raised_at",
        "returned",
        "since",
        "tag_name",
        "val",
    )

    def __init__(self, key: AlarmKey, compiled: CompiledRule, r: Reading, t: int) -> None:
        self.key = key
        self.compiled = compiled
        self.since = t  # when `when` began to hold (the on-delay counts from here)
        self.raised = False
        self.raised_at = 0
        self.acked = False
        self.returned = False  # latched and back to normal, waiting for the acknowledgement
        self.label: str | None = r[12]
        self.tag_name: str | None = r[11]
        self.val: Any = r[13]
        self.last_ms = t

    @property
    def rule(self) -> AlarmRule:
        return self.compiled.rule

    @property
    def state(self) -> str:
        """``pending``, ``active`` or ``acknowledged``."""
        if not self.raised:
            return "pending"
        return "acknowledged" if self.acked else "active"


class AlarmEngine:
    """Feed readings with :meth:`observe`; it returns the transitions they caused.

    ``names`` (a name lookup) lets ``asset:``/``site:`` terms of rules match names.
    ``stale`` None turns stale detection off.
    """

    def __init__(
        self,
        rules: Sequence[AlarmRule] = (),
        *,
        names: Any = None,
        stale: StalePolicy | None = None,
        watch_stale: bool = True,
    ) -> None:
        self.rules = [compile_rule(rule, names) for rule in rules]
        self.stale = StaleTracker(stale) if watch_stale else None
        self.alarms: dict[AlarmKey, Alarm] = {}
        self.shelf: dict[AlarmKey, int] = {}  # key -> reading time the shelving ends
        self.journal: deque[Transition] = deque(maxlen=JOURNAL_SIZE)
        self.now_ms: int | None = None
        self.dropped = 0  # alarms not watched because MAX_ALARMS were
        self._scanned = 0
        self._shard_top: dict[str, int] = {}  # the newest reading time seen on each shard
        self._shard_seen: dict[str, int] = {}  # readings counted when each shard last had one
        self._seen = 0

    # --- readings --------------------------------------------------------------------------

    def observe(self, readings: Iterable[Reading]) -> list[Transition]:
        """Evaluate readings in arrival order; returns the transitions, oldest first."""
        out: list[Transition] = []
        rules, stale, shard_top, shard_seen = (
            self.rules,
            self.stale,
            self._shard_top,
            self._shard_seen,
        )
        seen = self._seen
        for r in readings:
            seen += 1
            shard_seen[r[0]] = seen
            t = r[4]
            if type(t) is not int:
                continue  # no reading time, no place on the clock
            if stale is not None:
                stale.observe(r, t, out, shard_top.get(r[0]))
            now = self.now_ms
            if now is None or t > now:
                rtms = r[5]
                if rtms is None or type(rtms) is not int or t <= rtms + AHEAD_MS:
                    self.now_ms = now = t
                    if t > shard_top.get(r[0], 0):
                        shard_top[r[0]] = t
            elif t > shard_top.get(r[0], -1):
                shard_top[r[0]] = t
            for compiled in rules:
                if compiled.selects(r):
                    self._step(compiled, r, t, out)
            if now is not None and now - self._scanned >= SCAN_EVERY_MS:
                self._scanned, self._seen = now, seen
                self._scan(now, out)
        self._seen = seen
        self.journal.extend(out)
        return out

    def _step(self, compiled: CompiledRule, r: Reading, t: int, out: list[Transition]) -> None:
        rule = compiled.rule
        key = (rule.name, r[8], r[9] if r[9] is not None else r[11])
        alarm = self.alarms.get(key)
        holds = compiled.holds(r)
        if alarm is None:
            if not holds:
                return
            if len(self.alarms) >= MAX_ALARMS:
                self.dropped += 1
                return
            alarm = self.alarms[key] = Alarm(key, compiled, r, t)
        elif t < alarm.last_ms:
            return  # an older reading of this tag (a re-delivery) decides nothing
        alarm.last_ms, alarm.val, alarm.label = t, r[13], r[12]
        if not alarm.raised:
            if not holds:
                del self.alarms[key]  # it stopped holding before the on-delay ran out
            elif t - alarm.since >= rule.for_ms:
                alarm.raised, alarm.raised_at, alarm.returned = True, t, False
                out.append(self._transition(alarm, "active", t))
            return
        if holds:
            alarm.returned = False
        elif compiled.cleared(r):
            if rule.latch and not alarm.acked:
                alarm.returned = True  # latched: stays until acknowledged
            else:
                self._clear(alarm, t, out)

    def _clear(self, alarm: Alarm, t: int, out: list[Transition]) -> None:
        del self.alarms[alarm.key]
        out.append(self._transition(alarm, "cleared", t))

    def _transition(self, alarm: Alarm, state: str, t: int) -> Transition:
        rule = alarm.rule
        shelved = self.is_shelved(alarm.key)
        bell = rule.bell and state == "active" and not shelved
        return Transition(
            t,
            rule.name,
            rule.severity,
            state,
            alarm.key[1],
            alarm.key[2],
            alarm.label,
            alarm.val,
            alarm.tag_name,
            bell,
            shelved,
        )

    def idle_shards(self, now: int) -> set[str]:
        """Shards whose tags are judged on the newest reading time (see SHARD_IDLE_MS)."""
        tops, seen = self._shard_top, self._shard_seen
        quiet = SHARD_IDLE_READINGS * len(tops)
        return {
            shard
            for shard, top in tops.items()
            if now - top > SHARD_IDLE_MS and self._seen - seen.get(shard, 0) > quiet
        }

    def _scan(self, now: int, out: list[Transition]) -> None:
        if self.stale is not None:
            self.stale.advance(now, out, self._shard_top, self.idle_shards(now))
        for key in [k for k, until in self.shelf.items() if until <= now]:
            del self.shelf[key]
            alarm = self.alarms.get(key)
            if alarm is not None and alarm.raised:
                out.append(self._transition(alarm, "unshelved", now))

    # --- the user's actions ------------------------------------------------------------------

    def acknowledge(self, key: AlarmKey) -> list[Transition]:
        """Acknowledge a raised alarm; a latched one back to normal clears with it."""
        alarm = self.alarms.get(key)
        if alarm is None or not alarm.raised or alarm.acked:
            return []
        t = self.now_ms if self.now_ms is not None else alarm.last_ms
        alarm.acked = True
        out = [self._transition(alarm, "acknowledged", t)]
        if alarm.returned:
            self._clear(alarm, t, out)
        self.journal.extend(out)
        return out

    def shelve(self, key: AlarmKey, minutes: float) -> list[Transition]:
        """Silence alarm ``key`` for ``minutes`` of reading time (it still changes state, but
        does not ring or count)."""
        if self.now_ms is None or minutes <= 0:
            return []
        self.shelf[key] = self.now_ms + int(minutes * 60_000)
        alarm = self.alarms.get(key)
        if alarm is None:
            return []
        out = [self._transition(alarm, "shelved", self.now_ms)]
        self.journal.extend(out)
        return out

    def is_shelved(self, key: AlarmKey) -> bool:
        """True while ``key`` is shelved."""
        until = self.shelf.get(key)
        return until is not None and (self.now_ms is None or until > self.now_ms)

    # --- what the viewer shows -----------------------------------------------------------

    def raised(self) -> list[Alarm]:
        """The active and acknowledged alarms, newest first."""
        return sorted(
            (a for a in self.alarms.values() if a.raised), key=lambda a: a.raised_at, reverse=True
        )

    def counts(self) -> dict[str, int]:
        """Raised, not shelved alarms by severity (silent units count as their severity)."""
        counts = {"critical": 0, "warning": 0, "info": 0}
        for alarm in self.alarms.values():
            if alarm.raised and not self.is_shelved(alarm.key):
                counts[alarm.rule.severity] += 1
        if self.stale is not None:
            silent = len(self.stale.stale_units())
            if silent:
                counts[self.stale.policy.severity] += silent
        return counts

    def unit_alarms(self, asset_id: Any) -> list[Alarm]:
        """The raised alarms of one unit."""
        return [a for a in self.alarms.values() if a.raised and a.key[1] == asset_id]

    def is_stale_rule(self, transition: Transition) -> bool:
        """True for the stale/reporting transitions (not a user's rule)."""
        return transition.rule == STALE_RULE and transition.state in ("stale", "reporting")
