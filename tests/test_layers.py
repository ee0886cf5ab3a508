"""The core must run without Textual: importing any module outside ``flux_tui.ui`` in a fresh
interpreter loads no Textual (the CLI starts the viewer lazily)."""

import pkgutil
import subprocess
import sys

import flux_tui


def core_modules() -> list[str]:
    """Every module of the package except the terminal UI (found, not listed by hand)."""
    names = [
        info.name
        for info in pkgutil.walk_packages(flux_tui.__path__, prefix="flux_tui.")
        if not info.name.startswith("flux_tui.ui") and info.name != "flux_tui.__main__"
    ]
    return sorted(names)


def test_the_list_of_core_modules_is_complete() -> None:
    modules = core_modules()
    for expected in ("flux_tui.api.client", "flux_tui.feed.reader", "flux_tui.data.store",
                     "flux_tui.sim.app", "flux_tui.connect", "flux_tui.cli.main"):
        assert expected in modules


def test_core_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
