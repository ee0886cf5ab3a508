"""Every shipped theme paints every cell (no cell on the terminal's default background: black
bands under a light theme), and a theme switch redraws the rows already on screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from rich.segment import Segment

from flux_tui.ui.app import FluxApp
from flux_tui.ui.themes import BUNDLED_DIR, theme_from_file

THEMES = sorted(theme_from_file(p).name for p in BUNDLED_DIR.glob("*.toml"))


def _segments(item: Any) -> Iterator[Segment]:
    if isinstance(item, Segment):
        yield item
    else:
        for inner in item:
            yield from _segments(inner)


def screen_cells(app: FluxApp) -> list[list[Segment]]:
    """What the screen draws now, a list of segments a row."""
    update = app.screen._compositor.render_full_update()
    return [list(_segments(strip)) for strip in update.strips]


def unpainted(app: FluxApp) -> list[tuple[int, str]]:
    return [(y, seg.text) for y, row in enumerate(screen_cells(app)) for seg in row
            if seg.text and (seg.style is None or seg.style.bgcolor is None
                             or seg.style.bgcolor.is_default)]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_no_cell_on_the_default_background_in_any_theme(size: tuple[int, int]) -> None:
    app = FluxApp(opener_for([fleet_batch(0, 400)]), clock=lambda: T0_MS / 1000 + 100,
                  utc=True)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await pilot.press("a")  # the tree too, at 80×24
        for theme in THEMES:
            app.theme = theme
            await settle(pilot)
            await settle(pilot)
            assert unpainted(app) == [], theme


async def test_a_theme_switch_redraws_the_rows_on_screen() -> None:
    app = FluxApp(opener_for([fleet_batch(0, 400)]), clock=lambda: T0_MS / 1000 + 100,
                  utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        app.log_view.action_pause()  # no new rows: only a redraw can change them
        for theme in ("flux-light", "flux-dark"):
            app.theme = theme
            await settle(pilot)
            background = app.log_view.rich_style.bgcolor
            region = app.log_view.content_region
            rows = screen_cells(app)[region.y:region.bottom]
            stale = [y for y, row in enumerate(rows) if any(
                seg.style is not None and seg.style.bgcolor not in (None, background)
                and seg.text.strip() and "22:" in seg.text for seg in row)]
            assert not stale, (theme, stale)
