"""The real api layer (tokens, budget, client) against the simulator, in process (ASGITransport).

The budget, the client's backoff and the token provider all run on the simulator's manual
clock, so throttle windows, iterator expiry and token lifetimes pass without real waiting.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flux_tui.api import errors
from flux_tui.api.auth import ClientCredentialsProvider, StaticTokenProvider, TokenProvider
from flux_tui.api.budget import RateBudget
from flux_tui.api.client import RealtimeClient
from flux_tui.api.token_cache import TokenCache
from flux_tui.base.errors import Action
from flux_tui.base.events import FeedProblem, Throttled
from flux_tui.sim import Fault, SimClock, SimSettings, Simulator

T0 = 1_700_000_000.0
AUDIENCE = "https://api.axil.ai"
HAVE_AUTH0 = importlib.util.find_spec("flux_tui.sim.auth0") is not None
needs_auth0 = pytest.mark.skipif(not HAVE_AUTH0, reason="flux_tui.sim.auth0 not written yet")


class _StandInAuth:
    """Until the simulator's Auth0 lands: 'Bearer good-*' is valid."""

    def check_bearer(self, header: str | None) -> str | None:
        if header and header.startswith("Bearer good-"):
            return header.removeprefix("Bearer ")
        return None


class World:
    """A simulator and the api objects wired to it, all on the simulator's clock."""

    def __init__(self, *, budget: str = "10/10s", margin: float = 0.5, **settings: Any) -> None:
        settings.setdefault("rate", 20.0)
        settings.setdefault("backlog_seconds", 20.0)
        settings.setdefault("throttle", "10/10s")
        self.clock = SimClock.manual_at(T0)
        self.sim = Simulator(
            SimSettings(**settings), self.clock, auth=None if HAVE_AUTH0 else _StandInAuth()
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.sim.app), base_url="http://sim.test"
        )
        self.budget = RateBudget.parse(
            budget,
            clock=self.clock.now,
            wall=self.clock.now,
            sleep=self.clock.sleep,
            margin=margin,
            rng=random.Random(3),
        )
        self.events: list[object] = []

    def provider(
        self, cache: TokenCache | None = None, secret: str = "demo-secret", clock: Any = None
    ) -> ClientCredentialsProvider:
        return ClientCredentialsProvider(
            "http://sim.test/oauth/token",
            AUDIENCE,
            "flux-demo",
            secret,
            http=self.http,
            cache=cache,
            clock=clock or self.clock.now,
        )

    def client(self, tokens: TokenProvider | None = None, **kw: Any) -> RealtimeClient:
        if tokens is None:
            tokens = self.provider() if HAVE_AUTH0 else StaticTokenProvider("good-test")
        client = RealtimeClient(
            "http://sim.test/realtime/",
            "DEMO",
            tokens=tokens,
            budget=self.budget,
            http=self.http,
            sleep=self.clock.sleep,
            rng=random.Random(5),
            **kw,
        )
        client.listener = self.events.append
        return client


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = World()
    yield w
    await w.http.aclose()


async def read_to_the_end(client: RealtimeClient, limit: int) -> list[tuple[str, str]]:
    """Every record from TRIM_HORIZON until each shard is caught up, as (shard, seq)."""
    seen: list[tuple[str, str]] = []
    stream = await client.describe_all()
    for shard in stream.shards:
        iterator: str | None = await client.get_shard_iterator(shard.shard_id, "TRIM_HORIZON")
        while iterator:
            page = await client.get_records(iterator, limit)
            seen.extend((shard.shard_id, r["SequenceNumber"]) for r in page.records)
            iterator = page.next_shard_iterator
            if page.millis_behind_latest == 0 and len(page.records) < limit:
                break
    return seen


