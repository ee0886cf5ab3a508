"""Secrets never leak: every command runs with a known client secret, and with the access,
refresh and device codes the simulator hands out; then everything written (stdout, stderr,
log records, session files and their metadata, caches) is searched for them. Only the token
stores themselves may hold tokens.

The commands run in process against the simulator: every ``httpx.AsyncClient`` the code
creates is routed to the simulator's ASGI app, so profiles of one's own (not the demo) are
exercised, with their on-disk token caches and login store.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from flux_tui.api import device as device_module
from flux_tui.api.device import DeviceFlow
from flux_tui.cli.main import main
from flux_tui.config import load_config
from flux_tui.connect import open_feed
from flux_tui.sim.app import Simulator
from flux_tui.sim.settings import SimSettings

SECRET = "cs-KNOWN-client-secret-7f3a9c"
WRONG = "cs-WRONG-secret-1b2c3d"

CONFIG = """
[profiles.field]
base_url = "http://127.0.0.1:8750/realtime"
token_url = "http://127.0.0.1:8750/oauth/token"
enterprise_url = "http://127.0.0.1:8750/axil/enterprise-objects"
company = "demo"
client_id = "field-cc"
client_secret_env = "FIELD_SECRET"

[profiles.person]
base_url = "http://127.0.0.1:8750/realtime"
token_url = "http://127.0.0.1:8750/oauth/token"
enterprise_url = "http://127.0.0.1:8750/axil/enterprise-objects"
company = "demo"
device_client_id = "flux-tui-cli"

[profiles.wrong]
base_url = "http://127.0.0.1:8750/realtime"
token_url = "http://127.0.0.1:8750/oauth/token"
company = "demo"
client_id = "field-cc"
client_secret_env = "WRONG_SECRET"
"""


def known_secrets(sim: Simulator) -> set[str]:
    """The secret, and every token and device code the simulator issued (whole, and the
    signature part of each JWT-shaped token, so a half-printed token is caught too)."""
    auth: Any = sim.auth
    found = {SECRET, WRONG}
    for token in auth._tokens:
        found.add(token)
        found.add(token.rsplit(".", 1)[-1])
    found.update(auth._refresh)
    found.update(auth._devices)
    return found


@pytest.fixture
def sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    simulator = Simulator(
        SimSettings(
            backlog_seconds=3,
            units=24,
            clients={"field-cc": SECRET},
            auth0_options={"auto_approve_after": 0, "device_interval": 1},
        )
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FIELD_SECRET", SECRET)
    monkeypatch.setenv("WRONG_SECRET", WRONG)
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_CLIENT_SECRET", "FLUX_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "xdg" / "flux-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(CONFIG)

    real_client = httpx.AsyncClient

    class RoutedClient(real_client):  # type: ignore[misc, valid-type]
        """Every client the code builds talks to the simulator (no socket)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["transport"] = kwargs.get("transport") or httpx.ASGITransport(
                app=simulator.app
            )
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(httpx, "AsyncClient", RoutedClient)

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    # `flux-tui login` imports the device flow when it runs (not with the CLI): patch it there
    monkeypatch.setattr(device_module, "DeviceFlow", functools.partial(DeviceFlow, sleep=no_wait))
    return simulator


def test_no_command_writes_a_secret_or_token(
    sim: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    written: list[str] = []
    codes: dict[str, int] = {}

    def run(*argv: str) -> int:
        code = main(list(argv))
        out = capsys.readouterr()
        written.extend((out.out, out.err))
        codes[" ".join(argv)] = code
        return code

    session_file = tmp_path / "out" / "session.jsonl"
    session_file.parent.mkdir()
    assert run("config", "show") == 0
    assert run("config", "show", "--profile", "field") == 0
    assert run("info", "--profile", "field", "-v") == 0
    assert run("info", "--profile", "field", "--json") == 0
    assert run("tail", "--profile", "field", "--from", "trim-horizon", "--until-caught-up",
               "--format", "jsonl", "-v") == 0
    assert run("record", "--profile", "field", "--out", str(session_file),
               "--from", "trim-horizon", "--until-caught-up") == 0
    assert run("auth", "status", "--profile", "field") == 0
    assert run("auth", "status", "--profile", "person") == 3  # not logged in yet
    assert run("login", "--profile", "person", "--no-qr") == 0
    assert run("auth", "status", "--profile", "person") == 0
    assert run("auth", "status", "--profile", "person", "--json") == 0
    assert run("info", "--profile", "person") == 0
    sim.auth.expire_all()  # the next call renews with the refresh token (and rotates it)
    assert run("tail", "--profile", "person", "--count", "5", "--format", "table") == 0
    assert sim.auth.token_requests["refresh_token"] >= 1
    sim.auth.revoke_refresh_tokens()
    sim.auth.expire_all()
    assert run("info", "--profile", "person") == 3  # login required, said plainly
    assert run("info", "--profile", "wrong") == 3  # a wrong secret
    assert run("tail", "--profile", "wrong", "--count", "1") == 3

    async def names() -> None:  # the asset cache is written too
        async with await open_feed(load_config().profile("field")) as session:
            assert await session.names.refresh()

    asyncio.run(names())
    assert run("logout", "--profile", "person") == 0
    assert run("logout", "--profile", "field") == 0

    stderr = "".join(written)
    assert "login again" in stderr or "log in again" in stderr
    assert "wrong client id or secret" in stderr

    secrets = known_secrets(sim)
    assert len(secrets) > 6, "the simulator issued fewer tokens than the commands need"
    texts = {"(terminal output)": "".join(written), "(log records)": caplog.text}
    for record in caplog.records:  # arguments as well as the formatted message
        texts["(log records)"] += repr(record.args) + str(record.msg)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    token_stores = [p for p in files if p.parent.name == "tokens"]
    assert not token_stores, "logout left a token store behind"
    assert session_file.exists() and any("assets" in p.parts for p in files)
    for path in files:
        texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    leaks = [(where, secret[:12]) for where, text in texts.items() for secret in secrets
             if secret in text]
    assert not leaks, f"secrets written to: {leaks}"


def test_the_search_would_find_a_leak(sim: Simulator, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    """The check above is not vacuous: the login store does hold a known token."""
    assert main(["login", "--profile", "person", "--no-qr"]) == 0
    capsys.readouterr()
    store = tmp_path / "xdg" / "flux-tui" / "tokens" / "person.json"
    text = store.read_text()
    assert any(secret in text for secret in known_secrets(sim))
