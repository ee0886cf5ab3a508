"""The shard reader's bookkeeping and decisions, kept free of I/O so they can be tested alone.

Per-shard state (:class:`ShardTrack`), lineage (a child waits for its parents), which shard
is polled next and when (:func:`pick_next`), how slowly caught-up shards are polled
(:func:`idle_interval`), the adaptive page size (:class:`PageLimit`) and a shard's read
position across iterator re-opens (:func:`open_plan`, :func:`undelivered`, :func:`trim_gap`,
:func:`retention_gap`).
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flux_tui.api import errors
from flux_tui.base.errors import Action, FluxError
from flux_tui.base.events import FeedProblem, FeedState, Throttled
from flux_tui.feed.decoder import arrival_seconds

# Kinesis allows 5 GetRecords a second per shard. Calls spaced exactly 0.2 s apart put the
# sixth call right on the edge of the server's one-second window, where a few ms of latency
# jitter makes it the sixth inside it (ProvisionedThroughputExceeded): keep 10 % slack.
SHARD_CALL_GAP = 0.22
# Kinesis reads at most 2 MiB a second from a shard: after a big page the shard's next calls
# fail (ProvisionedThroughputExceeded), each retry spending a budget slot for nothing.
SHARD_READ_BYTES_PER_SECOND = 2 * 1024 * 1024
# Re-reading a shard after an iterator re-open only skips records (int compare, no decode):
# ask for the most a call allows, or a re-read of a day's retention takes hours of budget.
SKIP_LIMIT = 10_000
# Steady state (everything caught up) uses at most this share of the rate budget, so bursts,
# re-describes and iterator re-opens always find room.
IDLE_HEADROOM = 0.7
# While a backlog drains, a caught-up shard is polled at most this far apart: bigger pages
# leave the budget to the shards behind, and the shard's own readings are not held long.
MAX_DRAIN_IDLE = 30.0
# Iterators expire 5 minutes after they were issued: idle polling must come back sooner.
MAX_IDLE_INTERVAL = 240.0
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0


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
    start_kind: str | None = None  # the iterator type of the first open
    last_seq: int | None = None  # highest sequence number delivered (records, not subs)
    # Sub-records 0..last_sub of record last_seq were delivered, maybe not all of it (a
    # session resumed from its file); None: the whole record was.
    last_sub: int | None = None
    last_arrival_ms: int | None = None  # arrival of that record, for gap spans
    since_ms: int | None = None  # start time: records that arrived before it are not read
    last_ok_wall: float | None = None  # time.time() of the last good answer
    check_gap: bool = False  # re-opened at TRIM_HORIZON: is the first record past last_seq?
    check_retention: bool = False  # re-opened after last_seq: did retention pass it?
    skipping: bool = False  # re-reading what was delivered, up to last_seq (big pages)
    fallback: bool = False  # opened at TRIM_HORIZON because the wanted type was refused
    hold: bool = False  # not polled until the stream is described again
    in_flight: bool = False
    last_call: float = -math.inf  # clock() when the last call for this shard started
    retry_at: float = 0.0  # clock() before which this shard is not polled (read bandwidth)
    behind: bool = True  # unknown counts as behind: poll promptly
    caught_up: bool = False  # last answer: MillisBehindLatest == 0 and a short page
    millis_behind: int = 0
    fill_seconds: float = 0.0  # how long this shard takes to hold a full page, as measured
    readings: int = 0
    children: list[str] = field(default_factory=list)

    @property
    def pollable(self) -> bool:
        """May be given a call now (ignoring time and budget)."""
        return self.status is TrackStatus.READING and not self.in_flight and not self.hold

    def due_at(self, idle: float, draining: bool = False) -> float:
        """clock() at which this shard should next be called. While other shards drain a
        backlog (``draining``), a caught-up shard waits until it holds about a full page
        (at most :data:`MAX_DRAIN_IDLE`): small pages would spend the budget they need."""
        if self.behind or self.iterator is None:
            gap = SHARD_CALL_GAP
        elif draining:
            gap = max(idle, min(self.fill_seconds, MAX_DRAIN_IDLE))
        else:
            gap = idle
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
    tracks = list(tracks)
    # A shard behind counts while its call is in flight too: that is when the others poll.
    draining = any(
        t.behind and t.iterator is not None and t.status is TrackStatus.READING and not t.hold
        for t in tracks
    )
    for track in tracks:
        if not track.pollable:
            continue
        key = (max(track.due_at(idle, draining), not_before), -track.millis_behind)
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


# --- a shard's position across iterator re-opens -----------------------------------------------

Records = list[dict[str, Any]]


def seq_int(record: dict[str, Any]) -> int | None:
    """A record's sequence number as an int (they are up to 129 digits: never compare text)."""
    try:
        return int(record["SequenceNumber"])
    except (KeyError, TypeError, ValueError):
        return None


