"""Snapshot tests of every screen and dialog, with deterministic data: the main view at
120x40 and 80x24, the reading detail, the filter error, help, the command palette, the unit
details, the decode errors, the path dialog, the login dialog, the replay bar, the recording
status, and the light, high-contrast and monochrome themes.

Nothing on screen comes from the wall clock: the viewer's clock is injected (or is the
replay's), times are shown in UTC, paths are relative to a temporary working folder, and the
login dialog counts down on a frozen clock. After a deliberate change of rendering, regenerate
them all with one command and look at them (``snapshot_report.html``) before committing::

    python -m pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fakefeed import T0_MS, fleet_batch, make_reading, opener_for
from helpers import settle, wait_until
from textual.pilot import Pilot

from flux_tui.api.device import DeviceCode
from flux_tui.cli.open_cmd import open_app
from flux_tui.data.session import SessionWriter, sidecar_path
from flux_tui.data.session.replay import SessionReplay
from flux_tui.feed.types import DecodeError
from flux_tui.ui.app import FluxApp
from flux_tui.ui.help import HelpScreen
from flux_tui.ui.info_screens import InfoScreen
from flux_tui.ui.login_dialog import LoginDialog
from flux_tui.ui.path_dialog import PathDialog

CLOCK = T0_MS / 1000 + 100  # the newest reading of the batch: nothing is stale


def make_app(theme: str | None = None, sessions: list[Any] | None = None) -> FluxApp:
    return FluxApp(opener_for([fleet_batch(0, 400)], sessions=sessions), clock=lambda: CLOCK,
                   utc=True, theme=theme)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialogs propose paths in the current folder: a temporary one, named relatively."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)  # the default theme, whatever the shell says


async def still_cursors(pilot: Pilot[Any]) -> None:
    """Stop every text field's cursor blinking (hidden): a blink every 0.5 s would make the
    picture depend on how long the steps before it took."""
    from textual.widgets import Input, TextArea

    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):  # the filter bar's QueryInput is one
        area.cursor_blink = False
    await pilot.pause()


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
        await still_cursors(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_reading_detail_120x40(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("up", "enter")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


async def until_screen(pilot: Pilot[Any], kind: type) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, kind))
    await pilot.pause()


def test_help_120x40(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until_screen(pilot, HelpScreen)

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_help_80x24(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await until_screen(pilot, HelpScreen)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_command_palette_120x40(snap_compare: Any) -> None:
    from textual.command import CommandPalette

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("ctrl+p")
        await until_screen(pilot, CommandPalette)
        await pilot.press(*"1111")
        hits = pilot.app.screen.query("CommandList").first()
        await wait_until(pilot, lambda: hits.option_count > 0)
        shown = -1
        while hits.option_count != shown:  # hits arrive in batches: wait for the last one
            shown = hits.option_count
            await pilot.pause(0.3)
        await still_cursors(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_unit_details_120x40(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("i")  # the newest line's unit
        await until_screen(pilot, InfoScreen)

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def test_decode_errors_120x40(snap_compare: Any) -> None:
    batch = fleet_batch(0, 40)
    batch.errors.extend([
        DecodeError("shardId-000000000000", "49000000000000000000000000041", "not JSON",
                    b"\x1b]0;title\x07{oops"),
        DecodeError("shardId-000000000001", "49000000000000000000000000042",
                    "gzip stream cut short", b"\x1f\x8b\x08\x00\x00"),
    ])
    app = FluxApp(opener_for([batch]), clock=lambda: T0_MS / 1000 + 10, utc=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: app.store.total == 40)
        await settle(pilot)
        await pilot.press("e")
        await until_screen(pilot, InfoScreen)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_path_dialog_warns_before_replacing_80x24(snap_compare: Any, tmp_path: Path) -> None:
    (tmp_path / "pad7.jsonl").write_text("")

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("s")  # save the log
        await until_screen(pilot, PathDialog)
        pilot.app.screen.input.value = "pad7.jsonl"  # type: ignore[attr-defined]
        await pilot.press("enter")  # it exists: the dialog warns and waits
        await still_cursors(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


class StillFlow:
    """A device flow whose code never changes and whose approval never comes."""

    async def start(self) -> DeviceCode:
        return DeviceCode("WDJB-MJHT", "https://login.example/activate",
                          "https://login.example/activate?user_code=WDJB-MJHT",
                          900.0, 5.0, 900.0, "device-code-not-shown")

    async def wait(self, code: DeviceCode) -> None:
        await asyncio.Event().wait()


def test_login_dialog_120x40(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        dialog = LoginDialog(StillFlow, lambda token: None, reason="the refresh token was revoked",
                             profile="prd", clock=lambda: 0.0)
        pilot.app.push_screen(dialog)
        await wait_until(pilot, lambda: dialog.code is not None)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run_before)


def write_session(path: Path, count: int) -> None:
    readings = [make_reading(n, asset=1111 + n % 2, tag=n % 4, ms=T0_MS + n * 1000)
                for n in range(count)]
    with SessionWriter(path, metadata={"profile": "demo", "company": "acme",
                                       "filter": "site:2222"}) as writer:
        writer.write(readings)
    sidecar = sidecar_path(path)
    meta = json.loads(sidecar.read_text())
    meta["app_version"] = "0.0.0"  # the header shows it: a new version must not move pixels
    sidecar.write_text(json.dumps(meta))


def test_replay_bar_at_the_end_120x40(snap_compare: Any, tmp_path: Path) -> None:
    path = tmp_path / "pad7.jsonl"
    write_session(path, 120)
    replay = SessionReplay(path, speed=None, hold_at_end=True)  # max speed, held at the end
    app = open_app(replay, utc=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: replay.at_end and app.store.total == 120)
        # the file's index loaded: the count is the whole file's (no "indexing file…")
        await wait_until(pilot, lambda: getattr(app.log_view.rows, "whole", False))
        for _ in range(4):
            await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_recording_status_120x40(snap_compare: Any) -> None:
    sessions: list[Any] = []
    app = make_app(sessions=sessions)

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("r")
        await until_screen(pilot, PathDialog)
        pilot.app.screen.input.value = "pad7.jsonl"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.recorder.recording)
        sessions[-1].reader.push(fleet_batch(400, 40))  # recorded: what arrives from now on
        await wait_until(pilot, lambda: app.recorder.count == 40 and app.store.total == 440)
        app.clear_notifications()  # "Recording to <tmp path>" would differ run to run
        for _ in range(4):
            await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("theme", ["flux-light", "flux-high-contrast", "flux-monochrome"])
def test_theme_120x40(snap_compare: Any, theme: str) -> None:
    assert snap_compare(make_app(theme), terminal_size=(120, 40), run_before=loaded)
