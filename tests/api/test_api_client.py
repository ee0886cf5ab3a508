"""RealtimeClient against scripted answers (httpx.MockTransport): every error case, retries, 401, 429."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from flux_tui.api import errors
from flux_tui.api.budget import RateBudget
from flux_tui.api.client import RealtimeClient
from flux_tui.base.errors import Action, FluxError
from flux_tui.base.events import FeedProblem, Throttled

SECRET_TOKEN = "tok-SECRET-123"
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler answering from a list; records every request it saw."""

    def __init__(self, *answers: Answer, repeat_last: bool = False) -> None:
        self.answers = list(answers)
        self.repeat_last = repeat_last
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.answers) > 1 or not self.repeat_last:
            answer = self.answers.pop(0)
        else:
            answer = self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    def tokens(self) -> list[str]:
        return [r.headers["authorization"] for r in self.requests]


class FakeTokens:
    grant = "static"
    expires_at = None

    def __init__(self) -> None:
        self.current = SECRET_TOKEN
        self.refreshed_with: list[str | None] = []

    async def token(self) -> str:
        return self.current

    async def refresh(self, stale: str | None = None) -> str:
        self.refreshed_with.append(stale)
        self.current = f"{SECRET_TOKEN}-{len(self.refreshed_with)}"
        return self.current


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data)


