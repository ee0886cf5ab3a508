"""A resolved profile: everything needed to open the feed, and its secret kept out of sight."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field, replace
from typing import Any

from flux_tui.base.errors import ConfigError
from flux_tui.config.values import (
    DEFAULT_ASSET_CACHE_TTL,
    DEFAULT_AUDIENCE,
    DEFAULT_CALL_DEADLINE,
    DEFAULT_PAGE_LIMIT,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TOKEN_URL,
    PRD_BASE_URL,
    PROFILE_KEYS,
    SECRET_COMMAND_TIMEOUT,
    validate,
)


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
    device_client_id: str | None = None  # the Auth0 application for `flux-tui login`
    asset_cache_ttl: float = DEFAULT_ASSET_CACHE_TTL  # seconds the asset-name cache is fresh
    call_deadline: float = DEFAULT_CALL_DEADLINE  # seconds for one whole API answer
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
            raise self.error(
                'no company set: add company = "yourcompany" or set FLUX_COMPANY', "company"
            )
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
                raise self.error(
                    f"environment variable {self.client_secret_env} is not set or empty",
                    "client_secret_env",
                )
            return value
        if self.client_secret_command:
            return _run_secret_command(self)
        raise self.error(
            "no client secret: set one of client_secret, client_secret_env, "
            "client_secret_command (or FLUX_CLIENT_SECRET)",
            "client_secret",
        )

    @property
    def has_secret(self) -> bool:
        """True when a client-secret source is configured (the secret itself is not read)."""
        return bool(self.client_secret or self.client_secret_env or self.client_secret_command)

    def login_client_id(self) -> str:
        """The Auth0 application used by ``flux-tui login``: ``device_client_id``, else
        ``client_id``; a ConfigError when neither is set."""
        client = self.device_client_id or self.client_id
        if not client:
            raise self.error(
                "no device_client_id (the Auth0 application that allows the device login) "
                "and no client_id to fall back on",
                "device_client_id",
            )
        return client

    def check_complete(self) -> None:
        """Raise ConfigError when company, client_id or a secret source is missing.

        Cheap: a ``client_secret_command`` is not run (see :meth:`require_credentials`).
        """
        self.require_company()
        if not self.client_id:
            raise self.error("no client_id set (or set FLUX_CLIENT_ID)", "client_id")
        if not (self.client_secret or self.client_secret_env or self.client_secret_command):
            raise self.error(
                "no client secret: set one of client_secret, client_secret_env, "
                "client_secret_command (or FLUX_CLIENT_SECRET)",
                "client_secret",
            )

    def require_credentials(self) -> tuple[str, str]:
        """``(client_id, client_secret)``, or a ConfigError naming what is missing."""
        self.check_complete()
        assert self.client_id is not None  # checked above
        return self.client_id, self.resolve_secret()

    def with_overrides(self, **values: Any) -> Profile:
        """A copy with command-line values laid on top (validated like the file's)."""
        merged = {k: v for k, v in values.items() if v is not None}
        if not merged:
            return self
        checked = validate(merged, file=None, profile=self.name, origin="option")
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
            if key == "asset_cache_ttl" and value == DEFAULT_ASSET_CACHE_TTL:
                continue
            if key == "call_deadline" and value == DEFAULT_CALL_DEADLINE:
                continue
            if self.simulator and key in (
                "token_url",
                "audience",
                "enterprise_url",
                "device_client_id",
            ):
                continue  # the simulator serves its own endpoints: these are not used
            table[key] = value
        return table


def _run_secret_command(profile: Profile) -> str:
    command = profile.client_secret_command or ""
    try:
        done = subprocess.run(
            command,
            shell=True,
            capture_output=True,
            text=True,
            timeout=SECRET_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise profile.error(
            f"the command failed to run ({type(exc).__name__})", "client_secret_command"
        ) from None
    if done.returncode != 0:
        raise profile.error(
            f"the command exited with status {done.returncode} (its output is not shown)",
            "client_secret_command",
        )
    secret = done.stdout.strip()
    if not secret:
        raise profile.error("the command printed nothing", "client_secret_command")
    return secret


# --- validation ---------------------------------------------------------------------------
