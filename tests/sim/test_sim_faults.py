"""Faults on demand and malformed records: each one as a client sees it, in process."""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from flux_tui.api.errors import (
    ExpiredIteratorError,
    GatewayServerError,
    InternalFailureError,
    InvalidArgumentError,
    NonJSONResponse,
    ResourceNotFoundError,
    ThrottledError,
    ThroughputExceededError,
    error_from_response,
)
from flux_tui.feed.kpl import KPL_MAGIC, build_aggregate
from flux_tui.sim import BadRecord, Fault, SimClock, SimSettings, Simulator
from flux_tui.sim.faults import FaultPlan

T0 = 1_700_000_000.0


def make_sim(**kw: Any) -> Simulator:
    kw.setdefault("rate", 20.0)
    kw.setdefault("backlog_seconds", 5.0)
    return Simulator(SimSettings(**kw), SimClock.manual_at(T0))


class Api:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.headers = http, {"Authorization": f"Bearer {token}"}

    async def call(self, path: str = "", body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.request(
            "GET", f"/realtime/demo{path}", json=body, headers=self.headers
        )

    async def iterator(
        self, shard: str = "shardId-000000000000", kind: str = "TRIM_HORIZON"
    ) -> str:
        r = await self.call("/shard-iterator", {"ShardId": shard, "ShardIteratorType": kind})
        return str(r.json()["ShardIterator"])

    async def records(self, iterator: str, limit: int = 10_000) -> httpx.Response:
        return await self.call("/records", {"ShardIterator": iterator, "Limit": limit})


async def _token(http: httpx.AsyncClient) -> str:
    r = await http.post(
        "/oauth/token",
        json={
            "client_id": "flux-demo",
            "client_secret": "demo-secret",
            "audience": "https://api.axil.ai",
            "grant_type": "client_credentials",
        },
    )
    return str(r.json()["access_token"])


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        yield Api(http, await _token(http))


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (Fault.HTTP_500, 500, GatewayServerError),
        (Fault.HTTP_502, 502, GatewayServerError),
        (Fault.HTTP_503, 503, GatewayServerError),
        (Fault.TIMEOUT_504, 504, GatewayServerError),
        (Fault.HTML_403, 403, NonJSONResponse),
        (Fault.NON_JSON, 502, NonJSONResponse),
        (Fault.THROTTLE_429, 429, ThrottledError),
        (Fault.EXPIRED_ITERATOR, 400, ExpiredIteratorError),
        (Fault.INVALID_ITERATOR, 400, InvalidArgumentError),
        (Fault.STREAM_GONE, 400, ResourceNotFoundError),
        (Fault.INTERNAL_FAILURE, 500, InternalFailureError),
        (Fault.THROUGHPUT_EXCEEDED, 400, ThroughputExceededError),
    ],
)
async def test_scripted_fault_answers_once_then_the_call_works(
    api: Api, sim: Simulator, fault: Fault, status: int, error: type[Exception]
) -> None:
    it = await api.iterator()
    sim.control.inject_fault(fault, endpoint="records")
    r = await api.records(it)
    err, _ = error_from_response(r.status_code, r.content)
    assert r.status_code == status and isinstance(err, error)
    ok = await api.records(it)
    assert ok.status_code == 200 and "Records" in ok.json()
    assert sim.control.counters()["faults"] == {fault.value: 1}


