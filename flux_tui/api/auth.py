"""Bearer tokens for the Realtime API: the provider protocol and the Auth0 client-credentials grant.

A provider hands out a token, refreshes it one caller at a time, and exposes its expiry for
the status bar. Neither the client secret nor a token ever appears in a message, a log line
or a ``repr()``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx
import orjson

from flux_tui.api import errors
from flux_tui.api.bounded import SMALL_BODY_LIMIT, AnswerTooLarge, DeadlinePassed, bounded_request
from flux_tui.api.token_cache import EARLY_REFRESH, CachedToken, TokenCache, token_lifetime
from flux_tui.base.errors import FluxError

__all__ = [
    "EARLY_REFRESH",
    "CachedToken",
    "ClientCredentialsProvider",
    "StaticTokenProvider",
    "TokenCache",
    "TokenProvider",
]

log = logging.getLogger(__name__)


@runtime_checkable
class TokenProvider(Protocol):
    """Where the client gets its bearer token."""

    grant: str

    @property
    def expires_at(self) -> float | None:
        """``time.time()`` at which the current token expires, if known."""
        ...

    async def token(self) -> str:
        """A usable token, fetching one only when there is none or it is about to expire."""
        ...

    async def refresh(self, stale: str | None = None) -> str:
        """A new token. When the current one already differs from ``stale`` (someone else
        refreshed meanwhile), that one is returned without asking again."""
        ...


class StaticTokenProvider:
    """A fixed token (tests, library users who manage tokens themselves)."""

    grant = "static"

    def __init__(self, token: str, expires_at: float | None = None) -> None:
        self._token = token
        self._expires_at = expires_at

    def __repr__(self) -> str:
        return "StaticTokenProvider(token=***)"

    @property
    def expires_at(self) -> float | None:
        return self._expires_at

    async def token(self) -> str:
        return self._token

    async def refresh(self, stale: str | None = None) -> str:
        # Nothing to refresh with: the API will refuse it again and the client reports a 401.
        return self._token


class ClientCredentialsProvider:
    """Auth0 client-credentials tokens, cached on disk and reused until 5 minutes before expiry."""

    grant = "client_credentials"

    def __init__(
        self,
        token_url: str,
        audience: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.AsyncClient,
        cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self.token_url = token_url
        self.audience = audience
        self.client_id = client_id
        self._secret = client_secret
        self._http = http
        self.cache = cache
        self._clock = clock
        self._timeout = timeout
        self._current: CachedToken | None = None
        self._cache_checked = False
        self._lock = asyncio.Lock()
        self.fetches = 0  # tokens requested from Auth0 by this provider (quota matters)

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsProvider(token_url={self.token_url!r}, audience={self.audience!r}, "
            f"client_id={self.client_id!r}, client_secret=***)"
        )

    @property
    def expires_at(self) -> float | None:
        return self._current.expires_at if self._current else None

    async def token(self) -> str:
        current = self._current
        if current is not None and self._fresh(current):
            return current.access_token
        async with self._lock:
            # Whoever held the lock before us may have just fetched one.
            if self._current is not None and self._fresh(self._current):
                return self._current.access_token
            if not self._cache_checked:
                self._cache_checked = True
                cached = self._load_cache()
                if cached is not None and self._fresh(cached):
                    self._current = cached
                    return cached.access_token
            return await self._fetch()

    async def refresh(self, stale: str | None = None) -> str:
        async with self._lock:
            current = self._current
            if current is not None and current.replaces(stale, self._clock()):
                return current.access_token
            # Another process sharing the cache may already have replaced the stale token.
            cached = self._load_cache()
            if cached is not None and cached.replaces(stale, self._clock()):
                self._current = cached
                return cached.access_token
            return await self._fetch()

    # --- internals -----------------------------------------------------------------------

    def _fresh(self, token: CachedToken) -> bool:
        return token.fresh(self._clock())

    def _load_cache(self) -> CachedToken | None:
        if self.cache is None:
            return None
        cached = self.cache.load()
        if cached is None or not cached.belongs_to(self.grant, self.audience, self.client_id):
            return None
        return cached

    async def _fetch(self) -> str:
        """Ask Auth0 for a token (caller holds the lock), remember it and cache it."""
        host = urlsplit(self.token_url).netloc or self.token_url
        payload = {
            "client_id": self.client_id,
            "client_secret": self._secret,
            "audience": self.audience,
            "grant_type": "client_credentials",
        }
        self.fetches += 1
        log.debug("requesting a token from %s for %s", host, self.audience)
        try:
            response = await bounded_request(
                self._http, "POST", self.token_url, limit=SMALL_BODY_LIMIT, json=payload,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            # Only the type: httpx messages can quote the request, and the body holds the
            # secret. Our own two failures say what happened and quote nothing.
            ours = isinstance(exc, AnswerTooLarge | DeadlinePassed)
            raise errors.AuthUnreachableError(
                f"cannot reach the token endpoint {host}: {exc if ours else type(exc).__name__}"
            ) from None
        data = _json_or_none(response.content)
        status = response.status_code
        if status == 200 and isinstance(data, dict) and isinstance(data.get("access_token"), str):
            return self._accept(data)
        raise self._auth_error(status, data, response, host)

    def _accept(self, data: dict[str, Any]) -> str:
        token = CachedToken(
            access_token=data["access_token"],
            expires_at=self._clock() + token_lifetime(data.get("expires_in")),
            token_type=str(data.get("token_type") or "Bearer"),
            scope=data["scope"] if isinstance(data.get("scope"), str) else None,
            audience=self.audience,
            grant=self.grant,
            client_id=self.client_id,
        )
        self._current = token
        if self.cache is not None:
            try:
                self.cache.save(token)
            except OSError as exc:
                # Still usable in memory; only restarts will cost a new token.
                log.warning("cannot write the token cache %s: %s", self.cache.path, exc.strerror)
        return token.access_token

    def _auth_error(
        self, status: int, data: Any, response: httpx.Response, host: str
    ) -> FluxError:
        if data is None and response.content.strip() and status < 500 and status != 429:
            # Reached, but what answered is not Auth0 (a web page at a wrong token_url, a
            # captive portal, a proxy's refusal): not "unreachable", and retrying cannot help.
            # A non-JSON body is a transport error (exit 5), as for the Realtime API.
            shown = _scrub(errors.snippet(response.content), self._secret)
            page = errors.NonJSONResponse(status, shown)
            page.message = (
                f"the token endpoint {host} answered HTTP {status} with a body that is not "
                f"JSON, so it is not Auth0's token endpoint (check token_url): {shown!r}"
            )
            page.args = (page.message,)
            return page
        code = description = ""
        if isinstance(data, dict):
            code = str(data.get("error") or "")
            description = str(data.get("error_description") or data.get("message") or "")
        description = _scrub(description, self._secret)
        detail = f" ({description})" if description else ""
        # 403 first: Auth0 answers a missing grant with 403 *and* error "access_denied".
        if status == 403:
            return errors.MissingGrantError(
                f"client {self.client_id!r} is not allowed to get tokens for the audience "
                f"{self.audience!r}: ask for a client grant for that API{detail}"
            )
        if status == 401 or code in ("access_denied", "invalid_client", "unauthorized_client"):
            return errors.InvalidClientError(
                f"wrong client id or secret for {self.token_url} "
                f"(client id {self.client_id!r}){detail}"
            )
        if status == 429:
            reset_at = _reset_at(response.headers)
            when = (
                f"; try again after {time.strftime('%H:%M:%S', time.localtime(reset_at))}"
                if reset_at
                else ""
            )
            return errors.AuthThrottledError(
                f"the token endpoint {host} is throttling requests{when}", reset_at
            )
        if data is None:
            return errors.AuthUnreachableError(
                f"the token endpoint {host} answered HTTP {status} with a body that is not "
                f"JSON: {_scrub(errors.snippet(response.content), self._secret)!r}"
            )
        if status >= 500:
            return errors.AuthUnreachableError(
                f"the token endpoint {host} failed (HTTP {status}){detail}"
            )
        if status == 200:
            return errors.AuthUnreachableError(
                f"the token endpoint {host} answered without an access token"
            )
        return errors.AuthError(
            f"the token endpoint {host} refused the request (HTTP {status} {code}){detail}"
        )


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


def _scrub(text: str, secret: str) -> str:
    """Auth0 never echoes the secret, but a misconfigured proxy might: never pass it on."""
    return text.replace(secret, "***") if secret else text


def _reset_at(headers: httpx.Headers) -> float | None:
    """``x-ratelimit-reset`` (a UNIX time); falls back to ``Retry-After`` if present.

    Header values are untrusted: only ASCII digits count (float() also takes 'nan', 'inf',
    '1e300' and other scripts' digits, which time.localtime() then fails on).
    """
    raw = _seconds(headers.get("x-ratelimit-reset"))
    if raw is not None:
        return raw
    retry_after = headers.get("retry-after")
    if retry_after:
        delay = _seconds(retry_after)
        if delay is not None:
            return time.time() + delay
        try:
            when = email.utils.parsedate_to_datetime(retry_after).timestamp()
        except (TypeError, ValueError, OverflowError):
            return None
        return when if 0 < when < _LATEST_RESET else None
    return None


_LATEST_RESET = 1e11  # epoch seconds beyond year 5000: not a time a server means


def _seconds(text: str | None) -> float | None:
    """A number of seconds written in ASCII digits (one '.' allowed, a sane size), else None."""
    text = (text or "").strip()
    digits = text.replace(".", "", 1)
    if not (text.isascii() and digits.isdigit() and len(text) <= 20):
        return None
    value = float(text)
    return value if value < _LATEST_RESET else None
