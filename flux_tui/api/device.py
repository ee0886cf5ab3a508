"""The OAuth 2.0 Device Authorization Flow (RFC 8628) against Auth0, for people on a terminal.

:meth:`DeviceFlow.start` asks for a code to show (URL + user code); :meth:`DeviceFlow.wait`
polls at the server's interval (``slow_down`` adds 5 s) until the person approves, denies or
the code expires. The device code itself is a credential: it is kept private and never shown.

    flow = DeviceFlow(token_url, client_id, audience, http=http)
    code = await flow.start()
    print(code.verification_uri, code.user_code)
    token = await flow.wait(code)          # CachedToken with the refresh token
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from flux_tui.api import errors
from flux_tui.api.bounded import SMALL_BODY_LIMIT, bounded_request
from flux_tui.api.token_cache import CachedToken
from flux_tui.api.user_auth import oauth_error, token_from_answer

__all__ = ["DEFAULT_SCOPE", "DEVICE_GRANT_TYPE", "DeviceCode", "DeviceFlow", "device_code_url"]

log = logging.getLogger(__name__)

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
#: ``offline_access`` is what makes Auth0 hand out a refresh token.
DEFAULT_SCOPE = "openid profile offline_access"
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5: every slow_down adds 5 seconds for good
DEFAULT_INTERVAL = 5.0  # RFC 8628 §3.2 default when the server gives none
_LONGEST = 86400.0  # a code lifetime or poll interval beyond a day is not meant


def _seconds(value: Any, default: float | None) -> float:
    """A positive, finite number of seconds from the server (a JSON number or digits).

    float() alone takes 'nan' and 'inf' (a poll that never comes, a code that never
    expires) and other scripts' digits. A missing or unusable value is ``default``; with no
    default it is a ValueError (the answer is unusable).
    """
    if isinstance(value, str) and value.strip().isascii():
        value = value.strip()
        value = float(value) if value.replace(".", "", 1).isdigit() else None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and 0 < value <= _LONGEST:  # also false for nan
        return float(value)
    if default is None:
        raise ValueError(f"not a usable number of seconds: {value!r}")
    return default


@dataclass(frozen=True)
class DeviceCode:
    """What a person needs to approve the login; the device code stays out of ``repr``."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float
    #: ``clock()`` value (of the flow's clock) at which the code expires.
    expires_at: float
    _device_code: str = field(repr=False, compare=False)


