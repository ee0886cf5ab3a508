"""Start-up stays light: ``flux-tui open`` of a JSONL session, run up to its first readings
in the viewer, never loads the HTTP client, pydantic, the API's auth/client modules, the
simulator, pyarrow or duckdb (each was measured in tens to hundreds of milliseconds of
start-up; see benchmarks/bench_first_screen.py). A structural check, not a timing: it runs
in a fresh interpreter and looks at ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flux_tui.cli.main import build_parser, command_in

HEAVY = ("httpx", "pydantic", "pyarrow", "duckdb", "flux_tui.api.auth", "flux_tui.api.client",
         "flux_tui.api.models", "flux_tui.api.enterprise", "flux_tui.connect", "flux_tui.sim")

# What `flux-tui open --speed max FILE` runs, up to readings in the log: the command line
# parsed by the real parser, the open command's module, the viewer on the replay.
OPEN_A_SESSION = """
import asyncio, json, sys
from flux_tui.cli.main import build_parser

args = build_parser().parse_args(["open", "--speed", "max", sys.argv[1]])
assert args.run.__module__ == "flux_tui.cli.open_cmd"
from flux_tui.cli.open_cmd import SPEED_CHOICES, open_app
from flux_tui.data.session.replay import SessionReplay

replay = SessionReplay(args.file, speed=SPEED_CHOICES[args.speed], hold_at_end=True)
app = open_app(replay)

async def first_readings():
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(500):
            if app.store.total and app.log_view.store.view_len():
                break
            await pilot.pause(0.02)
        assert app.store.total, "no readings reached the viewer"

asyncio.run(first_readings())
heavy = json.loads(sys.argv[2])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
"""


def _session(path: Path, count: int = 50) -> Path:
    lines = [json.dumps({"epochMs": 1_764_590_000_000 + i * 1000, "rtms": 1_764_590_000_300
                         + i * 1000, "assetId": 1111, "tagId": i % 5, "label": f"Tag {i % 5}",
                         "val": i / 10, "_shard": "shardId-0", "_seq": str(10**20 + i)})
             for i in range(count)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_open_of_a_jsonl_session_loads_no_http_pydantic_arrow_or_duckdb(tmp_path: Path) -> None:
    session = _session(tmp_path / "small.jsonl")
    done = subprocess.run([sys.executable, "-c", OPEN_A_SESSION, str(session), json.dumps(HEAVY)],
                          check=False, capture_output=True, text=True, timeout=120,
                          env={"XDG_CONFIG_HOME": str(tmp_path / "xdg"),
                               "XDG_CACHE_HOME": str(tmp_path / "cache"),
                               "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_heavy_modules_are_really_loaded_by_a_live_feed() -> None:
    """The check above can fail: the live feed's modules do bring what it looks for."""
    code = ("import sys, json; import flux_tui.connect; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    loaded = json.loads(done.stdout)
    assert {"httpx", "pydantic", "flux_tui.api.auth", "flux_tui.api.client"} <= set(loaded)


# --- the command line loads one command's module -------------------------------------------

ONE_COMMAND = """
import json, sys
from flux_tui.cli.main import build_parser, command_in

argv = json.loads(sys.argv[1])
args = build_parser(only=command_in(argv)).parse_args(argv)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("flux_tui.cli."))))
"""


@pytest.mark.parametrize(("argv", "loaded"), [
    (["open", "--speed", "max", "x.jsonl"], ["main", "open_cmd", "output"]),
    (["--profile", "demo", "completion", "--profiles"], ["completion", "main", "output"]),
    (["-v", "--prof", "demo", "export", "a.jsonl", "--to", "b.csv"],
     ["export", "main", "output"]),
])
def test_a_command_line_loads_only_its_commands_module(argv: list[str],
                                                       loaded: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", ONE_COMMAND, json.dumps(argv)],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == [f"flux_tui.cli.{m}" for m in loaded]


@pytest.mark.parametrize("argv", [
    ["open", "--speed", "max", "x.jsonl"],
    ["--profile", "demo", "tail", "--count", "3", "--format", "csv"],
    ["-v", "--prof", "demo", "record", "--out", "x.jsonl", "--count", "5"],
    ["--config", "open", "info"],  # an option's value that is a command's name
    ["demo"],
    ["--login", "--low-bandwidth", "demo", "--from", "15m"],
    ["alarms", "--count", "2"],
    ["export", "a.jsonl", "--to", "b.csv"],
    ["config", "show"],
    ["sim", "--port", "0"],
    ["login", "--profile", "demo"],
    ["logout"],
    ["auth", "status", "--json"],
    ["completion", "bash"],
])
def test_the_parser_of_one_command_reads_argv_as_the_whole_parser_does(
        argv: list[str]) -> None:
    whole = vars(build_parser().parse_args(argv))
    assert command_in(argv) == whole["command"]
    one = vars(build_parser(only=command_in(argv)).parse_args(argv))
    assert one == whole


@pytest.mark.parametrize("argv", [[], ["--help"], ["-v", "--version"], ["opne", "x"],
                                  ["--", "open"], ["--from=15m"]])
def test_no_sure_command_means_the_whole_parser(argv: list[str]) -> None:
    assert command_in(argv) is None
