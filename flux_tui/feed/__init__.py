"""The feed layer: shard reader (scheduling, iterators, dedupe) and record decoder.

``async for item in ShardReader(client, budget)`` yields :class:`Batch` es of decoded
:class:`Reading` s and reader events; see :mod:`flux_tui.feed.reader` for an example.
"""

from flux_tui.feed.decoder import decode_records
from flux_tui.feed.reader import ReaderStats, ShardReader
from flux_tui.feed.schedule import ShardInfo
from flux_tui.feed.types import (
    Batch,
    CaughtUp,
    DecodeError,
    FeedItem,
    FeedProblem,
    FeedState,
    Gap,
    ReaderEvent,
    Reading,
    ShardClosed,
    ShardOpened,
    StateChanged,
    Throttled,
)

__all__ = [
    "Batch",
    "CaughtUp",
    "DecodeError",
    "FeedItem",
    "FeedProblem",
    "FeedState",
    "Gap",
    "ReaderEvent",
    "ReaderStats",
    "Reading",
    "ShardClosed",
    "ShardInfo",
    "ShardOpened",
    "ShardReader",
    "StateChanged",
    "Throttled",
    "decode_records",
]