def raw(status: int, body: bytes, ctype: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": ctype})


RECORDS = {"Records": [], "NextShardIterator": "next", "MillisBehindLatest": 0}


def make_client(
    script: Script, *, budget: RateBudget | None = None, **kw: Any
) -> tuple[RealtimeClient, FakeTokens, FakeTime, list[object]]:
    t = FakeTime()
    tokens = FakeTokens()
    budget = budget or RateBudget(
        1000, 60, clock=t.clock, wall=t.wall, sleep=t.sleep, rng=random.Random(0)
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    kw.setdefault("rng", random.Random(42))
    client = RealtimeClient(
        "https://api.example.test/realtime/",
        "Demo",
        tokens=tokens,
        budget=budget,
        http=http,
        sleep=t.sleep,
        **kw,
    )
    events: list[object] = []
    client.listener = events.append
    return client, tokens, t, events


# --- the three calls ---------------------------------------------------------------------


async def test_calls_are_gets_with_json_bodies_to_the_documented_urls() -> None:
    desc = {
        "StreamDescription": {
            "StreamName": "s",
            "StreamStatus": "ACTIVE",
            "Shards": [],
            "HasMoreShards": False,
        }
    }
    script = Script(ok(desc), ok({"ShardIterator": "it-1"}), ok(RECORDS))
    client, *_ = make_client(script)
    assert (await client.describe_stream()).stream_name == "s"
    assert await client.get_shard_iterator("shardId-1", "TRIM_HORIZON") == "it-1"
    page = await client.get_records("it-1", 100)
    assert page.next_shard_iterator == "next"
    assert [r.method for r in script.requests] == ["GET"] * 3
    assert [str(r.url) for r in script.requests] == [
        "https://api.example.test/realtime/demo",
        "https://api.example.test/realtime/demo/shard-iterator",
        "https://api.example.test/realtime/demo/records",
    ]
    assert script.bodies() == [
        None,
        {"ShardId": "shardId-1", "ShardIteratorType": "TRIM_HORIZON"},
        {"ShardIterator": "it-1", "Limit": 100},
    ]
    assert script.tokens() == [f"Bearer {SECRET_TOKEN}"] * 3
    assert client.stats.requests == 3 and client.page_bytes == len(
        json.dumps(RECORDS).replace(" ", "")
    )


def _shard(i: int) -> dict[str, Any]:
    return {"ShardId": f"shardId-{i:012d}", "SequenceNumberRange": {"StartingSequenceNumber": "1"}}


def _page(ids: range, more: bool) -> httpx.Response:
    return ok(
        {
            "StreamDescription": {
                "StreamName": "s",
                "StreamStatus": "ACTIVE",
                "Shards": [_shard(i) for i in ids],
                "HasMoreShards": more,
            }
        }
    )


async def test_describe_all_follows_has_more_shards() -> None:
    script = Script(_page(range(3), True), _page(range(3, 5), True), _page(range(5, 6), False))
    client, *_ = make_client(script)
    desc = await client.describe_all()
    assert [s.shard_id for s in desc.shards] == [f"shardId-{i:012d}" for i in range(6)]
    assert not desc.has_more_shards and desc.stream_name == "s"
    assert script.bodies() == [
        None,
        {"ExclusiveStartShardId": "shardId-000000000002"},
        {"ExclusiveStartShardId": "shardId-000000000004"},
    ]


async def test_describe_all_stops_when_the_gateway_ignores_exclusive_start() -> None:
    script = Script(_page(range(3), True), repeat_last=True)
    client, *_ = make_client(script)
    desc = await client.describe_all()
    assert len(desc.shards) == 3 and len(script.requests) == 2


async def test_describe_all_merges_overlapping_pages_without_duplicates() -> None:
    script = Script(_page(range(3), True), _page(range(2, 5), True), _page(range(3, 5), True))
    client, *_ = make_client(script)
    desc = await client.describe_all()
    assert [s.shard_id[-1] for s in desc.shards] == list("01234") and len(script.requests) == 3


@pytest.mark.parametrize("limit", [0, -1, 10_001])
async def test_get_records_rejects_limits_outside_1_to_10000(limit: int) -> None:
    client, *_ = make_client(Script())
    with pytest.raises(ValueError, match="1..10000"):
        await client.get_records("it", limit)


# --- error classification: raised at once ------------------------------------------------

KINESIS_NS = "com.amazonaws.kinesis.v20131202#"


@pytest.mark.parametrize(
    ("answer", "cls", "action", "text"),
    [
        (
            ok({"__type": "ExpiredIteratorException", "message": "Iterator expired"}, 400),
            errors.ExpiredIteratorError,
            Action.NEW_ITERATOR,
            "ExpiredIteratorException",
        ),
        # Inside an HTTP 200, with a namespace prefix and a :suffix.
        (
            ok(
                {
                    "__type": f"{KINESIS_NS}ExpiredIteratorException:http://internal.amazon.com/",
                    "message": "expired",
                }
            ),
            errors.ExpiredIteratorError,
            Action.NEW_ITERATOR,
            "ExpiredIteratorException: expired",
        ),
        (
            ok({"__type": "InvalidArgumentException", "message": "Invalid ShardIterator."}, 400),
            errors.InvalidArgumentError,
            Action.NEW_ITERATOR,
            "Invalid ShardIterator",
        ),
        (
            ok({"__type": "InvalidArgumentException", "message": "Limit is out of range"}, 400),
            errors.InvalidArgumentError,
            Action.FATAL,
            "Limit",
        ),
        (
            ok({"__type": f"{KINESIS_NS}ResourceNotFoundException", "message": "gone"}),
            errors.ResourceNotFoundError,
            Action.REDESCRIBE,
            "gone",
        ),
        (
            ok({"__type": "AccessDeniedException", "message": "no"}, 400),
            errors.AccessDeniedKinesisError,
            Action.FATAL,
            "AccessDenied",
        ),
        (
            ok({"__type": "KMSDisabledException", "message": "key off"}, 400),
            errors.AccessDeniedKinesisError,
            Action.FATAL,
            "KMSDisabled",
        ),
        (
            ok({"__type": "KMSSomethingNewException"}, 400),
            errors.AccessDeniedKinesisError,
            Action.FATAL,
            "KMSSomethingNew",
        ),
        (
            ok({"__type": "WeirdException", "message": "?"}, 400),
            errors.UnknownKinesisError,
            Action.FATAL,
            "WeirdException",
        ),
        (
            ok({"message": "Forbidden"}, 403),
            errors.ForbiddenError,
            Action.FATAL,
            "Forbidden",
        ),
        (
            ok({"message": "Missing Authentication Token"}, 403),
            errors.ForbiddenError,
            Action.FATAL,
            "base_url and company",
        ),
        (
            ok({"message": "Request Too Long"}, 413),
            errors.PayloadTooLargeError,
            Action.SHRINK,
            "Too Long",
        ),
        (ok({"message": "Not Found"}, 404), errors.GatewayError, Action.FATAL, "404"),
        (
            ok({"NextShardIterator": "x"}),
            errors.UnexpectedResponseError,
            Action.FATAL,
            "Records",
        ),
    ],
)
async def test_errors_that_retrying_cannot_fix_are_raised_at_once(
    answer: httpx.Response, cls: type[FluxError], action: Action, text: str
) -> None:
    script = Script(answer)
    client, _, t, events = make_client(script)
    with pytest.raises(cls) as info:
        await client.get_records("it", 10)
    assert info.value.action is action and text in str(info.value)
    assert len(script.requests) == 1 and t.sleeps == [] and events == []
    assert client.stats.errors == 1 and client.stats.retries == 0


@pytest.mark.parametrize(
    ("answer", "cls", "text"),
    [
        (
            ok({"__type": "ProvisionedThroughputExceededException", "message": "slow down"}, 400),
            errors.ThroughputExceededError,
            "slow down",
        ),
        (
            ok({"__type": f"{KINESIS_NS}LimitExceededException"}),
            errors.ThroughputExceededError,
            "LimitExceeded",
        ),
        (ok({"__type": "KMSThrottlingException"}, 400), errors.ThroughputExceededError, "KMS"),
        (
            ok({"__type": "InternalFailure", "message": "oops"}, 500),
            errors.InternalFailureError,
            "oops",
        ),
        (
            ok({"message": "Endpoint request timed out"}, 504),
            errors.GatewayServerError,
            "504: Endpoint request timed out",
        ),
        (ok({"message": "Internal server error"}, 502), errors.GatewayServerError, "502"),
        (raw(503, b""), errors.GatewayServerError, "503"),
        (
            raw(403, b"<html><body>403 Forbidden by CDN</body></html>", "text/html"),
            errors.NonJSONResponse,
            "HTTP 403 with a body that is not JSON: '<html><body>403",
        ),
        (raw(200, b'{"Records": [{"Data": "e30='), errors.NonJSONResponse, '{"Records"'),
        (raw(200, b""), errors.NonJSONResponse, "empty body"),
        (httpx.ReadTimeout("read timed out"), errors.TimeoutError, "api.example.test"),
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            errors.ConnectError,
            "cannot reach api.example.test: [Errno 111] Connection refused",
        ),
        (httpx.RemoteProtocolError("peer closed"), errors.ConnectError, "peer closed"),
    ],
)
async def test_retryable_errors_back_off_with_full_jitter_then_raise(
    answer: Answer, cls: type[FluxError], text: str
) -> None:
    script = Script(answer, repeat_last=True)
    client, _, t, events = make_client(script, max_retries=4, backoff_base=0.5, backoff_cap=3.0)
    with pytest.raises(cls) as info:
        await client.describe_stream()  # get_records adds a floor: see the next test
    assert text in str(info.value) and SECRET_TOKEN not in str(info.value)
    assert len(script.requests) == 5 and client.stats.retries == 4 and client.stats.errors == 5
    # Full jitter: uniform(0, min(cap, base * 2**attempt)), replayed from the same seed.
    replay = random.Random(42)
    floor = 1.0 if cls is errors.ThroughputExceededError else 0.0  # that error is per second
    assert t.sleeps == [max(floor, replay.uniform(0, min(3.0, 0.5 * 2**i))) for i in range(4)]
    assert all(0 <= d <= min(3.0, 0.5 * 2**i) or d == floor for i, d in enumerate(t.sleeps))
    assert [type(e) for e in events] == [FeedProblem] * 4
    assert [e.retry_in for e in events] == t.sleeps  # type: ignore[attr-defined]
    assert all(isinstance(e.error, cls) for e in events)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("answer", "floor"),
    [
        (ok({"__type": "InternalFailure", "message": "x"}, 500), 0.25),
        (ok({"message": "Internal server error"}, 500), 0.25),
        (ok({"__type": "ProvisionedThroughputExceededException", "message": "x"}, 400), 1.0),
    ],
)
async def test_get_records_retries_never_come_sooner_than_the_shard_allows(
    answer: httpx.Response, floor: float
) -> None:
    # A failed GetRecords counts against the shard's 5 calls a second: retrying at once made
    # a sixth call (ProvisionedThroughputExceeded), which retried at once failed again...
    script = Script(answer, repeat_last=True)
    client, _, t, _ = make_client(script, max_retries=6, backoff_base=0.5, backoff_cap=3.0)
    with pytest.raises(FluxError):
        await client.get_records("it", 10)
    replay = random.Random(42)
    assert t.sleeps == [max(floor, replay.uniform(0, min(3.0, 0.5 * 2**i))) for i in range(6)]
    assert min(t.sleeps) >= floor and any(d > floor for d in t.sleeps)  # still jittered


