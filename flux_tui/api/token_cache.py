"""The on-disk token cache: one private JSON file per profile, replaced atomically.

Every machine-to-machine token Auth0 issues counts against the tenant's monthly quota, so a
token is kept on disk and reused across restarts. Folder 0700, file 0600, never half-written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from flux_tui.base.files import cache_folder, config_folder, safe_file_name, write_private

# Renew this long before expiry so a token never dies in the middle of a session (both grants).
EARLY_REFRESH = 300.0
# Auth0's documented default lifetime, used when an answer omits expires_in.
DEFAULT_LIFETIME = 86400.0
# Auth0 issues tokens for at most 30 days; a longer or non-finite lifetime is a broken or
# hostile answer (1e300 crashed `auth status` with OverflowError): it counts as one hour.
LONGEST_LIFETIME = 30 * 86400.0
ABSURD_LIFETIME_FALLBACK = 3600.0

log = logging.getLogger(__name__)
_warned = False


def token_lifetime(value: Any) -> float:
    """Seconds a token lives, from an answer's ``expires_in``: absent or unusable is
    :data:`DEFAULT_LIFETIME`; over :data:`LONGEST_LIFETIME` or not finite is one hour, with
    one warning a process."""
    global _warned
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DEFAULT_LIFETIME
    if isinstance(value, float) and math.isnan(value):
        value = math.inf
    if value > LONGEST_LIFETIME:
        if not _warned:
            _warned = True
            log.warning("the token endpoint gave an absurd lifetime (expires_in %.6g s): "
                        "taken as one hour", float(value))
        return ABSURD_LIFETIME_FALLBACK
    return float(value) if value > 0 else DEFAULT_LIFETIME


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A token as stored on disk. ``expires_at`` is a ``time.time()`` value."""

    access_token: str = field(repr=False)
    expires_at: float
    token_type: str = "Bearer"
    scope: str | None = None
    audience: str | None = None
    grant: str = "client_credentials"
    client_id: str | None = None  # not secret; tells a token of another client apart
    refresh_token: str | None = field(default=None, repr=False)

    def valid_for(self, now: float) -> float:
        """Seconds left before expiry (negative when expired)."""
        return self.expires_at - now

    def fresh(self, now: float) -> bool:
        """Usable without renewing: more than :data:`EARLY_REFRESH` seconds left."""
        return self.expires_at - now > EARLY_REFRESH

    def replaces(self, stale: str | None, now: float) -> bool:
        """Someone already renewed ``stale``: this token is another one, and fresh."""
        return stale is not None and self.access_token != stale and self.fresh(now)

    def belongs_to(self, grant: str, audience: str, client_id: str) -> bool:
        """Stored by a provider of this grant, audience and client (a profile edited to
        another client or audience must not reuse the old token)."""
        return (
            self.grant == grant
            and self.audience == audience
            and self.client_id in (None, client_id)
        )

    @classmethod
    def from_dict(cls, data: Any) -> CachedToken | None:
        """The token in ``data``, or None when ``data`` is not a well-formed token record."""
        if not isinstance(data, dict):
            return None
        token, expires = data.get("access_token"), data.get("expires_at")
        if not isinstance(token, str) or not token:
            return None
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return None
        if not math.isfinite(expires):
            return None
        # A stored expiry past any real lifetime (written before lifetimes were bounded, or
        # tampered with) is held to one hour from now: the token is renewed, nothing crashes.
        now = time.time()
        if expires > now + LONGEST_LIFETIME:
            expires = now + ABSURD_LIFETIME_FALLBACK
        optional = {}
        for key in ("scope", "audience", "client_id", "refresh_token"):
            value = data.get(key)
            optional[key] = value if isinstance(value, str) else None
        return cls(
            access_token=token,
            expires_at=float(expires),
            token_type=str(data.get("token_type") or "Bearer"),
            grant=str(data.get("grant") or "client_credentials"),
            **optional,
        )


class TokenCache:
    """The cached token of one profile: ``load()``, ``save(token)``, ``clear()``."""

    def __init__(self, profile: str, directory: Path | None = None) -> None:
        self.profile = profile
        if directory is None:
            directory = cache_folder("tokens")
        self.directory = Path(directory)
        self.path = self.directory / safe_file_name(profile)

    def __repr__(self) -> str:
        return f"TokenCache(profile={self.profile!r}, path={str(self.path)!r})"

    def load(self) -> CachedToken | None:
        """The stored token, or None when absent, unreadable or corrupt."""
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None
        try:
            return CachedToken.from_dict(orjson.loads(raw))
        except orjson.JSONDecodeError:
            return None  # a torn or hand-edited file: behave as if there were none

    def save(self, token: CachedToken) -> None:
        """Write ``token`` atomically: temp file in the same folder, fsync, rename."""
        data = orjson.dumps(asdict(token), option=orjson.OPT_INDENT_2)
        write_private(self.path, data)

    def clear(self) -> None:
        """Forget the stored token (no error when there is none)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def login_token_cache(profile: str, directory: Path | None = None) -> TokenCache:
    """Where ``flux-tui login`` keeps a profile's user tokens (access + refresh token).

    Kept apart from the client-credentials cache, in the per-user *config* folder: a refresh
    token is a credential a cache cleaner must not throw away, and a client-credentials fetch
    must never overwrite a person's login.
    """
    if directory is None:
        directory = config_folder("tokens")
    return TokenCache(profile, directory)


