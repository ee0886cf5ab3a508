"""The ``[ui]`` table of the config file, typed: :class:`UiSettings`. Read once, by
:meth:`Config.ui_settings <flux_tui.config.file.Config.ui_settings>`; the viewer takes it
from there (the theme it writes back goes through ``save_ui_setting``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from flux_tui.base.errors import ConfigError

__all__ = ["UiSettings", "ui_settings"]


class UiSettings(BaseModel):
    """What the viewer reads of ``[ui]``. Keys it does not know are left alone (a newer
    version's setting must not stop this one)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    theme: StrictStr | None = None  # a theme's name (built-in or in the themes folder)
    low_bandwidth: StrictBool = False  # redraw less (1 Hz), plain log lines
    keys: dict[StrictStr, StrictStr] = {}  # binding id -> keys, e.g. quit = "ctrl+q"
    # readings the log holds (about 44 bytes each; the store's DEFAULT_HISTORY)
    history: StrictInt = Field(default=2_000_000, ge=1000)
    # word -> its short form in narrow labels, over the default table ("" removes a word)
    abbreviations: dict[StrictStr, StrictStr] = {}


def ui_settings(table: Mapping[str, Any], *, file: str | None = None) -> UiSettings:
    """``table`` (the ``[ui]`` table) checked; a wrong value is a ConfigError naming it."""
    try:
        return UiSettings.model_validate(dict(table))
    except ValidationError as exc:
        problem = exc.errors()[0]
        key = ".".join(str(part) for part in problem["loc"])
        raise ConfigError(f"{problem['msg']} (got {problem.get('input')!r})", file=file,
                          key=f"ui.{key}") from None
