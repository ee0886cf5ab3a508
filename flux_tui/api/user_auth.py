"""Tokens of a person who logged in with the device flow: use the stored access token, renew
it with the refresh token shortly before expiry, store rotated refresh tokens atomically.

When renewal needs the person again (no refresh token, revoked, ``invalid_grant``) the
provider raises :class:`~flux_tui.api.errors.LoginRequiredError` and says so in
:attr:`UserTokenProvider.state`; after a new login, :meth:`UserTokenProvider.adopt` resumes.
With ``wait_for_login=True`` (the viewer) the calls wait for that new login instead of
failing, so the feed pauses and carries on where it was; :meth:`give_up` ends the wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import orjson

from flux_tui.api import errors
from flux_tui.api.bounded import SMALL_BODY_LIMIT, bounded_request
from flux_tui.api.token_cache import CachedToken, TokenCache, token_lifetime

__all__ = ["DEVICE_GRANT", "LoginState", "UserTokenProvider", "oauth_error", "token_from_answer"]

log = logging.getLogger(__name__)

DEVICE_GRANT = "device_code"
# Auth0's answers when a refresh token can no longer be used: a person must log in again.
_LOGIN_AGAIN = frozenset(
    {"invalid_grant", "unauthorized_client", "access_denied", "invalid_client"}
)

#: ``ok``: tokens usable; ``login-required``: renewal needs a person (show the re-login dialog).
LoginState = Literal["ok", "login-required"]


def token_from_answer(
    data: dict[str, Any],
    *,
    now: float,
    audience: str,
    client_id: str,
    grant: str = DEVICE_GRANT,
    previous_refresh: str | None = None,
) -> CachedToken:
    """A :class:`CachedToken` from an Auth0 token answer.

    Without rotation Auth0 answers a refresh grant with no new refresh token: the previous
    one stays valid and is kept. The ``id_token`` is not stored (nothing here reads it).
    """
    refresh = data.get("refresh_token")
    return CachedToken(
        access_token=str(data["access_token"]),
        expires_at=now + token_lifetime(data.get("expires_in")),
        token_type=str(data.get("token_type") or "Bearer"),
        scope=data["scope"] if isinstance(data.get("scope"), str) else None,
        audience=audience,
        grant=grant,
        client_id=client_id,
        refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
    )


def oauth_error(response: httpx.Response) -> tuple[str, str]:
    """``(error, error_description)`` of an Auth0 error answer ('' when absent or not JSON).

    Auth0's statuses vary (``slow_down`` is a 429, ``authorization_pending`` a 403): callers
    decide by the ``error`` field, never by the status alone.
    """
    try:
        data = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("error") or ""), str(data.get("error_description") or "")


class UserTokenProvider:
    """A :class:`~flux_tui.api.auth.TokenProvider` for tokens from ``flux-tui login``.

    ``cache`` is the profile's login store (:func:`~flux_tui.api.token_cache.login_token_cache`)
    or None to keep tokens in memory only (the in-process simulator). One renewal at a time:
    concurrent callers wait for it and share its result.
    """

    grant = DEVICE_GRANT

    def __init__(
        self,
        token_url: str,
        audience: str,
        client_id: str,
        *,
        http: httpx.AsyncClient,
        cache: TokenCache | None,
        initial: CachedToken | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
        login_hint: str = "flux-tui login",
        wait_for_login: bool = False,
        on_state: Callable[[LoginState], None] | None = None,
    ) -> None:
        self.token_url = token_url
        self.login_hint = login_hint  # the command that logs in again, for messages
        self.audience = audience
        self.client_id = client_id
        self.cache = cache
        self._http = http
        self._clock = clock
        self._timeout = timeout
        self._current: CachedToken | None = initial
        self._lock = asyncio.Lock()
        self.state: LoginState = "ok"
        #: Why a login is required (a sentence for the dialog), when :attr:`state` says so.
        self.problem: str | None = None
        self.renewals = 0  # refresh-token grants sent by this provider
        #: True: a call that needs a person waits for :meth:`adopt` (or :meth:`give_up`).
        self.wait_for_login = wait_for_login
        #: Told every change of :attr:`state` (show or close the re-login dialog).
        self.on_state = on_state
        self._login_waiter: asyncio.Future[CachedToken] | None = None
        if self._current is None:
            self._current = self._load()

    def __repr__(self) -> str:
        return (
            f"UserTokenProvider(token_url={self.token_url!r}, audience={self.audience!r}, "
            f"client_id={self.client_id!r}, state={self.state!r})"
        )

    @property
    def expires_at(self) -> float | None:
        """``time.time()`` at which the access token expires (None before any token)."""
        return self._current.expires_at if self._current else None

    @property
    def scope(self) -> str | None:
        """The scopes granted to the current token, as Auth0 sent them."""
        return self._current.scope if self._current else None

    @property
    def has_refresh_token(self) -> bool:
        """True when the token can be renewed without a person."""
        return bool(self._current and self._current.refresh_token)

    async def token(self) -> str:
        """The access token; renewed first when it expires within 5 minutes."""
        current = self._current
        if current is not None and self._fresh(current):
            return current.access_token
        async with self._lock:
            current = self._current
            if current is not None and self._fresh(current):
                return current.access_token  # renewed by whoever held the lock before us
            return await self._renew(forced=False)

    async def refresh(self, stale: str | None = None) -> str:
        """A renewed token; when someone already replaced ``stale``, that one is returned."""
        async with self._lock:
            current = self._current
            if current is not None and current.replaces(stale, self._clock()):
                return current.access_token
            return await self._renew(forced=True)

    def adopt(self, token: CachedToken) -> None:
        """Use ``token`` from a new login (the re-login dialog); stores it, clears the state
        and releases the calls waiting for it."""
        self._current = token
        self._store(token)
        self._set_state("ok", None)
        waiter, self._login_waiter = self._login_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(token)

    def give_up(self) -> None:
        """The person will not log in now: the waiting calls raise LoginRequiredError."""
        waiter, self._login_waiter = self._login_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(
                errors.LoginRequiredError(
                    f"{self.problem or 'not logged in'}: log in again ({self.login_hint})"
                )
            )

    # --- internals -----------------------------------------------------------------------

    def _fresh(self, token: CachedToken) -> bool:
        return token.fresh(self._clock())

    def _load(self) -> CachedToken | None:
        if self.cache is None:
            return None
        stored = self.cache.load()
        # A login for another audience or application is not ours to use.
        if stored is None or not stored.belongs_to(self.grant, self.audience, self.client_id):
            return None
        return stored

    def _store(self, token: CachedToken) -> None:
        if self.cache is None:
            return
        try:
            self.cache.save(token)
        except OSError as exc:
            # Usable in memory; but a rotated refresh token lost here means a new login later.
            log.warning("cannot write the login store %s: %s", self.cache.path, exc.strerror)

    def _set_state(self, state: LoginState, problem: str | None) -> None:
        changed = state != self.state
        self.state, self.problem = state, problem
        if changed and self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:  # a broken listener must not break the token path
                log.exception("the login state listener failed")

    async def _need_login(self, why: str) -> str:
        """A person must log in: raise, or (``wait_for_login``) wait for :meth:`adopt`."""
        self._set_state("login-required", why)
        if not self.wait_for_login:
            raise errors.LoginRequiredError(f"{why}: log in again ({self.login_hint})")
        if self._login_waiter is None or self._login_waiter.done():
            self._login_waiter = asyncio.get_running_loop().create_future()
        # Shielded: a cancelled caller must not cancel the login the others wait for.
        token = await asyncio.shield(self._login_waiter)
        return token.access_token

    async def _renew(self, *, forced: bool) -> str:
        """Renew with the refresh token (caller holds the lock).

        ``forced``: the API refused the current token, so it is no use even before expiry.
        """
        # Another process (a second viewer, `tail`) may have rotated the refresh token since
        # we read it: using the old one would look like theft and revoke the whole family.
        stored = self._load()
        if stored is not None and (
            self._current is None or stored.refresh_token != self._current.refresh_token
        ):
            self._current = stored
            if self._fresh(stored):
                return stored.access_token
        current = self._current
        if current is None:
            return await self._need_login("not logged in")
        if not current.refresh_token:
            if not forced and current.valid_for(self._clock()) > 0:
                return current.access_token  # no way to renew: use it while it lasts
            return await self._need_login(
                "the login has expired and there is no refresh token"
                if not forced
                else "the API refused the token and there is no refresh token"
            )
        return await self._refresh_grant(current)

    async def _refresh_grant(self, current: CachedToken) -> str:
        assert current.refresh_token is not None
        host = urlsplit(self.token_url).netloc or self.token_url
        payload = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": current.refresh_token,
        }
        self.renewals += 1
        log.debug("renewing the login token at %s", host)
        try:
            response = await bounded_request(
                self._http, "POST", self.token_url, limit=SMALL_BODY_LIMIT, data=payload, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            # The type only: an httpx message may quote the request, which holds the token.
            raise errors.AuthUnreachableError(
                f"cannot reach the token endpoint {host}: {type(exc).__name__}"
            ) from None
        if response.status_code == 200:
            try:
                data = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("access_token"), str):
                token = token_from_answer(
                    data,
                    now=self._clock(),
                    audience=self.audience,
                    client_id=self.client_id,
                    previous_refresh=current.refresh_token,
                )
                # Store first: once Auth0 rotated, the old refresh token is dead for good.
                self._current = token
                self._store(token)
                self._set_state("ok", None)
                return token.access_token
            raise errors.AuthUnreachableError(
                f"the token endpoint {host} answered without an access token"
            )
        code, _ = oauth_error(response)
        if code in _LOGIN_AGAIN or response.status_code in (401, 403):
            # Keep the access token (it may still work a while) but never reuse this refresh
            # token: drop it from memory and from the store.
            spent = CachedToken(
                access_token=current.access_token,
                expires_at=current.expires_at,
                token_type=current.token_type,
                scope=current.scope,
                audience=current.audience,
                grant=current.grant,
                client_id=current.client_id,
                refresh_token=None,
            )
            self._current = spent
            self._store(spent)
            return await self._need_login(f"the refresh token was refused ({code or 'HTTP 403'})")
        if response.status_code == 429:
            raise errors.AuthThrottledError(f"the token endpoint {host} is throttling requests")
        raise errors.AuthUnreachableError(
            f"the token endpoint {host} failed to renew the login (HTTP {response.status_code})"
        )
