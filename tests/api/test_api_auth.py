"""Auth0 client-credentials tokens: caching across restarts, early refresh, single flight, errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from flux_tui.api import errors
from flux_tui.api.auth import (
    ClientCredentialsProvider,
    StaticTokenProvider,
    TokenProvider,
)
from flux_tui.api.token_cache import CachedToken, TokenCache

TOKEN_URL = "https://tenant.auth0.test/oauth/token"
AUDIENCE = "https://api.axil.ai"
SECRET = "s3cr3t-VALUE-never-shown"


class Auth0:
    """A scripted token endpoint that counts the tokens it issued."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.issued = 0
        self.bodies: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        if self.gate is not None:
            await self.gate.wait()
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        self.issued += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"tok-{self.issued}",
                "token_type": "Bearer",
                "expires_in": 86400,
            },
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def provider(
    auth0: Auth0, clock: Clock, cache: TokenCache | None = None, **kw: Any
) -> ClientCredentialsProvider:
    http = httpx.AsyncClient(transport=httpx.MockTransport(auth0))
    return ClientCredentialsProvider(
        TOKEN_URL, AUDIENCE, "my-client", SECRET, http=http, cache=cache, clock=clock, **kw
    )


async def test_posts_the_client_credentials_grant_and_exposes_expiry(tmp_path: Path) -> None:
    auth0, clock = Auth0(), Clock()
    p = provider(auth0, clock)
    assert isinstance(p, TokenProvider) and p.expires_at is None
    assert await p.token() == "tok-1"
    assert auth0.bodies == [
        {
            "client_id": "my-client",
            "client_secret": SECRET,
            "audience": AUDIENCE,
            "grant_type": "client_credentials",
        }
    ]
    assert p.expires_at == clock.now + 86400
    assert await p.token() == "tok-1" and auth0.issued == 1


async def test_a_restart_reuses_the_cached_token(tmp_path: Path) -> None:
    auth0, clock = Auth0(), Clock()
    assert await provider(auth0, clock, TokenCache("prd", tmp_path)).token() == "tok-1"
    clock.now += 3600
    again = provider(auth0, clock, TokenCache("prd", tmp_path))
    assert await again.token() == "tok-1" and auth0.issued == 1
    assert again.expires_at == clock.now - 3600 + 86400
    # Another profile has its own file.
    assert await provider(auth0, clock, TokenCache("dev", tmp_path)).token() == "tok-2"


async def test_a_cached_token_of_another_audience_or_client_is_not_reused(tmp_path: Path) -> None:
    cache = TokenCache("prd", tmp_path)
    far = Clock().now + 80000
    cache.save(CachedToken("other-aud", far, audience="https://elsewhere", client_id="my-client"))
    auth0 = Auth0()
    assert await provider(auth0, Clock(), cache).token() == "tok-1"
    cache.save(CachedToken("other-client", far, audience=AUDIENCE, client_id="someone-else"))
    assert await provider(auth0, Clock(), cache).token() == "tok-2"


async def test_refreshes_five_minutes_before_expiry(tmp_path: Path) -> None:
    auth0, clock = Auth0(), Clock()
    p = provider(auth0, clock, TokenCache("prd", tmp_path))
    await p.token()
    clock.now += 86400 - 301
    assert await p.token() == "tok-1"
    clock.now += 2  # now 299 s before expiry
    assert await p.token() == "tok-2"
    # A restart close to expiry does not reuse the cached (about to expire) token either.
    clock.now += 86400 - 200
    assert await provider(auth0, clock, TokenCache("prd", tmp_path)).token() == "tok-3"


async def test_concurrent_callers_share_one_fetch() -> None:
    auth0, clock = Auth0(), Clock()
    auth0.gate = asyncio.Event()
    p = provider(auth0, clock)
    tasks = [asyncio.create_task(p.token()) for _ in range(10)]
    await asyncio.sleep(0)
    auth0.gate.set()
    assert set(await asyncio.gather(*tasks)) == {"tok-1"} and len(auth0.bodies) == 1


