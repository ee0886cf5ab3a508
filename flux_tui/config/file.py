"""The config file: where it is, reading it (syntax errors name the line), resolving a
profile through ``built-in < file < environment``, and the two writes (starter, UI setting).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from flux_tui.base.errors import ConfigError
from flux_tui.base.files import config_folder, write_private
from flux_tui.config.field import check_field_tables
from flux_tui.config.profile import Profile
from flux_tui.config.ui import UiSettings, ui_settings
from flux_tui.config.values import (
    BUILTIN_PROFILES,
    CONFIG_ENV,
    DEFAULT_AUDIENCE,
    DEFAULT_PROFILE,
    DEFAULT_TOKEN_URL,
    ENV_KEYS,
    PRD_BASE_URL,
    PRD_ENTERPRISE_URL,
    SECRET_KEYS,
    SIM_BASE_URL,
    SIM_ENV_KEYS,
    suggest,
    validate,
)


def default_config_path() -> Path:
    """The per-user config file (``platformdirs`` config folder of ``flux-tui``)."""
    return config_folder() / "config.toml"


def config_path(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The config file in force: ``--config``, else ``$FLUX_TUI_CONFIG``, else the default."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return default_config_path()


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
        """The ``[ui]`` table as written (what ``save_ui_setting`` keeps)."""
        return dict(self.data.get("ui", {}))

    def ui_settings(self) -> UiSettings:
        """The ``[ui]`` table, typed and checked (ConfigError naming a wrong value)."""
        return ui_settings(self.ui, file=str(self.path) if self.exists else None)

    def abbreviations(self) -> dict[str, str]:
        """``[ui.abbreviations]``: ``Word = "Abbr"`` over the default table (``""`` removes
        a word). Raises :class:`ConfigError` naming a bad entry."""
        table = self.ui_settings().abbreviations
        for word in table:
            if not word.strip() or " " in word.strip():
                raise ConfigError(f"{word!r}: one word a key (Word = \"Abbr\")",
                                  file=str(self.path), key="ui.abbreviations")
        return dict(table)

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
            raise ConfigError(
                f"no profile named {name!r}{suggest(name, known)}; known "
                f"profiles: {', '.join(known)}",
                file=file,
                profile=name,
            )
        values: dict[str, Any] = {
            "base_url": PRD_BASE_URL,
            "enterprise_url": PRD_ENTERPRISE_URL,
            "token_url": DEFAULT_TOKEN_URL,
            "audience": DEFAULT_AUDIENCE,
        }
        values.update(BUILTIN_PROFILES.get(name, {}))
        from_file = validate(tables.get(name, {}), file=file, profile=name)
        if any(k in from_file for k in SECRET_KEYS):
            for key in SECRET_KEYS:  # the file's choice of secret source replaces a built-in
                values.pop(key, None)
        values.update(from_file)
        if from_file.get("base_url") not in (None, SIM_BASE_URL) and "simulator" not in from_file:
            values["simulator"] = False
        simulator = bool(values.get("simulator")) or values["base_url"] == SIM_BASE_URL
        env_raw = {key: self.env[var] for var, key in ENV_KEYS.items() if self.env.get(var)}
        if simulator:
            env_raw = {k: v for k, v in env_raw.items() if k in SIM_ENV_KEYS}
        from_env = validate(env_raw, file="environment", profile=name, origin="env")
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
        raise ConfigError(
            "'profiles' must be a table of [profiles.NAME] tables", file=file, key="profiles"
        )
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


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Load the config file in force (a missing default file is fine: built-ins remain).

    A file named explicitly (``--config`` or ``$FLUX_TUI_CONFIG``) must exist.
    """
    env = dict(os.environ if env is None else env)
    resolved = config_path(path, env)
    explicit = bool(path) or bool(env.get(CONFIG_ENV))
    if not resolved.exists():
        if explicit:
            raise ConfigError(
                "the config file does not exist (create it with `flux-tui config init`)",
                file=str(resolved),
            )
        return Config(path=resolved, exists=False, data={}, env=env)
    data = read_toml(resolved)
    _profiles_shape(data, str(resolved))
    config = Config(path=resolved, exists=True, data=data, env=env)
    check_field_tables(data, str(resolved))  # [[alarms]], [stale], [units], [value_names]
    # Validate every profile of the file up front so a mistake shows even in another profile.
    for name, table in config.profiles_table.items():
        validate(table, file=str(resolved), profile=name)
    return config


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600 (the file may hold a secret)."""
    write_private(path, text.encode("utf-8"), own_folder=False)


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


STARTER = """\
# flux-tui configuration. Everything here is optional: the built-in profiles are
#   prd  - https://api.axil.ai/realtime       dev - https://dev-api.axil.ai/realtime
#   demo - the embedded simulator (no credentials, no network)
# Environment variables (FLUX_PROFILE, FLUX_COMPANY, FLUX_CLIENT_ID, FLUX_CLIENT_SECRET,
# FLUX_BASE_URL, FLUX_TOKEN_URL, FLUX_AUDIENCE, FLUX_ENTERPRISE_URL, FLUX_RATE_LIMIT,
# FLUX_PAGE_LIMIT) beat this
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
# history = 2000000   # readings the log holds (about 44 bytes each)
"""


def write_starter(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write the commented starter file (mode 0600); refuse to replace a file unless forced."""
    target = Path(path)
    if target.exists() and not force:
        raise ConfigError("the file already exists (use --force to replace it)", file=str(target))
    _write_private(target, STARTER)
    return target
