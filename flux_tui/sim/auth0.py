"""Auth0 stand-in: client credentials, the device authorization flow (RFC 8628) and rotating
refresh tokens, with Auth0's own error bodies and status codes.

All time comes from the injected clock, so tests can jump past token or device-code expiry.
"""

from __future__ import annotations

import base64
import collections
import html
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # Auth0's: no vowels, so no words spelled by accident
_NO_GRANT = ('Client is not authorized to access "{aud}". You need to create a "client-grant" '
             "associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/"
             "post_client_grants")


class ClockLike(Protocol):
    """A clock object such as the simulator's ``SimClock``."""

    def now(self) -> float: ...


@dataclass
class IssuedToken:
    """An access token the simulator handed out."""

    token_id: str  # the JWT's jti: stable, safe to log, used for per-token throttling
    client_id: str
    subject: str
    scope: str
    expires_at: float


@dataclass
class DeviceRequest:
    """One device authorization in progress (RFC 8628 §3.2)."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    audience: str
    created: float
    expires_at: float
    interval: int
    last_poll: float | None = None
    status: str = "pending"  # pending | approved | denied | consumed


@dataclass
class RefreshToken:
    """A refresh token; every rotation keeps the ``family`` so reuse can revoke them all."""

    family: str
    client_id: str
    subject: str
    scope: str
    audience: str
    issued_at: float
    used: bool = False
    revoked: bool = False


class OAuthError(Exception):
    """An error answered in Auth0's shape: ``{"error", "error_description"}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


