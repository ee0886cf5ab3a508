"""The viewer's exit status, and the crash report written when it crashed."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from textual.app import App


def viewer_exit_code(app: App[Any]) -> int:
    """The viewer's exit status, like ``tail``'s: 0 after quitting, 128 + N after signal N
    (129: SIGHUP, the SSH link dropped), 1 after a crash, whose traceback is written to a
    private crash report named on stderr (``app.run()`` itself returned None for all)."""
    code = app.return_code or 0
    if code == 1:
        error = getattr(app, "_exception", None)  # Textual keeps the first unhandled one
        path = write_crash_report(error)
        where = f"; crash report: {path}" if path else ""
        print(f"flux-tui: error: the viewer crashed{where}", file=sys.stderr)
    return code


def write_crash_report(error: BaseException | None) -> Path | None:
    """The traceback in ``<user state dir>/flux-tui/crash-<time>.txt`` (folder 0700,
    file 0600: it may name files and hosts); None when it cannot be written."""
    import platformdirs

    text = "".join(traceback.format_exception(error)) if error else "no exception recorded\n"
    folder = Path(platformdirs.user_state_dir("flux-tui"))
    path = folder / time.strftime("crash-%Y%m%d-%H%M%S.txt")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    except OSError:
        return None
    return path
