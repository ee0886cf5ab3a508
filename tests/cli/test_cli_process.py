"""The real command in real processes: `python -m flux_tui` against the in-process demo and
against a `flux-tui sim` process on a loopback port, plus the README's library example."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from simproc import clean_env, free_port, running_sim

from flux_tui.cli.output import EXIT_AUTH, EXIT_SIGNAL_BASE, EXIT_UNREACHABLE, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 60


def flux(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flux_tui", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=tmp_path,
        env=env or clean_env(tmp_path),
    )


@pytest.fixture(scope="module")
def sim_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `flux-tui sim` process with a short backlog on a free loopback port."""
    with running_sim(tmp_path_factory.mktemp("sim"), "--backlog", "20") as port:
        yield port


def sim_profile(port: int, secret: str = "demo-secret") -> str:
    base = f"http://127.0.0.1:{port}"
    return (
        f'[profiles.local]\nbase_url = "{base}/realtime"\ntoken_url = "{base}/oauth/token"\n'
        f'company = "demo"\nclient_id = "flux-demo"\nclient_secret = "{secret}"\n'
    )


def assert_jsonl_readings(out: str) -> int:
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows, "no readings printed"
    assert all({"_shard", "_seq", "_arrival", "tagName"} <= set(row) for row in rows)
    return len(rows)


def test_demo_tail_until_caught_up(tmp_path: Path) -> None:
    done = flux(tmp_path, "tail", "--profile", "demo", "--from", "3m", "--until-caught-up")
    assert done.returncode == 0, done.stderr
    assert assert_jsonl_readings(done.stdout) > 1000
    assert "stopped (caught up)" in done.stderr and "Traceback" not in done.stderr


def test_tail_against_sim_through_config_file(tmp_path: Path, sim_port: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text(sim_profile(sim_port))
    done = flux(
        tmp_path,
        "--config",
        str(config),
        "tail",
        "--profile",
        "local",
        "--from",
        "trim-horizon",
        "--until-caught-up",
    )
    assert done.returncode == 0, done.stderr
    assert_jsonl_readings(done.stdout)


def test_tail_against_sim_through_env(tmp_path: Path, sim_port: int) -> None:
    base = f"http://127.0.0.1:{sim_port}"
    env = clean_env(
        tmp_path,
        FLUX_BASE_URL=f"{base}/realtime",
        FLUX_COMPANY="demo",
        FLUX_TOKEN_URL=f"{base}/oauth/token",
        FLUX_CLIENT_ID="flux-demo",
        FLUX_CLIENT_SECRET="demo-secret",
    )
    done = flux(
        tmp_path, "tail", "--from", "trim-horizon", "--until-caught-up", "--count", "100", env=env
    )
    assert done.returncode == 0, done.stderr
    assert assert_jsonl_readings(done.stdout) == 100


def test_wrong_secret_exits_3(tmp_path: Path, sim_port: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text(sim_profile(sim_port, secret="not-the-secret"))
    done = flux(tmp_path, "--config", str(config), "tail", "--profile", "local")
    assert done.returncode == EXIT_AUTH, done.stderr
    assert "flux-tui: error:" in done.stderr and "Traceback" not in done.stderr
    assert "not-the-secret" not in done.stderr
    assert done.stdout == ""


def test_closed_port_exits_4(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(sim_profile(free_port()))  # nothing listens there
    done = flux(tmp_path, "--config", str(config), "tail", "--profile", "local")
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert "flux-tui: error:" in done.stderr and "Traceback" not in done.stderr


def test_config_error_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.local]\nbase_url = "http://example.com/realtime"\n')
    done = flux(tmp_path, "--config", str(config), "info", "--profile", "local")
    assert done.returncode == EXIT_USAGE
    assert "key 'base_url'" in done.stderr and "loopback" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_tail_with_a_summary(tmp_path: Path, signum: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flux_tui", "tail", "--profile", "demo", "--from", "latest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path),
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # the first state line: the feed is running
    assert first.startswith("flux-tui: state:"), first
    process.send_signal(signum)
    _, err = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == EXIT_SIGNAL_BASE + signum  # 130 for Ctrl-C
    assert re.search(rf"stopped \({signum.name}\): [\d,]+ readings", err), err
    assert "Traceback" not in err


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    tail = subprocess.Popen(
        # from the 2-minute backlog: plenty to write, without the demo's older history
        [sys.executable, "-m", "flux_tui", "tail", "--profile", "demo", "--from", "2m"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=clean_env(tmp_path),
    )
    assert tail.stdout is not None
    tail.stdout.readline()
    tail.stdout.close()  # like `| head -1`
    _, err = tail.communicate(timeout=RUN_TIMEOUT)
    assert tail.returncode == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert b"stopped (output closed)" in err


def test_readme_library_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Using it as a library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    # the demo without its 30 minutes of older history: trim-horizon then catches up on
    # the 2-minute backlog (the example's code runs unchanged)
    short = "import flux_tui.connect as c\nc.DEMO_HISTORY_SECONDS = 0.0\n"
    done = subprocess.run(
        [sys.executable, "-c", short + code.group(1)],
        check=False,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=tmp_path,
        env=clean_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "state: catching up" in lines
    assert any(line.startswith("shardId-") for line in lines)
    assert "ReaderStats(" in lines[-1]


def test_sighup_closes_a_recording_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "rec.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "flux_tui", "record", "--profile", "demo", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=clean_env(tmp_path),
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    while not (out.exists() and out.stat().st_size > 0):  # poll: the first page is on disk
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "nothing recorded"
        time.sleep(0.05)
    process.send_signal(signal.SIGHUP)
    _, err = process.communicate(timeout=RUN_TIMEOUT)
    assert process.returncode == EXIT_SIGNAL_BASE + signal.SIGHUP, err
    lines = out.read_bytes().splitlines()
    assert lines and all(json.loads(line)["_seq"] for line in lines)
    saved = re.search(r"saved ([\d,]+) readings", err)
    assert saved and int(saved.group(1).replace(",", "")) == len(lines)
    meta = json.loads((tmp_path / "rec.jsonl.meta.json").read_text())
    assert meta["complete"] is True and meta["count"] == len(lines)
