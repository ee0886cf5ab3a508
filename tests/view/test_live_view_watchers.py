"""The view's watchers (the viewer's alarms) see every reading, before the filter, and the
events; the taps still see only what passes the filter."""

from __future__ import annotations

from typing import Any

from test_live_view import Source, batch

from flux_tui.base.events import Gap
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Reading
from flux_tui.view.live import LiveView, StopWhen
from flux_tui.view.source import FeedSource, ViewEvent


class Recording:
    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.events: list[Any] = []
        self.ticks = 0

    def take(self, readings: list[Reading]) -> None:
        self.readings += readings

    def note(self, event: ViewEvent) -> None:
        self.events.append(event)

    def tick(self) -> None:
        self.ticks += 1


async def test_watchers_see_everything_taps_see_the_filtered() -> None:
    gap = Gap("shardId-0", None, None, "test")
    source = Source([batch(0, 10), gap, batch(10, 10)])

    async def opener() -> FeedSource:
        return source  # type: ignore[return-value]

    view = LiveView(opener, store=LiveStore(100))
    view.set_filter(lambda r: r.asset_id == 1111)
    watcher, tap = Recording(), Recording()
    view.watchers.append(watcher)
    view.taps.append(tap)
    await view.run(StopWhen(headless=True))
    assert len(watcher.readings) == 20 and len(tap.readings) == 10
    assert {r.asset_id for r in watcher.readings} == {1111, 1112}
    assert gap in watcher.events and gap in tap.events
    view.tick()
    assert watcher.ticks == tap.ticks == 1