async def test_reads_the_backlog_exactly_once_without_a_single_429(world: World) -> None:
    backlog = {(p.shard_id, p.seq) for p in world.sim.control.produced_records()}
    assert len(backlog) > 100
    client = world.client()
    seen = await read_to_the_end(client, limit=20)
    assert len(seen) == len(set(seen))  # nothing twice
    assert backlog <= set(seen)  # nothing lost
    assert set(seen) <= {(p.shard_id, p.seq) for p in world.sim.control.produced_records()}
    # The budget matched the gateway's 10/10s: it waited instead of being throttled.
    assert world.sim.counters.throttled == 0 and client.stats.throttled == 0
    assert client.stats.requests > 20 and world.clock.now() > T0 + 10
    stream = await client.describe_stream()
    assert stream.stream_name == "flux-realtime-demo" and stream.stream_status == "ACTIVE"


async def test_a_stricter_gateway_throttle_is_absorbed() -> None:
    w = World(throttle="4/10s", budget="10/10s", margin=0.0)
    client = w.client()
    iterators = [await client.get_shard_iterator("shardId-000000000000") for _ in range(12)]
    assert len(iterators) == 12
    assert client.stats.throttled == w.sim.counters.throttled > 0
    throttles = [e for e in w.events if isinstance(e, Throttled)]
    assert len(throttles) == client.stats.throttled
    await w.http.aclose()


TRANSPARENT = [
    Fault.HTTP_500,
    Fault.HTTP_502,
    Fault.HTTP_503,
    Fault.TIMEOUT_504,
    Fault.DROP,
    Fault.HTML_403,
    Fault.NON_JSON,
    Fault.TRUNCATED_JSON,
    Fault.INTERNAL_FAILURE,
    Fault.THROUGHPUT_EXCEEDED,
]


@pytest.mark.parametrize("fault", TRANSPARENT, ids=lambda f: f.value)
async def test_retryable_faults_are_retried_transparently(world: World, fault: Fault) -> None:
    client = world.client()
    iterator = await client.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    world.sim.control.inject_fault(fault, endpoint="records", count=2)
    page = await client.get_records(iterator, 10)
    assert len(page.records) == 10 and page.next_shard_iterator
    assert client.stats.retries == 2
    problems = [e for e in world.events if isinstance(e, FeedProblem)]
    assert len(problems) == 2 and all(p.retry_in is not None for p in problems)


async def test_a_429_storm_pauses_and_recovers(world: World) -> None:
    client = world.client()
    world.sim.control.inject_fault(Fault.THROTTLE_429, endpoint="any", count=3)
    stream = await client.describe_stream()
    assert stream.shards and client.stats.throttled == 3 and client.stats.retries == 0
    assert sum(isinstance(e, Throttled) for e in world.events) == 3


@pytest.mark.parametrize("as_200", [False, True], ids=["http-400", "inside-200"])
@pytest.mark.parametrize(
    ("fault", "cls", "action"),
    [
        (Fault.EXPIRED_ITERATOR, errors.ExpiredIteratorError, Action.NEW_ITERATOR),
        (Fault.INVALID_ITERATOR, errors.InvalidArgumentError, Action.NEW_ITERATOR),
        (Fault.STREAM_GONE, errors.ResourceNotFoundError, Action.REDESCRIBE),
    ],
)
async def test_what_the_reader_must_decide_is_raised_at_once(
    fault: Fault, cls: type[errors.ApiError], action: Action, as_200: bool
) -> None:
    w = World(errors_as_200=as_200)
    client = w.client()
    iterator = await client.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    w.sim.control.inject_fault(fault, endpoint="records")
    with pytest.raises(cls) as info:
        await client.get_records(iterator, 10)
    assert info.value.action is action and info.value.status == (200 if as_200 else 400)
    assert client.stats.retries == 0
    await w.http.aclose()


async def test_a_real_expired_iterator(world: World) -> None:
    client = world.client()
    iterator = await client.get_shard_iterator("shardId-000000000000", "LATEST")
    world.clock.advance(301)
    with pytest.raises(errors.ExpiredIteratorError):
        await client.get_records(iterator, 10)


