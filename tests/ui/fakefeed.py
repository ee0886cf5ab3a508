"""A deterministic fake feed session for the viewer's tests: synthetic readings in batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from flux_tui.base.events import FeedState, StateChanged
from flux_tui.feed.types import Batch, FeedItem, Reading, SourceFacts

T0_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z
LABELS = ["Suction Pressure", "Discharge Pressure", "Engine Speed", "Run Status"]


def make_reading(n: int, *, asset: int = 1111, tag: int = 0, label: str | None = None,
                 val: Any = None, ms: int | None = None, site: int = 2222) -> Reading:
    """Reading number ``n``: a second apart, a value that moves predictably."""
    ms = T0_MS + n * 1000 if ms is None else ms
    label = LABELS[tag % len(LABELS)] if label is None else label
    if val is None:
        val = ("RUN" if (n // 8) % 2 == 0 else "STOP") if tag == 3 else \
            round(30.0 + tag * 100 + (n % 7) * 0.5, 1)
    payload = {"epochMs": ms, "rtms": ms + 400, "assetId": asset, "tagId": 900 + tag,
               "registerId": 400 + tag, "label": label, "val": val, "orgId": 333,
               "siteId": site, "tagName": f"register_tag__{tag}"}
    return Reading("shardId-000000000000", str(49_000_000_000_000_000_000 + n), 0,
                   ms / 1000 + 0.5, ms, ms + 400, 333, site, asset, 900 + tag, 400 + tag,
                   f"register_tag__{tag}", label, val, payload)


def fleet_batch(start: int, count: int, *, units: tuple[int, ...] = (1111, 1112)) -> Batch:
    """``count`` readings round-robin over ``units`` x 4 tags, numbered from ``start``."""
    rows = []
    for n in range(start, start + count):
        unit = units[n % len(units)]
        tag = (n // len(units)) % len(LABELS)
        rows.append(make_reading(n, asset=unit, tag=tag, ms=T0_MS + n * 250))
    return Batch("shardId-000000000000", rows, [], 0, T0_MS / 1000 + (start + count) / 4)


@dataclass
class FakeReader:
    """Yields the given items, then waits for more pushed with :meth:`push` (or stops)."""

    items: list[FeedItem]
    stay_open: bool = True
    queue: asyncio.Queue[FeedItem | None] = field(default_factory=asyncio.Queue)

    def push(self, item: FeedItem) -> None:
        self.queue.put_nowait(item)

    async def __aiter__(self) -> AsyncIterator[FeedItem]:
        yield StateChanged(FeedState.LIVE, "")
        for item in self.items:
            yield item
        while self.stay_open:
            item = await self.queue.get()
            if item is None:
                return
            yield item

    async def aclose(self) -> None:
        self.queue.put_nowait(None)


class FakeBudget:
    remaining = 83
    calls = 100
    resets_in = 41.0


class FakeTokens:
    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at


@dataclass
class FakeSession:
    """A feed source (``flux_tui.view.source.FeedSource``) over a :class:`FakeReader`."""

    reader: FakeReader
    budget: FakeBudget = field(default_factory=FakeBudget)
    tokens: Any = None
    names: Any = None  # a NameDirectory, or None: the source has no names
    closed: bool = False

    def __aiter__(self) -> AsyncIterator[FeedItem]:
        return self.reader.__aiter__()

    def facts(self) -> SourceFacts:
        expires = self.tokens.expires_at if self.tokens is not None else None
        return SourceFacts(budget_left=self.budget.remaining,
                           budget_total=self.budget.calls,
                           budget_resets_in=self.budget.resets_in, token_expires_at=expires)

    def person_login(self) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True
        await self.reader.aclose()


def opener_for(items: list[FeedItem], *, stay_open: bool = True, sessions: list | None = None,
               token_expires_at: float | None = None):  # type: ignore[no-untyped-def]
    """An opener (as FluxApp takes) that hands out a fresh fake session each time."""

    async def opener() -> FakeSession:
        session = FakeSession(FakeReader(list(items), stay_open),
                              tokens=FakeTokens(token_expires_at) if token_expires_at else None)
        if sessions is not None:
            sessions.append(session)
        return session

    return opener
