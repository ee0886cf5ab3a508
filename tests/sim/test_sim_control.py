"""The control API over HTTP (``/_sim/...``) and in Python: records, reshard, faults, clock."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson
import pytest

from flux_tui.sim import SimClock, SimSettings, Simulator

T0 = 1_700_000_000.0


def make_sim(**kw: Any) -> Simulator:
    kw.setdefault("rate", 20.0)
    kw.setdefault("backlog_seconds", 5.0)
    return Simulator(SimSettings(**kw), SimClock.manual_at(T0))


def client(sim: Simulator, host: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=sim.app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://sim")


async def test_put_records_over_http_land_in_the_owning_shard_and_in_produced() -> None:
    sim = make_sim()
    async with client(sim) as http:
        r = await http.post(
            "/_sim/records",
            json={
                "records": [
                    {"partition_key": "1111", "data": {"val": 1}},
                    {"partition_key": "2222", "data_b64": base64.b64encode(b"\x00raw").decode()},
                ]
            },
        )
        assert r.status_code == 200
        made = r.json()["records"]
        produced = {
            (p["shard_id"], p["seq"]): p
            for p in (await http.get("/_sim/produced")).json()["records"]
        }
    first = produced[(made[0]["shard_id"], made[0]["seq"])]
    second = produced[(made[1]["shard_id"], made[1]["seq"])]
    assert orjson.loads(base64.b64decode(first["data_b64"])) == {"val": 1}
    assert base64.b64decode(second["data_b64"]) == b"\x00raw"
    assert made[0]["shard_id"] == sim.stream.shard_for_key("1111").shard_id


async def test_reshard_over_http_split_then_merge() -> None:
    sim = make_sim(shards=1)
    async with client(sim) as http:
        split = (
            await http.post(
                "/_sim/reshard", json={"action": "split", "shard": "shardId-000000000000"}
            )
        ).json()
        low, high = split["shards"]
        merged = (
            await http.post(
                "/_sim/reshard", json={"action": "merge", "shard": low, "adjacent": high}
            )
        ).json()
        bad = await http.post(
            "/_sim/reshard", json={"action": "merge", "shard": low, "adjacent": high}
        )
    child = sim.stream.shards[merged["shards"][0]]
    assert (child.parent, child.adjacent_parent) == (low, high)
    assert bad.status_code == 400 and bad.json()["__type"] == "ResourceInUseException"


async def test_clock_and_faults_over_http() -> None:
    sim = make_sim()
    async with client(sim) as http:
        assert (await http.post("/_sim/clock", json={"advance": 90})).json()["now"] == T0 + 90
        assert (await http.post("/_sim/clock", json={"set": T0 + 100})).json()["now"] == T0 + 100
        assert (
            await http.post("/_sim/clock", json={"set": T0})
        ).status_code == 400  # never backwards
        r = await http.post(
            "/_sim/faults", json={"fault": "http-502", "endpoint": "describe", "count": 2}
        )
        assert r.json() == {"pending": 2}
        assert (await http.delete("/_sim/faults")).json() == {"pending": 0}
        assert (await http.post("/_sim/faults", json={"fault": "no-such-fault"})).status_code == 400


async def test_bad_records_and_stream_over_http() -> None:
    sim = make_sim()
    async with client(sim) as http:
        made = (
            await http.post("/_sim/bad-records", json={"kind": "rich-markup", "count": 3})
        ).json()["records"]
        assert len(made) == 3
        assert (await http.post("/_sim/stream", json={"exists": False})).json() == {"exists": False}
    assert not sim.stream.exists and sim.control.counters()["bad_records"] == 3


async def test_counters_over_http_count_requests_per_token_and_endpoint() -> None:
    sim = make_sim()
    async with client(sim) as http:
        token = (
            await http.post(
                "/oauth/token",
                json={
                    "client_id": "flux-demo",
                    "client_secret": "demo-secret",
                    "audience": "https://api.axil.ai",
                    "grant_type": "client_credentials",
                },
            )
        ).json()["access_token"]
        for _ in range(3):
            await http.get("/realtime/demo", headers={"Authorization": f"Bearer {token}"})
        await http.get("/realtime/demo")
        counters = (await http.get("/_sim/counters")).json()
    assert counters["endpoint_calls"] == {"describe": 4}
    assert sum(counters["requests_by_token"].values()) == 3 and counters["unauthorized"] == 1
    assert counters["records_produced"] > 0 and len(counters["open_shards"]) == 2


@pytest.mark.parametrize("path", ["/_sim/counters", "/_sim/produced"])
async def test_control_refuses_non_loopback_clients(path: str) -> None:
    async with client(make_sim(), host="10.1.2.3") as http:
        assert (await http.get(path)).status_code == 403
    async with client(make_sim(allow_remote_control=True), host="10.1.2.3") as http:
        assert (await http.get(path)).status_code == 200


def test_control_advance_generates_telemetry_up_to_the_new_now() -> None:
    sim = make_sim(backlog_seconds=0)
    before = sim.control.counters()["records_produced"]
    sim.control.advance_clock(10)
    after = sim.control.counters()["records_produced"]
    assert after - before > 100  # 20 readings a second for 10 s, less those still in flight


def test_generation_is_capped_per_request_and_resumes_without_loss() -> None:
    capped = make_sim(backlog_seconds=60, max_generate_per_request=300)
    free = make_sim(backlog_seconds=60)
    capped.advance()
    assert capped.stream.records_put <= 300
    for _ in range(20):
        capped.advance()
    free.advance()
    key = [(p.partition_key, p.data) for p in free.control.produced_records()]
    assert sorted(key) == sorted(
        (p.partition_key, p.data) for p in capped.control.produced_records()
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sim/faults", {"fault": "http-502", "count": 10**9}),  # would fill the memory
        ("/_sim/faults", {"fault": "http-502", "count": -1}),
        ("/_sim/faults", {"fault": "slow", "delay": "inf"}),  # would hold a call forever
        ("/_sim/faults", {"fault": "slow", "delay": "nan"}),
        ("/_sim/faults", {"probability": 0.5, "delay": "inf"}),
        ("/_sim/bad-records", {"kind": "gzip", "count": 10**9}),
        ("/_sim/clock", {"advance": "nan"}),  # would make every later time nan
        ("/_sim/clock", {"advance": "inf"}),
    ],
)
async def test_control_refuses_sizes_and_times_that_would_break_the_simulator(
    path: str, body: dict[str, Any]
) -> None:
    sim = make_sim()
    async with client(sim) as http:
        answer = await http.post(path, json=body)
        assert answer.status_code == 400 and "ValueError" in answer.json()["message"]
        assert sim.faults.pending == 0 and sim.control.counters()["bad_records"] == 0
        assert (await http.post("/_sim/clock", json={"advance": 1})).json()["now"] == T0 + 1
