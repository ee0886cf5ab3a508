"""Long names that share a prefix stay told apart: the tree's tag labels and the clipping
rule behind them (the end of a name is what differs)."""

from __future__ import annotations

import pytest
from fakefeed import T0_MS, make_reading, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.feed.types import Batch
from flux_tui.ui.app import FluxApp
from flux_tui.ui.labels import clip_middle


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("Run Status", 12, "Run Status"),
    ("Valve Loaded Position #1", 16, "Valve Loa…ion #1"),
    ("Valve Loaded Position #12", 12, "Valve L… #12"),
    ("abc", 1, "…"),
])
def test_clip_middle_keeps_the_end(text: str, width: int, expected: str) -> None:
    assert clip_middle(text, width) == expected


async def test_tree_tells_tags_with_a_shared_long_prefix_apart() -> None:
    rows = [make_reading(n, tag=n, label=f"Valve Loaded Position #{n + 1}",
                         ms=T0_MS + n * 1000) for n in range(4)]
    batch = Batch("shardId-000000000000", rows, [], 0, T0_MS / 1000 + 5)
    app = FluxApp(opener_for([batch]), clock=lambda: T0_MS / 1000 + 5, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 4)
        await settle(pilot)
        await settle(pilot)  # the tree redraws every other tick
        tree_lines = [line[:38] for line in screen_text(app).splitlines()]
        tags = [line for line in tree_lines if "Valve" in line]
        assert len(tags) == 4
        for n in range(1, 5):
            assert sum(f"#{n}" in line for line in tags) == 1, tags
