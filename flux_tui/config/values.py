"""Profile keys, defaults, built-in profiles and the validation of every value.

A wrong value becomes a :class:`ConfigError` naming the file (or the environment), the
profile, the key (or its variable or option) and what is allowed.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flux_tui.api.budget import RateBudget
from flux_tui.base.errors import ConfigError

CONFIG_ENV = "FLUX_TUI_CONFIG"
SIM_BASE_URL = "sim://demo"

PRD_BASE_URL = "https://api.axil.ai/realtime"
PRD_ENTERPRISE_URL = "https://api.axil.ai/axil/enterprise-objects"
DEV_BASE_URL = "https://dev-api.axil.ai/realtime"
DEV_ENTERPRISE_URL = "https://dev-api.axil.ai/axil/enterprise-objects"
DEFAULT_TOKEN_URL = "https://axil.auth0.com/oauth/token"
DEFAULT_AUDIENCE = "https://api.axil.ai"
DEFAULT_RATE_LIMIT = "100/60s"  # the API's documented throttle for one client
DEFAULT_PAGE_LIMIT = 10_000  # a ceiling: pages this big only while behind
PAGE_LIMIT_RANGE = (1, 10000)  # the Kinesis GetRecords Limit bounds
STARTS = ("latest", "trim-horizon")
SECRET_COMMAND_TIMEOUT = 30.0
DEFAULT_ASSET_CACHE_TTL = 86400.0  # a day: asset names change rarely
DEFAULT_CALL_DEADLINE = 60.0  # seconds for one whole API answer, however slowly it arrives
CALL_DEADLINE_RANGE = (1.0, 3600.0)
SIM_DEVICE_CLIENT_ID = "flux-tui-cli"  # the public application the simulator's Auth0 knows
_TTL_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

#: Keys a ``[profiles.NAME]`` table may hold.
PROFILE_KEYS = (
    "base_url",
    "company",
    "token_url",
    "audience",
    "client_id",
    "client_secret",
    "client_secret_env",
    "client_secret_command",
    "enterprise_url",
    "rate_limit",
    "page_limit",
    "start",
    "simulator",
    "device_client_id",
    "asset_cache_ttl",
    "call_deadline",
)
SECRET_KEYS = ("client_secret", "client_secret_env", "client_secret_command")

#: Built-in profiles; a file's table of the same name is laid over them key by key.
BUILTIN_PROFILES: dict[str, dict[str, Any]] = {
    "prd": {"base_url": PRD_BASE_URL, "enterprise_url": PRD_ENTERPRISE_URL},
    "dev": {"base_url": DEV_BASE_URL, "enterprise_url": DEV_ENTERPRISE_URL},
    # The embedded simulator: its own built-in client, no credentials from the user; it
    # starts 2 minutes back so there is something to see at once (it holds 30 minutes).
    "demo": {
        "base_url": SIM_BASE_URL,
        "simulator": True,
        "company": "demo",
        "client_id": "flux-demo",
        "client_secret": "demo-secret",
        "start": "2m",
        "device_client_id": SIM_DEVICE_CLIENT_ID,
    },
}
DEFAULT_PROFILE = "prd"

#: Environment variable -> profile key. ``FLUX_PROFILE`` selects the profile itself.
ENV_KEYS: dict[str, str] = {
    "FLUX_BASE_URL": "base_url",
    "FLUX_COMPANY": "company",
    "FLUX_TOKEN_URL": "token_url",
    "FLUX_AUDIENCE": "audience",
    "FLUX_CLIENT_ID": "client_id",
    "FLUX_CLIENT_SECRET": "client_secret",
    "FLUX_ENTERPRISE_URL": "enterprise_url",
    "FLUX_RATE_LIMIT": "rate_limit",
    "FLUX_PAGE_LIMIT": "page_limit",
}
# A simulator profile has its own endpoints and client: a user's production credentials in
# the environment must not break `flux-tui demo`, so only these env keys reach it.
SIM_ENV_KEYS = frozenset({"rate_limit", "page_limit"})


_COMPANY_RE = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(value: str, *, allow_sim: bool) -> str:
    """Return the cleaned URL or raise ValueError saying what is allowed."""
    if allow_sim and value == SIM_BASE_URL:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        extra = f" or {SIM_BASE_URL!r}" if allow_sim else ""
        raise ValueError(f"{value!r} is not a URL: expected https://host/path{extra}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(
            f"{value!r} uses http://, which is only allowed for a loopback host "
            "(localhost, 127.0.0.0/8, ::1): use https://"
        )
    return value.rstrip("/")


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate(
    raw: Mapping[str, Any], *, file: str | None, profile: str, origin: str = "file"
) -> dict[str, Any]:
    """Check and normalise a table of profile values; ``origin`` decides how keys are named."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        label = key_label(key, origin)

        def fail(message: str, _label: str = label) -> ConfigError:
            return ConfigError(message, file=file, profile=profile, key=_label)

        if key not in PROFILE_KEYS:
            raise fail(
                f"unknown key{suggest(key, PROFILE_KEYS)}; allowed keys: " + ", ".join(PROFILE_KEYS)
            )
        if key == "simulator":
            if not isinstance(value, bool):
                raise fail(f"must be true or false, not {value!r}")
            out[key] = value
            continue
        checker = _NUMBER_CHECKS.get(key)
        if checker is not None:
            out[key] = checker(value, fail)
            continue
        if not isinstance(value, str):
            # A secret's value is never shown, whatever its type (a number is still a secret).
            shown = "" if key in SECRET_KEYS else f" {value!r}"
            raise fail(f"must be a string, not {type(value).__name__}{shown}")
        value = value.strip()
        if key in ("base_url", "token_url", "enterprise_url"):
            try:
                value = _check_url(value, allow_sim=key == "base_url")
            except ValueError as exc:
                raise fail(str(exc)) from None
        elif key == "company":
            value = value.lower()  # the API names companies in lower case
            if not _COMPANY_RE.match(value):
                raise fail(
                    f"{value!r} is not a company name: allowed are letters, digits, "
                    "'.', '_' and '-'"
                )
        elif key == "rate_limit":
            try:
                RateBudget.parse(value)
            except ValueError as exc:
                raise fail(str(exc)) from None
        elif key == "start":
            _check_start(value, fail)
        elif (
            key
            in (
                "client_id",
                "client_secret",
                "client_secret_env",
                "client_secret_command",
                "audience",
                "device_client_id",
            )
            and not value
        ):
            raise fail("must not be empty")
        out[key] = value
    _check_one_secret(out, file=file, profile=profile)
    return out