async def test_504_answers_after_the_delay_and_says_timed_out(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault("timeout-504", endpoint="describe", delay=29)
    r = await api.call()
    assert (r.status_code, r.json()) == (504, {"message": "Endpoint request timed out"})
    assert sim.clock.now() == T0 + 29  # the manual clock moved instead of the test waiting


async def test_slow_answer_is_late_but_correct(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.SLOW, endpoint="describe", delay=8)
    r = await api.call()
    assert (
        r.status_code == 200 and r.json()["StreamDescription"]["StreamName"] == "flux-realtime-demo"
    )
    assert sim.clock.now() == T0 + 8


async def test_truncated_json_is_a_cut_body_with_status_200(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.TRUNCATED_JSON, endpoint="describe")
    r = await api.call()
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(r.content)


async def test_dropped_connection_raises_a_transport_error(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.DROP, endpoint="records")
    with pytest.raises(httpx.TransportError):
        await api.records(await api.iterator())
    assert (await api.call()).status_code == 200  # the next call is served


async def test_html_403_from_a_cdn_is_html(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.HTML_403)
    r = await api.call()
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert r.content.lstrip().startswith(b"<!DOCTYPE HTML")


async def test_fault_for_one_endpoint_leaves_the_others_alone(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.HTTP_500, endpoint="records", count=2)
    assert (await api.call()).status_code == 200
    it = await api.iterator()
    assert [(await api.records(it)).status_code for _ in range(3)] == [500, 500, 200]


async def test_throttling_storm_counts_429s(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.THROTTLE_429, count=4)
    statuses = [(await api.call()).status_code for _ in range(5)]
    assert statuses == [429, 429, 429, 429, 200]
    assert sim.control.counters()["throttled"] == 4


async def test_stream_that_disappears_is_resource_not_found_until_restored(
    api: Api, sim: Simulator
) -> None:
    it = await api.iterator()
    sim.control.delete_stream()
    for r in (await api.call(), await api.records(it)):
        assert r.status_code == 400 and r.json()["__type"] == "ResourceNotFoundException"
    sim.control.restore_stream()
    assert (await api.records(it)).status_code == 200


def test_random_faults_repeat_with_the_same_seed() -> None:
    def run(seed: int) -> list[str | None]:
        plan = FaultPlan(seed=seed, probability=0.3)
        return [f.fault.value if (f := plan.take("records")) else None for _ in range(200)]

    first = run(11)
    assert first == run(11) and first != run(12)
    assert 30 < sum(f is not None for f in first) < 90
    assert "drop" not in first  # dropped connections only when asked for


async def test_random_fault_probability_from_settings_reaches_clients() -> None:
    sim = make_sim(fault_probability=1.0)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url="http://sim"
    ) as http:
        api = Api(http, await _token(http))
        sim.faults.set_random(1.0, (Fault.HTTP_503,))
        assert (await api.call()).status_code == 503
        sim.control.clear_faults()
        assert (await api.call()).status_code == 200


# --- bad records inside good pages ----------------------------------------------------------