async def test_a_retry_that_succeeds_returns_the_answer() -> None:
    script = Script(
        ok({"message": "Internal server error"}, 502), httpx.ReadTimeout("t"), ok(RECORDS)
    )
    client, _, t, events = make_client(script)
    page = await client.get_records("it", 10)
    assert page.next_shard_iterator == "next" and len(t.sleeps) == 2 and len(events) == 2


async def test_backoff_grows_to_the_cap() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    script = Script(raw(500, b"{}"), repeat_last=True)
    client, _, t, _ = make_client(script, max_retries=7, rng=Top(), backoff_cap=30.0)
    with pytest.raises(errors.GatewayServerError):
        await client.describe_stream()
    assert t.sleeps == [0.5, 1, 2, 4, 8, 16, 30]


async def test_retry_slow_false_lets_the_reader_shrink_the_page() -> None:
    for answer in (ok({"message": "Endpoint request timed out"}, 504), httpx.ReadTimeout("t")):
        script = Script(answer)
        client, _, t, _ = make_client(script)
        with pytest.raises((errors.GatewayServerError, errors.TimeoutError)):
            await client.get_records("it", 10_000, retry_slow=False)
        assert len(script.requests) == 1 and t.sleeps == []
    # Other retryable errors are still retried.
    script = Script(ok({"__type": "InternalFailure"}, 500), ok(RECORDS))
    client, *_ = make_client(script)
    await client.get_records("it", 10, retry_slow=False)
    assert len(script.requests) == 2