async def test_refresh_with_a_stale_token_fetches_once_for_everyone() -> None:
    auth0, clock = Auth0(), Clock()
    p = provider(auth0, clock)
    stale = await p.token()
    auth0.gate = asyncio.Event()
    tasks = [asyncio.create_task(p.refresh(stale)) for _ in range(5)]
    await asyncio.sleep(0)
    auth0.gate.set()
    assert set(await asyncio.gather(*tasks)) == {"tok-2"} and auth0.issued == 2
    # refresh(None) always asks for a new token.
    assert await p.refresh() == "tok-3"


async def test_refresh_picks_up_a_token_another_process_cached(tmp_path: Path) -> None:
    auth0, clock = Auth0(), Clock()
    a = provider(auth0, clock, TokenCache("prd", tmp_path))
    b = provider(auth0, clock, TokenCache("prd", tmp_path))
    stale = await a.token()
    assert await b.token() == stale
    assert await a.refresh(stale) == "tok-2"
    assert await b.refresh(stale) == "tok-2" and auth0.issued == 2


@pytest.mark.parametrize(
    ("answer", "cls", "words"),
    [
        (
            httpx.Response(
                401, json={"error": "access_denied", "error_description": "Unauthorized"}
            ),
            errors.InvalidClientError,
            ["wrong client id or secret for", TOKEN_URL],
        ),
        (
            httpx.Response(
                403,
                json={
                    "error": "access_denied",
                    "error_description": 'Client is not authorized to access "https://api.axil.ai".',
                },
            ),
            errors.MissingGrantError,
            ["audience", AUDIENCE, "grant"],
        ),
        (
            httpx.Response(
                429,
                json={"error": "too_many_requests"},
                headers={
                    "x-ratelimit-limit": "10",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": "1700000100",
                },
            ),
            errors.AuthThrottledError,
            ["throttling", "try again after"],
        ),
        (
            httpx.ConnectError("Name or service not known"),
            errors.AuthUnreachableError,
            ["cannot reach", "tenant.auth0.test"],
        ),
        (httpx.ConnectTimeout("timed out"), errors.AuthUnreachableError, ["ConnectTimeout"]),
        (
            httpx.Response(502, content=b"<html>Bad Gateway</html>"),
            errors.AuthUnreachableError,
            ["not JSON", "Bad Gateway"],
        ),
        (
            httpx.Response(503, json={"error": "temporarily_unavailable"}),
            errors.AuthUnreachableError,
            ["503"],
        ),
        (
            httpx.Response(200, json={"token_type": "Bearer"}),
            errors.AuthUnreachableError,
            ["without an access token"],
        ),
        (
            httpx.Response(
                400, json={"error": "invalid_request", "error_description": "bad audience"}
            ),
            errors.AuthError,
            ["invalid_request", "bad audience"],
        ),
        # A proxy that echoes the request must not leak the secret through our message.
        (
            httpx.Response(500, content=f"echo client_secret={SECRET}".encode()),
            errors.AuthUnreachableError,
            ["***"],
        ),
    ],
)
async def test_auth0_answers_become_plain_messages_without_the_secret(
    answer: httpx.Response | Exception,
    cls: type[errors.AuthError],
    words: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    p = provider(Auth0(answer), Clock())
    with pytest.raises(cls) as info:
        await p.token()
    text = str(info.value)
    for word in words:
        assert word in text
    assert SECRET not in text and SECRET not in repr(info.value)
    assert SECRET not in caplog.text
    assert info.value.__cause__ is None or SECRET not in str(info.value.__cause__)
    if isinstance(info.value, errors.AuthThrottledError):
        assert info.value.reset_at == 1700000100.0


def test_reprs_never_show_secrets(tmp_path: Path) -> None:
    p = provider(Auth0(), Clock(), TokenCache("prd", tmp_path))
    assert SECRET not in repr(p) and "***" in repr(p)
    token = CachedToken("tok-secret", 1.0, refresh_token="rt-secret")
    assert "tok-secret" not in repr(token) and "rt-secret" not in repr(token)
    assert "xyzzy" not in repr(StaticTokenProvider("xyzzy"))


async def test_static_provider() -> None:
    s = StaticTokenProvider("abc", expires_at=5.0)
    assert isinstance(s, TokenProvider)
    assert await s.token() == await s.refresh("abc") == "abc" and s.expires_at == 5.0


# --- the cache file ---------------------------------------------------------------------------


def test_cache_file_and_folder_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        cache = TokenCache("prd", tmp_path / "tokens")
        cache.save(CachedToken("tok", 123.0, audience=AUDIENCE))
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    loaded = cache.load()
    assert loaded == CachedToken("tok", 123.0, audience=AUDIENCE)
    cache.clear()
    assert cache.load() is None
    cache.clear()  # clearing twice is fine


def test_write_is_atomic_and_leaves_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = TokenCache("prd", tmp_path)
    cache.save(CachedToken("old", 1.0))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        cache.save(CachedToken("new", 2.0))
    monkeypatch.undo()
    # The old file is intact and the temporary file was removed.
    assert cache.load() == CachedToken("old", 1.0)
    assert [p.name for p in tmp_path.iterdir()] == [cache.path.name]


async def test_a_cache_write_failure_still_gives_a_token(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    p = provider(Auth0(), Clock(), TokenCache("prd", blocker / "tokens"))
    assert await p.token() == "tok-1"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"[]",
        b'{"access_token": 5, "expires_at": 1}',
        b'{"access_token": "t"}',
        b'{"access_token": "t", "expires_at": true}',
        b"\xff\xfe",
    ],
)
async def test_a_corrupt_cache_is_ignored(tmp_path: Path, content: bytes) -> None:
    cache = TokenCache("prd", tmp_path)
    tmp_path.mkdir(exist_ok=True)
    cache.path.write_bytes(content)
    assert cache.load() is None
    auth0 = Auth0()
    assert await provider(auth0, Clock(), cache).token() == "tok-1"
    assert cache.load() is not None  # replaced by a good one


