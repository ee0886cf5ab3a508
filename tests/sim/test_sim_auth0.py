"""The Auth0 stand-in, checked against Auth0's documented answers and RFC 8628."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from flux_tui.sim.auth0 import DEVICE_GRANT, Auth0Sim

AUD = "https://api.axil.ai"
CLI = "flux-tui-cli"


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 1_764_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def client_for(auth: Auth0Sim) -> httpx.AsyncClient:
    app = Starlette(routes=auth.routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test")


@pytest.fixture
async def sim(clock: ManualClock) -> AsyncIterator[tuple[Auth0Sim, httpx.AsyncClient]]:
    auth = Auth0Sim(clock, clients={"flux-demo": "demo-secret", "no-grant": "s3"},
                    grants={"flux-demo"})
    async with client_for(auth) as http:
        yield auth, http


def cc(client_id: str = "flux-demo", secret: str = "demo-secret") -> dict[str, str]:
    return {"client_id": client_id, "client_secret": secret, "audience": AUD,
            "grant_type": "client_credentials"}


# ---- client credentials ----

async def test_client_credentials_json_and_form(sim, clock):
    auth, http = sim
    r = await http.post("/oauth/token", json=cc())
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert set(body) == {"access_token", "token_type", "expires_in"}
    token_id = auth.check_bearer(f"Bearer {body['access_token']}")
    assert token_id and body["access_token"] not in token_id
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert claims["aud"] == AUD and claims["exp"] == int(clock.t) + 86400
    r2 = await http.post("/oauth/token", data=cc())  # form-encoded works too
    assert r2.status_code == 200 and r2.json()["access_token"] != body["access_token"]
    assert auth.tokens_issued["flux-demo"] == 2


async def test_client_credentials_with_basic_auth(sim):
    _auth, http = sim
    r = await http.post("/oauth/token", auth=("flux-demo", "demo-secret"),
                        data={"grant_type": "client_credentials", "audience": AUD})
    assert r.status_code == 200


@pytest.mark.parametrize("client_id,secret", [("flux-demo", "wrong"), ("nobody", "demo-secret")])
async def test_wrong_id_or_secret_is_401_access_denied(sim, client_id, secret):
    auth, http = sim
    r = await http.post("/oauth/token", json=cc(client_id, secret))
    assert r.status_code == 401
    assert r.json() == {"error": "access_denied", "error_description": "Unauthorized"}
    assert sum(auth.tokens_issued.values()) == 0


async def test_missing_grant_is_403_with_auth0_text(sim):
    _auth, http = sim
    r = await http.post("/oauth/token", json=cc("no-grant", "s3"))
    assert r.status_code == 403
    body = r.json()
    assert body["error"] == "access_denied"
    assert body["error_description"].startswith(f'Client is not authorized to access "{AUD}".')
    assert "client-grant" in body["error_description"]


async def test_unknown_audience_and_grant_type(sim):
    _auth, http = sim
    r = await http.post("/oauth/token", json=cc() | {"audience": "https://elsewhere"})
    assert r.status_code == 403 and r.json()["error"] == "access_denied"
    r = await http.post("/oauth/token", json=cc() | {"grant_type": "password"})
    assert r.json()["error"] == "unsupported_grant_type"
    r = await http.post("/oauth/token", content=b"{not json", headers={"content-type":
                                                                        "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


async def test_throttle_sends_429_with_ratelimit_headers(clock):
    auth = Auth0Sim(clock, token_rate_limit=3)
    async with client_for(auth) as http:
        answers = [await http.post("/oauth/token", json=cc()) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
        last = answers[-1]
        assert last.headers["x-ratelimit-limit"] == "3"
        reset = int(last.headers["x-ratelimit-reset"])
        assert clock.t < reset <= clock.t + 60  # a UNIX time, not a number of seconds
        assert set(last.json()) == {"error", "error_description"}
        clock.t = reset
        assert (await http.post("/oauth/token", json=cc())).status_code == 200
        assert auth.throttled == 1 and auth.tokens_issued["flux-demo"] == 4


async def test_forced_throttle_for_fault_injection(sim):
    auth, http = sim
    auth.throttle_next(2)
    codes = [(await http.post("/oauth/token", json=cc())).status_code for _ in range(3)]
    assert codes == [429, 429, 200]


async def test_bearer_check_rejects_expired_unknown_and_malformed(sim, clock):
    auth, http = sim
    token = (await http.post("/oauth/token", json=cc())).json()["access_token"]
    assert auth.check_bearer(f"bearer {token}")  # the scheme is case-insensitive
    for bad in (None, "", token, f"Basic {token}", "Bearer nope", f"Bearer {token}x"):
        assert auth.check_bearer(bad) is None
    clock.advance(86400)
    assert auth.check_bearer(f"Bearer {token}") is None
    token2 = (await http.post("/oauth/token", json=cc())).json()["access_token"]
    assert auth.check_bearer(f"Bearer {token2}")
    auth.expire_all()
    assert auth.check_bearer(f"Bearer {token2}") is None


# ---- device flow (RFC 8628) ----

async def start_device(http: httpx.AsyncClient, scope: str = "openid offline_access") -> dict:
    r = await http.post("/oauth/device/code",
                        data={"client_id": CLI, "scope": scope, "audience": AUD})
    assert r.status_code == 200
    return r.json()


async def poll(http: httpx.AsyncClient, device_code: str) -> httpx.Response:
    return await http.post("/oauth/token", data={
        "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": CLI})


async def test_device_code_answer_shape(sim):
    _auth, http = sim
    d = await start_device(http)
    assert set(d) == {"device_code", "user_code", "verification_uri",
                      "verification_uri_complete", "expires_in", "interval"}
    assert len(d["user_code"]) == 9 and d["user_code"][4] == "-"
    assert not set(d["user_code"]) & set("AEIOU0123456789")
    assert d["verification_uri"] == "http://sim.test/activate"
    assert d["verification_uri_complete"].endswith(f"?user_code={d['user_code']}")
    assert d["interval"] == 5 and d["expires_in"] == 900


async def test_device_code_rejects_unknown_client(sim):
    _auth, http = sim
    r = await http.post("/oauth/device/code", data={"client_id": "flux-demo", "audience": AUD})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized_client"


async def test_pending_then_slow_down_then_approved(sim, clock):
    auth, http = sim
    d = await start_device(http)
    r = await poll(http, d["device_code"])
    assert r.status_code == 403 and r.json()["error"] == "authorization_pending"
    clock.advance(2)  # faster than the 5 s interval
    r = await poll(http, d["device_code"])
    assert r.status_code == 429 and r.json()["error"] == "slow_down"
    clock.advance(6)  # 6 s is no longer enough: the interval is now 10 s
    assert (await poll(http, d["device_code"])).json()["error"] == "slow_down"
    clock.advance(15)
    assert (await poll(http, d["device_code"])).json()["error"] == "authorization_pending"
    assert auth.pending_user_codes() == [d["user_code"]]
    assert auth.approve(d["user_code"].lower().replace("-", ""))  # typed loosely by a person
    clock.advance(15)
    r = await poll(http, d["device_code"])
    assert r.status_code == 200
    tokens = r.json()
    assert {"access_token", "refresh_token", "id_token", "scope", "expires_in"} <= set(tokens)
    assert tokens["scope"] == "openid offline_access"
    assert auth.check_bearer("Bearer " + tokens["access_token"])
    clock.advance(15)  # a device code is good for one login only
    assert (await poll(http, d["device_code"])).json()["error"] == "invalid_grant"


async def test_no_refresh_token_without_offline_access(sim, clock):
    auth, http = sim
    d = await start_device(http, scope="openid")
    auth.approve(d["user_code"])
    tokens = (await poll(http, d["device_code"])).json()
    assert "refresh_token" not in tokens and "access_token" in tokens


async def test_denied_login(sim, clock):
    auth, http = sim
    d = await start_device(http)
    assert auth.deny(d["user_code"])
    assert not auth.approve(d["user_code"])  # decided already
    r = await poll(http, d["device_code"])
    assert r.status_code == 403 and r.json()["error"] == "access_denied"


async def test_expired_device_code(sim, clock):
    auth, http = sim
    d = await start_device(http)
    clock.advance(d["expires_in"])
    r = await poll(http, d["device_code"])
    assert r.status_code == 403 and r.json()["error"] == "expired_token"
    assert not auth.approve(d["user_code"])
    assert auth.pending_user_codes() == []


async def test_wrong_device_code_or_client(sim):
    _auth, http = sim
    d = await start_device(http)
    assert (await poll(http, "nope")).json()["error"] == "invalid_grant"
    r = await http.post("/oauth/token", data={"grant_type": DEVICE_GRANT,
                                              "device_code": d["device_code"],
                                              "client_id": "other"})
    assert r.json()["error"] == "invalid_grant"


async def test_auto_approval_after_delay(clock):
    auth = Auth0Sim(clock, auto_approve_after=12)
    async with client_for(auth) as http:
        d = await start_device(http)
        clock.advance(6)
        assert (await poll(http, d["device_code"])).json()["error"] == "authorization_pending"
        clock.advance(6)
        assert (await poll(http, d["device_code"])).status_code == 200


async def test_activation_page_approves_and_denies(sim):
    _auth, http = sim
    d = await start_device(http)
    page = await http.get("/activate", params={"user_code": d["user_code"]})
    assert page.status_code == 200 and f'value="{d["user_code"]}"' in page.text
    assert "<form" in page.text
    ok = await http.post("/activate", data={"user_code": d["user_code"], "action": "approve"})
    assert ok.status_code == 200 and "confirmed" in ok.text
    assert (await poll(http, d["device_code"])).status_code == 200
    d2 = await start_device(http)
    no = await http.post("/activate", data={"user_code": d2["user_code"], "action": "deny"})
    assert "cancelled" in no.text
    assert (await poll(http, d2["device_code"])).json()["error"] == "access_denied"
    bad = await http.post("/activate", data={"user_code": "ZZZZ-ZZZZ", "action": "approve"})
    assert bad.status_code == 404
    hostile = await http.get("/activate", params={"user_code": '"><script>'})
    assert "<script>" not in hostile.text


# ---- refresh tokens ----

async def logged_in(auth: Auth0Sim, http: httpx.AsyncClient) -> dict:
    d = await start_device(http)
    auth.approve(d["user_code"])
    r = await poll(http, d["device_code"])
    assert r.status_code == 200
    return r.json()


async def refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/oauth/token", json={"grant_type": "refresh_token",
                                                 "client_id": CLI, "refresh_token": token})


async def test_refresh_rotates_and_old_token_is_rejected(sim):
    auth, http = sim
    first = await logged_in(auth, http)
    r = await refresh(http, first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert auth.check_bearer("Bearer " + second["access_token"])
    reuse = await refresh(http, first["refresh_token"])
    assert reuse.status_code == 403
    assert reuse.json() == {"error": "invalid_grant",
                            "error_description": "Unknown or invalid refresh token."}
    # Reuse of a rotated token revokes the whole family, the newest token included.
    assert (await refresh(http, second["refresh_token"])).json()["error"] == "invalid_grant"


async def test_chain_of_rotations(sim):
    auth, http = sim
    token = (await logged_in(auth, http))["refresh_token"]
    for _ in range(3):
        r = await refresh(http, token)
        assert r.status_code == 200
        token = r.json()["refresh_token"]


async def test_revocation(sim):
    auth, http = sim
    tokens = await logged_in(auth, http)
    assert auth.revoke_refresh_tokens(CLI) == 1
    r = await refresh(http, tokens["refresh_token"])
    assert r.status_code == 403 and r.json()["error"] == "invalid_grant"
    # Access tokens already issued stay valid until they expire, as at Auth0.
    assert auth.check_bearer("Bearer " + tokens["access_token"])


async def test_revoke_endpoint(sim):
    auth, http = sim
    tokens = await logged_in(auth, http)
    r = await http.post("/oauth/revoke", json={"client_id": CLI,
                                               "token": tokens["refresh_token"]})
    assert r.status_code == 200
    assert (await refresh(http, tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_refresh_lifetime_and_no_rotation(clock):
    auth = Auth0Sim(clock, refresh_token_lifetime=3600, rotate_refresh_tokens=False)
    async with client_for(auth) as http:
        tokens = await logged_in(auth, http)
        r = await refresh(http, tokens["refresh_token"])
        assert r.status_code == 200 and "refresh_token" not in r.json()
        assert (await refresh(http, tokens["refresh_token"])).status_code == 200  # reusable
        clock.advance(3600)
        assert (await refresh(http, tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_accepts_an_object_clock_with_now():
    class SimLikeClock:
        def now(self) -> float:
            return 1_000.0

    auth = Auth0Sim(SimLikeClock())
    assert auth.clock() == 1_000.0


async def test_expired_tokens_are_forgotten_over_a_long_run(sim, clock):
    # a day of hourly token requests keeps only the live tokens, not one per request ever made
    auth, http = sim
    auth.expires_in = 3600
    for _ in range(24):
        token = (await http.post("/oauth/token", json=cc())).json()["access_token"]
        clock.advance(3600)
    assert auth.live_tokens <= 2
    assert auth.check_bearer(f"Bearer {token}") is None  # expired, as before
    fresh = (await http.post("/oauth/token", json=cc())).json()["access_token"]
    assert auth.check_bearer(f"Bearer {fresh}")
