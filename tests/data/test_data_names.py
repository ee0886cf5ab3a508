"""Asset names: the per-profile cache (private, atomic, expiring), offline behaviour, states,
on-demand lookups and filters matching names."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from flux_tui.api.auth import ClientCredentialsProvider, StaticTokenProvider
from flux_tui.api.enterprise import Asset, EnterpriseClient
from flux_tui.api.names import DEFAULT_TTL, AssetCache, AssetDirectory
from flux_tui.connect import SIM_ENTERPRISE_URL, SIM_TOKEN_URL
from flux_tui.data.query import compile_query
from flux_tui.feed.types import Reading
from flux_tui.sim.app import Simulator
from flux_tui.sim.settings import SimSettings

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimSettings(backlog_seconds=1, units=24))


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[EnterpriseClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        tokens = ClientCredentialsProvider(SIM_TOKEN_URL, "https://api.axil.ai", "flux-demo",
                                           "demo-secret", http=http)
        yield EnterpriseClient(SIM_ENTERPRISE_URL, tokens, http)


@pytest.fixture
async def offline() -> AsyncIterator[EnterpriseClient]:
    """A client of the same URL whose every request fails to connect."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        yield EnterpriseClient(SIM_ENTERPRISE_URL, StaticTokenProvider("t"), http)


async def test_refresh_fills_names_and_writes_a_private_cache(
    sim: Simulator, client: EnterpriseClient, tmp_path: Path
) -> None:
    cache = AssetCache("prd", tmp_path / "assets")
    changes: list[int] = []
    names = AssetDirectory(client, cache=cache, clock=Clock(),
                           listener=lambda: changes.append(names.version))
    assert names.state == "loading" and names.asset_name(1131) is None
    assert await names.refresh()
    assert names.state == "fresh" and names.source == "api" and len(names) == 24 and changes
    doc = sim.fleet.assets()[3]
    assert names.asset_name(doc["assetId"]) == doc["name"]
    assert names.asset_name(str(doc["assetId"])) == doc["name"]  # ids as text or number
    assert names.site_name(doc["site"]["siteId"]) == doc["site"]["name"]
    assert names.org_name(doc["organization"]["orgId"]) == doc["organization"]["name"]
    details = names.details(doc["assetId"])
    assert details is not None and details.mechanic and details.mechanic.name
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700
    stored = cache.path.read_text()
    assert doc["name"] in stored and "Bearer" not in stored


async def test_cache_serves_when_the_api_is_unreachable_then_goes_stale(
    client: EnterpriseClient, offline: EnterpriseClient, tmp_path: Path
) -> None:
    cache = AssetCache("prd", tmp_path)
    await AssetDirectory(client, cache=cache, clock=Clock()).refresh()
    clock = Clock()
    clock.now += DEFAULT_TTL - 60
    names = AssetDirectory(offline, cache=cache, clock=clock)
    assert names.state == "fresh" and names.source == "cache" and len(names) == 24
    assert not names.needs_refresh()  # young cache: no request at all
    clock.now += 120
    assert names.needs_refresh() and names.state == "stale-cache"
    assert not await names.refresh()
    assert names.state == "stale-cache" and names.last_error and len(names) == 24
    assert offline.requests == 1


async def test_expiry_is_configurable(client: EnterpriseClient, tmp_path: Path) -> None:
    cache = AssetCache("prd", tmp_path)
    await AssetDirectory(client, cache=cache, clock=Clock()).refresh()
    clock = Clock()
    clock.now += 61
    assert AssetDirectory(client, cache=cache, clock=clock, ttl=60).state == "stale-cache"
    assert AssetDirectory(client, cache=cache, clock=clock, ttl=3600).state == "fresh"


async def test_no_cache_and_no_api_means_ids_and_unavailable(
    offline: EnterpriseClient, tmp_path: Path
) -> None:
    names = AssetDirectory(offline, cache=AssetCache("prd", tmp_path), clock=Clock())
    assert names.state == "loading"
    assert not await names.refresh()
    assert names.state == "unavailable" and names.asset_name(1131) is None
    assert names.details(1131) is None
    assert AssetDirectory.empty().state == "unavailable"


