"""Asset names everywhere a unit is shown: tree, log, sparkline labels, the scope text, the
command palette (by name and by id) and the reading detail; and "names unavailable"."""

from __future__ import annotations

import asyncio
from typing import Any

from fakefeed import FakeReader, FakeSession, fleet_batch
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.ui.app import FluxApp
from flux_tui.ui.detail import ReadingDetail

T0 = 1_764_400_000.0


class StubNames:
    """What the viewer reads of an AssetDirectory: names by id, a version and a state."""

    def __init__(self, names: dict[int, str], state: str = "fresh") -> None:
        self.names = names
        self.state = state
        self.version = 1

    async def run(self) -> None:
        await asyncio.Event().wait()

    def asset_name(self, asset_id: Any) -> str | None:
        return self.names.get(asset_id)

    def site_name(self, site_id: Any) -> str | None:
        return None

    def org_name(self, org_id: Any) -> str | None:
        return None

    def details(self, asset_id: Any) -> None:
        return None

    def lookup_missing(self, asset_id: Any) -> bool:
        return False


def app_with(names: StubNames) -> FluxApp:
    async def opener() -> FakeSession:
        session = FakeSession(FakeReader([fleet_batch(0, 400)], True))
        session.names = names  # type: ignore[attr-defined]
        return session

    return FluxApp(opener, clock=lambda: T0, utc=True)


async def test_unit_names_in_sparklines_scope_palette_and_detail() -> None:
    app = app_with(StubNames({1111: "Pad 7 Compressor", 1112: "Heater Treater West"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        await pilot.press("up", "p")  # pin the newest line's tag (unit 1112)
        await settle(pilot)
        await wait_until(pilot, lambda: "Heater" in app.sparks.render().plain)
        # the palette finds a unit by name and by id, and shows both
        await pilot.press("ctrl+p", *"heater")
        await wait_until(pilot, lambda: "Go to unit: Heater Treater West (1112)"
                         in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.store.view_len() == 200)
        await settle(pilot)
        assert "Heater Treater West · 200 of 400" in screen_text(app)  # the scope text
        await pilot.press("ctrl+p", *"1111")
        await wait_until(pilot, lambda: "Go to unit: Pad 7 Compressor (1111)"
                         in screen_text(app))
        await pilot.press("escape")
        await pilot.press("up", "enter")  # the reading detail names the unit
        await wait_until(pilot, lambda: isinstance(app.screen, ReadingDetail))
        await pilot.pause()
        assert "Heater Treater West (1112)" in screen_text(app)


async def test_status_bar_says_names_unavailable() -> None:
    app = app_with(StubNames({}, state="unavailable"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        assert "names unavailable" in screen_text(app)
        assert "1111" in screen_text(app)  # ids until names come
