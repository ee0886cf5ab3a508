"""``flux-tui auth status`` and ``flux-tui logout``: what tokens a profile holds, and forgetting
them. Status shows grant, audience, scopes and expiry; never a secret or a token.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from flux_tui.api.token_cache import CachedToken, TokenCache, login_token_cache
from flux_tui.base.errors import ConfigError
from flux_tui.cli.output import EXIT_AUTH, EXIT_OK, local_time
from flux_tui.config import Profile
from flux_tui.data.terminal import terminal_safe


def add_parsers(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``logout`` and ``auth status``."""
    logout = commands.add_parser(
        "logout",
        parents=parents,
        help="forget the profile's stored tokens (login and client credentials)",
        description="Forget the profile's tokens on this machine: the login of "
        "`flux-tui login` and the cached client-credentials token.",
    )
    logout.set_defaults(run=run_logout, needs_profile=True)
    auth = commands.add_parser(
        "auth",
        parents=parents,
        help="show how the profile authenticates (never a secret or a token)",
        description="Show the profile's authentication: grant, audience, scopes, expiry.",
    )
    actions = auth.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser(
        "status", parents=parents, help="grant type, audience, scopes and expiry"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    auth.set_defaults(run=run_auth_status, needs_profile=True)


def run_logout(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui logout``."""
    forgot = []
    for label, cache in (
        ("the login tokens", login_token_cache(profile.name)),
        ("the cached client-credentials token", TokenCache(profile.name)),
    ):
        if cache.path.exists():
            cache.clear()
            forgot.append(label)
    if forgot:
        print(f"Logged out of profile {profile.name!r}: forgot {' and '.join(forgot)}.")
    else:
        print(f"Nothing stored for profile {profile.name!r}: already logged out.")
    return EXIT_OK


def status_of(profile: Profile, now: float | None = None) -> dict[str, Any]:
    """The profile's authentication as a dict (no secret, no token): what ``auth status``
    prints and what a status bar or dialog may show."""
    from flux_tui.api.user_auth import DEVICE_GRANT  # the API layer (httpx): only when asked
    from flux_tui.connect import choose_grant

    now = time.time() if now is None else now
    login = login_token_cache(profile.name)
    stored = login.load()
    if stored is not None and (stored.grant != DEVICE_GRANT or stored.audience != profile.audience):
        stored = None
    cc_cache = TokenCache(profile.name)
    cached_cc = cc_cache.load()
    try:
        in_use: str | None = choose_grant(profile)
        problem = None
    except ConfigError as exc:
        in_use, problem = None, exc.message
    info: dict[str, Any] = {
        "profile": profile.name,
        "grant": in_use,
        "audience": profile.audience,
        "simulator": profile.simulator,
        "problem": problem,
        "login": None,
        "client_credentials": None,
    }
    if stored is not None:
        info["login"] = {
            "client_id": stored.client_id,
            **_token_facts(stored, now),
            "refresh_token": "stored" if stored.refresh_token else "none",
            "in_use": in_use == "device_code",
            "store": str(login.path),
        }
    if profile.has_secret or in_use == "client_credentials":
        cached = (
            cached_cc if cached_cc is not None and cached_cc.audience == profile.audience else None
        )
        info["client_credentials"] = {
            "client_id": profile.client_id,
            "client_secret": "set" if profile.has_secret else "missing",
            "in_use": in_use == "client_credentials",
            "token": _token_facts(cached, now) if cached is not None else None,
            "store": str(cc_cache.path) if cached is not None else None,
        }
    return info


def _token_facts(token: CachedToken, now: float) -> dict[str, Any]:
    return {
        "scopes": token.scope.split() if token.scope else [],
        "expires_at": token.expires_at,
        "expires_in": round(token.expires_at - now),
    }


def _when(facts: dict[str, Any]) -> str:
    left = int(facts["expires_in"])
    at = local_time(facts["expires_at"], "%Y-%m-%d %H:%M:%S")
    span = abs(left)
    text = f"{span // 3600}h{span % 3600 // 60:02d}m" if span >= 60 else f"{span}s"
    return f"{at} (in {text})" if left > 0 else f"{at} (expired {text} ago)"


def status_text(info: dict[str, Any]) -> str:
    """The human report of :func:`status_of`."""
    grant = {
        "device_code": "device_code (a person's login from `flux-tui login`)",
        "client_credentials": "client_credentials (client id and secret)",
        None: "none: not logged in and no client secret",
    }[info["grant"]]
    lines = [
        f"profile    {info['profile']}",
        f"grant      {grant}",
        f"audience   {info['audience']}",
    ]
    login = info["login"]
    if login is not None:
        lines.append("login" + ("" if login["in_use"] else " (stored, not used by the feed)"))
        lines.append(f"  client   {login['client_id'] or '?'}")
        lines.append(f"  scopes   {' '.join(login['scopes']) or '(none granted)'}")
        lines.append(f"  expires  {_when(login)}")
        lines.append(
            "  renewal  "
            + (
                "refresh token stored: renews automatically"
                if login["refresh_token"] == "stored"
                else "no refresh token: run `flux-tui login` when it expires"
            )
        )
        lines.append(f"  stored   {login['store']}")
        if info["simulator"]:
            lines.append(
                "  note     the embedded simulator lives inside one command: the demo feed "
                "uses its built-in client"
            )
    cc = info["client_credentials"]
    if cc is not None:
        lines.append("client credentials" + ("" if cc["in_use"] else " (not used by the feed)"))
        lines.append(f"  client   {cc['client_id'] or '(no client_id)'}")
        lines.append(f"  secret   {cc['client_secret']}")
        token = cc["token"]
        if token is None:
            lines.append("  token    none cached (one is fetched on first use)")
        else:
            lines.append(f"  scopes   {' '.join(token['scopes']) or '(none granted)'}")
            lines.append(f"  expires  {_when(token)}")
            lines.append(f"  stored   {cc['store']}")
    if info["problem"]:
        lines.append(f"problem    {info['problem']}")
    return "\n".join(lines)


def run_auth_status(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui auth status``: exit 0 when the profile can get a token, 3 when a login
    (or a secret) is needed."""
    info = status_of(profile)
    if getattr(args, "json", False):
        json.dump(info, sys.stdout, indent=2)
        print()
    else:
        print(terminal_safe(status_text(info), newlines=True))  # scopes come from the server
    return EXIT_OK if info["grant"] is not None else EXIT_AUTH
