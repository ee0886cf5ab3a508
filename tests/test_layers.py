"""The core must run without Textual: importing it in a fresh interpreter loads no Textual."""

import subprocess
import sys

CORE_MODULES = [
    "flux_tui.api.errors",
    "flux_tui.feed.types",
]


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('textual'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
