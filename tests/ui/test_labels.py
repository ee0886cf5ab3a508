"""Long names that share a prefix stay told apart: the tree's tag labels and the clipping
rule behind them (the end of a name is what differs)."""

from __future__ import annotations

import pytest
from fakefeed import T0_MS, make_reading, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch
from flux_tui.ui.app import FluxApp
from flux_tui.ui.labels import clip_apart, clip_middle


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("Run Status", 12, "Run Status"),
    ("Valve Loaded Position #1", 16, "Valve Loaded…#1"),
    ("Valve Loaded Position #12", 12, "Valve…#12"),
    ("abc", 1, "a"),
])
def test_clip_middle_abbreviates_then_leaves_out_whole_words(text: str, width: int,
                                                             expected: str) -> None:
    assert clip_middle(text, width) == expected


def test_same_label_tags_of_a_unit_get_the_differing_part_of_their_names() -> None:
    store = LiveStore()
    rows = [make_reading(n, tag=n, label="Valve Loaded Position") for n in range(4)]
    rows = [r._replace(tag_name=f"loading_valve_#{n + 1}_status")
            for n, r in enumerate(rows)]
    rows.append(make_reading(5, asset=1112, tag=0, label="Valve Loaded Position"))
    store.ingest(Batch("shardId-000000000000", rows, [], 0, 0.0))
    names = [t.display_name for t in store.units[1111].tags.values()]
    assert names == [f"Valve Loaded Position #{n}" for n in range(1, 5)]
    # alone in its unit: no suffix
    assert [t.display_name for t in store.units[1112].tags.values()] == ["Valve Loaded Position"]


async def test_tree_tells_tags_with_a_shared_long_prefix_apart() -> None:
    # as the demo's compressors: one label, tag names that differ in the middle
    rows = [make_reading(n, tag=n, label="Valve Loaded Position",
                         ms=T0_MS + n * 1000)._replace(
                             tag_name=f"loading_valve_#{n + 1}_status") for n in range(4)]
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


def test_clip_apart_keeps_the_words_that_tell_siblings_apart() -> None:
    names = ["Exhaust Temperature Left Bank", "Exhaust Temperature Right Bank", "Engine Speed"]
    clipped = clip_apart(names, 15)
    assert clipped == ["Exh…Left Bank", "Exh…Right Bank", "Engine Speed"]


async def test_the_tree_never_grows_wider_than_its_panel_after_a_resize() -> None:
    """Labels made for a 40-wide tree, left in collapsed units, kept the tree wider than its
    36 columns at 80: a horizontal scrollbar appeared at its bottom."""
    names = ["Exhaust Temperature Right Bank", "Stage 3 Discharge Temperature",
             "Compressor Oil Temperature", "Valve Loaded Position"]
    rows = [make_reading(n, asset=1111 + n % 2, tag=n, label=names[n % 4],
                         ms=T0_MS + n * 250) for n in range(16)]
    batch = Batch("shardId-000000000000", rows, [], 0, T0_MS / 1000 + 5)
    app = FluxApp(opener_for([batch]), clock=lambda: T0_MS / 1000 + 5, utc=True)
    async with app.run_test(size=(170, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 16)
        await settle(pilot)
        await settle(pilot)
        for size in ((80, 24), (120, 40)):
            await pilot.resize_terminal(*size)
            if not app.asset_tree.display:  # hidden at first below 100 columns
                await pilot.press("a")
            await settle(pilot)
            await settle(pilot)
            tree = app.asset_tree
            assert tree.virtual_size.width <= tree.scrollable_content_region.width, size
