"""Pilot tests of sessions in the viewer: record (r), save (s), open (o) and replay keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakefeed import T0_MS, fleet_batch, make_reading, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.base.events import FeedState
from flux_tui.cli.open_cmd import open_app
from flux_tui.data.formats import format_time
from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.session.recorder import RecorderState
from flux_tui.data.session.replay import SessionReplay
from flux_tui.ui.app import FluxApp, watch_stop_signals
from flux_tui.ui.path_dialog import PathDialog
from flux_tui.ui.replay_bar import ReplayBar


def make_app(items: list, sessions: list | None = None) -> FluxApp:  # type: ignore[type-arg]
    return FluxApp(opener_for(items, sessions=sessions), clock=lambda: T0_MS / 1000 + 60,
                   utc=True)


def write_session(path: Path, count: int, *, step_ms: int = 1000) -> list:  # type: ignore[type-arg]
    readings = [make_reading(n, asset=1111 + n % 2, tag=n % 4, ms=T0_MS + n * step_ms)
                for n in range(count)]
    with SessionWriter(path, metadata={"profile": "demo", "company": "acme",
                                       "filter": ""}) as writer:
        writer.write(readings)
    return readings


def saved(path: Path) -> bool:
    """The file is complete: its sidecar says so (written last, at close)."""
    try:
        return bool(open_session(path).metadata.get("complete"))
    except OSError:
        return False


async def filter_to(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("slash", *text, "enter", "escape")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the dialogs propose paths in the current folder


async def test_record_what_passes_the_filter_until_r_again(tmp_path: Path) -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 40)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        await filter_to(pilot, "asset:1111")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        default = app.screen.input.value  # type: ignore[attr-defined]
        assert default.startswith(str(tmp_path)) and "asset-1111" in default
        assert default.endswith(".jsonl")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.recorder.recording)
        sessions[0].reader.push(fleet_batch(40, 40))
        await wait_until(pilot, lambda: app.recorder.count == 20)
        await settle(pilot)
        path = Path(default)
        assert f"● REC 20 → {path.name[:20]}" in screen_text(app)
        await pilot.press("r")
        assert app.recorder.state is RecorderState.STOPPED
        sessions[0].reader.push(fleet_batch(80, 8))  # after the stop: not recorded
        await wait_until(pilot, lambda: app.store.total == 88)
        await settle(pilot)
        assert "REC" not in screen_text(app)
    wanted = [r for r in fleet_batch(40, 40).readings if r.asset_id == 1111]
    session = open_session(path)
    assert list(session.iter_readings()) == wanted
    assert session.metadata["filter"] == "asset:1111" and session.metadata["complete"]


async def test_existing_file_is_replaced_only_after_a_second_enter(tmp_path: Path) -> None:
    target = tmp_path / "taken.jsonl"
    target.write_text("precious\n")
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 8)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        dialog = app.screen
        dialog.input.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and "exists" in screen_text(app)
        assert not app.recorder.recording and target.read_text() == "precious\n"
        await pilot.press("enter")  # confirmed
        await wait_until(pilot, lambda: app.recorder.recording)
        sessions[0].reader.push(fleet_batch(8, 4))
        await wait_until(pilot, lambda: app.recorder.count == 4)
        await pilot.press("r")
    assert len(list(open_session(target).iter_readings())) == 4


async def test_save_writes_what_the_log_holds(tmp_path: Path) -> None:
    app = make_app([fleet_batch(0, 120)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 120)
        await filter_to(pilot, "pressure")
        shown = [r for _, r, _ in app.store.view_slice(0, app.store.view_len())]
        assert 0 < len(shown) < 120
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        path = Path(app.screen.input.value)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: saved(path))
    assert list(open_session(path).iter_readings()) == shown
    assert open_session(path).metadata["filter"] == "pressure"


async def test_open_a_session_into_the_viewer(tmp_path: Path) -> None:
    path = tmp_path / "pad7.jsonl"
    readings = write_session(path, 60, step_ms=10)  # 0.6 s of session time: quick at 1x
    app = make_app([fleet_batch(0, 8, units=(4444,))])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        app.screen.input.value = str(path)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.replay is not None and app.store.total == 60)
        await settle(pilot)
        await settle(pilot)
        assert app.store.state is FeedState.REPLAY
        assert set(app.store.units) == {1111, 1112}  # the live unit 4444 is gone
        assert "pad7.jsonl" in app.sub_title and "acme" in app.sub_title
        text = screen_text(app)
        assert "Unit 1111" in text and "Unit 4444" not in text
        assert "REPLAY" in text and app.query_one(ReplayBar).text
        assert app.store.reading_at(59) == readings[59]


async def test_open_a_session_while_another_replays(tmp_path: Path) -> None:
    """The second session replaces the first one's replay bar (no DuplicateIds crash)."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    write_session(first, 100, step_ms=1000)  # 99 s at 1x: still replaying when o comes
    write_session(second, 30, step_ms=10)
    app = open_app(SessionReplay(first, speed=1.0, hold_at_end=True), utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total >= 1)
        assert app.replay is not None and not app.replay.at_end
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        app.screen.input.value = str(second)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.replay is not None
                         and app.replay.path == second and app.store.total == 30)
        await settle(pilot)
        bars = list(app.query(ReplayBar))
        assert len(bars) == 1 and bars[0].replay is app.replay
        assert "second.jsonl" in app.sub_title and app.is_running