def arrival_ms(record: dict[str, Any]) -> int | None:
    """A record's ApproximateArrivalTimestamp in epoch ms (None when unreadable)."""
    return int(arrival_seconds(record.get("ApproximateArrivalTimestamp")) * 1000) or None


@dataclass(frozen=True, slots=True)
class OpenPlan:
    """How to open a shard's iterator: the type, its argument, and what the open means."""

    kind: str
    sequence: int | None = None  # AT/AFTER_SEQUENCE_NUMBER
    timestamp: float | None = None  # AT_TIMESTAMP, epoch seconds
    gap: bool = False  # LATEST after an expiry with nothing read: a gap
    fallback: bool = False  # TRIM_HORIZON instead of a refused type: skip to the position


def open_plan(track: ShardTrack, latest: bool, refused: Callable[[str], bool]) -> OpenPlan:
    """How to open ``track`` now; sets the track's skip and gap checks to match.

    After something was delivered (or a resumed session's position): the record after it
    (``AFTER_SEQUENCE_NUMBER``; ``AT_SEQUENCE_NUMBER`` when only some of its sub-records
    were). With a start time and nothing delivered: ``AT_TIMESTAMP``. A type the gateway
    ``refused`` becomes TRIM_HORIZON plus skipping (by sequence, or by arrival time).
    Else as before: LATEST for a ``latest`` tail's first shards, TRIM_HORIZON otherwise,
    and a LATEST tail that delivered nothing re-opens at LATEST with a gap.
    """
    track.check_gap = track.check_retention = track.skipping = track.fallback = False
    if track.last_seq is not None:
        kind = "AFTER_SEQUENCE_NUMBER" if track.last_sub is None else "AT_SEQUENCE_NUMBER"
        if not refused(kind):
            track.check_retention = True
            return OpenPlan(kind, sequence=track.last_seq)
        track.check_gap = track.skipping = track.fallback = True
        return OpenPlan("TRIM_HORIZON", fallback=True)
    if track.since_ms is not None:
        if not refused("AT_TIMESTAMP"):
            return OpenPlan("AT_TIMESTAMP", timestamp=track.since_ms / 1000)
        track.skipping = track.fallback = True
        return OpenPlan("TRIM_HORIZON", fallback=True)
    if not track.opened:
        return OpenPlan("LATEST" if track.initial and latest else "TRIM_HORIZON")
    if track.start_kind == "TRIM_HORIZON":
        return OpenPlan("TRIM_HORIZON")
    return OpenPlan("LATEST", gap=True)


def trim_gap(
    track: ShardTrack, records: Records, millis_behind: int
) -> tuple[int | None, int | None] | None:
    """After a TRIM_HORIZON re-open, the span retention may have trimmed, if any.

    When the oldest retained record is already past the last delivered one, records between
    them may have expired unread. Checked on the first non-empty page after the re-open.
    """
    if not track.check_gap:
        return None
    if not records:
        track.check_gap = millis_behind > 0  # an empty, caught-up shard: nothing to compare
        return None
    track.check_gap = False
    first = seq_int(records[0])
    if first is None or track.last_seq is None or first <= track.last_seq:
        return None
    return track.last_arrival_ms, arrival_ms(records[0])


def fill_seconds(records: Records, limit: int) -> float:
    """Seconds a shard takes to gather ``limit`` records, from the arrival span of a page."""
    if len(records) < 2:
        return math.inf
    first, last = arrival_ms(records[0]), arrival_ms(records[-1])
    if first is None or last is None or last <= first:
        return math.inf
    return (last - first) / 1000 / (len(records) - 1) * limit


def read_pause(records: Records) -> float:
    """Seconds the shard needs before it can serve again after a page of ``records``."""
    encoded = 0
    for record in records:
        data = record.get("Data")
        if isinstance(data, str):
            encoded += len(data)
    return encoded * 3 / 4 / SHARD_READ_BYTES_PER_SECOND  # base64: 4 characters, 3 bytes


