"""Toasts that do not cover live data: none for toggles, repeats coalesce, at most two on
screen, none over help, at the top (over the log's oldest lines); every message kept whole
in the problems view (e)."""

from __future__ import annotations

from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from screen_text import screen_text
from textual.widgets._toast import Toast

from flux_tui.ui.app import FluxApp
from flux_tui.ui.help import HelpScreen
from flux_tui.ui.notices import MAX_TOASTS


def make_app() -> FluxApp:
    return FluxApp(opener_for([fleet_batch(0, 400)]), clock=lambda: T0_MS / 1000 + 100,
                   utc=True)


async def test_toggles_pop_no_toast_and_repeats_coalesce() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await pilot.press(*("w" * 12), *("t" * 4), *("g" * 4), *("a" * 4))
        await settle(pilot)
        assert len(app._notifications) == 0
        assert "Sparklines · 1m" in screen_text(app)  # 12 presses: back to 1m, on the panel
        for _ in range(20):
            app.notify("Select a tag first", timeout=5)
        for n in range(3):
            app.notify(f"feed problem {n}", severity="warning")
        await settle(pilot)
        shown = [str(n.message) for n in app._notifications]
        assert len(shown) <= MAX_TOASTS, shown
        app.notify("Select a tag first")
        await settle(pilot)
        assert [str(n.message) for n in app._notifications][-1] == "Select a tag first (×21)"
        # every message is kept whole for the problems view
        await pilot.press("e")
        await settle(pilot)
        text = screen_text(app)
        assert "Problems and messages" in text and "feed problem 2" in text
        assert "Select a tag first (×21)" in text


async def test_no_toast_over_help_and_toasts_sit_at_the_top() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        app.notify("Saved 400 readings to somewhere.jsonl")
        await settle(pilot)
        await wait_until(pilot, lambda: bool(app.screen.query(Toast)))
        toast = app.screen.query_one(Toast)
        # at the top right, not over the log's newest lines (at its bottom)
        assert toast.region.y <= 4 and toast.region.right >= 110, toast.region
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        app.notify("Saved again")
        await settle(pilot)
        assert len(app._notifications) == 0
        assert "Saved" not in screen_text(app)
        assert app.notices.notices[-1].message == "Saved again"  # kept for `e`
