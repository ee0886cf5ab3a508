"""Themes as TOML files: the bundled ones (the repository's top-level ``themes/``, installed as
the package ``flux_tui.themes``) and the user's own in
``<config folder>/themes/``. Each file is validated (every colour must parse); a broken file
is skipped and reported by name so the app can fall back and say why.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme


def _bundled_dir() -> Path:
    """Where the shipped themes are: the installed package ``flux_tui.themes`` (a wheel, or
    an editable install mapping it to the top-level ``themes/``)."""
    try:
        return Path(str(resources.files("flux_tui.themes")))
    except (ModuleNotFoundError, TypeError):  # a source tree that was never installed
        return Path(__file__).resolve().parent.parent.parent / "themes"


BUNDLED_DIR = _bundled_dir()
DEFAULT_THEME = "flux-dark"
MONOCHROME_THEME = "flux-monochrome"
_COLOUR_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface",
                "panel", "boost", "success", "warning", "error")
_ALLOWED = {"name", "dark", "variables", *_COLOUR_KEYS}


@dataclass
class ThemeLoad:
    """The themes that loaded and the problems of those that did not (file: reason)."""

    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def theme_from_file(path: Path) -> Theme:
    """Read one theme file. Raises ValueError with a reason a person can act on."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    unknown = set(data) - _ALLOWED
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    name = data.get("name") or path.stem
    if not isinstance(name, str):
        raise ValueError("name must be text")  # noqa: TRY004 - one error type per bad file
    if "primary" not in data:
        raise ValueError("primary colour missing")
    colours: dict[str, str] = {}
    for key in _COLOUR_KEYS:
        if key in data:
            value = data[key]
            try:
                Color.parse(value)
            except (ColorParseError, TypeError, ValueError):
                raise ValueError(f"{key} = {value!r} is not a colour") from None
            colours[key] = value
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
            isinstance(v, str) for v in variables.values()):
        raise ValueError("variables must be a table of text values")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("dark must be true or false")  # noqa: TRY004 - as above
    return Theme(name=name, dark=dark, variables=dict(variables),
                 **colours)  # type: ignore[arg-type]  # only the colour fields are in it


def load_themes(user_dir: Path | None = None) -> ThemeLoad:
    """Bundled themes, then the user's (which may replace a bundled one by name)."""
    result = ThemeLoad()
    for folder in (BUNDLED_DIR, user_dir):
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = theme_from_file(path)
            except ValueError as exc:
                result.problems.append(f"{path}: {exc}")
                continue
            result.themes[theme.name] = theme
    return result


def redraw_everything(screen: Any) -> None:
    """After a theme switch, every widget on ``screen`` draws again in the new colours. The
    log keeps rendered lines in a cache (``invalidate`` drops it): without this the rows
    already on screen kept the old theme's colours until they scrolled away."""
    for widget in screen.walk_children(with_self=False):
        invalidate = getattr(widget, "invalidate", None)
        if callable(invalidate):
            invalidate()
        widget.refresh()
