"""``flux-tui alarms --profile demo`` in process: the demo's story (a silent unit, a low-suction
trip) raises the built-in rules' alarms, with names, units and state names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flux_tui import connect
from flux_tui.cli.main import main


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_RATE_LIMIT", "FLUX_PAGE_LIMIT"):
        monkeypatch.delenv(name, raising=False)


def test_the_demo_story_in_its_first_minutes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    built = []
    real_build = connect.build_simulator

    def eight_minutes_on(profile, settings=None):  # type: ignore[no-untyped-def]
        sim = real_build(profile, settings)
        sim.control.advance_clock(8 * 60)  # the demo has been running for eight minutes
        built.append(sim)
        return sim

    monkeypatch.setattr(connect, "build_simulator", eight_minutes_on)
    # From the demo's first minute: the demo profile starts 2 minutes back (its backlog),
    # and this run comes eight minutes after the simulator started.
    argv = ["alarms", "--profile", "demo", "--from", "10m", "--until-caught-up",
            "--page-limit", "10000"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    fleet = built[0].fleet
    seen = [(row["rule"], row["state"], row["assetId"]) for row in rows]
    assert ("stale", "stale", fleet.silent_unit) in seen
    assert ("low suction pressure", "active", fleet.shutdown_unit) in seen
    assert ("unit shut down", "active", fleet.shutdown_unit) in seen
    low = next(row for row in rows if row["rule"] == "low suction pressure")
    assert low["severity"] == "critical" and low["unit"] == "psi" and low["val"] < 20
    assert low["assetName"].endswith(str(fleet.shutdown_unit))  # the asset directory's name
    stopped = next(row for row in rows if row["rule"] == "unit shut down")
    assert stopped["valName"] == "Stopped" and stopped["val"] == 0
    assert "watching 3 alarm rules (the demo's built-in rules) and stale units" in captured.err


@pytest.mark.usefixtures("short_demo_history")
def test_a_recorded_session_shows_the_names_the_viewer_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``alarms --session FILE`` names units as ``open FILE`` does: with the names of the
    profile that recorded it (its sidecar's ``profile``); ids when that profile is unknown."""
    session = tmp_path / "shift.jsonl"
    assert main(["record", "--profile", "demo", "--from", "trim-horizon", "--until-caught-up",
                 "--filter", 'label:"suction pressure"', "--out", str(session)]) == 0
    capsys.readouterr()
    replay = ["alarms", "--session", str(session), "--no-stale",
              "--rule", 'any suction: label:"suction pressure" val>0']  # fmt: skip
    assert main(replay) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len({row["assetId"] for row in rows}) > 5
    assert all(row["assetName"].endswith(str(row["assetId"])) for row in rows)  # 'WHC-1131'
    assert main([*replay, "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert rows[0]["assetName"] in table and f"Unit {rows[0]['assetId']}" not in table

    sidecar = session.with_name(session.name + ".meta.json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "profile": "not-configured"}))
    assert main(replay) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and not any("assetName" in row for row in rows)  # ids, as the file has them
