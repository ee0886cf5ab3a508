"""The feed layer: shard reader (scheduling, iterators, dedupe) and record decoder.

``async for item in ShardReader(client, budget)`` yields :class:`Batch` es of decoded
:class:`Reading` s and reader events (:mod:`flux_tui.base.events`); see :mod:`flux_tui.feed.reader` for an example.

The reader and its scheduling load on first use (:mod:`flux_tui.base.lazy`): the decoder and
the types are what a saved session needs, and the reader brings the API layer (httpx).
"""

from typing import TYPE_CHECKING

from flux_tui.base.lazy import lazy_exports
from flux_tui.feed.decoder import decode_records
from flux_tui.feed.types import Batch, DecodeError, FeedItem, Reading

if TYPE_CHECKING:
    from flux_tui.feed.reader import ReaderStats, ShardReader
    from flux_tui.feed.schedule import ShardInfo

__getattr__ = lazy_exports(__name__, {
    "ReaderStats": "flux_tui.feed.reader",
    "ShardReader": "flux_tui.feed.reader",
    "ShardInfo": "flux_tui.feed.schedule",
})

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
