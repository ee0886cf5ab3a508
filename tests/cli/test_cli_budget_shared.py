"""Two `flux-tui tail` processes of one profile share the gateway's per-token budget: against
a real `flux-tui sim` throttling at the same rate, together they get no 429."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from simproc import clean_env, running_sim
from test_cli_process import flux  # same folder

LIMIT = "10/10s"
TAIL_SECONDS = "6"  # long enough to need more than one window's worth of calls each


@pytest.fixture
def throttling_sim(tmp_path: Path) -> Iterator[int]:
    """A `flux-tui sim` on a free loopback port whose gateway allows LIMIT per token."""
    with running_sim(tmp_path / "sim", "--throttle", LIMIT) as port:
        yield port


def counters(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sim/counters", timeout=5) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


def test_two_tails_of_one_profile_get_no_429_together(tmp_path: Path, throttling_sim: int) -> None:
    base = f"http://127.0.0.1:{throttling_sim}"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.local]\nbase_url = "{base}/realtime"\ntoken_url = "{base}/oauth/token"\n'
        'company = "demo"\nclient_id = "flux-demo"\nclient_secret = "demo-secret"\n'
        f'rate_limit = "{LIMIT}"\npage_limit = 50\n'
    )
    env = clean_env(tmp_path)
    # `info` first: it caches the token, so both tails use one token (as a technician's would).
    info = flux(tmp_path, "--config", str(config), "info", "--profile", "local", env=env)
    assert info.returncode == 0, info.stderr
    command = [sys.executable, "-m", "flux_tui", "--config", str(config), "tail"]
    command += ["--profile", "local", "--from", "trim-horizon", "--duration", TAIL_SECONDS]
    tails = [
        subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        for _ in range(2)
    ]
    errors = [tail.communicate(timeout=60)[1] for tail in tails]
    assert [tail.returncode for tail in tails] == [0, 0], errors
    seen = counters(throttling_sim)
    tokens = seen["requests_by_token"]
    assert isinstance(tokens, dict) and len(tokens) == 1  # one token: one server-side budget
    assert sum(tokens.values()) >= 10  # the budget was used up: the two had to share it
    assert seen["throttled"] == 0, errors
    ledger = tmp_path / "cache" / "flux-tui" / "budget" / "local.json"
    assert ledger.stat().st_mode & 0o777 == 0o600
    assert len(json.loads(ledger.read_bytes())["calls_at"]) <= 10
