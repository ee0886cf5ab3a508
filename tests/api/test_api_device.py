"""The device flow end to end against the simulator's Auth0, in process, on a manual clock:
pending, slow_down, approval, denial, expiry, and what is (never) shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from flux_tui.api import errors
from flux_tui.api.device import DEFAULT_SCOPE, DeviceCode, DeviceFlow, device_code_url
from flux_tui.connect import SIM_TOKEN_URL
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings

AUDIENCE = "https://api.axil.ai"
DEVICE_CLIENT = "flux-tui-cli"


@dataclass
class Rig:
    """A simulator, an HTTP client on it and a device flow whose sleeps move the sim clock."""

    sim: Simulator
    http: httpx.AsyncClient
    sleeps: list[float] = field(default_factory=list)
    # Called before each poll's sleep with the poll number about to happen (1-based).
    before_poll: Any = None
    early_by: dict[int, float] = field(default_factory=dict)  # poll -> seconds too early

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        poll = len(self.sleeps)
        if self.before_poll is not None:
            self.before_poll(poll)
        self.sim.clock.advance(max(0.0, seconds - self.early_by.get(poll, 0.0)))

    def flow(self, client_id: str = DEVICE_CLIENT) -> DeviceFlow:
        clock = self.sim.clock
        return DeviceFlow(
            SIM_TOKEN_URL, client_id, AUDIENCE, http=self.http,
            sleep=self.sleep, clock=clock.now, wall_clock=clock.now,
        )


def make_sim(**auth0: Any) -> Simulator:
    settings = SimSettings(backlog_seconds=1, auth0_options=auth0)
    return Simulator(settings, SimClock.manual_at())


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    sim = make_sim()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        yield Rig(sim, http)


def test_device_code_url_sits_beside_the_token_url() -> None:
    assert device_code_url("https://axil.auth0.com/oauth/token") == (
        "https://axil.auth0.com/oauth/device/code"
    )
    assert device_code_url("http://127.0.0.1:8750/tenant/oauth/token") == (
        "http://127.0.0.1:8750/tenant/oauth/device/code"
    )
    assert device_code_url("https://id.example/token") == "https://id.example/oauth/device/code"


async def test_pending_then_approval_gives_a_refresh_token(rig: Rig) -> None:
    flow = rig.flow()
    code = await flow.start()
    assert code.interval == 5 and code.expires_in == 900
    assert code.verification_uri.endswith("/activate")
    assert code.user_code in (code.verification_uri_complete or "")
    # The device code is a credential: never in repr, str or the public fields.
    secret = code._device_code
    assert secret and secret not in repr(code) and secret not in str(code)
    assert secret not in repr(flow)

    def approve_on_third(poll: int) -> None:
        if poll == 3:
            assert rig.sim.auth.approve(code.user_code)

    rig.before_poll = approve_on_third
    intervals: list[float] = []
    token = await flow.wait(code, on_poll=intervals.append)
    assert flow.polls == 3 and intervals == [5, 5]  # two pending answers, then the tokens
    assert rig.sleeps == [5, 5, 5]  # the server's interval, never faster
    assert token.grant == "device_code" and token.client_id == DEVICE_CLIENT
    assert token.audience == AUDIENCE
    assert token.scope == DEFAULT_SCOPE and "offline_access" in token.scope.split()
    assert token.refresh_token and token.access_token
    assert token.expires_at == pytest.approx(rig.sim.clock.now() + 86400)
    assert token.access_token not in repr(token) and token.refresh_token not in repr(token)
    assert rig.sim.auth.check_bearer(f"Bearer {token.access_token}") is not None


async def test_slow_down_adds_five_seconds_for_good(rig: Rig) -> None:
    flow = rig.flow()
    code = await flow.start()
    rig.early_by = {2: 1.0}  # the second poll comes a second early: the server says slow_down

    def approve_on_fifth(poll: int) -> None:
        if poll == 5:
            rig.sim.auth.approve(code.user_code)

    rig.before_poll = approve_on_fifth
    token = await flow.wait(code)
    assert token.access_token
    assert rig.sleeps == [5, 5, 10, 10, 10]
    assert rig.sim.auth.token_requests["urn:ietf:params:oauth:grant-type:device_code"] == 5


async def test_denial_ends_with_a_clear_error(rig: Rig) -> None:
    flow = rig.flow()
    code = await flow.start()
    rig.before_poll = lambda poll: poll == 2 and rig.sim.auth.deny(code.user_code)
    with pytest.raises(errors.LoginDeniedError, match="denied"):
        await flow.wait(code)
    assert flow.polls == 2


async def test_expiry_reported_by_the_server() -> None:
    sim = make_sim(device_code_expires_in=12)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        rig = Rig(sim, http)
        flow = rig.flow()
        code = await flow.start()
        # Pretend the clock of this side is behind: only the server knows the code expired.
        code = DeviceCode(code.user_code, code.verification_uri, code.verification_uri_complete,
                          code.expires_in, code.interval, code.expires_at + 100,
                          _device_code=code._device_code)
        with pytest.raises(errors.LoginExpiredError, match="expired"):
            await flow.wait(code)
        assert flow.polls == 3  # 5 s, 10 s pending; at 15 s the server says expired_token


async def test_expiry_noticed_locally_stops_polling() -> None:
    sim = make_sim(device_code_expires_in=12)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        rig = Rig(sim, http)
        flow = rig.flow()
        code = await flow.start()
        sim.clock.advance(20)
        with pytest.raises(errors.LoginExpiredError):
            await flow.wait(code)
        assert flow.polls == 0


async def test_a_client_without_the_device_grant_is_refused(rig: Rig) -> None:
    with pytest.raises(errors.InvalidClientError, match="device_client_id"):
        await rig.flow("flux-demo").start()


async def test_unreachable_endpoint_names_the_host_only() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        flow = DeviceFlow("https://login.example/oauth/token", DEVICE_CLIENT, AUDIENCE, http=http)
        with pytest.raises(errors.AuthUnreachableError, match="login.example"):
            await flow.start()


async def test_unexpected_error_code_is_an_auth_error(rig: Rig) -> None:
    flow = rig.flow()
    code = await flow.start()
    broken = DeviceCode(code.user_code, code.verification_uri, None, code.expires_in,
                        code.interval, code.expires_at, _device_code="not-a-device-code")
    with pytest.raises(errors.AuthError, match="invalid_grant"):
        await flow.wait(broken)


@pytest.mark.parametrize(
    ("expires_in", "interval", "usable"),
    [
        (900, 5, True),
        ("900", "5", True),  # digits as text: read
        (900, "nan", True),  # a nonsense interval: the RFC's default 5 s
        (900, 1e308, True),
        (900, -1, True),
        ("nan", 5, False),  # a code that never expires is not a code
        ("inf", 5, False),
        (0, 5, False),
        (True, 5, False),
        ("\u0669\u0660\u0660", 5, False),  # other scripts' digits
    ],
)
async def test_device_code_answer_numbers_are_checked(
    expires_in: Any, interval: Any, usable: bool
) -> None:
    answer = {
        "device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": "https://x/activate",
        "expires_in": expires_in, "interval": interval,
    }

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        flow = DeviceFlow("https://login.example/oauth/token", DEVICE_CLIENT, AUDIENCE, http=http)
        if not usable:
            with pytest.raises(errors.AuthUnreachableError, match="usable code"):
                await flow.start()
            return
        code = await flow.start()
    assert code.expires_in == 900.0
    assert code.interval == 5.0  # as given, or the RFC's default in place of nonsense
