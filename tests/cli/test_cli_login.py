"""`flux-tui login`, `logout` and `auth status` in process, plus how open_feed picks the
tokens (a stored login, else client credentials) and exposes names and Enterprise Objects."""

from __future__ import annotations

import asyncio
import io
import json
import re
import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from flux_tui import connect
from flux_tui.api import errors
from flux_tui.api.auth import ClientCredentialsProvider
from flux_tui.api.device import DeviceFlow
from flux_tui.api.token_cache import CachedToken, TokenCache, login_token_cache
from flux_tui.api.user_auth import UserTokenProvider
from flux_tui.base.errors import ConfigError
from flux_tui.cli.login import login
from flux_tui.cli.main import main
from flux_tui.cli.output import EXIT_AUTH, EXIT_USAGE
from flux_tui.config import load_config
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings

CODE_RE = re.compile(r"^    ([B-Z]{4}-[B-Z]{4})$", re.MULTILINE)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_COMPANY", "FLUX_CLIENT_ID",
                 "FLUX_CLIENT_SECRET", "FLUX_BASE_URL", "FLUX_TOKEN_URL", "FLUX_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)


def manual_sim(**auth0: Any) -> Simulator:
    options = {**connect.DEMO_AUTH0_OPTIONS, **auth0}
    return Simulator(SimSettings(backlog_seconds=1, auth0_options=options),
                     SimClock.manual_at())


def use_sim(monkeypatch: pytest.MonkeyPatch, sim: Simulator) -> Simulator:
    """`flux-tui login --profile demo` will run against ``sim`` (its clock paces the polls)."""
    monkeypatch.setattr(connect, "build_simulator", lambda profile, settings=None: sim)
    return sim


def login_file(tmp_path: Path, profile: str) -> Path:
    return tmp_path / "xdg" / "flux-tui" / "tokens" / f"{profile}.json"


