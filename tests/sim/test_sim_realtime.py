"""Conformance of the Realtime API routes, in process through httpx.ASGITransport.

Each test checks one behaviour of ``api-facts.md`` as a client written from the docs sees it.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from flux_tui.api.errors import error_from_response
from flux_tui.sim import ReshardStep, SimClock, SimSettings, Simulator
from flux_tui.sim.realtime import parse_rate

T0 = 1_700_000_000.0


def make_sim(**kw: Any) -> Simulator:
    kw.setdefault("rate", 50.0)
    kw.setdefault("backlog_seconds", 30.0)
    return Simulator(SimSettings(**kw), SimClock.manual_at(T0))


async def get_token(
    http: httpx.AsyncClient, client_id: str = "flux-demo", secret: str = "demo-secret"
) -> str:
    r = await http.post(
        "/oauth/token",
        json={
            "client_id": client_id,
            "client_secret": secret,
            "audience": "https://api.axil.ai",
            "grant_type": "client_credentials",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


class Api:
    """A client written from the documentation alone."""

    def __init__(self, http: httpx.AsyncClient, token: str, company: str = "demo") -> None:
        self.http, self.token, self.company = http, token, company

    async def call(self, path: str = "", body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return await self.http.request(
            "GET", f"/realtime/{self.company}{path}", json=body, headers=headers
        )

    async def describe(self, **body: Any) -> dict[str, Any]:
        r = await self.call("", body or None)
        assert r.status_code == 200, r.text
        return r.json()["StreamDescription"]

    async def iterator(self, shard: str, kind: str = "TRIM_HORIZON") -> str:
        r = await self.call("/shard-iterator", {"ShardId": shard, "ShardIteratorType": kind})
        assert r.status_code == 200, r.text
        return str(r.json()["ShardIterator"])

    async def records(self, iterator: str, limit: int = 10_000) -> httpx.Response:
        return await self.call("/records", {"ShardIterator": iterator, "Limit": limit})


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        yield Api(http, await get_token(http))


def kinesis_type(r: httpx.Response) -> str:
    return str(r.json()["__type"])


async def test_describe_stream_has_the_documented_shape(api: Api, sim: Simulator) -> None:
    desc = await api.describe()
    for key in (
        "EncryptionType",
        "EnhancedMonitoring",
        "HasMoreShards",
        "KeyId",
        "RetentionPeriodHours",
        "Shards",
        "StreamARN",
        "StreamCreationTimestamp",
        "StreamModeDetails",
        "StreamName",
        "StreamStatus",
    ):
        assert key in desc
    assert desc["StreamStatus"] == "ACTIVE" and desc["RetentionPeriodHours"] == 24
    assert desc["StreamARN"].endswith(":stream/flux-realtime-demo")
    assert len(desc["Shards"]) == 2
    shard = desc["Shards"][0]
    assert set(shard) == {"ShardId", "HashKeyRange", "SequenceNumberRange"}
    assert int(shard["HashKeyRange"]["StartingHashKey"]) == 0


async def test_describe_pages_follow_exclusive_start_shard_id() -> None:
    sim = make_sim(shards=5, describe_page_size=2)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        ids, start = [], None
        while True:
            desc = await api.describe(**({"ExclusiveStartShardId": start} if start else {}))
            ids += [s["ShardId"] for s in desc["Shards"]]
            if not desc["HasMoreShards"]:
                break
            start = ids[-1]
    assert ids == [f"shardId-{i:012d}" for i in range(5)]


async def test_trim_horizon_reads_the_preloaded_backlog_then_catches_up(
    api: Api, sim: Simulator
) -> None:
    it = await api.iterator("shardId-000000000000")
    r = await api.records(it, 10)
    page = r.json()
    assert r.status_code == 200 and len(page["Records"]) == 10
    assert page["MillisBehindLatest"] > 20_000  # the 30 s backlog is waiting
    payload = orjson.loads(base64.b64decode(page["Records"][0]["Data"]))
    assert {"epochMs", "val", "rtms", "pk", "tagId", "label", "tagName", "assetId"} <= set(payload)
    sim.clock.advance(1)
    page = (await api.records(page["NextShardIterator"], 10_000)).json()
    assert page["MillisBehindLatest"] == 0 and len(page["Records"]) < 10_000


async def test_latest_skips_history_and_sees_telemetry_arriving(api: Api, sim: Simulator) -> None:
    it = await api.iterator("shardId-000000000001", "LATEST")
    assert (await api.records(it)).json()["Records"] == []
    sim.clock.advance(10)
    page = (await api.records(it)).json()
    assert page["Records"] and all(r["ApproximateArrivalTimestamp"] > T0 for r in page["Records"])


async def test_every_generated_record_is_delivered_exactly_once(api: Api, sim: Simulator) -> None:
    sim.clock.advance(5)
    seen: list[tuple[str, str]] = []
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        it = await api.iterator(shard)
        while True:
            page = (await api.records(it, 500)).json()
            seen += [(shard, r["SequenceNumber"]) for r in page["Records"]]
            it = page["NextShardIterator"]
            sim.clock.advance(0.25)  # 4 reads a second stays under the shard's 5
            if page["MillisBehindLatest"] == 0 and len(page["Records"]) < 500:
                break
    produced = {(s, q) for s, q, _, _ in sim.control.produced()}
    assert len(seen) == len(set(seen))
    assert set(seen) <= produced and len(seen) > 1000


async def test_sequence_numbers_are_decimal_strings_to_compare_as_integers(api: Api) -> None:
    page = (await api.records(await api.iterator("shardId-000000000000"), 50)).json()
    seqs = [r["SequenceNumber"] for r in page["Records"]]
    assert all(isinstance(s, str) and s.isdigit() and len(s) >= 50 for s in seqs)
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)


async def test_arrival_timestamp_is_epoch_seconds_with_millisecond_precision(api: Api) -> None:
    page = (await api.records(await api.iterator("shardId-000000000000"), 20)).json()
    for rec in page["Records"]:
        ts = rec["ApproximateArrivalTimestamp"]
        assert isinstance(ts, float) and T0 - 3600 < ts <= T0
        assert round(ts * 1000) == pytest.approx(ts * 1000, abs=1e-3)


async def test_missing_or_wrong_bearer_token_is_401(sim: Simulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        for headers in (
            {},
            {"Authorization": "Bearer nope"},
            {"Authorization": "Basic Zm9vOmJhcg=="},
        ):
            r = await http.get("/realtime/demo", headers=headers)
            assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/realtime"),
        ("GET", "/realtime/demo/nope"),
        ("POST", "/realtime/demo/records"),
        ("DELETE", "/realtime/demo"),
        ("GET", "/"),
    ],
)
async def test_unknown_path_or_method_is_403_missing_authentication_token(
    api: Api, method: str, path: str
) -> None:
    r = await api.http.request(method, path, headers={"Authorization": f"Bearer {api.token}"})
    assert (r.status_code, r.json()) == (403, {"message": "Missing Authentication Token"})


async def test_unknown_company_is_resource_not_found(api: Api) -> None:
    r = await Api(api.http, api.token, company="someone-else").call()
    assert r.status_code == 400 and kinesis_type(r) == "ResourceNotFoundException"


async def test_throttle_is_per_token_sliding_window_429_without_retry_after() -> None:
    sim = make_sim(throttle="3/60s")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        for _ in range(3):
            assert (await api.call()).status_code == 200
        sim.clock.advance(30)
        r = await api.call()
        assert (r.status_code, r.json()) == (429, {"message": "Too Many Requests"})
        assert "retry-after" not in r.headers
        other = Api(http, await get_token(http))
        assert other.token != api.token and (await other.call()).status_code == 200
        sim.clock.advance(30.001)  # the first three calls leave the window
        assert (await api.call()).status_code == 200
    counters = sim.control.counters()
    assert counters["throttled"] == 1 and sorted(counters["requests_by_token"].values()) == [1, 5]


@pytest.mark.parametrize("limit", [0, 10_001])
async def test_limit_outside_range_is_invalid_argument(api: Api, limit: int) -> None:
    r = await api.records(await api.iterator("shardId-000000000000"), limit)
    assert r.status_code == 400 and kinesis_type(r) == "InvalidArgumentException"


async def test_expired_iterator_after_five_minutes(api: Api, sim: Simulator) -> None:
    it = await api.iterator("shardId-000000000000")
    sim.clock.advance(301)
    r = await api.records(it)
    assert r.status_code == 400 and kinesis_type(r) == "ExpiredIteratorException"


async def test_forged_iterator_is_invalid_argument(api: Api) -> None:
    r = await api.records(
        base64.b64encode(b"x" * 16 + b'{"s":"shardId-000000000000","a":"0","t":0}').decode()
    )
    err, _ = error_from_response(r.status_code, r.content)
    assert kinesis_type(r) == "InvalidArgumentException" and getattr(err, "about_iterator", False)


async def test_unknown_shard_is_resource_not_found(api: Api) -> None:
    r = await api.call(
        "/shard-iterator", {"ShardId": "shardId-000000000099", "ShardIteratorType": "LATEST"}
    )
    assert r.status_code == 400 and kinesis_type(r) == "ResourceNotFoundException"


async def test_sixth_read_of_a_shard_in_a_second_is_throughput_exceeded(api: Api) -> None:
    it = await api.iterator("shardId-000000000000", "LATEST")
    for _ in range(5):
        it = (await api.records(it)).json()["NextShardIterator"]
    r = await api.records(it)
    assert r.status_code == 400 and kinesis_type(r) == "ProvisionedThroughputExceededException"


async def test_errors_as_200_option_sends_kinesis_errors_with_status_200() -> None:
    sim = make_sim(errors_as_200=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        r = await api.records("not-an-iterator")
        assert r.status_code == 200 and kinesis_type(r) == "InvalidArgumentException"
        err, _ = error_from_response(r.status_code, r.content)
        assert err is not None


async def test_retention_trims_history_after_a_day(api: Api, sim: Simulator) -> None:
    first = (await api.records(await api.iterator("shardId-000000000000"), 1)).json()["Records"][0]
    sim.clock.advance(25 * 3600)
    api.token = await get_token(api.http)  # a day-long token has expired too
    page = (await api.records(await api.iterator("shardId-000000000000"), 1)).json()
    assert (
        page["Records"][0]["ApproximateArrivalTimestamp"]
        > first["ApproximateArrivalTimestamp"] + 24 * 3600
    )


async def test_split_on_command_over_http(api: Api, sim: Simulator) -> None:
    parent_it = await api.iterator("shardId-000000000000")
    low, high = sim.control.split("shardId-000000000000")
    desc = await api.describe()
    by_id = {s["ShardId"]: s for s in desc["Shards"]}
    assert "EndingSequenceNumber" in by_id["shardId-000000000000"]["SequenceNumberRange"]
    assert by_id[low]["ParentShardId"] == by_id[high]["ParentShardId"] == "shardId-000000000000"
    it: str | None = parent_it
    pages = []
    while it:
        sim.clock.advance(0.3)
        page = (await api.records(it, 10_000)).json()
        pages.append(page)
        it = page.get("NextShardIterator")
    assert {c["ShardId"] for c in pages[-1]["ChildShards"]} == {low, high}
    sim.clock.advance(5)
    sim.advance()
    assert (
        sim.stream.shards["shardId-000000000000"].seqs[-1]
        < sim.stream.shards["shardId-000000000000"].ending_seq
    )
    assert len(sim.stream.shards[low].seqs) + len(sim.stream.shards[high].seqs) > 0


async def test_scheduled_merge_gives_child_with_adjacent_parent() -> None:
    sim = make_sim(reshard_schedule=(ReshardStep(at=10, action="merge"),))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        assert len((await api.describe())["Shards"]) == 2
        sim.clock.advance(11)
        shards = (await api.describe())["Shards"]
    child = shards[-1]
    assert child["ParentShardId"] == "shardId-000000000000"
    assert child["AdjacentParentShardId"] == "shardId-000000000001"
    parent = sim.stream.shards["shardId-000000000000"]
    assert parent.closed_ms == int(T0 * 1000) + 10_000  # applied at its scheduled time
    assert parent.arrivals[-1] <= parent.closed_ms < sim.stream.shards[child["ShardId"]].arrivals[0]


async def test_same_seed_gives_the_same_stream() -> None:
    async def first_page(sim: Simulator) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
        ) as http:
            api = Api(http, await get_token(http))
            return list(
                (await api.records(await api.iterator("shardId-000000000001"), 100)).json()[
                    "Records"
                ]
            )

    assert await first_page(make_sim(seed=5)) == await first_page(make_sim(seed=5))
    assert await first_page(make_sim(seed=5)) != await first_page(make_sim(seed=6))


async def test_expired_token_is_401_until_a_new_one_is_taken() -> None:
    sim = make_sim(token_expires_in=600)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        assert (await api.call()).status_code == 200
        sim.clock.advance(601)
        r = await api.call()
        assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"})
        api.token = await get_token(http)
        assert (await api.call()).status_code == 200


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP_ISH"},
            "InvalidArgumentException",
        ),
        ({"ShardIteratorType": "LATEST"}, "InvalidArgumentException"),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER"},
            "InvalidArgumentException",
        ),
    ],
)
async def test_bad_shard_iterator_requests_are_invalid_argument(
    api: Api, body: dict[str, Any], error: str
) -> None:
    r = await api.call("/shard-iterator", body)
    assert r.status_code == 400 and kinesis_type(r) == error


async def test_a_body_that_is_not_json_is_a_serialization_error(api: Api) -> None:
    r = await api.http.request(
        "GET",
        "/realtime/demo/records",
        content=b"{nope",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert r.status_code == 400 and kinesis_type(r) == "SerializationException"


async def test_at_sequence_number_is_accepted_too(api: Api) -> None:
    first = (await api.records(await api.iterator("shardId-000000000000"), 3)).json()["Records"]
    body = {
        "ShardId": "shardId-000000000000",
        "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
        "StartingSequenceNumber": first[0]["SequenceNumber"],
    }
    it = (await api.call("/shard-iterator", body)).json()["ShardIterator"]
    page = (await api.records(it, 2)).json()["Records"]
    assert [r["SequenceNumber"] for r in page] == [r["SequenceNumber"] for r in first[1:]]


async def test_enterprise_objects_are_mounted_with_the_same_token(api: Api, sim: Simulator) -> None:
    headers = {"Authorization": f"Bearer {api.token}"}
    r = await api.http.get("/axil/enterprise-objects/all", params={"size": 1000}, headers=headers)
    assert r.status_code == 200
    sent = {orjson.loads(p.data).get("assetId") for p in sim.control.produced_records()}
    assert {a["assetId"] for a in r.json()["assets"]} == sent  # the feed's units, and only them


async def test_default_settings_run_on_the_real_clock_with_a_backlog() -> None:
    sim = Simulator(SimSettings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        desc = await api.describe()
        page = (await api.records(await api.iterator(desc["Shards"][0]["ShardId"]), 100)).json()
    assert len(page["Records"]) == 100 and page["MillisBehindLatest"] > 60_000
    assert not sim.clock.manual


async def test_a_gateway_that_drops_exclusive_start_shard_id_repeats_the_first_page() -> None:
    sim = make_sim(shards=3, describe_page_size=2, forward_exclusive_start=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        first = await api.describe()
        again = await api.describe(ExclusiveStartShardId=first["Shards"][-1]["ShardId"])
    assert first["HasMoreShards"] is True and again == first


async def test_scheduled_split_picks_the_widest_open_shard() -> None:
    steps = (ReshardStep(at=5, action="split"), ReshardStep(at=6, action="split"))
    sim = make_sim(shards=1, reshard_schedule=steps)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        sim.clock.advance(7)
        shards = {s["ShardId"]: s for s in (await api.describe())["Shards"]}
    assert shards["shardId-000000000001"]["ParentShardId"] == "shardId-000000000000"
    # the second split took one of the two equal halves, the first child
    assert shards["shardId-000000000003"]["ParentShardId"] == "shardId-000000000001"
    opened = [s for s in shards.values() if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    assert len(opened) == 3


@pytest.mark.parametrize(("spec", "calls", "window"), [("100/60s", 100, 60.0), ("5/1m", 5, 60.0)])
def test_throttle_spec_uses_the_clients_grammar(spec: str, calls: int, window: float) -> None:
    assert parse_rate(spec) == (calls, window)
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_token_throttle_forgets_tokens_gone_quiet() -> None:
    from flux_tui.sim.realtime import TokenThrottle

    throttle = TokenThrottle("2/10s")
    for hour in range(8 * 60):  # a token a minute for a shift, each used twice
        now = hour * 60.0
        assert throttle.allow(f"t{hour}", now) and throttle.allow(f"t{hour}", now + 1)
        assert not throttle.allow(f"t{hour}", now + 2)  # the window still holds
    assert throttle.tokens_tracked <= 2
    assert throttle.allow("t0", 8 * 3600.0)  # a forgotten token starts with a full window


@pytest.mark.parametrize("as_200", [False, True])
async def test_strict_iterators_refuse_all_but_the_documented_types(as_200: bool) -> None:
    sim = make_sim(strict_iterators=True, errors_as_200=as_200)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        shard = (await api.describe())["Shards"][0]["ShardId"]
        body = {"ShardId": shard, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": T0 - 5}
        refused = await api.call("/shard-iterator", body)
        assert refused.status_code == (200 if as_200 else 400)
        assert refused.json()["__type"] == "InvalidArgumentException"
        ok = await api.call("/shard-iterator", {"ShardId": shard, "ShardIteratorType": "LATEST"})
        assert ok.status_code == 200 and "ShardIterator" in ok.json()
        sim.control.strict_iterators(False)
        allowed = await api.call("/shard-iterator", body)
        assert allowed.status_code == 200 and "ShardIterator" in allowed.json()


async def test_history_is_generated_only_when_an_iterator_reaches_into_it() -> None:
    sim = make_sim(shards=1, history_seconds=600.0, backlog_seconds=10.0)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await get_token(http))
        shard = (await api.describe())["Shards"][0]["ShardId"]
        held = len(sim.stream.shards[shard].seqs)
        body = {"ShardId": shard, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": T0 - 300}
        r = await api.call("/shard-iterator", body)
        it = r.json()["ShardIterator"]
        page = (await api.call("/records", {"ShardIterator": it, "Limit": 10_000})).json()
        assert len(sim.stream.shards[shard].seqs) > held  # five more minutes, made now
        arrivals = [rec["ApproximateArrivalTimestamp"] for rec in page["Records"]]
        assert arrivals and min(arrivals) >= T0 - 300 and arrivals == sorted(arrivals)
        seqs = [int(rec["SequenceNumber"]) for rec in page["Records"]]
        assert seqs == sorted(seqs)
