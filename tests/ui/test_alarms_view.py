"""The viewer's alarms with Pilot: a reading past a rule's limit raises an alarm that the
status bar counts, the tree marks, the list shows and the user acknowledges and shelves;
a critical one flashes, a bell rule rings; units and state names show in the log."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakefeed import T0_MS, fleet_batch, make_reading, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.alarms import AlarmRule
from flux_tui.data.presentation import Presentation
from flux_tui.feed.types import Batch
from flux_tui.ui import alarm_actions
from flux_tui.ui.alarm_actions import AlarmSetup
from flux_tui.ui.alarms_screen import AlarmsScreen
from flux_tui.ui.app import FluxApp

CLOCK = T0_MS / 1000 + 100
RULE = AlarmRule("low suction", 'label:"suction pressure" val<20', for_ms=2000,
                 deadband=1.0, severity="critical", bell=True)  # fmt: skip


def low_suction(start_s: int, values: list[float]) -> Batch:
    rows = [make_reading(0, asset=1111, tag=0, val=v, ms=T0_MS + (start_s + i) * 1000)
            for i, v in enumerate(values)]  # fmt: skip
    return Batch("shardId-000000000000", rows, [], 0, CLOCK)


def make_app(items: list[Any], shelve_minutes: float = 15.0) -> FluxApp:
    setup = AlarmSetup([RULE], present=Presentation(), shelve_minutes=shelve_minutes)
    return FluxApp(opener_for(items), clock=lambda: CLOCK, utc=True, alarms=setup)


async def test_an_alarm_is_counted_marked_listed_acknowledged_and_shelved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(alarm_actions, "FLASH_SECONDS", 60.0)  # still on when looked at
    app = make_app([fleet_batch(0, 200), low_suction(60, [15.0, 14.0, 13.5, 13.0])],
                   shelve_minutes=120)  # [alarm_options] shelve = "2h"
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(app.alarms.raised()))
        await settle(pilot)
        assert rings == [1]  # the rule asks for the bell: once, on activation
        assert app.main.has_class("-alarm-flash")  # critical: the screen flashes
        text = screen_text(app)
        assert "▲ 1 crit" in text  # the status bar's count
        await settle(pilot)  # the tree redraws every other tick
        tree = [line[:36] for line in screen_text(app).splitlines()]
        assert any("Unit 1111" in line and "▲" in line for line in tree)  # the unit's mark
        assert any("▲Suction" in line for line in tree)  # and the tag's
        await pilot.press("exclamation_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, AlarmsScreen))
        await pilot.pause()
        listed = screen_text(app)
        assert "critical" in listed and "active" in listed and "low suction" in listed
        assert "13.5 psi" in listed or "13 psi" in listed  # the value, with its unit
        assert "s shelve 2 h" in listed  # the configured shelve, not a fixed 15 min
        await pilot.press("a")
        await pilot.pause()
        (alarm,) = app.alarms.raised()
        assert alarm.state == "acknowledged"
        assert "acknowledged" in screen_text(app)
        await pilot.press("s")
        await pilot.pause()
        assert app.alarms.is_shelved(alarm.key)
        assert app.alarms.shelf[alarm.key] - (app.alarms.now_ms or 0) == 2 * 3_600_000
        assert app.alarms.counts()["critical"] == 0
        await pilot.press("escape")
        await settle(pilot)
        assert "crit" not in screen_text(app).splitlines()[-2]


async def test_a_short_crossing_raises_nothing_and_units_show_in_the_log() -> None:
    app = make_app([fleet_batch(0, 200), low_suction(60, [15.0, 25.0, 14.0, 25.0])])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 204)
        await settle(pilot)
        await asyncio.sleep(0)
        assert app.alarms.raised() == [] and list(app.alarms.journal) == []
        text = screen_text(app)
        assert " psi" in text and " rpm" in text  # engineering units in the log and tree
        assert "▲" not in text
        assert "Running" not in text  # the fake's run status is text ('RUN'): no name


async def test_what_changed_ranks_the_scoped_units_tags() -> None:
    from flux_tui.ui.changes_screen import ChangesScreen

    app = make_app([fleet_batch(0, 200), low_suction(60, [15.0, 14.0, 13.5, 13.0])])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 204)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ChangesScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "What changed in the last 5 min · all units" in text
        rows = [line for line in text.splitlines() if "Unit 111" in line]
        assert "Suction Pressure" in rows[0] and "Unit 1111" in rows[0]  # it sank the most
        await pilot.press("w")
        await pilot.pause()
        assert "in the last 15 min" in screen_text(app)


async def test_help_lists_the_alarm_keys() -> None:
    app = make_app([fleet_batch(0, 20)])
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [title for title, _ in app.key_sections()]
        assert titles[-2:] == ["Alarms, marks, what changed", "Asset tree"]
        rows = dict(app.key_sections()[-2][1])
        assert rows["!"] == "Alarms" and rows["m"] == "Mark" and rows["c"] == "What changed"
        await pilot.pause()


async def test_a_filter_on_the_log_does_not_silence_an_alarm() -> None:
    sessions: list = []  # type: ignore[type-arg]
    setup = AlarmSetup([RULE], present=Presentation())
    app = FluxApp(opener_for([fleet_batch(0, 200)], sessions=sessions), clock=lambda: CLOCK,
                  utc=True, alarms=setup)  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 200)
        await pilot.press("slash", *"asset:1112", "enter", "escape")  # the log shows 1112 only
        sessions[0].reader.push(low_suction(60, [15.0, 14.0, 13.5]))  # unit 1111
        await wait_until(pilot, lambda: bool(app.alarms.raised()))
        assert app.alarms.raised()[0].key[1] == 1111
