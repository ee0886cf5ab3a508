"""Pilot tests of the tag log: follow, hold, new-line count, end, pause, detail, copy, UTC."""

from __future__ import annotations

import gc
import json

from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.ui.app import FluxApp
from flux_tui.ui.detail import ReadingDetail


def make_app(items: list, sessions: list | None = None, **kw) -> FluxApp:  # type: ignore[type-arg]
    return FluxApp(opener_for(items, sessions=sessions), clock=lambda: T0_MS / 1000 + 60,
                   utc=True, **kw)


async def test_follow_hold_new_lines_and_end() -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 200)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.log_view
        await wait_until(pilot, lambda: log._shown == 200 and log.scroll_offset.y == log.max_scroll_y > 0)
        assert log.follow
        await pilot.press("up", "up", "pageup")  # the highlight holds the view
        assert not log.follow
        held_top = log.scroll_offset.y
        sessions[0].reader.push(fleet_batch(200, 50))
        await wait_until(pilot, lambda: app.store.total == 250)
        await settle(pilot)
        assert log.scroll_offset.y == held_top  # the view did not move
        assert "50 new lines" in str(log.border_subtitle)
        await pilot.press("end")
        await settle(pilot)
        assert log.follow and log.scroll_offset.y == log.max_scroll_y
        assert log.border_subtitle == ""
        assert "22:14:22.250Z" in screen_text(app)  # the newest reading (n=249) is on screen


async def test_scrolling_up_holds_and_counts_waiting_lines() -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 300)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.log_view
        await wait_until(pilot, lambda: log.scroll_offset.y == log.max_scroll_y > 0)
        log.scroll_up(animate=False)  # what the mouse wheel does
        await pilot.pause()
        assert not log.follow
        sessions[0].reader.push(fleet_batch(300, 10))
        await wait_until(pilot, lambda: app.store.total == 310)
        await settle(pilot)
        assert "new lines" in str(log.border_subtitle)


async def test_pause_freezes_display_but_not_feed() -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 100)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.log_view
        await wait_until(pilot, lambda: log._shown == 100)
        before = screen_text(app)
        await pilot.press("space")
        assert log.paused
        sessions[0].reader.push(fleet_batch(100, 40))
        await wait_until(pilot, lambda: app.store.total == 140)
        await settle(pilot)
        assert log._shown == 100  # display frozen...
        assert "PAUSED" in str(log.border_subtitle)
        assert "paused" in screen_text(app)  # ...and said so in the status bar
        log_part = [line[37:-2] for line in screen_text(app).splitlines()[2:30]]
        assert log_part == [line[37:-2] for line in before.splitlines()[2:30]]
        await pilot.press("space")
        await settle(pilot)
        assert not log.paused and log._shown == 140


async def test_enter_opens_the_whole_reading_and_y_copies_json() -> None:
    app = make_app([fleet_batch(0, 20)])
    copied: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await wait_until(pilot, lambda: app.log_view._shown == 20)
        await pilot.press("up")  # highlight the newest line (n=19)
        await pilot.press("up")  # and the one before (n=18)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReadingDetail))
        await pilot.pause()
        shown = screen_text(app)
        assert "shardId-000000000000" in shown
        assert "49000000000000000018" in shown  # the sequence number
        assert "register_tag__" in shown and "tagName" in shown  # every payload field
        await pilot.press("y")
        assert json.loads(copied[-1])["_seq"] == "49000000000000000018"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ReadingDetail))
        await pilot.press("y")  # from the log: the highlighted line
        assert json.loads(copied[-1])["_seq"] == "49000000000000000018"


async def test_t_toggles_utc_and_columns_toggle() -> None:
    app = make_app([fleet_batch(0, 10)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.log_view._shown == 10)
        await pilot.pause()
        assert "22:13:22.250Z" in screen_text(app)
        await pilot.press("t")
        await pilot.pause()
        assert not app.log_view.utc
        assert "22:13:22.250Z" not in screen_text(app)
        assert ".250 " in screen_text(app)  # local time keeps milliseconds, no Z
        await pilot.press("n", "d")
        await pilot.pause()
        text = screen_text(app)
        assert "registe" in text and "0.4s" in text  # the tree is 40 wide at 120 now


async def test_narrow_terminal_collapses_panels_and_keeps_the_log() -> None:
    app = make_app([fleet_batch(0, 50)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.log_view._shown == 50)
        assert app.asset_tree.display and app.sparks.display
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not app.asset_tree.display and not app.sparks.display
        text = screen_text(app)
        assert "22:13:32.250Z" in text  # newest line still in view after the resize
        assert "LIVE" in text
        await pilot.press("a")  # the user can still bring the tree back
        await pilot.pause()
        assert app.asset_tree.display
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert app.asset_tree.display  # the user's choice wins over the size rule


def _reaches(start: object, target: object, depth: int = 3) -> bool:
    """Whether ``target`` is among the objects ``start`` refers to, ``depth`` steps deep."""
    layer = gc.get_referents(start)
    for _ in range(depth):
        if any(obj is target for obj in layer):
            return True
        layer = [ref for obj in layer for ref in gc.get_referents(obj)]
    return False


async def test_log_lines_are_not_reference_cycles() -> None:
    # a rendered line that refers to itself is freed only by a full garbage collection: at
    # the peak feed those piled up (~2,600 objects a second) and made the full GCs long
    app = make_app([fleet_batch(0, 200)])
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.log_view
        await wait_until(pilot, lambda: log._shown == 200)
        await settle(pilot)
        strips = [log.render_line(y) for y in range(log.size.height)]
        assert strips and not any(_reaches(strip, strip) for strip in strips)