async def test_unknown_company_and_path(world: World) -> None:
    client = world.client()
    client.stream_url = "http://sim.test/realtime/nobody"
    with pytest.raises(errors.ResourceNotFoundError):
        await client.describe_stream()
    client.stream_url = "http://sim.test/nowhere/demo"
    with pytest.raises(errors.ForbiddenError, match="Missing Authentication Token"):
        await client.describe_stream()


async def test_a_bad_token_is_refreshed_once_then_reported(world: World) -> None:
    client = world.client(tokens=StaticTokenProvider("not-a-token"))
    with pytest.raises(errors.UnauthorizedError):
        await client.describe_stream()
    assert world.sim.counters.unauthorized == 2 and client.stats.reauths == 1


@needs_auth0
async def test_tokens_from_the_simulated_auth0_are_cached_across_restarts(
    world: World, tmp_path: Path
) -> None:
    first = world.provider(TokenCache("demo", tmp_path))
    client = world.client(tokens=first)
    await client.describe_stream()
    again = world.provider(TokenCache("demo", tmp_path))
    await world.client(tokens=again).describe_stream()
    assert first.fetches == 1 and again.fetches == 0
    assert again.expires_at == first.expires_at and first.expires_at is not None


@needs_auth0
async def test_a_token_the_api_no_longer_accepts_is_refreshed(world: World) -> None:
    # The provider's clock stands still, so it believes its token is still fresh.
    tokens = world.provider(clock=lambda: T0)
    client = world.client(tokens=tokens)
    await client.describe_stream()
    world.clock.advance(86400 + 60)  # expired on the server, "fresh" for the provider
    await client.describe_stream()
    assert tokens.fetches == 2 and client.stats.reauths == 1


@needs_auth0
async def test_a_wrong_secret_is_a_plain_message(world: World) -> None:
    tokens = world.provider(secret="wrong-secret-xyz")
    with pytest.raises(errors.InvalidClientError) as info:
        await world.client(tokens=tokens).describe_stream()
    assert "wrong client id or secret" in str(info.value)
    assert "wrong-secret-xyz" not in str(info.value)


@pytest.mark.parametrize("as_200", [False, True], ids=["400", "200 with __type"])
async def test_a_refused_iterator_type_is_its_own_error(as_200: bool) -> None:
    world = World(strict_iterators=True, errors_as_200=as_200)
    client = world.client()
    shard = (await client.describe_all()).shards[0].shard_id
    for kind, extra in (
        ("AT_TIMESTAMP", {"timestamp": T0 - 5}),
        ("AFTER_SEQUENCE_NUMBER", {"sequence": "1"}),
    ):
        with pytest.raises(errors.IteratorTypeRefusedError) as err:
            await client.get_shard_iterator(shard, kind, **extra)  # type: ignore[arg-type]
        assert err.value.iterator_type == kind and err.value.action is Action.FALLBACK
    assert await client.get_shard_iterator(shard, "TRIM_HORIZON")
    await world.http.aclose()


async def test_at_timestamp_and_after_sequence_number_through_the_client(world: World) -> None:
    client = world.client()
    shard = (await client.describe_all()).shards[0].shard_id
    at = await client.get_shard_iterator(shard, "AT_TIMESTAMP", timestamp=T0 - 10)
    page = await client.get_records(at, 10_000)
    assert page.records and min(r["ApproximateArrivalTimestamp"] for r in page.records) >= T0 - 10
    middle = page.records[len(page.records) // 2]["SequenceNumber"]
    after = await client.get_shard_iterator(shard, "AFTER_SEQUENCE_NUMBER", sequence=middle)
    rest = await client.get_records(after, 10_000)
    assert int(rest.records[0]["SequenceNumber"]) > int(middle)
    assert [r["SequenceNumber"] for r in rest.records] == [
        r["SequenceNumber"] for r in page.records if int(r["SequenceNumber"]) > int(middle)
    ][: len(rest.records)]
