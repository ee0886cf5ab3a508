"""The Enterprise Objects stand-in: lookup, search paging, property filters, /all, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from flux_tui.sim.auth0 import Auth0Sim
from flux_tui.sim.enterprise import enterprise_routes
from flux_tui.sim.telemetry import Fleet

EO = "/axil/enterprise-objects"
T0 = 1_764_000_000.0


class ManualClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    # 45 units: enough for three pages of 20.
    return Fleet(seed=3, orgs=2, sites=6, units=45)


@pytest.fixture
async def eo(fleet: Fleet) -> AsyncIterator[tuple[httpx.AsyncClient, Auth0Sim, ManualClock]]:
    clock = ManualClock()
    auth = Auth0Sim(clock)
    app = Starlette(routes=[*auth.routes(), Mount(EO, routes=enterprise_routes(fleet, auth))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://sim.test") as http:
        r = await http.post("/oauth/token", json={
            "client_id": "flux-demo", "client_secret": "demo-secret",
            "audience": "https://api.axil.ai", "grant_type": "client_credentials"})
        http.headers["authorization"] = "Bearer " + r.json()["access_token"]
        yield http, auth, clock


async def test_one_asset_by_asset_id_or_netsuite_id(eo, fleet):
    http, _auth, _clock = eo
    unit = fleet.units[4]
    r = await http.get(f"{EO}/assets/{unit.asset_id}")
    assert r.status_code == 200
    doc = r.json()
    assert doc["assetId"] == unit.asset_id and doc["name"] == unit.name
    assert doc["site"]["siteId"] == unit.site.site_id
    assert doc["organization"]["orgId"] == unit.org.org_id
    by_netsuite = await http.get(f"{EO}/assets/{doc['netsuiteId']}")
    assert by_netsuite.json()["assetId"] == unit.asset_id


async def test_unknown_asset_is_404_with_message(eo):
    http, _auth, _clock = eo
    r = await http.get(f"{EO}/assets/77")
    assert r.status_code == 404 and set(r.json()) == {"message"}


async def test_listing_pages_of_twenty_from_zero(eo, fleet):
    http, _auth, _clock = eo
    pages = [(await http.get(f"{EO}/assets", params={"page": n})).json() for n in range(4)]
    assert [len(p["assets"]) for p in pages] == [20, 20, 5, 0]
    assert all(p["totalCount"] == 45 for p in pages)
    ids = [a["assetId"] for p in pages for a in p["assets"]]
    assert sorted(ids) == sorted(u.asset_id for u in fleet.units)
    assert isinstance(pages[0]["executionTime"], str)
    assert (await http.get(f"{EO}/assets", params={"page": "-1"})).status_code == 400


async def test_search_is_case_insensitive_over_name_site_and_org(eo, fleet):
    http, _auth, _clock = eo
    unit = fleet.units[7]
    r = (await http.get(f"{EO}/assets", params={"search": unit.name.lower()})).json()
    assert [a["assetId"] for a in r["assets"]] == [unit.asset_id]
    site = unit.site.name
    r = (await http.get(f"{EO}/assets", params={"search": site.upper()})).json()
    expected = {u.asset_id for u in fleet.units if site.casefold() in u.site.name.casefold()}
    assert {a["assetId"] for a in r["assets"]} == expected and r["totalCount"] == len(expected)
    org = fleet.units[0].org.name
    r = (await http.get(f"{EO}/assets", params={"search": org})).json()
    in_org = [u for u in fleet.units if u.org.name == org]
    assert r["totalCount"] == len(in_org) > 20
    assert len(r["assets"]) == 20
    r2 = (await http.get(f"{EO}/assets", params={"search": org, "page": 1})).json()
    assert len(r2["assets"]) == len(in_org) - 20
    nothing = (await http.get(f"{EO}/assets", params={"search": "no such unit"})).json()
    assert nothing["totalCount"] == 0 and nothing["assets"] == []


async def test_filter_by_top_level_and_dotted_property(eo, fleet):
    http, _auth, _clock = eo
    unit = fleet.units[2]
    r = (await http.get(f"{EO}/assets", params={"name": unit.name})).json()
    assert [a["assetId"] for a in r["assets"]] == [unit.asset_id]
    r = (await http.get(f"{EO}/assets", params={"assetId": str(unit.asset_id)})).json()
    assert r["totalCount"] == 1
    r = (await http.get(f"{EO}/assets", params={"site.siteId": unit.site.site_id})).json()
    assert {a["assetId"] for a in r["assets"]} == {
        u.asset_id for u in fleet.units if u.site.site_id == unit.site.site_id}
    r = (await http.get(f"{EO}/assets", params={"assetType": unit.asset_type.upper(),
                                                "site.siteId": unit.site.site_id})).json()
    assert r["totalCount"] >= 1
    assert all(a["assetType"] == unit.asset_type and a["site"]["siteId"] == unit.site.site_id
               for a in r["assets"])
    r = (await http.get(f"{EO}/assets", params={"driver": "GED"})).json()
    assert r["totalCount"] == 0  # a property no asset has matches nothing


async def test_all_returns_twenty_unless_given_a_size(eo, fleet):
    http, _auth, _clock = eo
    r = (await http.get(f"{EO}/all")).json()
    assert r["totalCount"] == 45 and len(r["assets"]) == 20
    r = (await http.get(f"{EO}/all", params={"size": r["totalCount"]})).json()
    assert {a["assetId"] for a in r["assets"]} == {u.asset_id for u in fleet.units}
    assert (await http.get(f"{EO}/all", params={"size": "lots"})).status_code == 400


@pytest.mark.parametrize("path", ["/assets/1000", "/assets?search=pad", "/all"])
async def test_every_route_wants_a_valid_bearer_token(eo, path):
    http, _auth, clock = eo
    r = await http.get(EO + path, headers={"authorization": "Bearer forged"})
    assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}
    r = await http.get(EO + path, headers={"authorization": ""})
    assert r.status_code == 401
    clock.t += 86400  # the token has expired
    assert (await http.get(EO + path)).status_code == 401


async def test_assets_name_what_the_telemetry_sends(eo, fleet):
    http, _auth, _clock = eo
    docs = {a["assetId"]: a for a in (await http.get(f"{EO}/all?size=100")).json()["assets"]}
    ms = int(T0 * 1000)
    for _, p in fleet.generate(ms, ms + 5_000):
        doc = docs[p["assetId"]]
        assert doc["organization"]["orgId"] == p["orgId"]
        assert doc["site"]["siteId"] == p["siteId"]


async def test_connectivity_follows_the_simulated_clock(eo, fleet):
    http, _auth, clock = eo
    unit = fleet.silent_unit
    t = next(s for s in range(int(T0), int(T0) + 3 * 3600, 60) if fleet.is_silent(unit, s * 1000))
    clock.t = t
    doc = (await http.get(f"{EO}/assets/{unit}")).json()
    info = doc["connectivityInfo"]
    assert info["status"] == "Offline"
    assert t - 600 <= info["lastUpdateTime"] <= t
