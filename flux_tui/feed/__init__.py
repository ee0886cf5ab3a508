"""The feed layer: shard reader (scheduling, iterators, dedupe) and record decoder.

``async for item in ShardReader(client, budget)`` yields :class:`Batch` es of decoded
:class:`Reading` s and reader events (:mod:`flux_tui.base.events`); see :mod:`flux_tui.feed.reader` for an example.
"""

from flux_tui.feed.decoder import decode_records
from flux_tui.feed.reader import ReaderStats, ShardReader
from flux_tui.feed.schedule import ShardInfo
from flux_tui.feed.types import Batch, DecodeError, FeedItem, Reading

__all__ = [
    "Batch",
    "DecodeError",
    "FeedItem",
    "ReaderStats",
    "Reading",
    "ShardInfo",
    "ShardReader",
    "decode_records",
]