async def test_a_cache_of_another_api_or_damaged_is_ignored(
    client: EnterpriseClient, tmp_path: Path
) -> None:
    cache = AssetCache("prd", tmp_path)
    await AssetDirectory(client, cache=cache, clock=Clock()).refresh()
    other = AssetDirectory(EnterpriseClient("https://elsewhere.example/eo", client.tokens,
                                            client.http), cache=cache, clock=Clock())
    assert other.state == "loading" and len(other) == 0
    doc = orjson.loads(cache.path.read_bytes())
    doc["assets"][0] = {"name": "no id"}
    cache.path.write_bytes(orjson.dumps(doc))
    assert len(AssetDirectory(client, cache=cache, clock=Clock())) == 23  # one entry lost
    cache.path.write_bytes(b"{torn")
    assert AssetDirectory(client, cache=cache, clock=Clock()).state == "loading"


async def test_lookup_missing_is_deduplicated_bounded_and_served_by_run(
    sim: Simulator, client: EnterpriseClient, tmp_path: Path
) -> None:
    docs = sim.fleet.assets()
    cache = AssetCache("prd", tmp_path)
    cache.save(client.base_url, NOW, [Asset.model_validate(d) for d in docs[:10]])
    changed = asyncio.Event()
    names = AssetDirectory(client, cache=cache, clock=Clock(), max_pending=2,
                           listener=changed.set)
    wanted = docs[15]["assetId"]
    assert names.asset_name(wanted) is None and names.state == "fresh"
    assert names.lookup_missing(wanted) and not names.lookup_missing(wanted)  # deduplicated
    assert names.lookup_missing(999_999)
    assert not names.lookup_missing(docs[16]["assetId"])  # the queue is full
    assert not names.lookup_missing(docs[0]["assetId"])  # already known
    task = asyncio.create_task(names.run())
    try:
        for _ in range(5000):  # yield to the task until both lookups were answered
            if client.requests == 2 and not names.pending:
                break
            await asyncio.sleep(0)
    finally:
        task.cancel()
    assert changed.is_set()
    assert names.asset_name(wanted) == docs[15]["name"]
    assert not names.lookup_missing(999_999)  # the API said unknown: not asked again soon
    assert client.requests == 2  # two lookups, no /all (the cache was fresh)


async def test_run_refreshes_a_stale_cache_in_the_background(
    sim: Simulator, client: EnterpriseClient, tmp_path: Path
) -> None:
    docs = sim.fleet.assets()
    cache = AssetCache("prd", tmp_path)
    cache.save(client.base_url, NOW - 2 * DEFAULT_TTL, [Asset.model_validate(docs[0])])
    changed = asyncio.Event()
    names = AssetDirectory(client, cache=cache, clock=Clock(), listener=changed.set)
    assert names.state == "stale-cache" and len(names) == 1
    task = asyncio.create_task(names.run())
    try:
        await asyncio.wait_for(changed.wait(), timeout=5)
    finally:
        task.cancel()
    assert names.state == "fresh" and len(names) == 24
    saved = cache.load(client.base_url)
    assert saved is not None and saved[0] == NOW and len(saved[1]) == 24


async def test_filters_match_names(sim: Simulator, client: EnterpriseClient) -> None:
    names = AssetDirectory(client, clock=Clock())
    await names.refresh()
    doc = sim.fleet.assets()[2]
    org, site, asset = doc["organization"]["orgId"], doc["site"]["siteId"], doc["assetId"]
    payload = {"epochMs": 1, "assetId": asset, "siteId": site, "orgId": org, "tagId": 5,
               "label": "Suction Pressure", "val": 1.0}
    reading = Reading("shardId-0", "1", 0, 0.0, 1, 2, org, site, asset, 5, 6, "tag",
                      "Suction Pressure", 1.0, payload)
    unit = doc["name"]
    assert compile_query(f"asset:{unit}", names=names).matches(reading)
    assert not compile_query(f"asset:{unit}", names=None).matches(reading)
    assert compile_query(unit, names=names).matches(reading)
    assert compile_query(f'site:"{doc["site"]["name"]}"', names=names).matches(reading)
