"""Make the README's SVG screenshots of the viewer from a seeded, frozen-clock demo.

    python scripts/screenshots.py            # writes screenshots/*.svg

The embedded simulator runs with a fixed seed and a manual clock, so the same pictures come
out every time (the backlog is read from trim-horizon; then the feed is caught up and quiet).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from flux_tui.config import load_config
from flux_tui.connect import open_feed
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings
from flux_tui.ui.app import FluxApp
from flux_tui.ui.detail import ReadingDetail
from flux_tui.ui.help import HelpScreen

NOW = 1_764_400_000.0  # 2025-11-29T07:06:40Z: the frozen "now" of the demo
OUT = Path(__file__).resolve().parent.parent / "screenshots"


def seeded_app(**options: Any) -> FluxApp:
    """The viewer on a seeded in-process simulator whose clock stands still at NOW."""
    profile = load_config(env={}).profile("demo")
    simulator = Simulator(SimSettings(seed=7, company="demo", units=8, sites=3, orgs=1),
                          SimClock.manual_at(NOW))

    async def opener() -> Any:
        return await open_feed(profile, start="trim-horizon", simulator=simulator)

    return FluxApp(opener, clock=lambda: NOW, utc=True, **options)


async def wait_for(pilot: Any, condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the demo did not reach the expected state in time")
        await pilot.pause(0.05)


async def shoot(name: str, size: tuple[int, int], steps: Any) -> None:
    app = seeded_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.store.caught_up and app.store.total > 1000)
        await wait_for(pilot, lambda: not app.asset_tree.display
                       or app.asset_tree.get_node_at_line(4) is not None)
        await steps(app, pilot)
        for _ in range(6):  # let slow panels (sparklines 1 Hz) catch up
            await pilot.pause(0.26)
        app.save_screenshot(f"{name}.svg", str(OUT))
        if "--text" in sys.argv:  # what the picture shows, for a look without an SVG viewer
            strips = app.screen._compositor.render_strips()
            print("\n".join("".join(s.text for s in strip).rstrip() for strip in strips))
        print(f"screenshots/{name}.svg")


async def main_view(app: FluxApp, pilot: Any) -> None:
    await pilot.press("up", "up", "p", "up", "p", "up", "up", "up", "p")


async def scoped(app: FluxApp, pilot: Any) -> None:
    app.asset_tree.focus()
    app.asset_tree.cursor_line = 2
    await pilot.press("enter")
    await pilot.press("slash", *"pressure", "enter")


async def detail(app: FluxApp, pilot: Any) -> None:
    await pilot.press("up", "up", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ReadingDetail))


async def help_screen(app: FluxApp, pilot: Any) -> None:
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))


async def small(app: FluxApp, pilot: Any) -> None:
    await pilot.press("slash", *"engine speed", "enter")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    await shoot("viewer", (120, 40), main_view)
    await shoot("scoped-filter", (120, 40), scoped)
    await shoot("reading-detail", (120, 40), detail)
    await shoot("help", (120, 40), help_screen)
    await shoot("viewer-80x24", (80, 24), small)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
