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
                          capture_output=True, text=True, timeout=120,
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