def test_demo_login_shows_url_and_code_and_stores_tokens_privately(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = use_sim(monkeypatch, manual_sim())
    assert main(["login", "--profile", "demo", "--no-qr"]) == 0
    out = capsys.readouterr().out
    code = CODE_RE.search(out)
    assert code, out
    assert "http://flux-sim/activate" in out and f"user_code={code.group(1)}" in out
    assert "approves this login by itself" in out and "Logged in" in out
    assert "offline_access" in out
    stored = login_token_cache("demo").load()
    assert stored is not None and stored.refresh_token and stored.grant == "device_code"
    assert stored.access_token not in out and stored.refresh_token not in out
    path = login_file(tmp_path, "demo")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sim.auth.tokens_issued["flux-tui-cli"] == 1

    assert main(["auth", "status", "--profile", "demo"]) == 0
    status = capsys.readouterr().out
    assert "openid profile offline_access" in status and "refresh token stored" in status
    assert "flux-tui-cli" in status and stored.access_token not in status

    assert main(["logout", "--profile", "demo"]) == 0
    assert "forgot the login tokens" in capsys.readouterr().out
    assert not path.exists()
    assert main(["logout", "--profile", "demo"]) == 0
    assert "already logged out" in capsys.readouterr().out


def test_denied_login_exits_3_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = use_sim(monkeypatch, manual_sim(auto_approve_after=None))
    plain_sleep = sim.clock.sleep

    async def deny_then_sleep(seconds: float) -> None:
        for user_code in sim.auth.pending_user_codes():
            sim.auth.deny(user_code)
        await plain_sleep(seconds)

    monkeypatch.setattr(sim.clock, "sleep", deny_then_sleep)
    assert main(["login", "--profile", "demo", "--no-qr"]) == EXIT_AUTH
    err = capsys.readouterr().err
    assert "denied" in err and "flux-tui login" in err
    assert not login_file(tmp_path, "demo").exists()


def test_expired_code_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sim(monkeypatch, manual_sim(auto_approve_after=None, device_code_expires_in=30))
    assert main(["login", "--profile", "demo", "--no-qr"]) == EXIT_AUTH
    assert "expired" in capsys.readouterr().err
    assert not login_file(tmp_path, "demo").exists()


async def test_slow_down_is_reported_once_and_qr_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = manual_sim(auto_approve_after=12, device_interval=5)
    use_sim(monkeypatch, sim)
    plain_sleep = sim.clock.sleep
    calls = [0]

    async def early_second_poll(seconds: float) -> None:
        calls[0] += 1
        await plain_sleep(seconds - (1 if calls[0] == 2 else 0))

    monkeypatch.setattr(sim.clock, "sleep", early_second_poll)
    out = io.StringIO()
    await login(load_config().profile("demo"), out=out, qr=True)
    text = out.getvalue()
    assert text.count("checking every 10 s") == 1
    assert "█" in text or "▀" in text or "▄" in text  # the QR code of the complete URL


def write_config(tmp_path: Path, body: str) -> None:
    path = tmp_path / "xdg" / "flux-tui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)


FIELD = """
[profiles.field]
base_url = "http://127.0.0.1:8750/realtime"
token_url = "http://127.0.0.1:8750/oauth/token"
enterprise_url = "http://127.0.0.1:8750/axil/enterprise-objects"
company = "demo"
device_client_id = "flux-tui-cli"
asset_cache_ttl = "12h"
"""


def stored_field_login(now: float, refresh: str | None = "rt-value-123") -> CachedToken:
    token = CachedToken("at-value-123", now + 3600, scope="openid profile offline_access",
                        audience="https://api.axil.ai", grant="device_code",
                        client_id="flux-tui-cli", refresh_token=refresh)
    login_token_cache("field").save(token)
    return token


def test_auth_status_of_a_profile_without_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(tmp_path, FIELD)
    assert main(["auth", "status", "--profile", "field"]) == EXIT_AUTH
    out = capsys.readouterr().out
    assert "not logged in" in out and "flux-tui login --profile field" in out
    stored_field_login(time.time())
    assert main(["auth", "status", "--profile", "field", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["grant"] == "device_code" and info["login"]["in_use"]
    assert info["login"]["scopes"] == ["openid", "profile", "offline_access"]
    assert 3500 < info["login"]["expires_in"] <= 3600
    assert info["login"]["refresh_token"] == "stored"
    assert main(["auth", "status", "--profile", "field"]) == 0
    text = capsys.readouterr().out
    assert "device_code" in text and ("in 0h59m" in text or "in 1h00m" in text)
    for output in (text, json.dumps(info)):
        assert "at-value-123" not in output and "rt-value-123" not in output


def test_logout_forgets_both_kinds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(tmp_path, FIELD)
    stored_field_login(2e9)
    TokenCache("field").save(CachedToken("cc-token", 2e9, audience="https://api.axil.ai"))
    assert main(["logout", "--profile", "field"]) == 0
    assert "login tokens and the cached client-credentials token" in capsys.readouterr().out
    assert login_token_cache("field").load() is None and TokenCache("field").load() is None


def test_new_profile_keys_are_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(tmp_path, FIELD)
    profile = load_config().profile("field")
    assert profile.asset_cache_ttl == 12 * 3600 and profile.login_client_id() == "flux-tui-cli"
    write_config(tmp_path, FIELD.replace('"12h"', '"soon"'))
    assert main(["auth", "status", "--profile", "field"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "config.toml" in err and "'field'" in err and "asset_cache_ttl" in err


async def field_session(sim: Simulator, **kw: Any) -> connect.FeedSession:
    return await connect.open_feed(load_config().profile("field"),
                                   transport=httpx.ASGITransport(app=sim.app), **kw)


async def real_login(http: httpx.AsyncClient) -> CachedToken:
    """A device login on a real-time simulator that approves at once (no waiting)."""

    async def no_wait(seconds: float) -> None:
        return None

    flow = DeviceFlow(connect.SIM_TOKEN_URL, "flux-tui-cli", "https://api.axil.ai", http=http,
                      sleep=no_wait)
    return await flow.login(lambda code: None)


async def test_open_feed_uses_a_stored_login_and_exposes_names(tmp_path: Path) -> None:
    write_config(tmp_path, FIELD)
    sim = Simulator(SimSettings(backlog_seconds=1, auth0_options={"auto_approve_after": 0}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        login_token_cache("field").save(await real_login(http))
    session = await field_session(sim)
    async with session:
        assert isinstance(session.tokens, UserTokenProvider)
        assert session.tokens.grant == "device_code" and session.enterprise is not None
        assert (await session.client.describe_stream()).shards
        assert session.names.state == "loading" and session.names.ttl == 12 * 3600
        assert await session.names.refresh()
        doc = sim.fleet.assets()[0]
        assert session.names.asset_name(doc["assetId"]) == doc["name"]
    assert (tmp_path / "cache" / "flux-tui" / "assets" / "field.json").exists()


async def test_without_login_or_secret_open_feed_says_how_to_log_in(tmp_path: Path) -> None:
    write_config(tmp_path, FIELD + 'client_id = "someone"\n')
    sim = Simulator(SimSettings(backlog_seconds=1))
    with pytest.raises(ConfigError, match="flux-tui login --profile field"):
        await field_session(sim)


async def test_a_refused_login_tells_the_cli_user_to_log_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(tmp_path, FIELD)
    stored_field_login(0.0)  # expired, and the simulator never issued its refresh token
    sim = Simulator(SimSettings(backlog_seconds=1))
    session = await field_session(sim)
    async with session:
        with pytest.raises(errors.LoginRequiredError, match="flux-tui login --profile field"):
            await session.client.describe_stream()


async def test_demo_relogin_dialog_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the viewer's re-login dialog does: LoginRequiredError, device flow, adopt, go on."""
    sim = manual_sim(auto_approve_after=6)
    session = await connect.open_feed(load_config().profile("demo"), simulator=sim,
                                      grant="device_code")
    async with session:
        tokens = session.tokens
        assert isinstance(tokens, UserTokenProvider)
        with pytest.raises(errors.LoginRequiredError):
            await session.client.describe_stream()
        assert tokens.state == "login-required"
        shown: list[str] = []
        token = await session.device_flow().login(lambda code: shown.append(code.user_code))
        tokens.adopt(token)
        assert shown and tokens.state == "ok"
        assert (await session.client.describe_stream()).shards
        assert session.names.cache is None  # the demo's names never reach the disk


async def test_demo_feed_keeps_client_credentials_despite_a_stored_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_sim(monkeypatch, manual_sim())
    await login(load_config().profile("demo"), out=io.StringIO())
    session = await connect.open_feed(load_config().profile("demo"))
    async with session:
        assert isinstance(session.tokens, ClientCredentialsProvider)
        assert session.enterprise is not None


async def test_demo_feed_waits_for_a_new_login_and_carries_on() -> None:
    """The viewer's way: wait_for_login; the reader pauses at LoginRequired and resumes after
    the re-login, without ending (log, filter, pins and recording stay as they are)."""
    from flux_tui.feed.types import Batch

    sim = manual_sim(auto_approve_after=6)
    session = await connect.open_feed(load_config().profile("demo"), simulator=sim,
                                      grant="device_code", wait_for_login=True)
    async with session:
        tokens = session.tokens
        assert isinstance(tokens, UserTokenProvider)
        needed = asyncio.Event()
        tokens.on_state = lambda state: needed.set() if state == "login-required" else None
        first = asyncio.create_task(anext(aiter(session.reader)))
        await asyncio.wait_for(needed.wait(), timeout=5)
        assert not first.done()
        tokens.adopt(await session.device_flow().login(lambda code: None))
        item = await asyncio.wait_for(first, timeout=10)
        while not isinstance(item, Batch):
            item = await asyncio.wait_for(anext(aiter(session.reader)), timeout=10)
        assert item.readings and tokens.state == "ok"