async def test_replay_keys_pause_speed_and_seek(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    write_session(path, 100, step_ms=1000)  # 99 s of session time
    replay = SessionReplay(path, speed=1.0, hold_at_end=True)
    app = open_app(replay, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total >= 1)
        await pilot.press("k")
        assert replay.paused
        held = app.store.total
        await settle(pilot)
        await settle(pilot)
        assert app.store.total == held and "paused" in app.query_one(ReplayBar).text
        await pilot.press("k", "greater_than_sign", "greater_than_sign")  # resume, 10x, max
        assert replay.speed is None
        await wait_until(pilot, lambda: replay.at_end and app.store.total == 100)
        await pilot.press("k")  # paused at the end
        await pilot.press("left_square_bracket")  # back 10 % of 99 s: to reading 90
        # paused, the log shows the readings up to that point (not an empty log), and keeps
        # the history before it
        await wait_until(pilot, lambda: app.store.total == 90)
        assert app.store.reading_at(0).epoch_ms == T0_MS
        await pilot.press("j")  # back one minute: to reading 30
        await wait_until(pilot, lambda: app.store.total == 30)
        await settle(pilot)
        assert app.store.state is FeedState.REPLAY  # a seek never shows "connecting"
        text = screen_text(app)
        assert "Unit 1111" in text and "connecting" not in text
        # the position as the session's time of day, and the session's span (the bar
        # redraws itself 4 times a second)
        at = replay.position_ms
        assert at == T0_MS + 29_100  # 89.1 s ([ went to 90 % of 99 s), then 60 s back
        bar = app.query_one(ReplayBar)
        await wait_until(pilot, lambda: format_time(at, utc=True)[:8] in bar.text)
        # (in the log's zone: the app shows UTC here)
        assert (f"of {format_time(T0_MS, utc=True)[:8]}Z–"
                f"{format_time(T0_MS + 99_000, utc=True)[:8]}Z") in bar.text
        await pilot.press("l")  # on one minute: every reading up to there is played
        await wait_until(pilot, lambda: app.store.total == 90)
        await pilot.press("k")
        await wait_until(pilot, lambda: replay.at_end and app.store.total == 100)
        assert [app.store.reading_at(p).epoch_ms for p in (0, 50, 99)] == [
            T0_MS, T0_MS + 50_000, T0_MS + 99_000]


async def test_a_full_disk_stops_the_recording_and_the_viewer_goes_on(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full (Linux)")
    target = tmp_path / "full.jsonl"
    target.symlink_to("/dev/full")
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 8)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        app.screen.input.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter", "enter")  # it "exists": confirm
        await wait_until(pilot, lambda: app.recorder.recording)
        sessions[0].reader.push(fleet_batch(8, 50))
        # the once-a-second flush meets the full disk
        await wait_until(pilot, lambda: app.recorder.state is RecorderState.FAILED)
        await wait_until(pilot, lambda: any("disk is full" in n.message
                                            for n in app._notifications))
        sessions[0].reader.push(fleet_batch(58, 10))
        await wait_until(pilot, lambda: app.store.total == 68)  # the feed goes on
        await settle(pilot)
        assert "REC" not in screen_text(app) and app.recording is None


async def test_quitting_while_recording_closes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "quit.jsonl"
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 4)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 4)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        app.screen.input.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.recorder.recording)
        sessions[0].reader.push(fleet_batch(4, 6))
        await wait_until(pilot, lambda: app.recorder.count == 6)
        await pilot.press("q")
    session = open_session(target)
    assert session.metadata["complete"] and len(list(session.iter_readings())) == 6


