"""The Enterprise Objects client against the simulator: /all and its size, one asset, search
pages, the typed model, renewal on 401 and the error classes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from flux_tui.api import errors
from flux_tui.api.auth import ClientCredentialsProvider, StaticTokenProvider
from flux_tui.api.enterprise import Asset, EnterpriseClient
from flux_tui.connect import SIM_ENTERPRISE_URL, SIM_TOKEN_URL
from flux_tui.sim.app import Simulator
from flux_tui.sim.settings import SimSettings

AUDIENCE = "https://api.axil.ai"


async def open_client(sim: Simulator) -> tuple[EnterpriseClient, ClientCredentialsProvider]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app))
    tokens = ClientCredentialsProvider(SIM_TOKEN_URL, AUDIENCE, "flux-demo", "demo-secret",
                                       http=http)
    return EnterpriseClient(SIM_ENTERPRISE_URL, tokens, http), tokens


@pytest.fixture
async def fleet24() -> AsyncIterator[tuple[Simulator, EnterpriseClient]]:
    sim = Simulator(SimSettings(backlog_seconds=1, units=24))
    client, _ = await open_client(sim)
    yield sim, client
    await client.http.aclose()


async def test_all_assets_asks_again_with_the_total_when_truncated(
    fleet24: tuple[Simulator, EnterpriseClient],
) -> None:
    sim, client = fleet24
    assets = await client.all_assets()
    assert len(assets) == 24 == len(sim.fleet.assets())
    assert client.requests == 2  # /all gave 20 of 24, then /all?size=24
    assert len({a.key for a in assets}) == 24


async def test_all_assets_in_one_call_when_the_first_page_is_everything() -> None:
    sim = Simulator(SimSettings(backlog_seconds=1, units=12))
    client, _ = await open_client(sim)
    async with client.http:
        assert len(await client.all_assets()) == 12 and client.requests == 1


async def test_asset_model_has_the_documented_fields(
    fleet24: tuple[Simulator, EnterpriseClient],
) -> None:
    sim, client = fleet24
    doc = sim.fleet.assets()[0]
    asset = await client.get_asset(doc["assetId"])
    assert isinstance(asset, Asset)
    assert asset.asset_id == doc["assetId"] and asset.key == str(doc["assetId"])
    assert asset.name == doc["name"]
    assert asset.site and asset.site.name == doc["site"]["name"]
    assert asset.site.site_id == doc["site"]["siteId"]
    assert asset.organization and asset.organization.org_id == doc["organization"]["orgId"]
    assert asset.operating_area and asset.operating_area.name == doc["operatingArea"]["name"]
    assert asset.mechanic and asset.mechanic.phone == doc["mechanic"]["phone"]
    assert asset.mechanic.email == doc["mechanic"]["email"]
    assert asset.asset_type == doc["assetType"] and asset.device_id == doc["deviceId"]
    assert asset.ip_address == doc["ipAddress"]
    assert asset.connectivity and asset.connectivity.status in ("Online", "Offline")
    assert asset.connectivity.last_update_time is not None
    # Unknown fields survive a round trip through the cache format.
    assert Asset.model_validate(asset.raw()).raw() == asset.raw()
    assert asset.raw()["transferOrderStatus"] == doc["transferOrderStatus"]


async def test_unknown_asset_is_none(fleet24: tuple[Simulator, EnterpriseClient]) -> None:
    _, client = fleet24
    assert await client.get_asset(999_999) is None


async def test_search_pages_of_twenty(fleet24: tuple[Simulator, EnterpriseClient]) -> None:
    sim, client = fleet24
    first = await client.search("")
    second = await client.search("", page=1)
    assert first.total_count == 24 and len(first.assets) == 20 and len(second.assets) == 4
    site = sim.fleet.assets()[0]["site"]["name"]
    found = await client.search(site.lower())
    assert found.assets and all(a.site and a.site.name == site for a in found.assets)


async def test_a_401_renews_the_token_once_and_retries() -> None:
    sim = Simulator(SimSettings(backlog_seconds=1, units=5))
    client, tokens = await open_client(sim)
    async with client.http:
        await client.all_assets()
        sim.auth.expire_all()  # the provider still believes its token good
        assert len(await client.all_assets()) == 5
    assert tokens.fetches == 2


async def test_a_token_refused_twice_is_unauthorized() -> None:
    sim = Simulator(SimSettings(backlog_seconds=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        client = EnterpriseClient(SIM_ENTERPRISE_URL, StaticTokenProvider("bogus"), http)
        with pytest.raises(errors.UnauthorizedError):
            await client.all_assets()
        assert client.requests == 2


async def test_unreachable_and_malformed_answers_are_flux_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        client = EnterpriseClient("https://eo.example/x", StaticTokenProvider("t"), http)
        with pytest.raises(errors.ConnectError, match="eo.example"):
            await client.all_assets()

    def odd(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(odd)) as http:
        client = EnterpriseClient("https://eo.example/x", StaticTokenProvider("t"), http)
        with pytest.raises(errors.UnexpectedResponseError, match="totalCount"):
            await client.all_assets()