def device_code_url(token_url: str) -> str:
    """The device-authorization endpoint next to ``token_url`` (``/oauth/device/code``)."""
    parts = urlsplit(token_url)
    path = parts.path
    if path.endswith("/oauth/token"):
        path = path[: -len("/oauth/token")] + "/oauth/device/code"
    else:
        path = "/oauth/device/code"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class DeviceFlow:
    """One person's device login for ``client_id`` (an Auth0 application allowing the grant).

    ``sleep`` and ``clock`` are injectable so tests run the whole flow on a manual clock.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        audience: str,
        *,
        http: httpx.AsyncClient,
        scope: str = DEFAULT_SCOPE,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.token_url = token_url
        self.code_url = device_code_url(token_url)
        self.client_id = client_id
        self.audience = audience
        self.scope = scope
        self._http = http
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock  # token expiry is stored as time.time()
        self._timeout = timeout
        self.polls = 0  # token-endpoint polls sent, for tests and diagnostics
        self.host = urlsplit(token_url).netloc or token_url

    def __repr__(self) -> str:
        return f"DeviceFlow(token_url={self.token_url!r}, client_id={self.client_id!r})"

    async def start(self) -> DeviceCode:
        """Ask Auth0 for a device code; raises an AuthError when the client may not use it."""
        data = await self._post(
            self.code_url,
            {"client_id": self.client_id, "scope": self.scope, "audience": self.audience},
        )
        if not isinstance(data, dict):
            raise errors.AuthUnreachableError(
                f"the device-code endpoint {self.host} answered without a code"
            )
        try:
            expires_in = _seconds(data["expires_in"], None)
            code = DeviceCode(
                user_code=str(data["user_code"]),
                verification_uri=str(data["verification_uri"]),
                verification_uri_complete=(
                    str(data["verification_uri_complete"])
                    if data.get("verification_uri_complete")
                    else None
                ),
                expires_in=expires_in,
                interval=_seconds(data.get("interval"), DEFAULT_INTERVAL),
                expires_at=self._clock() + expires_in,
                _device_code=str(data["device_code"]),
            )
        except (KeyError, TypeError, ValueError):
            raise errors.AuthUnreachableError(
                f"the device-code endpoint {self.host} answered without a usable code"
            ) from None
        return code

    async def wait(
        self, code: DeviceCode, *, on_poll: Callable[[float], None] | None = None
    ) -> CachedToken:
        """Poll until approval; returns the tokens (not stored: the caller decides where).

        ``on_poll(interval)`` is told the interval in force after each pending answer (a
        progress line, a countdown). Raises :class:`~flux_tui.api.errors.LoginDeniedError`,
        :class:`~flux_tui.api.errors.LoginExpiredError` or another AuthError.
        """
        interval = code.interval
        while True:
            if self._clock() >= code.expires_at:
                raise self._expired()
            await self._sleep(interval)
            self.polls += 1
            status, data, error = await self._poll(code)
            if (
                status == 200
                and isinstance(data, dict)
                and isinstance(data.get("access_token"), str)
            ):
                return token_from_answer(
                    data, now=self._wall_clock(), audience=self.audience, client_id=self.client_id
                )
            if error == "authorization_pending":
                pass
            elif error == "slow_down":
                interval += SLOW_DOWN_STEP
                log.debug("device flow: slow_down, polling every %.0f s", interval)
            elif error == "expired_token":
                raise self._expired()
            elif error == "access_denied":
                raise errors.LoginDeniedError("the login was denied on the activation page")
            elif status == 429:
                interval += SLOW_DOWN_STEP  # a plain rate limit: back off the same way
            else:
                raise errors.AuthError(
                    f"the token endpoint {self.host} refused the device login "
                    f"(HTTP {status} {error or 'unknown error'})"
                )
            if on_poll is not None:
                on_poll(interval)

    async def login(
        self, show: Callable[[DeviceCode], None], *, on_poll: Callable[[float], None] | None = None
    ) -> CachedToken:
        """``start()``, ``show(code)`` to the person, then ``wait()``: the whole login."""
        code = await self.start()
        show(code)
        return await self.wait(code, on_poll=on_poll)

    # --- internals -----------------------------------------------------------------------

    def _expired(self) -> errors.LoginExpiredError:
        return errors.LoginExpiredError(
            "the code expired before the login was approved: start again"
        )

    async def _poll(self, code: DeviceCode) -> tuple[int, Any, str]:
        payload = {
            "grant_type": DEVICE_GRANT_TYPE,
            "device_code": code._device_code,
            "client_id": self.client_id,
        }
        try:
            response = await bounded_request(
                self._http, "POST", self.token_url, limit=SMALL_BODY_LIMIT, data=payload, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise errors.AuthUnreachableError(
                f"cannot reach the token endpoint {self.host}: {type(exc).__name__}"
            ) from None
        error, _ = oauth_error(response)
        return response.status_code, _json(response.content), error

    async def _post(self, url: str, form: dict[str, str]) -> Any:
        host = urlsplit(url).netloc or url
        try:
            response = await bounded_request(
                self._http, "POST", url, limit=SMALL_BODY_LIMIT, data=form, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise errors.AuthUnreachableError(
                f"cannot reach {host}: {type(exc).__name__}"
            ) from None
        if response.status_code == 200:
            return _json(response.content)
        error, description = oauth_error(response)
        detail = f": {description}" if description else ""
        if error in ("unauthorized_client", "invalid_client") or response.status_code == 401:
            raise errors.InvalidClientError(
                f"the application {self.client_id!r} may not use the device login at {host}"
                f"{detail} (set device_client_id in the profile)"
            )
        if response.status_code == 403:
            raise errors.MissingGrantError(
                f"the device login for {self.audience!r} was refused by {host}{detail}"
            )
        if response.status_code == 429:
            raise errors.AuthThrottledError(f"{host} is throttling requests")
        if response.status_code >= 500:
            raise errors.AuthUnreachableError(f"{host} failed (HTTP {response.status_code})")
        raise errors.AuthError(
            f"{host} refused the device login (HTTP {response.status_code} {error}){detail}"
        )


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