async def test_path_dialog_shows_a_typed_path_literally(tmp_path: Path) -> None:
    """The dialog's message repeats the path: '[/]' in it crashed the viewer (Label markup)."""
    app = make_app([fleet_batch(0, 8)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        app.screen.input.value = "a[/]b[bold]c.jsonl"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: "a[/]b[bold]c.jsonl is not a file" in screen_text(app))
        assert isinstance(app.screen, PathDialog)


@pytest.mark.parametrize("signame", ["SIGHUP", "SIGTERM"])
async def test_sighup_and_sigterm_close_the_recording_and_end_the_viewer(
        tmp_path: Path, signame: str) -> None:
    """The SSH link drops (SIGHUP) or the host stops the viewer (SIGTERM): the recording is
    closed cleanly (every reading in the file, the sidecar complete) and the viewer ends."""
    import os
    import signal

    signum = getattr(signal, signame)
    caught: list[int] = []
    previous = signal.signal(signum, lambda n, f: caught.append(n))  # never kill pytest
    try:
        target = tmp_path / "hup.jsonl"
        sessions: list = []  # type: ignore[type-arg]
        app = make_app([fleet_batch(0, 4)], sessions)
        async with app.run_test(size=(120, 40)) as pilot:
            unwatch = watch_stop_signals(app)  # what run_viewer and `open` do around the app
            await wait_until(pilot, lambda: app.store.total == 4)
            await pilot.press("r")
            await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
            app.screen.input.value = str(target)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.recorder.recording)
            sessions[0].reader.push(fleet_batch(4, 6))
            await wait_until(pilot, lambda: app.recorder.count == 6)
            os.kill(os.getpid(), signum)
            await wait_until(pilot, lambda: not app.recorder.recording or bool(caught))
            assert not caught  # the viewer handled it
            assert app.recorder.state is RecorderState.STOPPED
            assert app.return_code == 128 + signum
            unwatch()
        session = open_session(target)
        assert session.metadata["complete"] and len(list(session.iter_readings())) == 6
    finally:
        signal.signal(signum, previous)


async def test_a_big_session_is_held_whole_home_and_the_filter_count_cover_the_file(
        tmp_path: Path) -> None:
    """A generated session (smaller than the 1,000,000 of the benchmark, larger than the old
    200,000-line ring's share of it would show): played at max speed, the log holds every
    reading, `home` reaches the first one and the filter counts the whole file."""
    path = tmp_path / "big.jsonl"
    count = 30_000
    readings = [make_reading(n, asset=1111 + n % 3, tag=n % 7, ms=T0_MS + n * 100)
                for n in range(count)]
    with SessionWriter(path, metadata={"profile": "demo", "company": "acme"}) as writer:
        writer.write(readings)
    replay = SessionReplay(path, speed=None, hold_at_end=True)
    app = open_app(replay, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: replay.at_end and app.store.total == count, 120)
        assert app.store.held == count and not app.store.cols.sparse
        await pilot.press("home")
        await settle(pilot)
        assert format_time(T0_MS, utc=True) in screen_text(app)
        assert app.log_view.cursor == 0
        await pilot.press("slash")
        label = readings[3].label
        await pilot.press(*f'label:"{label}"')
        expected = sum(1 for r in readings if r.label == label)
        await wait_until(pilot, lambda: app.store.view_len() == expected)
        await settle(pilot)
        assert f"{expected:,} of {count:,}" in screen_text(app)
        assert app.store.reading_at(count - 1) == readings[-1]


async def test_s_right_after_r_proposes_another_name_and_says_why_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both names are made to the minute: `s` during a recording proposed the recording's
    own file. Now it proposes another, refuses the recording's, and the message shows whole
    at 80 columns."""
    monkeypatch.chdir(tmp_path)
    app = make_app([fleet_batch(0, 8)])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.recorder.recording)
        recording = app.recorder.path
        assert recording is not None
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        dialog = app.screen
        proposed = Path(dialog.input.value)  # type: ignore[attr-defined]
        assert proposed != recording and proposed.name.endswith("-2.jsonl")
        dialog.input.value = str(recording)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(app)  # wrapped inside the dialog, every word on screen
        assert f"{recording.name} is the recording in progress:" in text, text
        assert "choose another name" in text, text
        assert app.screen is dialog
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, PathDialog))
        await pilot.press("r")  # stops the recording; the next one gets a new name too
        await wait_until(pilot, lambda: not app.recorder.recording)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        assert Path(app.screen.input.value) != recording  # type: ignore[attr-defined]
        await pilot.press("escape")
