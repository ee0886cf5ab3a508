"""The core must run without Textual: importing it in a fresh interpreter loads no Textual."""

import subprocess
import sys

CORE_MODULES = [
    "flux_tui.api.errors",
    "flux_tui.feed.types",
    "flux_tui.api.budget",
    "flux_tui.api.models",
    "flux_tui.api.auth",
    "flux_tui.api.client",
    "flux_tui.feed.decoder",
    "flux_tui.data.formats",
    "flux_tui.data.query",
    "flux_tui.feed.reader",
    "flux_tui.data.store",
    "flux_tui.data.session",
    "flux_tui.config",
    "flux_tui.connect",
    "flux_tui.cli.main",
    "flux_tui.cli.tail",
    "flux_tui.cli.record",
    "flux_tui.cli.info",
]


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('textual'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
