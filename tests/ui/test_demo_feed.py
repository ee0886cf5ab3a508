"""The viewer on the real feed stack: the demo profile's in-process simulator, seeded, with a
frozen clock (client, reader, decoder and store all real)."""

from __future__ import annotations

from typing import Any

from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.base.events import FeedState
from flux_tui.config import load_config
from flux_tui.connect import open_feed
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings
from flux_tui.ui.app import FluxApp
from flux_tui.ui.info_screens import InfoScreen

NOW = 1_764_400_000.0


def seeded_demo_app() -> FluxApp:
    profile = load_config(env={}).profile("demo")
    simulator = Simulator(SimSettings(seed=7, company="demo", units=6, sites=2, orgs=1),
                          SimClock.manual_at(NOW))

    async def opener() -> Any:
        return await open_feed(profile, start="trim-horizon", simulator=simulator)

    return FluxApp(opener, clock=lambda: NOW, utc=True)


async def test_demo_backlog_fills_the_screen_and_a_unit_filter_narrows_it() -> None:
    app = seeded_demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.caught_up and app.store.total > 500, 60)
        await settle(pilot)
        store = app.store
        assert store.state is FeedState.LIVE
        assert len(store.units) == 6
        text = screen_text(app)
        assert "LIVE" in text and "API " in text and "token " in text
        unit = next(iter(store.units))
        # unit names come from the simulator's Enterprise Objects, in the tree and the log
        await wait_until(pilot, lambda: app.names is not None
                         and app.names.asset_name(unit) is not None)
        await settle(pilot)
        await settle(pilot)
        assert app.names.asset_name(unit) in screen_text(app)
        await pilot.press("slash", *f"asset:{unit}", "enter")
        await settle(pilot)
        assert 0 < store.view_len() < store.held
        assert all(r.asset_id == unit for _, r, _ in store.view_slice(0, store.view_len()))
        assert f" of {store.held:,}" in screen_text(app)
        await pilot.press("i")  # the newest line's unit: its Enterprise Objects record
        await wait_until(pilot, lambda: isinstance(app.screen, InfoScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "organisation" in text and "mechanic" in text and "tags seen" in text
