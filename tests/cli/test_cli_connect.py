"""open_feed: the wiring from a profile to a running feed, in process (no sockets)."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from flux_tui.api.errors import InvalidClientError
from flux_tui.base.errors import ConfigError
from flux_tui.base.events import CaughtUp
from flux_tui.cli.info import describe_text
from flux_tui.config import Profile, load_config
from flux_tui.connect import open_feed
from flux_tui.feed.types import Batch
from flux_tui.sim.app import Simulator
from flux_tui.sim.settings import SimSettings


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_RATE_LIMIT", "FLUX_PAGE_LIMIT"):
        monkeypatch.delenv(name, raising=False)


def demo() -> Profile:
    return load_config().profile("demo")


def loopback(secret: str = "demo-secret") -> Profile:
    """A profile of one's own pointing at a simulator on loopback (served here in process)."""
    return Profile(
        name="local",
        base_url="http://127.0.0.1:8750/realtime",
        token_url="http://127.0.0.1:8750/oauth/token",
        company="demo",
        client_id="flux-demo",
        client_secret=secret,
    )


async def read_until_caught_up(profile: Profile, **kwargs: object) -> int:
    count = 0
    async with await open_feed(profile, start="trim-horizon", **kwargs) as feed:  # type: ignore[arg-type]
        async for item in feed.reader:
            if isinstance(item, Batch):
                count += len(item.readings)
            elif isinstance(item, CaughtUp):
                break
    return count


async def test_demo_profile_runs_the_simulator_in_process(tmp_path: Path) -> None:
    sim = Simulator(SimSettings(backlog_seconds=5))
    count = await read_until_caught_up(demo(), simulator=sim)
    produced = sim.control.counters()["records_produced"]
    assert count > 0 and count >= produced - 50  # every backlog record, at most a page more
    assert not (tmp_path / "cache").exists()  # demo tokens never reach the disk


async def test_session_parts_and_overrides() -> None:
    feed = await open_feed(demo(), start="latest", page_limit=123)
    try:
        assert feed.simulator is not None and feed.reader.page_limit == 123
        assert feed.budget.calls == 100 and feed.budget.window == 60
        assert feed.enterprise_url == "http://flux-sim/axil/enterprise-objects"
        assert feed.client.stream_url == "http://flux-sim/realtime/demo"
    finally:
        await feed.aclose()
        await feed.aclose()  # idempotent
    assert feed.http.is_closed


async def test_own_profile_through_a_transport_caches_the_token(tmp_path: Path) -> None:
    sim = Simulator(SimSettings(backlog_seconds=5))
    transport = httpx.ASGITransport(app=sim.app)
    assert await read_until_caught_up(loopback(), transport=transport) > 0
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cached, "the token was not cached on disk"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in cached)
    assert all("demo-secret" not in p.read_text() for p in cached)


async def test_wrong_secret_is_an_auth_error() -> None:
    sim = Simulator(SimSettings(backlog_seconds=1))
    with pytest.raises(InvalidClientError):
        await read_until_caught_up(loopback("wrong"), transport=httpx.ASGITransport(app=sim.app))


async def test_incomplete_profiles_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="key 'company'"):
        await open_feed(Profile(name="x"))
    with pytest.raises(ConfigError, match="key 'client_id'"):
        await open_feed(Profile(name="x", company="acme"))
    with pytest.raises(ConfigError, match="key 'start'"):
        await open_feed(demo(), start="oldest")
    with pytest.raises(ConfigError, match="not a simulator"):
        await open_feed(loopback(), simulator=Simulator(SimSettings(backlog_seconds=1)))


async def test_info_shows_lineage_after_a_split() -> None:
    sim = Simulator(SimSettings(backlog_seconds=1))
    left, right = sim.control.split("shardId-000000000000")
    async with await open_feed(demo(), simulator=sim) as feed:
        stream = await feed.client.describe_all()
        budget = {"calls": 100, "window": 60.0, "remaining": 99, "resets_in": 0.0}
        text = describe_text(feed.profile, stream, budget, feed.tokens.expires_at)
    assert "shards     4 (3 open, 1 closed)" in text
    assert "shardId-000000000000  closed" in text
    assert f"{left}  open    split from shardId-000000000000" in text
    assert f"{right}  open    split from shardId-000000000000" in text
    assert "99 of 100 calls left (window 60 s)" in text


async def test_own_profiles_share_their_budget_through_a_ledger_the_demo_does_not(
    tmp_path: Path,
) -> None:
    own = await open_feed(loopback(), transport=httpx.MockTransport(lambda _: httpx.Response(500)))
    in_process = await open_feed(demo())
    try:
        assert own.budget.ledger is not None
        assert own.budget.ledger.path == tmp_path / "cache" / "flux-tui" / "budget" / "local.json"
        assert in_process.budget.ledger is None  # its gateway lives and dies with this process
    finally:
        await own.aclose()
        await in_process.aclose()
