"""What a feed source reports besides readings: its state and the reader's events. The API
client reports some of them (``Throttled``, ``FeedProblem``) as they happen, the reader
all of them; both import them from here (the API layer never imports the feed layer)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FeedState(enum.Enum):
    """The connection state shown in the status bar."""

    CONNECTING = "connecting"
    CATCHING_UP = "catching up"
    LIVE = "live"
    THROTTLED = "throttled"
    RECONNECTING = "reconnecting"
    AUTH_NEEDED = "auth needed"
    OFFLINE = "offline"
    STOPPED = "stopped"
    REPLAY = "replay"  # a saved session played back (flux-tui open)


@dataclass(frozen=True, slots=True)
class StateChanged:
    state: FeedState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Throttled:
    """A 429: every call waits until ``until`` (time.time())."""

    until: float


@dataclass(frozen=True, slots=True)
class Gap:
    """Readings that could not be read (e.g. an iterator expired and LATEST was taken)."""

    shard: str
    start_ms: int | None
    end_ms: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ShardOpened:
    shard: str
    parents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShardClosed:
    shard: str
    children: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaughtUp:
    """Every open shard answered MillisBehindLatest == 0 with a page smaller than the limit."""


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """A failed call. ``retry_in`` is None when the reader has given up (fatal)."""

    error: Exception
    retry_in: float | None


ReaderEvent = StateChanged | Throttled | Gap | ShardOpened | ShardClosed | CaughtUp | FeedProblem
