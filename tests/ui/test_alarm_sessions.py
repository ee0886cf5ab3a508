"""Alarms and marks travel with a recording: the journal and the marks land in the session's
sidecar, and a replay jumps to the next and previous of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakefeed import T0_MS, fleet_batch, make_reading, opener_for
from helpers import wait_until

from flux_tui.alarms import AlarmRule
from flux_tui.cli.open_cmd import open_app
from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.session.replay import SessionReplay
from flux_tui.feed.types import Batch
from flux_tui.ui.alarm_actions import AlarmSetup
from flux_tui.ui.app import FluxApp
from flux_tui.ui.marks import MarkDialog, SessionEvents
from flux_tui.ui.path_dialog import PathDialog


def rebuilding(app: FluxApp) -> bool:
    return any(w.group == "replay-view" and w.is_running for w in app.workers)


RULE = AlarmRule("low suction", 'label:"suction pressure" val<20', severity="critical")


def test_event_times_and_jumps() -> None:
    meta = {
        "alarms": [{"epochMs": 5000, "state": "active"}, {"epochMs": 9000, "state": "cleared"},
                   {"epochMs": 2000, "state": "stale"}, "junk", {"epochMs": "x"}],
        "marks": [{"epochMs": 7000, "note": "valve"}],
    }  # fmt: skip
    times = SessionEvents.times_in(meta)
    assert times == [2000, 5000, 7000]  # cleared ones are no destination; junk is skipped
    assert SessionEvents.next_time(times, 0, True) == 2000
    assert SessionEvents.next_time(times, 5000, True) == 7000
    assert SessionEvents.next_time(times, 5000, False) == 2000
    assert SessionEvents.next_time(times, 7000, True) is None
    assert SessionEvents.times_in({"alarms": "not a list"}) == []


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


async def test_the_journal_and_marks_go_into_the_sidecar(tmp_path: Path) -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = FluxApp(opener_for([fleet_batch(0, 40)], sessions=sessions),
                  clock=lambda: T0_MS / 1000 + 60, utc=True, alarms=AlarmSetup([RULE]))  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        path = Path(app.screen.input.value)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.recorder.recording)
        low = make_reading(0, asset=1111, tag=0, val=12.5, ms=T0_MS + 50_000)
        sessions[0].reader.push(Batch("shardId-000000000000", [low], [], 0, 0.0))
        await wait_until(pilot, lambda: bool(app.alarms.raised()))
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, MarkDialog))
        await pilot.press(*"bypass opened", "enter")
        await wait_until(pilot, lambda: bool(app.events.marks))
        await pilot.press("r")  # stop: the sidecar is complete
    meta = open_session(path).metadata
    assert [(a["rule"], a["state"], a["epochMs"]) for a in meta["alarms"]] == [
        ("low suction", "active", T0_MS + 50_000)
    ]
    (mark,) = meta["marks"]
    assert mark["note"] == "bypass opened" and isinstance(mark["epochMs"], int)


async def test_a_replay_jumps_to_the_next_and_previous_alarm(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    readings = [make_reading(n, asset=1111, tag=0, ms=T0_MS + n * 1000) for n in range(600)]
    alarms = [{"epochMs": T0_MS + 200_000, "state": "active", "rule": "x"},
              {"epochMs": T0_MS + 400_000, "state": "active", "rule": "x"}]  # fmt: skip
    with SessionWriter(path, metadata={"profile": "demo", "alarms": alarms}) as writer:
        writer.write(readings)
    replay = SessionReplay(path, speed=1.0, hold_at_end=True)
    app = open_app(replay, utc=True)
    seeks: list[int] = []
    real_seek = replay.seek

    def seek(ms: int) -> None:
        seeks.append(ms)
        real_seek(ms)

    replay.seek = seek  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: replay.position_ms is not None)
        for key in ("full_stop", "full_stop", "comma"):
            asked = len(seeks)
            await pilot.press(key)
            # let each jump land (the replay at its target) before the next key
            await wait_until(pilot, lambda n=asked: len(seeks) > n  # type: ignore[misc]
                             and replay.position_ms == seeks[-1] and not rebuilding(app))
    assert seeks == [T0_MS + 170_000, T0_MS + 370_000, T0_MS + 170_000]
