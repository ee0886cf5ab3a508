"""Sparkline rows carry the figures a technician reads: last, min, max and avg over the
window (min–max as a range) at 120 columns with the tree shown and at 80 columns."""

from __future__ import annotations

from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until

from flux_tui.ui.app import FluxApp


def app() -> FluxApp:
    return FluxApp(opener_for([fleet_batch(0, 400)]), clock=lambda: T0_MS / 1000 + 100,
                   utc=True)


async def pin_two_numeric_tags(pilot, viewer: FluxApp) -> list[str]:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: viewer.store.total == 400)
    await settle(pilot)
    # newest lines: Run Status (state) ×2, then Engine Speed of 1112 and 1111 (numeric)
    await pilot.press("up", "up", "up", "p", "up", "p")
    assert len(viewer.sparks.pinned) == 2
    await settle(pilot)
    return viewer.sparks.render().plain.splitlines()


async def test_sparklines_show_last_min_max_avg_at_120_columns() -> None:
    viewer = app()
    async with viewer.run_test(size=(120, 40)) as pilot:
        lines = await pin_two_numeric_tags(pilot, viewer)
        numeric = [line for line in lines if "Engine" in line]
        assert len(numeric) == 2
        for line, key in zip(numeric, viewer.sparks.pinned):
            stats = viewer.store.tags[key].stats(60, viewer.sparks.now)
            # last, then min–max, then the mean over the window
            assert f"{stats.min:.1f}–{stats.max:.1f}" in line and " avg " in line
            assert f"{viewer.store.tags[key].last:.1f}" in line and "⚑" in line


async def test_sparklines_keep_the_figures_at_80_columns() -> None:
    viewer = app()
    async with viewer.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")  # the panel starts hidden on a short screen
        lines = await pin_two_numeric_tags(pilot, viewer)
        numeric = [line for line in lines if "Engine" in line]
        assert len(numeric) == 2
        for line in numeric:
            assert "–" in line and " avg " in line and "⚑" in line
            assert any(ch in line for ch in "▁▂▃▄▅▆▇█")
