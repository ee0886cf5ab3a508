"""End to end in a real terminal: ``python -m flux_tui demo`` under tmux, read with capture-pane."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

TMUX = shutil.which("tmux")
# A tmux server of this test process's own: on the default server, another process's
# sessions (a parallel test worker, anyone's tmux on a shared machine) could resize ours.
SOCKET = f"flux-tests-{os.getpid()}"


def tmux_argv(*args: str) -> list[str]:
    """A tmux command line on this process's own server."""
    assert TMUX is not None
    return [TMUX, "-L", SOCKET, *args]


def _tmux(*args: str) -> str:
    return subprocess.run(tmux_argv(*args), check=True, capture_output=True, text=True).stdout


def _demo_is_wired() -> bool:
    result = subprocess.run([sys.executable, "-m", "flux_tui", "demo", "--help"],
                            capture_output=True, text=True, timeout=60, check=False)
    return result.returncode == 0


@pytest.fixture
def demo_pane(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if TMUX is None:
        pytest.skip("tmux is not installed")
    if not _demo_is_wired():
        pytest.skip("the `demo` command is not wired into the CLI yet")
    session = f"flux-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TERM": "xterm-256color", "TZ": "UTC",
           "FLUX_TUI_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    for name in ("COLUMNS", "LINES"):  # set in a pytest-xdist worker: the app would take them
        env.pop(name, None)  # for the terminal's size instead of the tmux window's
    command = f"{sys.executable} -m flux_tui demo"
    subprocess.run(tmux_argv("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command),
                   check=True, env=env)
    try:
        yield session
    finally:
        subprocess.run(tmux_argv("kill-session", "-t", session), capture_output=True, check=False)


def _wait_screen(session: str, check: Callable[[str], bool], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if check(screen):
            return screen
        time.sleep(0.1)  # polling a real terminal: there is nothing to await
    raise AssertionError(f"screen never matched; last screen:\n{screen}")


TIME = re.compile(r"\d\d:\d\d:\d\d\.\d\d\d")


def test_demo_streams_readings_and_filters(demo_pane: str) -> None:
    screen = _wait_screen(demo_pane, lambda s: len(TIME.findall(s)) >= 10 and "rec/s" in s)
    assert "Tag log" in screen and "Assets" in screen
    _tmux("send-keys", "-t", demo_pane, "/")  # typed at once, as a person in a hurry would
    _tmux("send-keys", "-t", demo_pane, "-l", "engine speed")

    def only_engine_speed(s: str) -> bool:
        lines = [ln for ln in s.splitlines() if TIME.search(ln) and "│" in ln]
        log_lines = [ln.split("││", 1)[-1] for ln in lines]
        return bool(log_lines) and " of " in s and all("Engine Speed" in ln for ln in log_lines)

    screen = _wait_screen(demo_pane, only_engine_speed)
    assert re.search(r"[\d,]+ of [\d,]+", screen)
    _tmux("send-keys", "-t", demo_pane, "Escape")
    # an ESC followed at once by q would read as alt+q: wait until the filter was left
    _wait_screen(demo_pane, lambda s: "Leave filter" not in s and "Quit" in s)
    _tmux("send-keys", "-t", demo_pane, "q")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # q quits: the session ends with the process
        if subprocess.run(tmux_argv("has-session", "-t", demo_pane),
                          capture_output=True, check=False).returncode != 0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the viewer did not quit on q")
