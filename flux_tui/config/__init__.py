"""Profiles: where flux-tui finds the Flux API, the company and the credentials.

Owns the TOML config file (location, parsing, validation, the starter file and the one
setting the UI writes back), the built-in profiles and the precedence
``built-in < file < environment < command line``. Every wrong value becomes a
:class:`~flux_tui.base.errors.ConfigError` that names the file, the profile and the key.

    >>> profile = load_config().profile("demo")        # --config / $FLUX_TUI_CONFIG / default
    >>> profile = profile.with_overrides(page_limit=500)  # command-line options on top
"""

from flux_tui.config.file import (
    STARTER,
    Config,
    config_path,
    default_config_path,
    load_config,
    read_toml,
    save_ui_setting,
    write_starter,
)
from flux_tui.config.profile import Profile
from flux_tui.config.ui import UiSettings
from flux_tui.config.values import (
    BUILTIN_PROFILES,
    CONFIG_ENV,
    DEFAULT_AUDIENCE,
    DEFAULT_PAGE_LIMIT,
    DEFAULT_PROFILE,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TOKEN_URL,
    DEV_BASE_URL,
    ENV_KEYS,
    PAGE_LIMIT_RANGE,
    PRD_BASE_URL,
    PRD_ENTERPRISE_URL,
    PROFILE_KEYS,
    SIM_BASE_URL,
    STARTS,
    is_loopback,
)

__all__ = [
    "BUILTIN_PROFILES",
    "CONFIG_ENV",
    "DEFAULT_AUDIENCE",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_PROFILE",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TOKEN_URL",
    "DEV_BASE_URL",
    "ENV_KEYS",
    "PAGE_LIMIT_RANGE",
    "PRD_BASE_URL",
    "PRD_ENTERPRISE_URL",
    "PROFILE_KEYS",
    "SIM_BASE_URL",
    "STARTER",
    "STARTS",
    "Config",
    "Profile",
    "UiSettings",
    "config_path",
    "default_config_path",
    "is_loopback",
    "load_config",
    "read_toml",
    "save_ui_setting",
    "write_starter",
]