def retention_gap(
    track: ShardTrack, records: Records, millis_behind: int, retention_ms: int | None, now_ms: int
) -> tuple[int | None, int | None] | None:
    """After a re-open at a sequence number: the span retention trimmed, if it passed the
    last delivered record (its arrival is older than the retention period).

    "Now" is the server's when the page tells it (its last arrival plus MillisBehindLatest),
    so a client clock that is off does not invent or hide a gap; ``now_ms`` otherwise.
    """
    if not track.check_retention:
        return None
    track.check_retention = False
    last = track.last_arrival_ms
    newest = arrival_ms(records[-1]) if records else None
    if newest is not None:
        now_ms = newest + max(0, millis_behind)
    if retention_ms is None or last is None or last >= now_ms - retention_ms:
        return None
    return last, (arrival_ms(records[0]) if records else now_ms)


def undelivered(track: ShardTrack, records: Records) -> tuple[Records, int]:
    """The records not delivered yet, and how many were skipped as re-reads.

    Past the last delivered record (or at it, when only some of its sub-records were);
    with a start time and nothing delivered, from the first record that arrived at or
    after it (Kinesis' AT_TIMESTAMP, also when TRIM_HORIZON stands in for it).
    """
    last = track.last_seq
    if last is None:
        since = track.since_ms
        if since is None or not records:
            return records, 0
        for i, record in enumerate(records):
            arrived = arrival_ms(record)
            if arrived is None or arrived >= since:
                return records[i:], i
        return [], len(records)
    if not records:
        return records, 0
    floor = last if track.last_sub is None else last - 1
    first = seq_int(records[0])
    if first is not None and first > floor:
        return records, 0  # the usual case: one int() per page
    kept = [r for r in records if (s := seq_int(r)) is None or s > floor]
    return kept, len(records) - len(kept)


def drop_delivered_subs(track: ShardTrack, readings: list[Any]) -> list[Any]:
    """Of a re-read partly delivered record (``last_sub`` set), drop the sub-records that
    were delivered; once the record has been passed, the track forgets ``last_sub``."""
    sub, last = track.last_sub, track.last_seq
    if sub is None or last is None or not readings:
        return readings
    text = str(last)
    kept = [r for r in readings if not (r.seq == text and r.sub <= sub)]
    track.last_sub = None
    return kept


def note_delivered(track: ShardTrack, records: Records) -> None:
    """Move the shard's position to the last of ``records`` (they are in sequence order)."""
    last = seq_int(records[-1]) if records else None
    if last is not None and (track.last_seq is None or last >= track.last_seq):
        track.last_seq = last
        track.last_sub = None
        track.last_arrival_ms = arrival_ms(records[-1])
        track.since_ms = None  # positioned by sequence from now on


# --- failures: backoff and the state to show ---------------------------------------------------


class Health:
    """Whether calls are failing, how long every shard backs off, and the trouble to show.

    Errors reach the reader only after the client's own retries, so a failure here has
    already persisted: the reader waits longer each time (with jitter, so readers sharing a
    credential do not align) and never gives up on a transient kind.
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self.failures = 0
        self.backoff_until = 0.0  # clock() before which no shard is called
        self.trouble: FeedState | None = None  # THROTTLED, RECONNECTING or OFFLINE
        self.detail = ""

    def success(self) -> None:
        """A call worked: trouble is over."""
        self.failures = 0
        self.backoff_until = 0.0
        self.trouble = None

    def failure(self, exc: FluxError, now: float) -> float:
        """A transient error the client gave up on; returns the seconds to back off."""
        self.failures += 1
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (self.failures - 1))
        delay *= self._rng.uniform(0.5, 1.0)
        self.backoff_until = now + delay
        if exc.action is Action.THROTTLED:
            self.trouble = FeedState.THROTTLED
        elif isinstance(exc, errors.ConnectError) or self.failures >= 3:
            self.trouble = FeedState.OFFLINE
        else:
            self.trouble = FeedState.RECONNECTING
        self.detail = str(exc)
        return delay

    def notice(self, event: object) -> bool:
        """A client notice (429 or a retry under way); False when it is neither."""
        if isinstance(event, Throttled):
            self.trouble, self.detail = FeedState.THROTTLED, "rate limited (429)"
        elif isinstance(event, FeedProblem):
            offline = isinstance(event.error, errors.ConnectError) and self.failures > 0
            self.trouble = FeedState.OFFLINE if offline else FeedState.RECONNECTING
            self.detail = str(event.error)
        else:
            return False
        return True
