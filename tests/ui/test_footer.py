"""At 80×24 and 120×40: r, s and o (record, save, open) are in the footer and described in
help; at 80 columns with the tree shown, the log still shows values."""

from __future__ import annotations

import pytest
from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.ui.app import FluxApp


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_footer_shows_record_save_open(size: tuple[int, int]) -> None:
    app = FluxApp(opener_for([fleet_batch(0, 40)]), clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        for entry in ("r Rec", "s Save", "o Open", "q Quit", "? Help"):
            assert entry in footer, footer
        rows = dict(row for _, section in app.key_sections() for row in section)
        assert rows["r"] == "Record on/off" and rows["s"] == "Save the log"
        assert rows["o"] == "Open a session"
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "Keys" in text


async def test_tree_at_80_columns_keeps_values_in_the_log() -> None:
    app = FluxApp(opener_for([fleet_batch(0, 40)]), clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        await pilot.press("a")  # the tree, hidden at first on a narrow screen
        await settle(pilot)
        assert app.asset_tree.display
        newest = app.store.reading_at(app.store.total - 1)
        lines = [line for line in screen_text(app).splitlines() if "22:13:" in line]
        assert lines and f"{newest.val}" in lines[-1]  # the value is not cut off


_ENTRIES = ("⏎ Detail", "space Pause", "r Rec", "s Save", "o Open", "q Quit", "/ Filter",
            "? Help", "p Pin", "w Window", "a Assets", "g Graphs", "^p palette")


def _footer_entries(app: FluxApp) -> str:
    footer = screen_text(app).splitlines()[-1]
    rest = footer
    for entry in _ENTRIES:
        rest = rest.replace(entry, "")
    assert not rest.replace("▏", "").strip(), f"a key cut in part: {footer!r}"
    return footer


async def test_footer_keys_are_whole_at_any_width_and_after_any_resize() -> None:
    app = FluxApp(opener_for([fleet_batch(0, 40)]), clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        await settle(pilot)
        wide = _footer_entries(app)
        assert "^p palette" in wide
        seen: dict[int, str] = {}
        for width in (80, 60, 120, 60, 80):
            await pilot.resize_terminal(width, 24)
            await settle(pilot)
            footer = _footer_entries(app)
            assert ("^p palette" in footer) == (width >= 100)
            assert seen.setdefault(width, footer) == footer  # the same whatever came before


async def test_panels_after_a_resize_do_not_depend_on_the_resize_history() -> None:
    """A size shows the same panels whatever came before: a toggle holds until the terminal
    crosses that panel's threshold (tree 100 columns, sparklines 30 rows)."""
    app = FluxApp(opener_for([fleet_batch(0, 40)]), clock=lambda: T0_MS / 1000, utc=True)

    def panels() -> tuple[bool, bool]:
        return app.asset_tree.display, app.sparks.display

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        assert panels() == (False, False)
        await pilot.press("a", "g")  # both shown by hand at 80×24
        assert panels() == (True, True)
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert panels() == (True, True)
        await pilot.press("a")  # hidden by hand at 120×40
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert panels() == (False, False)  # as when started at 80×24
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert panels() == (True, True)  # as when started at 120×40
        await pilot.resize_terminal(120, 24)
        await settle(pilot)
        assert panels() == (True, False)
