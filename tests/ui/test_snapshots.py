"""Snapshot tests of the main views at 120x40 and 80x24 with deterministic data.

Time-dependent text is frozen: the clock is injected and times are shown in UTC. Update the
pictures with ``pytest tests/ui/test_snapshots.py --snapshot-update`` after a deliberate
change, and look at them (``snapshot_report.html``) before committing.
"""

from __future__ import annotations

from typing import Any

from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from textual.pilot import Pilot

from flux_tui.ui.app import FluxApp

CLOCK = T0_MS / 1000 + 100  # the newest reading of the batch: nothing is stale


def make_app() -> FluxApp:
    return FluxApp(opener_for([fleet_batch(0, 400)]), clock=lambda: CLOCK, utc=True)


async def loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.store.total == 400)  # type: ignore[attr-defined]
    for _ in range(4):  # sparklines redraw on every fourth tick
        await settle(pilot)


def test_main_view_120x40(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("up", "p")  # pin a state tag
        pilot.app.asset_tree.cursor_line = 3  # type: ignore[attr-defined]
        pilot.app.asset_tree.focus()  # type: ignore[attr-defined]
        await pilot.press("enter")  # scope to a numeric tag of unit 1111
        await loaded(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_main_view_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=loaded)


def test_filter_with_error_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("slash", *"engine (")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_reading_detail_120x40(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("up", "enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)
