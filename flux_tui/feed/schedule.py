"""The shard reader's bookkeeping and decisions, kept free of I/O so they can be tested alone.

Per-shard state (:class:`ShardTrack`), lineage (a child waits for its parents), which shard
is polled next and when (:func:`pick_next`), how slowly caught-up shards are polled
(:func:`idle_interval`) and the adaptive page size (:class:`PageLimit`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Kinesis allows 5 GetRecords a second per shard: successive calls start ≥ 0.2 s apart.
SHARD_CALL_GAP = 0.2
# Steady state (everything caught up) uses at most this share of the rate budget, so bursts,
# re-describes and iterator re-opens always find room.
IDLE_HEADROOM = 0.7
# Iterators expire 5 minutes after they were issued: idle polling must come back sooner.
MAX_IDLE_INTERVAL = 240.0


class TrackStatus(enum.Enum):
    """Where a shard is in its life as far as this reader is concerned."""

    WAITING = "waiting for parents"
    READING = "reading"
    FINISHED = "finished"  # read to its end (closed by resharding)
    SKIPPED = "skipped"  # closed before a LATEST tail started: nothing to read
    GONE = "gone"  # no longer listed (expired from retention or deleted)

    @property
    def done(self) -> bool:
        """True when children of this shard may be read."""
        return self in (TrackStatus.FINISHED, TrackStatus.SKIPPED, TrackStatus.GONE)


@dataclass(slots=True)
class ShardTrack:
    """Everything the reader knows about one shard."""

    shard_id: str
    parents: tuple[str, ...] = ()
    initial: bool = False  # listed in the first description (opened at the chosen start)
    status: TrackStatus = TrackStatus.WAITING
    iterator: str | None = None
    opened: bool = False  # ShardOpened already reported
    start_kind: str | None = None  # "LATEST" or "TRIM_HORIZON", first open
    last_seq: int | None = None  # highest sequence number delivered (records, not subs)
    last_arrival_ms: int | None = None  # arrival of that record, for gap spans
    last_ok_wall: float | None = None  # time.time() of the last good answer
    check_gap: bool = False  # re-opened at TRIM_HORIZON: is the first record past last_seq?
    hold: bool = False  # not polled until the stream is described again
    in_flight: bool = False
    last_call: float = -math.inf  # clock() when the last call for this shard started
    retry_at: float = 0.0  # clock() before which this shard is not polled (its own backoff)
    behind: bool = True  # unknown counts as behind: poll promptly
    caught_up: bool = False  # last answer: MillisBehindLatest == 0 and a short page
    millis_behind: int = 0
    readings: int = 0
    children: list[str] = field(default_factory=list)

    @property
    def pollable(self) -> bool:
        """May be given a call now (ignoring time and budget)."""
        return self.status is TrackStatus.READING and not self.in_flight and not self.hold

    def due_at(self, idle: float) -> float:
        """clock() at which this shard should next be called."""
        gap = SHARD_CALL_GAP if (self.behind or self.iterator is None) else idle
        return max(self.last_call + gap, self.retry_at)


@dataclass(frozen=True, slots=True)
class ShardInfo:
    """A snapshot of one shard for ``flux-tui info`` and the status bar."""

    shard_id: str
    parents: tuple[str, ...]
    status: str
    millis_behind: int
    caught_up: bool
    readings: int
    last_seq: str | None


def info(track: ShardTrack) -> ShardInfo:
    """Snapshot of ``track``."""
    status = track.status.value
    if track.status is TrackStatus.READING and track.caught_up:
        status = "caught up"
    return ShardInfo(
        track.shard_id,
        track.parents,
        status,
        track.millis_behind,
        track.caught_up,
        track.readings,
        None if track.last_seq is None else str(track.last_seq),
    )


def parents_done(track: ShardTrack, tracks: Mapping[str, ShardTrack]) -> bool:
    """True when every parent is finished, or unknown (never listed / expired from retention)."""
    for parent in track.parents:
        other = tracks.get(parent)
        if other is not None and not other.status.done:
            return False
    return True


def release_children(tracks: Mapping[str, ShardTrack]) -> list[ShardTrack]:
    """Move waiting shards whose parents are done to READING; return those moved."""
    released = []
    for track in tracks.values():
        if track.status is TrackStatus.WAITING and parents_done(track, tracks):
            track.status = TrackStatus.READING
            released.append(track)
    return released


def lineage_order(tracks: Iterable[ShardTrack]) -> list[ShardTrack]:
    """Parents before children (a stable topological order), for display and tests."""
    by_id = {t.shard_id: t for t in tracks}
    seen: set[str] = set()  # visited or being visited: a (malformed) cycle cannot loop
    out: list[ShardTrack] = []

    def visit(track: ShardTrack) -> None:
        if track.shard_id in seen:
            return
        seen.add(track.shard_id)
        for parent in track.parents:
            if parent in by_id:
                visit(by_id[parent])
        out.append(track)

    for track in by_id.values():
        visit(track)
    return out


def pick_next(
    tracks: Iterable[ShardTrack], idle: float, not_before: float = 0.0
) -> tuple[ShardTrack | None, float]:
    """The shard to call next and the clock() at which it is due.

    The earliest due shard wins; among equally due ones the furthest behind goes first, so a
    backlog drains before idle shards are refreshed. ``not_before`` is a reader-wide backoff.
    """
    best: ShardTrack | None = None
    best_key: tuple[float, int] = (math.inf, 0)
    for track in tracks:
        if not track.pollable:
            continue
        key = (max(track.due_at(idle), not_before), -track.millis_behind)
        if key < best_key:
            best, best_key = track, key
    return best, best_key[0]


def idle_interval(active: int, calls: int, span: float, floor: float) -> float:
    """Seconds between polls of a caught-up shard.

    Spread so that polling every ``active`` shard uses at most :data:`IDLE_HEADROOM` of a
    budget of ``calls`` per ``span`` seconds; never faster than ``floor``, never so slow
    that iterators expire.
    """
    if active <= 0 or calls <= 0 or span <= 0:
        return floor
    spread = active * span / (IDLE_HEADROOM * calls)
    return min(max(floor, spread), MAX_IDLE_INTERVAL)


class PageLimit:
    """The ``Limit`` sent with GetRecords: halves on trouble, grows back by half when easy.

    API Gateway gives up after 29 s (504) and caps answers at 10 MB, so a page that is too
    big fails every time; shrinking is the only cure. Growth only after full pages that came
    back quickly, since only a backlog profits from bigger pages.
    """

    def __init__(self, start: int, minimum: int, maximum: int) -> None:
        if not 1 <= minimum <= maximum <= 10_000:
            raise ValueError(
                f"page limits must satisfy 1 <= min <= max <= 10000, not {minimum}, {maximum}"
            )
        self.minimum = minimum
        self.maximum = maximum
        self.value = min(max(start, minimum), maximum)

    def shrink(self) -> bool:
        """Halve (not below the minimum); False when already at the minimum."""
        if self.value <= self.minimum:
            return False
        self.value = max(self.minimum, self.value // 2)
        return True

    def grow(self) -> bool:
        """Grow by half (not above the maximum); False when already at the maximum."""
        if self.value >= self.maximum:
            return False
        self.value = min(self.maximum, max(self.value + 1, int(self.value * 1.5)))
        return True
