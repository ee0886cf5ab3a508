"""`flux-tui open`: a recorded session opens in the viewer, and saving it again from there
gives the same readings (the round trip); a missing file fails with a message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from flux_tui.base.events import FeedState
from flux_tui.cli.main import main
from flux_tui.cli.open_cmd import open_app
from flux_tui.data.session import open_session
from flux_tui.data.session.replay import SessionReplay
from flux_tui.ui.path_dialog import PathDialog


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_RATE_LIMIT", "FLUX_PAGE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await pilot.pause(0.02)


@pytest.mark.usefixtures("short_demo_history")
@pytest.mark.parametrize("suffix", ["jsonl", "csv.gz"])
def test_record_open_save_gives_the_same_readings(tmp_path: Path, suffix: str) -> None:
    first = tmp_path / f"first.{suffix}"
    argv = ["record", "--profile", "demo", "--from", "trim-horizon", "--until-caught-up",
            "--count", "300", "--out", str(first)]
    assert main(argv) == 0
    recorded = list(open_session(first).iter_readings())
    assert len(recorded) == 300

    second = tmp_path / f"second.{suffix}"

    async def open_and_save() -> None:  # `record` runs its own event loop: not inside one
        replay = SessionReplay(first, speed=None, hold_at_end=True)
        app = open_app(replay)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: replay.at_end and app.store.total == 300)
            assert app.store.state is FeedState.REPLAY and "demo" in app.sub_title
            await pilot.press("s")
            await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
            app.screen.input.value = str(second)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await wait_until(pilot, lambda: second.exists()
                             and bool(open_session(second).metadata.get("complete")))

    asyncio.run(open_and_save())
    again = open_session(second)
    assert list(again.iter_readings()) == recorded
    assert again.metadata["company"] == "demo" and again.metadata["source"] == first.name


def test_open_a_missing_file_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["open", str(tmp_path / "none.jsonl")]) == 1
    assert "cannot open" in capsys.readouterr().err


def test_open_refuses_an_unknown_speed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["open", "x.jsonl", "--speed", "3"]) == 2
    assert "invalid choice" in capsys.readouterr().err
