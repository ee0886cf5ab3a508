"""Lazy re-exports for a package's ``__init__``: ``from flux_tui.api import RealtimeClient``
keeps working, but importing one light module of the package (``flux_tui.api.errors``) no
longer loads httpx and pydantic through its ``__init__`` (start-up of ``flux-tui open``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name in ``exports`` (name -> the
    submodule defining it) is imported on first use and then kept in the package."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        vars(importlib.import_module(package))[name] = value  # found directly next time
        return value

    return __getattr__
