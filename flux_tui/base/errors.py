"""The error base every layer raises: :class:`FluxError` (what to do about it is its
:attr:`~FluxError.action`) and :class:`ConfigError` (a wrong setting, naming the file,
profile and key). The API's own errors (``flux_tui.api.errors``) derive from FluxError.
"""

from __future__ import annotations

import enum


class Action(enum.Enum):
    """What the caller should do about an error."""

    RETRY = "retry"  # back off with full jitter and try again
    THROTTLED = "throttled"  # pause every call until the rate window frees, then retry
    REAUTH = "reauth"  # refresh the token once and retry once
    SHRINK = "shrink"  # retry with a smaller page limit
    NEW_ITERATOR = "new-iterator"  # the shard iterator is unusable: open a new one
    REDESCRIBE = "redescribe"  # the shard or stream is gone: describe the stream again
    FALLBACK = "fallback"  # an iterator type was refused: open at TRIM_HORIZON and skip
    FATAL = "fatal"  # cannot succeed by retrying: stop and tell the user


class FluxError(Exception):
    """Base of every error raised by flux_tui's API and feed layers."""

    action: Action = Action.FATAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retryable(self) -> bool:
        """True when trying again (after a pause) can succeed."""
        return self.action in (Action.RETRY, Action.THROTTLED, Action.SHRINK)

    def __str__(self) -> str:
        return self.message


class ConfigError(FluxError):
    """A configuration value is wrong; the message names the file, profile and key."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        profile: str | None = None,
        key: str | None = None,
    ) -> None:
        where = []
        if file:
            where.append(str(file))
        if profile:
            where.append(f"profile {profile!r}")
        if key:
            where.append(f"key {key!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.file, self.profile, self.key = file, profile, key
