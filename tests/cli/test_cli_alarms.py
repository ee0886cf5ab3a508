"""``flux-tui alarms`` in real processes against a ``flux-tui sim`` on a loopback port.

The issue's "done when": a stream put on the simulator through its control API holds one tag
that crosses a limit at known reading times and another that crosses it for less than the
on-delay. ``alarms`` with a config rule prints ``active`` at the first reading after the
on-delay, ``cleared`` once the value is back beyond the deadband, nothing for the short
crossing, and a recorded session replayed gives the same transitions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from simproc import running_sim
from test_cli_process import flux, sim_profile

from flux_tui.cli.output import EXIT_USAGE
from flux_tui.data.session import open_session

T0 = 1_764_590_400_000  # 2025-12-01T12:00:00Z: reading times are the stream's, not ours
RULE = """
[[alarms]]
name = "low test pressure"
when = 'asset:7777 label:"test pressure" val<20'
for = "30s"
deadband = 2
severity = "critical"
"""
# tag 1: below 20 from +20 s to +75 s (active at +50 s, the first reading 30 s in), then
# 21 (inside the deadband: still active), then 22.5 (beyond it: cleared at +90 s)
TAG_1 = [(0, 50), (10, 30), (20, 19.5), (30, 18), (40, 15), (45, 12), (50, 16), (60, 18),
         (75, 19.9), (80, 21), (85, 21.9), (90, 22.5), (100, 40)]  # fmt: skip
# tag 2: below 20 for 25 s only (less than the on-delay)
TAG_2 = [(0, 50), (20, 10), (30, 10), (45, 10), (50, 25), (90, 10), (100, 30)]


@pytest.fixture(scope="module")
def sim_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_sim(tmp_path_factory.mktemp("alarm-sim"), "--backlog", "10") as port:
        records = []
        for tag, series in ((1, TAG_1), (2, TAG_2)):
            for seconds, val in series:
                payload = {"epochMs": T0 + seconds * 1000, "rtms": T0 + seconds * 1000 + 700,
                           "assetId": 7777, "siteId": 55, "orgId": 5, "tagId": tag,
                           "registerId": 400 + tag, "label": "Test Pressure",
                           "tagName": f"test_pressure_{tag}", "val": val}  # fmt: skip
                records.append({"partition_key": "7777", "data": payload})
        records.sort(key=lambda rec: rec["data"]["epochMs"])
        answer = httpx.post(f"http://127.0.0.1:{port}/_sim/records", json={"records": records})
        assert answer.status_code == 200, answer.text
        # the fleet keeps sending after the test's records (two minutes of it, at once):
        # the test's unit, whose readings are a year older than its shard's, is a backfill
        # and never reported stale, however long after it the run reads
        clock = httpx.post(f"http://127.0.0.1:{port}/_sim/clock", json={"advance": 120})
        assert clock.status_code == 200, clock.text
        yield port


def config_file(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(sim_profile(port) + RULE)
    return path


def transitions(out: str) -> list[tuple[int | None, str, int]]:
    rows = [json.loads(line) for line in out.splitlines()]
    return [(row["tagId"], row["state"], row["epochMs"] - T0) for row in rows]


def test_alarms_on_known_reading_times(tmp_path: Path, sim_port: int) -> None:
    config = config_file(tmp_path, sim_port)
    argv = ["--config", str(config), "alarms", "--profile", "local", "--from", "trim-horizon"]
    done = flux(tmp_path, *argv, "--until-caught-up")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    mine = [row for row in rows if row["assetId"] == 7777]
    assert transitions("\n".join(map(json.dumps, mine))) == [
        (1, "active", 50_000),
        (1, "cleared", 90_000),
    ]
    active, cleared = mine
    assert active["time"] == "2025-12-01T12:00:50.000Z" and active["val"] == 16
    assert active["rule"] == "low test pressure" and active["severity"] == "critical"
    assert active["label"] == "Test Pressure" and active["unit"] == "psi"
    assert cleared["val"] == 22.5
    assert "watching 1 alarm rule" in done.stderr and "stopped (caught up)" in done.stderr

    # a recording of the same readings, replayed, gives the same transitions. (The same
    # readings: the simulator's fleet keeps sending, and a recording made later also holds
    # what came after unit 7777 fell silent, which a later run rightly reports as stale.)
    session = tmp_path / "s.jsonl"
    only = ["--filter", "asset:7777"]
    live = flux(tmp_path, *argv, "--until-caught-up", *only)
    recorded = flux(tmp_path, "--config", str(config), "record", "--profile", "local",
                    "--from", "trim-horizon", "--until-caught-up", "--out", str(session), *only)  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    replay = flux(tmp_path, "--config", str(config), "alarms", "--session", str(session))
    assert replay.returncode == 0, replay.stderr
    assert transitions(live.stdout) == transitions("\n".join(map(json.dumps, mine)))
    assert replay.stdout == live.stdout  # byte for byte
    # the recording kept the alarm journal in its sidecar, as the viewer's recordings do
    journal = open_session(session).metadata["alarms"]
    assert [(x["tagId"], x["state"], x["epochMs"] - T0) for x in journal
            if x["assetId"] == 7777] == [(1, "active", 50_000), (1, "cleared", 90_000)]


def test_record_without_rules_keeps_no_journal(tmp_path: Path, sim_port: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text(sim_profile(sim_port))
    session = tmp_path / "s.jsonl"
    done = flux(tmp_path, "--config", str(config), "record", "--profile", "local", "--from",
                "trim-horizon", "--until-caught-up", "--filter", "asset:7777", "--out",
                str(session))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "alarms" not in open_session(session).metadata


def test_rule_on_the_command_line_and_the_table(tmp_path: Path, sim_port: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text(sim_profile(sim_port))
    done = flux(
        tmp_path, "--config", str(config), "alarms", "--profile", "local", "--from",
        "trim-horizon", "--until-caught-up", "--filter", "asset:7777", "--format", "table",
        "--utc", "--rule", "low: label:test val<20 for 20s deadband 1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # tag 2 is below 20 for 25 s now (longer than 20 s): both tags alarm
    assert len(lines) == 4, lines
    assert lines[0].startswith("2025-12-01T12:00:40.000Z") and "active" in lines[0]
    assert "Test Pressure" in lines[0] and "15 psi" in lines[0]


def test_a_bad_rule_exits_2(tmp_path: Path) -> None:
    done = flux(tmp_path, "alarms", "--profile", "demo", "--rule", "x: val< for 3s")
    assert done.returncode == EXIT_USAGE
    assert "--rule" in done.stderr and "'x'" in done.stderr and "Traceback" not in done.stderr
