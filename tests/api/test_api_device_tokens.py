"""A person's tokens over time, against the simulator on a manual clock: renewal before
expiry, rotation (the old refresh token is dead), single flight, sharing the store with
another process, and revocation in the middle of a stream -> LoginRequiredError."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from flux_tui.api import errors
from flux_tui.api.budget import RateBudget
from flux_tui.api.client import RealtimeClient
from flux_tui.api.device import DeviceFlow
from flux_tui.api.token_cache import CachedToken, TokenCache, login_token_cache
from flux_tui.api.user_auth import UserTokenProvider
from flux_tui.connect import SIM_BASE_URL, SIM_TOKEN_URL
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings

AUDIENCE = "https://api.axil.ai"
CLIENT = "flux-tui-cli"


@pytest.fixture
def sim() -> Simulator:
    return Simulator(
        SimSettings(backlog_seconds=1, auth0_options={"auto_approve_after": 0}),
        SimClock.manual_at(),
    )


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as client:
        yield client


async def log_in(sim: Simulator, http: httpx.AsyncClient) -> CachedToken:
    flow = DeviceFlow(SIM_TOKEN_URL, CLIENT, AUDIENCE, http=http, sleep=sim.clock.sleep,
                      clock=sim.clock.now, wall_clock=sim.clock.now)
    return await flow.login(lambda code: None)


def provider(sim: Simulator, http: httpx.AsyncClient, cache: TokenCache | None,
             initial: CachedToken | None = None) -> UserTokenProvider:
    return UserTokenProvider(SIM_TOKEN_URL, AUDIENCE, CLIENT, http=http, cache=cache,
                             initial=initial, clock=sim.clock.now)


async def test_stored_token_used_until_five_minutes_before_expiry_then_renewed(
    sim: Simulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = login_token_cache("field", tmp_path / "tokens")
    first = await log_in(sim, http)
    store.save(first)
    tokens = provider(sim, http, store)  # reads the store, like a new process would
    assert tokens.grant == "device_code" and tokens.state == "ok"
    assert await tokens.token() == first.access_token and tokens.renewals == 0
    sim.clock.advance(86400 - 301)
    assert await tokens.token() == first.access_token and tokens.renewals == 0
    sim.clock.advance(2)  # now inside the last 5 minutes
    renewed = await tokens.token()
    assert renewed != first.access_token and tokens.renewals == 1
    assert tokens.expires_at == pytest.approx(sim.clock.now() + 86400)
    saved = store.load()
    assert saved is not None and saved.access_token == renewed
    assert saved.refresh_token and saved.refresh_token != first.refresh_token  # rotated
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert not [p for p in store.directory.iterdir() if p.name.startswith(".tmp")]


async def test_rotation_kills_the_old_refresh_token(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    first = await log_in(sim, http)
    tokens = provider(sim, http, None, first)
    await tokens.refresh(first.access_token)
    answer = await http.post(SIM_TOKEN_URL, data={
        "grant_type": "refresh_token", "client_id": CLIENT, "refresh_token": first.refresh_token,
    })
    assert answer.status_code == 403 and answer.json()["error"] == "invalid_grant"
    # Reuse looked like theft, so Auth0 revoked the family: the provider must now ask a person.
    with pytest.raises(errors.LoginRequiredError, match="log in again"):
        await tokens.refresh(await tokens.token())
    assert tokens.state == "login-required" and tokens.problem


async def test_concurrent_callers_share_one_renewal(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    tokens = provider(sim, http, None, await log_in(sim, http))
    sim.clock.advance(86400 - 60)
    got = await asyncio.gather(*(tokens.token() for _ in range(8)))
    assert len(set(got)) == 1 and tokens.renewals == 1
    # A caller holding the token just replaced gets the new one without another renewal.
    assert await tokens.refresh("the-old-one") == got[0] and tokens.renewals == 1


async def test_a_second_process_picks_up_the_rotated_token_from_the_store(
    sim: Simulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = login_token_cache("field", tmp_path)
    store.save(await log_in(sim, http))
    viewer, tail = provider(sim, http, store), provider(sim, http, store)
    await viewer.token(), await tail.token()
    sim.clock.advance(86400 - 60)
    await viewer.token()  # rotates and stores
    assert viewer.renewals == 1
    # `tail` still holds the old refresh token in memory; using it would revoke the family.
    assert await tail.token() == await viewer.token()
    assert tail.renewals == 0
    sim.clock.advance(86400 - 60)
    await viewer.token()  # the family is still alive
    assert viewer.renewals == 2 and viewer.state == "ok"


async def test_revocation_mid_stream_needs_a_person_then_resumes(
    sim: Simulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = login_token_cache("field", tmp_path)
    store.save(await log_in(sim, http))
    tokens = provider(sim, http, store)
    client = RealtimeClient(SIM_BASE_URL, "demo", tokens=tokens,
                            budget=RateBudget.parse("100/60s"), http=http)
    assert (await client.describe_stream()).shards
    sim.auth.revoke_refresh_tokens()
    sim.auth.expire_all()  # the next call gets a 401 and the renewal is refused
    with pytest.raises(errors.LoginRequiredError, match="flux-tui login"):
        await client.describe_stream()
    assert tokens.state == "login-required" and "refused" in (tokens.problem or "")
    saved = store.load()
    assert saved is not None and saved.refresh_token is None  # never offered again
    # The re-login dialog: a new device login, adopted; the same client carries on.
    tokens.adopt(await log_in(sim, http))
    assert tokens.state == "ok" and tokens.problem is None
    assert (await client.describe_stream()).shards
    assert (store.load() or saved).refresh_token


async def test_no_login_at_all_is_login_required(
    sim: Simulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    tokens = provider(sim, http, login_token_cache("nobody", tmp_path))
    assert tokens.expires_at is None
    with pytest.raises(errors.LoginRequiredError, match="not logged in"):
        await tokens.token()


async def test_without_refresh_token_the_access_token_serves_until_it_expires(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    first = await log_in(sim, http)
    bare = CachedToken(first.access_token, first.expires_at, scope="openid", audience=AUDIENCE,
                       grant="device_code", client_id=CLIENT)
    tokens = provider(sim, http, None, bare)
    sim.clock.advance(86400 - 100)
    assert await tokens.token() == first.access_token  # inside the margin, but nothing to renew
    sim.clock.advance(200)
    with pytest.raises(errors.LoginRequiredError, match="expired"):
        await tokens.token()


async def test_a_login_for_another_audience_is_not_used(
    sim: Simulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = login_token_cache("field", tmp_path)
    first = await log_in(sim, http)
    store.save(CachedToken(first.access_token, first.expires_at, audience="https://other",
                           grant="device_code", client_id=CLIENT,
                           refresh_token=first.refresh_token))
    with pytest.raises(errors.LoginRequiredError):
        await provider(sim, http, store).token()


async def test_unreachable_token_endpoint_is_retryable_and_quiet(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.content!r}", request=request)

    token = CachedToken("access-xyz", 0.0, audience=AUDIENCE, grant="device_code",
                        client_id=CLIENT, refresh_token="refresh-xyz")
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        tokens = UserTokenProvider("https://login.example/oauth/token", AUDIENCE, CLIENT,
                                   http=http, cache=None, initial=token)
        with pytest.raises(errors.AuthUnreachableError) as caught:
            await tokens.token()
    assert caught.value.retryable and "refresh-xyz" not in str(caught.value)
    assert tokens.state == "ok"  # a network failure is not a reason to ask a person
    assert "refresh-xyz" not in repr(tokens) and "access-xyz" not in repr(tokens)


async def test_waiting_for_login_pauses_calls_until_adopt(
    sim: Simulator, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    store = login_token_cache("field", tmp_path)
    store.save(await log_in(sim, http))
    states: list[str] = []
    tokens = UserTokenProvider(SIM_TOKEN_URL, AUDIENCE, CLIENT, http=http, cache=store,
                               clock=sim.clock.now, wait_for_login=True,
                               on_state=states.append)
    client = RealtimeClient(SIM_BASE_URL, "demo", tokens=tokens,
                            budget=RateBudget.parse("100/60s"), http=http)
    assert (await client.describe_stream()).shards
    old = await tokens.token()
    sim.auth.revoke_refresh_tokens()
    sim.auth.expire_all()
    call = asyncio.create_task(client.describe_stream())
    while tokens.state != "login-required":
        await asyncio.sleep(0)
    assert not call.done() and states == ["login-required"]
    # Another caller refused with the old token waits too; a cancelled one cancels nothing.
    second = asyncio.create_task(tokens.refresh(old))
    impatient = asyncio.create_task(tokens.refresh(old))
    await asyncio.sleep(0)
    impatient.cancel()
    tokens.adopt(await log_in(sim, http))
    assert (await call).shards
    assert await second == await tokens.token() != old
    assert states == ["login-required", "ok"]


async def test_giving_up_the_wait_raises_login_required(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    tokens = UserTokenProvider(SIM_TOKEN_URL, AUDIENCE, CLIENT, http=http, cache=None,
                               clock=sim.clock.now, wait_for_login=True)
    call = asyncio.create_task(tokens.token())
    while tokens.state != "login-required":
        await asyncio.sleep(0)
    tokens.give_up()
    with pytest.raises(errors.LoginRequiredError, match="not logged in"):
        await call