def test_profile_names_become_safe_distinct_file_names(tmp_path: Path) -> None:
    names = ["prd", "../../etc/passwd", "a/b", "a_b", ".hidden", "", "ünï"]
    paths = [TokenCache(n, tmp_path).path for n in names]
    assert len(set(paths)) == len(names)
    assert all(p.parent == tmp_path and not p.name.startswith(".") for p in paths)
    assert paths[0].name == "prd.json"


def test_default_folder_is_the_user_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = TokenCache("prd")
    assert cache.directory == tmp_path / "flux-tui" / "tokens"


def test_both_grants_share_one_freshness_and_ownership_rule() -> None:
    from flux_tui.api import auth, user_auth
    from flux_tui.api.token_cache import EARLY_REFRESH, CachedToken

    assert not hasattr(user_auth, "EARLY_REFRESH") and auth.EARLY_REFRESH == EARLY_REFRESH
    tok = CachedToken("new", expires_at=1000.0, audience="aud", grant="device_code", client_id="c")
    assert tok.fresh(1000.0 - EARLY_REFRESH - 1) and not tok.fresh(1000.0 - EARLY_REFRESH)
    assert tok.replaces("old", 0.0) and not tok.replaces("new", 0.0)
    assert not tok.replaces(None, 0.0) and not tok.replaces("old", 900.0)
    assert tok.belongs_to("device_code", "aud", "c")
    assert not tok.belongs_to("client_credentials", "aud", "c")
    assert not tok.belongs_to("device_code", "other", "c")
    assert not tok.belongs_to("device_code", "aud", "other-client")


@pytest.mark.parametrize(
    "reset", ["nan", "inf", "-inf", "1e300", "\u0661\u0667\u0660\u0660", "99999999999999999", "-5"]
)
async def test_a_nonsense_ratelimit_reset_still_gives_a_plain_message(reset: str) -> None:
    # float() takes all of these; time.localtime() then raised from inside the message
    header = {b"x-ratelimit-reset": reset.encode()}  # bytes: as a server may send them
    answer = httpx.Response(429, json={"error": "too_many_requests"}, headers=header)
    p = provider(Auth0(answer), Clock())
    with pytest.raises(errors.AuthThrottledError) as info:
        await p.token()
    assert "throttling" in str(info.value) and "try again after" not in str(info.value)
    assert info.value.reset_at is None


async def test_retry_after_seconds_and_dates_still_give_the_reset_time() -> None:
    for header in ({"retry-after": "30"}, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}):
        p = provider(Auth0(httpx.Response(429, json={}, headers=header)), Clock())
        with pytest.raises(errors.AuthThrottledError) as info:
            await p.token()
        assert info.value.reset_at is not None and "try again after" in str(info.value)
