"""Profiles: where flux-tui finds the Flux API, the company and the credentials.

Owns the TOML config file (location, parsing, validation, the starter file and the one
setting the UI writes back), the built-in profiles and the precedence
``built-in < file < environment < command line``. Every wrong value becomes a
:class:`~flux_tui.api.errors.ConfigError` that names the file, the profile and the key.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import tomli_w

from flux_tui.api.budget import RateBudget
from flux_tui.api.errors import ConfigError

APP_NAME = "flux-tui"
CONFIG_ENV = "FLUX_TUI_CONFIG"
SIM_BASE_URL = "sim://demo"

PRD_BASE_URL = "https://api.axil.ai/realtime"
PRD_ENTERPRISE_URL = "https://api.axil.ai/axil/enterprise-objects"
DEV_BASE_URL = "https://dev-api.axil.ai/realtime"
DEV_ENTERPRISE_URL = "https://dev-api.axil.ai/axil/enterprise-objects"
DEFAULT_TOKEN_URL = "https://axil.auth0.com/oauth/token"
DEFAULT_AUDIENCE = "https://api.axil.ai"
DEFAULT_RATE_LIMIT = "100/60s"  # the API's documented throttle for one client
DEFAULT_PAGE_LIMIT = 1000
PAGE_LIMIT_RANGE = (1, 10000)  # the Kinesis GetRecords Limit bounds
STARTS = ("latest", "trim-horizon")
SECRET_COMMAND_TIMEOUT = 30.0

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
)
_SECRET_KEYS = ("client_secret", "client_secret_env", "client_secret_command")

#: Built-in profiles; a file's table of the same name is laid over them key by key.
BUILTIN_PROFILES: dict[str, dict[str, Any]] = {
    "prd": {"base_url": PRD_BASE_URL, "enterprise_url": PRD_ENTERPRISE_URL},
    "dev": {"base_url": DEV_BASE_URL, "enterprise_url": DEV_ENTERPRISE_URL},
    # The embedded simulator: its own built-in client, no credentials from the user; it
    # starts at the backlog so there is something to see at once.
    "demo": {
        "base_url": SIM_BASE_URL,
        "simulator": True,
        "company": "demo",
        "client_id": "flux-demo",
        "client_secret": "demo-secret",
        "start": "trim-horizon",
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
    "FLUX_RATE_LIMIT": "rate_limit",
    "FLUX_PAGE_LIMIT": "page_limit",
}
# A simulator profile has its own endpoints and client: a user's production credentials in
# the environment must not break `flux-tui demo`, so only these env keys reach it.
_SIM_ENV_KEYS = frozenset({"rate_limit", "page_limit"})


def default_config_path() -> Path:
    """The per-user config file (``platformdirs`` config folder of ``flux-tui``)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def config_path(explicit: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Path:
    """The config file in force: ``--config``, else ``$FLUX_TUI_CONFIG``, else the default."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return default_config_path()


@dataclass(frozen=True)
class Profile:
    """One resolved profile: everything needed to open the feed. The secret is never shown."""

    name: str
    base_url: str = PRD_BASE_URL
    company: str | None = None
    token_url: str = DEFAULT_TOKEN_URL
    audience: str = DEFAULT_AUDIENCE
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_secret_env: str | None = None
    client_secret_command: str | None = None
    enterprise_url: str | None = None
    rate_limit: str = DEFAULT_RATE_LIMIT
    page_limit: int = DEFAULT_PAGE_LIMIT
    start: str = "latest"
    simulator: bool = False
    source: str | None = None  # the config file the profile was read from, for messages

    def error(self, message: str, key: str | None = None) -> ConfigError:
        """A :class:`ConfigError` about this profile."""
        return ConfigError(message, file=self.source, profile=self.name, key=key)

    def stream_url(self) -> str:
        """The Realtime URL of this company's stream: ``{base_url}/{company}``."""
        return f"{self.base_url.rstrip('/')}/{self.require_company()}"

    def require_company(self) -> str:
        """The company, or a ConfigError saying it must be set."""
        if not self.company:
            raise self.error("no company set: add company = \"yourcompany\" or set FLUX_COMPANY",
                             "company")
        return self.company

    def resolve_secret(self) -> str:
        """The client secret, read from the literal value, the environment or a command.

        Raises ConfigError when none is configured or the source fails; a failing command's
        output is never shown (it may hold the secret).
        """
        if self.client_secret:
            return self.client_secret
        if self.client_secret_env:
            value = os.environ.get(self.client_secret_env, "")
            if not value:
                raise self.error(f"environment variable {self.client_secret_env} is not set "
                                 "or empty", "client_secret_env")
            return value
        if self.client_secret_command:
            return _run_secret_command(self)
        raise self.error("no client secret: set one of client_secret, client_secret_env, "
                         "client_secret_command (or FLUX_CLIENT_SECRET)", "client_secret")

    def require_credentials(self) -> tuple[str, str]:
        """``(client_id, client_secret)``, or a ConfigError naming what is missing."""
        self.require_company()
        if not self.client_id:
            raise self.error("no client_id set (or set FLUX_CLIENT_ID)", "client_id")
        return self.client_id, self.resolve_secret()

    def with_overrides(self, **values: Any) -> Profile:
        """A copy with command-line values laid on top (validated like the file's)."""
        merged = {k: v for k, v in values.items() if v is not None}
        if not merged:
            return self
        checked = _validate(merged, file=None, profile=self.name, origin="option")
        if checked.get("client_secret") is not None:
            checked.setdefault("client_secret_env", None)
            checked.setdefault("client_secret_command", None)
        return replace(self, **checked)

    def masked(self) -> dict[str, Any]:
        """The profile as a TOML-ready table with the literal secret shown as ``***``."""
        table: dict[str, Any] = {}
        for key in PROFILE_KEYS:
            value = getattr(self, key)
            if key == "client_secret" and value:
                value = "***"
            if value is None or (key == "simulator" and not value):
                continue
            if self.simulator and key in ("token_url", "audience", "enterprise_url"):
                continue  # the simulator serves its own endpoints: these are not used
            table[key] = value
        return table


def _run_secret_command(profile: Profile) -> str:
    command = profile.client_secret_command or ""
    try:
        done = subprocess.run(command, shell=True, capture_output=True, text=True,  # noqa: S602
                              timeout=SECRET_COMMAND_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise profile.error(f"the command failed to run ({type(exc).__name__})",
                            "client_secret_command") from None
    if done.returncode != 0:
        raise profile.error(f"the command exited with status {done.returncode} "
                            "(its output is not shown)", "client_secret_command")
    secret = done.stdout.strip()
    if not secret:
        raise profile.error("the command printed nothing", "client_secret_command")
    return secret


# --- validation ---------------------------------------------------------------------------

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
        raise ValueError(f"{value!r} uses http://, which is only allowed for a loopback host "
                         "(localhost, 127.0.0.0/8, ::1): use https://")
    return value.rstrip("/")


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _validate(raw: Mapping[str, Any], *, file: str | None, profile: str,
              origin: str = "file") -> dict[str, Any]:
    """Check and normalise a table of profile values; ``origin`` decides how keys are named."""
    out: dict[str, Any] = {}
    env_names = {v: k for k, v in ENV_KEYS.items()}
    for key, value in raw.items():
        if origin == "env":
            label = env_names.get(key, key)
        elif origin == "option":
            label = "--" + key.replace("_", "-")
        else:
            label = key

        def fail(message: str, _label: str = label) -> ConfigError:
            return ConfigError(message, file=file, profile=profile, key=_label)

        if key not in PROFILE_KEYS:
            raise fail(f"unknown key{_suggest(key, PROFILE_KEYS)}; allowed keys: "
                       + ", ".join(PROFILE_KEYS))
        if key == "simulator":
            if not isinstance(value, bool):
                raise fail(f"must be true or false, not {value!r}")
            out[key] = value
            continue
        if key == "page_limit":
            out[key] = _check_page_limit(value, fail)
            continue
        if not isinstance(value, str):
            raise fail(f"must be a string, not {type(value).__name__} {value!r}")
        value = value.strip()
        if key in ("base_url", "token_url", "enterprise_url"):
            try:
                value = _check_url(value, allow_sim=key == "base_url")
            except ValueError as exc:
                raise fail(str(exc)) from None
        elif key == "company":
            value = value.lower()  # the API names companies in lower case
            if not _COMPANY_RE.match(value):
                raise fail(f"{value!r} is not a company name: allowed are letters, digits, "
                           "'.', '_' and '-'")
        elif key == "rate_limit":
            try:
                RateBudget.parse(value)
            except ValueError as exc:
                raise fail(str(exc)) from None
        elif key == "start":
            if value not in STARTS:
                raise fail(f"{value!r} is not allowed{_suggest(value, STARTS)}; allowed: "
                           + " or ".join(STARTS))
        elif key in ("client_id", "client_secret", "client_secret_env", "client_secret_command",
                     "audience") and not value:
            raise fail("must not be empty")
        out[key] = value
    secrets = [k for k in _SECRET_KEYS if k in out]
    if len(secrets) > 1:
        raise ConfigError("set only one of " + ", ".join(_SECRET_KEYS) + f" (found {secrets})",
                          file=file, profile=profile, key=secrets[1])
    return out


def _check_page_limit(value: Any, fail: Any) -> int:
    low, high = PAGE_LIMIT_RANGE
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(f"{value!r} is not allowed: a whole number from {low} to {high}")
    return value


# --- the file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """A loaded config file (or none) and the environment, ready to resolve profiles."""

    path: Path
    exists: bool
    data: dict[str, Any]  # the whole document as read: unknown tables are kept
    env: Mapping[str, str]

    @property
    def profiles_table(self) -> dict[str, Any]:
        return dict(self.data.get("profiles", {}))

    @property
    def ui(self) -> dict[str, Any]:
        """The ``[ui]`` table (theme, low_bandwidth, keys…), read by the UI."""
        return dict(self.data.get("ui", {}))

    @property
    def default_profile(self) -> str:
        """The profile used when none is named: ``default_profile`` in the file, else prd."""
        return str(self.data.get("default_profile") or DEFAULT_PROFILE)

    def profile_names(self) -> list[str]:
        """Built-in profiles first, then the file's own."""
        names = list(BUILTIN_PROFILES)
        names += [n for n in self.profiles_table if n not in BUILTIN_PROFILES]
        return names

    def selected_name(self, name: str | None = None) -> str:
        """The profile to use: the argument, else ``$FLUX_PROFILE``, else the default."""
        return name or self.env.get("FLUX_PROFILE") or self.default_profile

    def profile(self, name: str | None = None) -> Profile:
        """Resolve a profile: built-in values, then the file's table, then the environment."""
        name = self.selected_name(name)
        file = str(self.path) if self.exists else None
        tables = self.profiles_table
        if name not in tables and name not in BUILTIN_PROFILES:
            known = self.profile_names()
            raise ConfigError(f"no profile named {name!r}{_suggest(name, known)}; known "
                              f"profiles: {', '.join(known)}", file=file, profile=name)
        values: dict[str, Any] = {
            "base_url": PRD_BASE_URL,
            "enterprise_url": PRD_ENTERPRISE_URL,
            "token_url": DEFAULT_TOKEN_URL,
            "audience": DEFAULT_AUDIENCE,
        }
        values.update(BUILTIN_PROFILES.get(name, {}))
        from_file = _validate(tables.get(name, {}), file=file, profile=name)
        if any(k in from_file for k in _SECRET_KEYS):
            for key in _SECRET_KEYS:  # the file's choice of secret source replaces a built-in
                values.pop(key, None)
        values.update(from_file)
        if from_file.get("base_url") not in (None, SIM_BASE_URL) and "simulator" not in from_file:
            values["simulator"] = False
        simulator = bool(values.get("simulator")) or values["base_url"] == SIM_BASE_URL
        env_raw = {key: self.env[var] for var, key in ENV_KEYS.items() if self.env.get(var)}
        if simulator:
            env_raw = {k: v for k, v in env_raw.items() if k in _SIM_ENV_KEYS}
        from_env = _validate(env_raw, file="environment", profile=name, origin="env")
        if "client_secret" in from_env:
            values.pop("client_secret_env", None)
            values.pop("client_secret_command", None)
        values.update(from_env)
        values["simulator"] = simulator or values["base_url"] == SIM_BASE_URL
        return Profile(name=name, source=file, **values)


def _profiles_shape(data: dict[str, Any], file: str) -> None:
    """Check the document's shape (not the values: those are checked per profile)."""
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError("'profiles' must be a table of [profiles.NAME] tables", file=file,
                          key="profiles")
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(f"[profiles.{name}] must be a table", file=file, profile=name)
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigError("must be a profile name (a string)", file=file, key="default_profile")
    if "ui" in data and not isinstance(data["ui"], dict):
        raise ConfigError("must be a table: [ui]", file=file, key="ui")


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error names the file and the line."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from None


def load_config(path: str | os.PathLike[str] | None = None, *,
                env: Mapping[str, str] | None = None) -> Config:
    """Load the config file in force (a missing default file is fine: built-ins remain).

    A file named explicitly (``--config`` or ``$FLUX_TUI_CONFIG``) must exist.
    """
    env = dict(os.environ if env is None else env)
    resolved = config_path(path, env)
    explicit = bool(path) or bool(env.get(CONFIG_ENV))
    if not resolved.exists():
        if explicit:
            raise ConfigError("the config file does not exist (create it with "
                              "`flux-tui config init`)", file=str(resolved))
        return Config(path=resolved, exists=False, data={}, env=env)
    data = read_toml(resolved)
    _profiles_shape(data, str(resolved))
    config = Config(path=resolved, exists=True, data=data, env=env)
    # Validate every profile of the file up front so a mistake shows even in another profile.
    for name, table in config.profiles_table.items():
        _validate(table, file=str(resolved), profile=name)
    return config


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600 (the file may hold a secret)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_ui_setting(path: str | os.PathLike[str], key: str, value: Any) -> None:
    """Set ``[ui] key = value`` in the config file, keeping every other value.

    ``key`` may be dotted (``"keys.quit"``) for a nested table. The file is rewritten as
    data with tomli-w, so its comments are not kept.
    """
    target = Path(path)
    data = read_toml(target) if target.exists() else {}
    table = data.setdefault("ui", {})
    *parents, leaf = key.split(".")
    for part in parents:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError(f"ui.{part} is not a table", file=str(target), key=key)
    table[leaf] = value
    _write_private(target, tomli_w.dumps(data))


STARTER = '''\
# flux-tui configuration. Everything here is optional: the built-in profiles are
#   prd  - https://api.axil.ai/realtime       dev - https://dev-api.axil.ai/realtime
#   demo - the embedded simulator (no credentials, no network)
# Environment variables (FLUX_PROFILE, FLUX_COMPANY, FLUX_CLIENT_ID, FLUX_CLIENT_SECRET,
# FLUX_BASE_URL, FLUX_TOKEN_URL, FLUX_AUDIENCE, FLUX_RATE_LIMIT, FLUX_PAGE_LIMIT) beat this
# file, and command-line options beat both.

# The profile used when --profile and FLUX_PROFILE are not given.
default_profile = "prd"

[profiles.prd]
# company = "yourcompany"            # your stream: {base_url}/{company}, lower case
# client_id = "..."
# Give the secret ONE way; prefer not to write it here:
# client_secret_env = "FLUX_PRD_SECRET"          # read from this environment variable
# client_secret_command = "pass show flux/prd"   # or printed by this command
# client_secret = "..."                          # or literally (keep this file private)
# rate_limit = "100/60s"             # calls per window the client may spend
# page_limit = 1000                  # most records asked for in one call (1..10000)
# start = "latest"                   # or "trim-horizon" (the oldest retained record)

# A profile of your own, e.g. a local simulator started with `flux-tui sim`:
# [profiles.local]
# base_url = "http://127.0.0.1:8750/realtime"
# token_url = "http://127.0.0.1:8750/oauth/token"
# enterprise_url = "http://127.0.0.1:8750/axil/enterprise-objects"
# company = "demo"
# client_id = "flux-demo"
# client_secret = "demo-secret"

[ui]
# theme = "dark"
# low_bandwidth = false
'''


def write_starter(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write the commented starter file (mode 0600); refuse to replace a file unless forced."""
    target = Path(path)
    if target.exists() and not force:
        raise ConfigError("the file already exists (use --force to replace it)",
                          file=str(target))
    _write_private(target, STARTER)
    return target
