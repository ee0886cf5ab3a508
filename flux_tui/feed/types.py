"""What the feed hands upwards: readings in batches, decode errors, and reader events.

A :class:`Reading` is a plain named tuple (no model object per reading: the hot path decodes
tens of thousands a second). ``payload`` is the decoded JSON object with all of its fields,
untouched; the other fields are the canonical values read from either payload spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flux_tui.base.events import ReaderEvent


class Reading(NamedTuple):
    """One tag reading, as decoded from a Kinesis record."""

    shard: str  # shard id the record came from
    seq: str  # Kinesis sequence number (decimal string; compare as int)
    sub: int  # index inside a KPL aggregate or a multi-object record, else 0
    arrival: float  # ApproximateArrivalTimestamp, epoch seconds
    epoch_ms: int | None  # when the reading was taken (payload epochMs / @timestamp)
    rtms: int | None  # when it reached the cloud
    org_id: int | str | None
    site_id: int | str | None
    asset_id: int | str | None
    tag_id: int | str | None
    register_id: int | str | None
    tag_name: str
    label: str
    val: Any  # number, bool, str or None
    payload: dict[str, Any]  # the decoded object, every field kept


@dataclass(slots=True)
class DecodeError:
    """A record that could not be decoded; the raw bytes are kept for inspection."""

    shard: str
    seq: str
    reason: str
    raw: bytes
    arrival: float | None = None


@dataclass(slots=True)
class Batch:
    """The decoded readings of one GetRecords page of one shard."""

    shard: str
    readings: list[Reading]
    errors: list[DecodeError] = field(default_factory=list)
    millis_behind: int = 0
    received_at: float = 0.0  # wall clock (time.time()) when the page arrived


@dataclass(slots=True)
class ReaderStats:
    """The shard reader's counters, for the status bar and the end-of-run summary."""

    readings: int = 0
    decode_errors: int = 0
    requests: int = 0  # calls the reader made (the client counts HTTP attempts separately)
    throttled: int = 0  # 429s reported by the client
    gaps: int = 0
    duplicates_skipped: int = 0  # records re-read after a re-open and not delivered again
    pages: int = 0
    reopens: int = 0  # iterators re-opened after expiry or an invalid iterator


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What a feed source can say about itself at a moment, for the status bar, the end-of-run
    summary and a recording's metadata. ``None`` means the source has no such figure (a
    replay has no rate budget and no token)."""

    profile: str | None = None  # the profile the feed was opened with
    company: str | None = None
    origin: str | None = None  # a replayed session's file name
    budget_left: int | None = None  # calls left in the rate window
    budget_total: int | None = None  # calls a window allows
    budget_resets_in: float | None = None  # seconds until the oldest call leaves the window
    token_expires_at: float | None = None  # time.time() when the access token expires
    requests: int = 0  # HTTP attempts (the client's count)
    throttled: int = 0  # 429 answers
    millis_behind: int | None = None  # how far the read position is behind the stream's tip
    drain_rate: float | None = None  # readings a second delivered lately (while catching up)
    eta_seconds: float | None = None  # until caught up at the measured pace (None: unknown)


FeedItem = Batch | ReaderEvent