def key_label(key: str, origin: str) -> str:
    """How a key is named to the user: its environment variable, its option, or itself."""
    if origin == "env":
        return next((name for name, k in ENV_KEYS.items() if k == key), key)
    if origin == "option":
        return "--" + key.replace("_", "-")
    return key


def _check_one_secret(out: Mapping[str, Any], *, file: str | None, profile: str) -> None:
    secrets = [k for k in SECRET_KEYS if k in out]
    if len(secrets) > 1:
        raise ConfigError(
            "set only one of " + ", ".join(SECRET_KEYS) + f" (found {secrets})",
            file=file,
            profile=profile,
            key=secrets[1],
        )


def _check_ttl(value: Any, fail: Any) -> float:
    """Seconds, from a number or text such as ``"90s"``, ``"30m"``, ``"12h"``, ``"1d"``."""
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        unit = _TTL_UNITS.get(text[-1:], None) if text else None
        number = text[:-1] if unit is not None else text
        try:
            seconds = float(number) * (unit or 1.0)
        except ValueError:
            seconds = None
    if seconds is None or not 0 <= seconds <= 365 * 86400:
        raise fail(
            f"{value!r} is not allowed: seconds, or a number with s, m, h or d "
            '(e.g. "12h"), up to 365 days'
        )
    return seconds


def _check_deadline(value: Any, fail: Any) -> float:
    low, high = CALL_DEADLINE_RANGE
    seconds = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, str):
        try:
            seconds = float(value.strip().removesuffix("s"))
        except ValueError:
            seconds = None
    if seconds is None or not low <= seconds <= high:  # also false for nan
        raise fail(f"{value!r} is not allowed: seconds from {low:g} to {high:g}")
    return float(seconds)


def _check_start(value: Any, fail: Any) -> None:
    """``start``: any ``--from`` form (latest, trim-horizon, a time, a duration back)."""
    if value in STARTS:
        return
    from flux_tui.feed.start import FORMS, StartFormError, parse_start

    try:
        parse_start(str(value))
    except StartFormError as exc:
        hint = suggest(str(value), STARTS)
        raise fail(f"{value!r} is not allowed{hint}; use {FORMS}" if hint else str(exc)) from None


def _check_page_limit(value: Any, fail: Any) -> int:
    low, high = PAGE_LIMIT_RANGE
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(f"{value!r} is not allowed: a whole number from {low} to {high}")
    return value


_NUMBER_CHECKS: dict[str, Any] = {
    "page_limit": _check_page_limit,
    "asset_cache_ttl": _check_ttl,
    "call_deadline": _check_deadline,
}


# --- the file -----------------------------------------------------------------------------