class Auth0Sim:
    """The token endpoint and device-flow pages of an Auth0 tenant, in process.

    ``clients`` maps confidential client ids to secrets; ``grants`` lists the ones granted the
    audience (default: all); ``device_clients`` are the public clients allowed the device flow.
    """

    def __init__(
        self,
        clock: Callable[[], float] | ClockLike = time.time,
        *,
        clients: dict[str, str] | None = None,
        expires_in: int = 86400,
        audience: str = "https://api.axil.ai",
        device_clients: set[str] | None = None,
        auto_approve_after: float | None = None,
        grants: set[str] | None = None,
        token_rate_limit: int | None = None,
        device_code_expires_in: int = 900,
        device_interval: int = 5,
        refresh_token_lifetime: float | None = None,
        rotate_refresh_tokens: bool = True,
        verification_base: str | None = None,
        user: str = "auth0|flux-field-tech",
    ) -> None:
        # A SimClock is not callable but has .now(): accept either, so the app can pass its own.
        self.clock: Callable[[], float] = clock if callable(clock) else clock.now
        self.clients = {"flux-demo": "demo-secret"} if clients is None else dict(clients)
        self.grants = grants
        self.expires_in = expires_in
        self.audience = audience
        self.device_clients = {"flux-tui-cli"} if device_clients is None else set(device_clients)
        self.auto_approve_after = auto_approve_after
        self.token_rate_limit = token_rate_limit
        self.device_code_expires_in = device_code_expires_in
        self.device_interval = device_interval
        self.refresh_token_lifetime = refresh_token_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.verification_base = verification_base
        self.user = user
        self._tokens: dict[str, IssuedToken] = {}
        self._devices: dict[str, DeviceRequest] = {}  # by device_code
        self._refresh: dict[str, RefreshToken] = {}
        self._window_start = 0.0
        self._window_calls = 0
        self._forced_throttles = 0
        #: Access tokens issued per client id (each one costs quota at the real Auth0).
        self.tokens_issued: collections.Counter[str] = collections.Counter()
        #: Token endpoint calls answered, by grant type, and 429s sent.
        self.token_requests: collections.Counter[str] = collections.Counter()
        self.throttled = 0

    # ---- what other parts of the simulator and tests call ----

    def routes(self) -> list[Route]:
        """The tenant's endpoints, to mount at the root of the app."""
        return [
            Route("/oauth/token", self._token_endpoint, methods=["POST"]),
            Route("/oauth/device/code", self._device_code_endpoint, methods=["POST"]),
            Route("/oauth/revoke", self._revoke_endpoint, methods=["POST"]),
            Route("/activate", self._activate_page, methods=["GET", "POST"]),
        ]

    def check_bearer(self, authorization_header: str | None) -> str | None:
        """The token id of a valid, unexpired ``Bearer`` token we issued, else None."""
        if not authorization_header:
            return None
        scheme, _, token = authorization_header.strip().partition(" ")
        issued = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if issued is None or issued.expires_at <= self.clock():
            return None
        return issued.token_id

    def approve(self, user_code: str) -> bool:
        """Approve a pending device login as the user would on the activation page."""
        return self._decide(user_code, "approved")

    def deny(self, user_code: str) -> bool:
        """Deny a pending device login."""
        return self._decide(user_code, "denied")

    def pending_user_codes(self) -> list[str]:
        """User codes waiting for a decision (what a person would type on the page)."""
        now = self.clock()
        return [d.user_code for d in self._devices.values()
                if d.status == "pending" and d.expires_at > now]

    def revoke_refresh_tokens(self, client_id: str | None = None) -> int:
        """Revoke every live refresh token (of ``client_id`` if given); returns how many."""
        mine = [rt for rt in self._refresh.values() if client_id in (None, rt.client_id)]
        live = sum(not (rt.revoked or rt.used) for rt in mine)
        for rt in mine:
            rt.revoked = True
        return live

    @property
    def live_tokens(self) -> int:
        """Access tokens held (issued and not yet dropped after expiry)."""
        return len(self._tokens)

    def expire_all(self) -> None:
        """Make every access token issued so far expired (as if a day went by)."""
        past = self.clock() - 1
        for tok in self._tokens.values():
            tok.expires_at = min(tok.expires_at, past)

    def throttle_next(self, count: int = 1) -> None:
        """Answer the next ``count`` token requests with 429, whatever the budget says."""
        self._forced_throttles += count

    # ---- token endpoint ----

    async def _token_endpoint(self, request: Request) -> Response:
        headers = self._rate_headers()
        try:
            over = self.token_rate_limit is not None and self._window_calls > self.token_rate_limit
            if over or self._forced_throttles:
                self._forced_throttles = max(0, self._forced_throttles - (not over))
                self.throttled += 1
                raise OAuthError(429, "too_many_requests", "Global limit has been reached")
            body = await _form(request)
            grant = str(body.get("grant_type") or "")
            self.token_requests[grant or "(none)"] += 1
            if grant == "client_credentials":
                answer = self._client_credentials(body, request)
            elif grant == DEVICE_GRANT:
                answer = self._device_token(body)
            elif grant == "refresh_token":
                answer = self._refresh_grant(body)
            elif not grant:
                raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
            else:
                raise OAuthError(403, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        except OAuthError as exc:
            return _error(exc, headers)
        return JSONResponse(answer, headers={**headers, "cache-control": "no-store"})

    def _rate_headers(self) -> dict[str, str]:
        """Count this call in a fixed one-minute window; Auth0's headers when a limit is set."""
        if self.token_rate_limit is None:
            return {}
        now = self.clock()
        if now >= self._window_start + 60:
            self._window_start, self._window_calls = now, 0
        self._window_calls += 1
        return {
            "x-ratelimit-limit": str(self.token_rate_limit),
            "x-ratelimit-remaining": str(max(0, self.token_rate_limit - self._window_calls)),
            "x-ratelimit-reset": str(int(self._window_start + 60)),
        }

    def _client_credentials(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        client_id, secret = body.get("client_id"), body.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):  # client_secret_basic works at Auth0 too
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                client_id = secret = None
        if not client_id or client_id not in self.clients or self.clients[client_id] != secret:
            raise OAuthError(401, "access_denied", "Unauthorized")
        audience = body.get("audience")
        if not audience:
            raise OAuthError(403, "access_denied", "No audience parameter was provided, and no "
                             "default audience has been configured")
        if audience != self.audience:
            raise OAuthError(403, "access_denied", f"Service not found: {audience}")
        if self.grants is not None and client_id not in self.grants:
            raise OAuthError(403, "access_denied", _NO_GRANT.format(aud=audience))
        token, _ = self._issue(client_id, f"{client_id}@clients", "", "client-credentials")
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}

    def _issue(self, client_id: str, subject: str, scope: str, gty: str) -> tuple[str, str]:
        """Mint a JWT-shaped access token; returns (token, token id)."""
        now = self.clock()
        jti = secrets.token_hex(8)
        claims = {"iss": "https://axil.auth0.com/", "sub": subject, "aud": self.audience,
                  "iat": int(now), "exp": int(now + self.expires_in), "azp": client_id,
                  "gty": gty, "jti": jti} | ({"scope": scope} if scope else {})
        header = {"alg": "RS256", "typ": "JWT", "kid": "flux-sim"}
        token = ".".join((_b64(header), _b64(claims), secrets.token_urlsafe(32)))
        # Issued in order of expiry: drop the expired ones from the front, so the table holds
        # live tokens only however long the simulator serves.
        while self._tokens:
            oldest = next(iter(self._tokens))
            if self._tokens[oldest].expires_at > now:
                break
            del self._tokens[oldest]
        self._tokens[token] = IssuedToken(jti, client_id, subject, scope, now + self.expires_in)
        self.tokens_issued[client_id] += 1
        return token, jti

    # ---- device flow ----

    async def _device_code_endpoint(self, request: Request) -> Response:
        try:
            body = await _form(request)
            client_id = str(body.get("client_id") or "")
            if not client_id:
                raise OAuthError(400, "invalid_request", "Missing required parameter: client_id")
            if client_id not in self.device_clients:
                raise OAuthError(401, "unauthorized_client",
                                 "Unauthorized or unknown client, or the client does not allow "
                                 "the device code grant")
            audience = str(body.get("audience") or self.audience)
            if audience != self.audience:
                raise OAuthError(403, "access_denied", f"Service not found: {audience}")
        except OAuthError as exc:
            return _error(exc, {})
        now = self.clock()
        code = "-".join("".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(4))
                        for _ in range(2))
        dev = DeviceRequest(secrets.token_urlsafe(24), code, client_id,
                            str(body.get("scope") or ""), audience, now,
                            now + self.device_code_expires_in, self.device_interval)
        self._devices[dev.device_code] = dev
        base = self.verification_base or str(request.base_url).rstrip("/")
        uri = f"{base}/activate"
        return JSONResponse({
            "device_code": dev.device_code, "user_code": code, "verification_uri": uri,
            "expires_in": self.device_code_expires_in, "interval": dev.interval,
            "verification_uri_complete": f"{uri}?user_code={urllib.parse.quote(code)}",
        })

    def _device_token(self, body: dict[str, Any]) -> dict[str, Any]:
        dev = self._devices.get(str(body.get("device_code") or ""))
        if dev is None or dev.client_id != body.get("client_id") or dev.status == "consumed":
            raise OAuthError(403, "invalid_grant", "Invalid or expired device code.")
        now = self.clock()
        if now >= dev.expires_at:
            raise OAuthError(403, "expired_token", "Device code has expired.")
        too_fast = dev.last_poll is not None and now - dev.last_poll < dev.interval
        dev.last_poll = now
        if too_fast:  # RFC 8628 §3.5: and the interval grows by 5 s for good
            dev.interval += 5
            raise OAuthError(429, "slow_down",
                             f"You are polling faster than allowed. Try again in "
                             f"{dev.interval} seconds.")
        if (dev.status == "pending" and self.auto_approve_after is not None
                and now >= dev.created + self.auto_approve_after):
            dev.status = "approved"
        if dev.status == "denied":
            raise OAuthError(403, "access_denied",
                             "User cancelled the confirmation prompt or consent page.")
        if dev.status == "pending":
            raise OAuthError(403, "authorization_pending", "User has yet to authorize device code.")
        dev.status = "consumed"
        return self._user_tokens(dev.client_id, self.user, dev.scope, dev.audience, family=None)

    def _user_tokens(self, client_id: str, subject: str, scope: str, audience: str,
                     family: str | None) -> dict[str, Any]:
        """Access token (+ refresh token with offline_access, + id_token with openid)."""
        token, _ = self._issue(client_id, subject, scope, "device-code")
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer",
                                  "expires_in": self.expires_in, "scope": scope}
        scopes = scope.split()
        if "offline_access" in scopes and (family is None or self.rotate_refresh_tokens):
            rt = secrets.token_urlsafe(36)
            self._refresh[rt] = RefreshToken(family or secrets.token_hex(8), client_id, subject,
                                             scope, audience, self.clock())
            answer["refresh_token"] = rt
        if "openid" in scopes:
            now = int(self.clock())
            answer["id_token"] = ".".join((
                _b64({"alg": "RS256", "typ": "JWT"}),
                _b64({"iss": "https://axil.auth0.com/", "sub": subject, "aud": client_id,
                      "iat": now, "exp": now + 36000, "name": "Flux Field Tech"}),
                secrets.token_urlsafe(32)))
        return answer

    def _refresh_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        rt = self._refresh.get(str(body.get("refresh_token") or ""))
        invalid = OAuthError(403, "invalid_grant", "Unknown or invalid refresh token.")
        if rt is None or rt.client_id != body.get("client_id") or rt.revoked:
            raise invalid
        if self.rotate_refresh_tokens and rt.used:
            # Reuse of a rotated token looks like theft: Auth0 revokes the whole family.
            for other in self._refresh.values():
                if other.family == rt.family:
                    other.revoked = True
            raise invalid
        lifetime = self.refresh_token_lifetime
        if lifetime is not None and self.clock() >= rt.issued_at + lifetime:
            raise OAuthError(403, "invalid_grant", "Expired refresh token.")
        if self.rotate_refresh_tokens:
            rt.used = True
        answer = self._user_tokens(rt.client_id, rt.subject, rt.scope, rt.audience, rt.family)
        answer.pop("id_token", None)
        return answer

    async def _revoke_endpoint(self, request: Request) -> Response:
        try:
            body = await _form(request)
        except OAuthError as exc:
            return _error(exc, {})
        rt = self._refresh.get(str(body.get("token") or ""))
        if rt is not None and rt.client_id == body.get("client_id"):
            for other in self._refresh.values():
                if other.family == rt.family:
                    other.revoked = True
        return Response(status_code=200)

    # ---- the activation page a person would use ----

    def _decide(self, user_code: str, status: str) -> bool:
        wanted = _normalise(user_code)
        now = self.clock()
        for dev in self._devices.values():
            if _normalise(dev.user_code) == wanted:
                if dev.status != "pending" or now >= dev.expires_at:
                    return False
                dev.status = status
                return True
        return False

    async def _activate_page(self, request: Request) -> Response:
        if request.method == "GET":
            code = html.escape(request.query_params.get("user_code", ""))
            return HTMLResponse(_PAGE.format(body=(
                '<form method="post"><label>Code <input name="user_code" value="' + code + '">'
                '</label><button name="action" value="approve">Confirm</button>'
                '<button name="action" value="deny">Cancel</button></form>')))
        try:
            body = await _form(request)
        except OAuthError:
            body = {}
        code = str(body.get("user_code") or "")
        action = body.get("action", "approve")
        done = self.approve(code) if action == "approve" else self.deny(code)
        if not done:
            return HTMLResponse(_PAGE.format(body="<p>Invalid or expired code.</p>"), 404)
        verdict = "confirmed" if action == "approve" else "cancelled"
        return HTMLResponse(_PAGE.format(body=f"<p>Device {verdict}. You may close this page.</p>"))


_PAGE = ("<!doctype html><html><head><title>Device activation</title></head>"
         "<body><h1>Flux device activation</h1>{body}</body></html>")


async def _form(request: Request) -> dict[str, Any]:
    """The request's parameters, from a JSON or a form-encoded body (both work at Auth0)."""
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise OAuthError(400, "invalid_request", "Invalid JSON body") from None
        if not isinstance(data, dict):
            raise OAuthError(400, "invalid_request", "Invalid JSON body")
        return data
    return dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))


def _error(exc: OAuthError, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse({"error": exc.error, "error_description": exc.description},
                        status_code=exc.status, headers=headers)


def _b64(obj: dict[str, Any]) -> str:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _normalise(user_code: str) -> str:
    return "".join(ch for ch in user_code.upper() if ch.isalnum())
