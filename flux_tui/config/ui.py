"""The ``[ui]`` table of the config file, typed: :class:`UiSettings`. Read once, by
:meth:`Config.ui_settings <flux_tui.config.file.Config.ui_settings>`; the viewer takes it
from there (the theme it writes back goes through ``save_ui_setting``).

Checked by hand, not by pydantic: every viewer start (``flux-tui open`` of a file too) reads
this table, and importing pydantic alone cost ~50 ms of a start-up budget of 500 ms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flux_tui.base.errors import ConfigError

__all__ = ["MIN_HISTORY", "UiSettings", "ui_settings"]

MIN_HISTORY = 1000


@dataclass(frozen=True)
class UiSettings:
    """What the viewer reads of ``[ui]``. Keys it does not know are left alone (a newer
    version's setting must not stop this one)."""

    theme: str | None = None  # a theme's name (built-in or in the themes folder)
    low_bandwidth: bool = False  # redraw less (1 Hz), plain log lines
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys, quit = "ctrl+q"
    # readings the log holds (about 44 bytes each; the store's DEFAULT_HISTORY)
    history: int = 2_000_000
    # word -> its short form in narrow labels, over the default table ("" removes a word)
    abbreviations: dict[str, str] = field(default_factory=dict)


class _Wrong(Exception):
    """A value of the wrong kind: ``key`` (dotted, under ``ui``) and what was expected."""

    def __init__(self, key: str, problem: str, value: Any) -> None:
        super().__init__(f"{problem} (got {value!r})")
        self.key = key


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _Wrong(key, "Input should be a valid string", value)
    return value


def _table_of_text(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Wrong(key, "Input should be a valid dictionary", value)
    return {_text(key, k): _text(f"{key}.{k}", v) for k, v in value.items()}


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Wrong(key, "Input should be a valid boolean", value)
    return value


def _history(key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Wrong(key, "Input should be a valid integer", value)
    if value < MIN_HISTORY:
        raise _Wrong(key, f"Input should be greater than or equal to {MIN_HISTORY}", value)
    return value


def ui_settings(table: Mapping[str, Any], *, file: str | None = None) -> UiSettings:
    """``table`` (the ``[ui]`` table) checked; a wrong value is a ConfigError naming it."""
    try:
        theme = table.get("theme")
        return UiSettings(
            theme=None if theme is None else _text("theme", theme),
            low_bandwidth=_bool("low_bandwidth", table.get("low_bandwidth", False)),
            keys=_table_of_text("keys", table.get("keys", {})),
            history=_history("history", table.get("history", UiSettings.history)),
            abbreviations=_table_of_text("abbreviations", table.get("abbreviations", {})),
        )
    except _Wrong as wrong:
        raise ConfigError(str(wrong), file=file, key=f"ui.{wrong.key}") from None