def _parse_pb(buf: bytes) -> list[tuple[int, int | bytes]]:
    """A minimal protobuf reader (varint and length-delimited fields) to check the encoder."""
    out: list[tuple[int, int | bytes]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = n = 0
        while True:
            b = buf[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    while i < len(buf):
        key = varint()
        if key & 7 == 0:
            out.append((key >> 3, varint()))
        else:
            size = varint()
            out.append((key >> 3, buf[i : i + size]))
            i += size
    return out


def test_kpl_aggregate_is_magic_protobuf_and_md5() -> None:
    # the simulator's KPL records come from this one builder; checked here with a parser of
    # its own, so a mistake shared with the client's decoder cannot hide
    blob = build_aggregate([("a", b"one"), ("b", b"two"), ("a", b"three" * 50)])
    assert blob[:4] == KPL_MAGIC
    pb, digest = blob[4:-16], blob[-16:]
    assert hashlib.md5(pb).digest() == digest
    fields = _parse_pb(pb)
    assert [v for n, v in fields if n == 1] == [b"a", b"b"]  # partition key table, deduplicated
    records = [dict(_parse_pb(v)) for n, v in fields if n == 3 and isinstance(v, bytes)]
    assert [(r[1], r[3]) for r in records] == [(0, b"one"), (1, b"two"), (0, b"three" * 50)]


async def _put_and_read(api: Api, sim: Simulator, kind: BadRecord) -> list[dict[str, Any]]:
    it = (
        await api.iterator("shardId-000000000000", "LATEST"),
        await api.iterator("shardId-000000000001", "LATEST"),
    )
    made = sim.control.put_bad_records(kind, count=2)
    sim.control.put_record("good-after", {"epochMs": 1, "val": 3})
    got = []
    for shard_it in it:
        got += (await api.records(shard_it)).json()["Records"]
    bad = [r for r in got if r["SequenceNumber"] in {q for _, q in made}]
    assert len(bad) == 2 and any(
        r["PartitionKey"] == "good-after" for r in got
    )  # inside good pages
    return bad


async def test_invalid_base64_record(api: Api, sim: Simulator) -> None:
    for rec in await _put_and_read(api, sim, BadRecord.INVALID_BASE64):
        with pytest.raises(ValueError):
            base64.b64decode(rec["Data"], validate=True)


@pytest.mark.parametrize("kind", [BadRecord.NON_JSON, BadRecord.INVALID_UTF8])
async def test_non_json_and_invalid_utf8_records(api: Api, sim: Simulator, kind: BadRecord) -> None:
    for rec in await _put_and_read(api, sim, kind):
        data = base64.b64decode(rec["Data"])
        with pytest.raises((ValueError, UnicodeDecodeError)):
            orjson.loads(data)
        if kind is BadRecord.INVALID_UTF8:
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")


async def test_gzip_record_holds_a_reading(api: Api, sim: Simulator) -> None:
    for rec in await _put_and_read(api, sim, BadRecord.GZIP):
        payload = orjson.loads(gzip.decompress(base64.b64decode(rec["Data"])))
        assert payload["tagId"] == 889


async def test_kpl_record_holds_three_readings(api: Api, sim: Simulator) -> None:
    for rec in await _put_and_read(api, sim, BadRecord.KPL):
        data = base64.b64decode(rec["Data"])
        assert data[:4] == KPL_MAGIC
        subs = [
            dict(_parse_pb(v)) for n, v in _parse_pb(data[4:-16]) if n == 3 and isinstance(v, bytes)
        ]
        assert [orjson.loads(s[3])["val"] for s in subs] == [0, 1, 2]


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        (BadRecord.MISSING_FIELDS, lambda p: "epochMs" not in p and "tagName" not in p),
        (BadRecord.EXTRA_FIELDS, lambda p: p["extra"] == {"nested": [1, 2, 3]} and "tagId" in p),
        (BadRecord.HUGE_LABEL, lambda p: len(p["label"]) > 50_000),
        (BadRecord.RICH_MARKUP, lambda p: p["label"] == "[bold red]x[/]"),
        (BadRecord.TERMINAL_ESCAPES, lambda p: p["label"] == "\x1b[2J\x1b]0;pwned\x07"),
        (BadRecord.OLD_SCHEMA, lambda p: "@timestamp" in p and isinstance(p["tag_id"], str)),
        (BadRecord.JSON_ARRAY, lambda p: [x["val"] for x in p] == [0, 1, 2]),
    ],
)
async def test_awkward_payloads(api: Api, sim: Simulator, kind: BadRecord, check: Any) -> None:
    for rec in await _put_and_read(api, sim, kind):
        assert check(orjson.loads(base64.b64decode(rec["Data"])))


async def test_ndjson_record_has_one_reading_a_line(api: Api, sim: Simulator) -> None:
    for rec in await _put_and_read(api, sim, BadRecord.NDJSON):
        lines = base64.b64decode(rec["Data"]).splitlines()
        assert [orjson.loads(line)["val"] for line in lines] == [0, 1, 2]


async def test_bad_record_probability_mixes_bad_records_into_telemetry() -> None:
    sim = make_sim(bad_record_probability=0.2, backlog_seconds=30)
    sim.advance()
    produced = sim.control.produced()
    bad = sim.control.counters()["bad_records"]
    assert 0.1 * len(produced) < bad < 0.3 * len(produced)
    undecodable = 0
    for _, _, _, data in produced:
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            undecodable += 1
    assert undecodable > 0


async def test_quota_429_says_limit_exceeded(api: Api, sim: Simulator) -> None:
    sim.control.inject_fault(Fault.QUOTA_429)
    r = await api.call()
    assert (r.status_code, r.json()) == (429, {"message": "Limit Exceeded"})
    assert "retry-after" not in r.headers


async def test_an_answer_over_the_gateway_cap_is_502_and_a_smaller_limit_passes(
    api: Api, sim: Simulator
) -> None:
    it = await api.iterator(sim.stream.shard_for_key("big").shard_id, "LATEST")
    for _ in range(6):
        sim.control.put_record("big", b"x" * 2_000_000)  # 6 x 2.7 MB of base64: over 10 MB
    r = await api.records(it)
    err, _ = error_from_response(r.status_code, r.content)
    assert r.status_code == 502 and isinstance(err, GatewayServerError)
    sim.clock.advance(5)  # the failed 10 MB read still used the shard's 2 MiB/s
    page = await api.records(it, 3)
    assert page.status_code == 200 and len(page.json()["Records"]) == 3
    assert sim.control.counters()["oversized"] == 1