# --- 401: refresh once, retry once -------------------------------------------------------


async def test_401_refreshes_the_token_once_and_retries_once() -> None:
    script = Script(ok({"message": "Unauthorized"}, 401), ok({"ShardIterator": "it"}))
    client, tokens, _, _ = make_client(script)
    assert await client.get_shard_iterator("s", "LATEST") == "it"
    assert tokens.refreshed_with == [SECRET_TOKEN]
    assert script.tokens() == [f"Bearer {SECRET_TOKEN}", f"Bearer {SECRET_TOKEN}-1"]


async def test_a_second_401_raises_unauthorized() -> None:
    script = Script(raw(401, b"Unauthorized", "text/plain"), ok({"message": "Unauthorized"}, 401))
    client, tokens, _, _ = make_client(script)
    with pytest.raises(errors.UnauthorizedError) as info:
        await client.describe_stream()
    assert len(script.requests) == 2 and len(tokens.refreshed_with) == 1
    assert "401" in str(info.value) and SECRET_TOKEN not in str(info.value)


# --- 429: pause everyone, retry, not counted as a retry ------------------------------------


async def test_429_pauses_the_budget_and_retries_without_using_retries() -> None:
    script = Script(
        ok({"message": "Too Many Requests"}, 429),
        raw(429, b"Limit Exceeded", "text/plain"),
        ok(RECORDS),
    )
    client, _, t, events = make_client(script, max_retries=0)
    page = await client.get_records("it", 10)
    assert page.next_shard_iterator == "next"
    assert client.stats.throttled == 2 and client.stats.retries == 0 and client.stats.requests == 3
    assert [type(e) for e in events] == [Throttled, Throttled]
    # Each retry waited (on the budget's clock) for the pause announced by its Throttled event.
    assert t.sleeps and t.wall() >= events[-1].until  # type: ignore[attr-defined]


async def test_429s_are_bounded() -> None:
    script = Script(ok({"message": "Too Many Requests"}, 429), repeat_last=True)
    client, *_ = make_client(script, max_throttles=3)
    with pytest.raises(errors.ThrottledError):
        await client.describe_stream()
    assert len(script.requests) == 4


async def test_a_429_holds_back_every_other_caller() -> None:
    t = FakeTime()
    budget = RateBudget(100, 10, clock=t.clock, wall=t.wall, sleep=t.sleep, rng=random.Random(0))
    throttled_once = False

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal throttled_once
        if not throttled_once:
            throttled_once = True
            return ok({"message": "Too Many Requests"}, 429)
        return ok({"ShardIterator": str(t.wall())})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = RealtimeClient(
        "https://h/realtime", "demo", tokens=FakeTokens(), budget=budget, http=http, sleep=t.sleep
    )
    events: list[object] = []
    client.listener = events.append
    answers = await asyncio.gather(*(client.get_shard_iterator(f"s{i}") for i in range(5)))
    (event,) = events
    assert isinstance(event, Throttled)
    # Every call, not only the throttled one, was answered after the pause lifted.
    assert all(float(a) >= event.until for a in answers)


# --- the budget and secrets ------------------------------------------------------------------


async def test_every_attempt_passes_the_budget() -> None:
    t = FakeTime()
    budget = RateBudget(2, 10, clock=t.clock, wall=t.wall, sleep=t.sleep, margin=0)
    script = Script(raw(500, b"{}"), raw(500, b"{}"), ok(RECORDS), ok(RECORDS))
    client, *_ = make_client(script, budget=budget, backoff_base=0.001)
    await client.get_records("it", 1)
    await client.get_records("it", 1)
    # 4 attempts on a 2-per-10s budget: the 3rd waited for the window to free.
    assert t.now >= 10 and client.stats.requests == 4


def test_repr_names_the_stream_not_the_token() -> None:
    client, *_ = make_client(Script())
    assert repr(client) == "RealtimeClient('https://api.example.test/realtime/demo')"
