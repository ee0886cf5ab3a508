"""Issue 14 in a real terminal: one ``flux-tui demo`` under tmux, checked at 120×40 and then
resized to 80×24 (and 60 columns for the footer), as a new field technician would see it.

One process drives every check in order (a real terminal is slow to start on a shared
machine): labels in the tree and the sparklines, the filter bar (long query, error, empty
result with a suggestion, a documented example), the palette's order, no toast for toggles,
recording with the token still visible, s after r, the footer and the panels after resizes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_ui_tmux import TMUX, _demo_is_wired, _tmux, _wait_screen, tmux_argv

from flux_tui.data.label_fit import DEFAULT_ABBREVIATIONS
from flux_tui.sim.telemetry import TAGS
from flux_tui.ui.asset_tree import COMPACT_WIDTH as COMPACT_TREE

pytestmark = [pytest.mark.tmux, pytest.mark.slow]

# every whole word a demo tag label may show: its words, their abbreviations, '#1'…'#4'
WORDS = ({w for spec in TAGS for w in spec.label.split()} | set(DEFAULT_ABBREVIATIONS.values())
         | {f"#{n}" for n in range(1, 5)})
UNIT = re.compile(r"^[A-Z]{3}-\d{4}$")
LONG_QUERY = "asset:1131 (label:suction OR label:discharge) label:pressure -tag:*status"


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[str]:
    if TMUX is None:
        pytest.skip("tmux is not installed")
    if not _demo_is_wired():
        pytest.skip("the `demo` command is not wired into the CLI yet")
    session = f"flux-ux-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TERM": "xterm-256color", "TZ": "UTC",
           "FLUX_TUI_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    for name in ("COLUMNS", "LINES"):  # set in a pytest-xdist worker: the app would take them
        env.pop(name, None)  # for the terminal's size instead of the tmux window's
    subprocess.run(tmux_argv("new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                             "-c", str(tmp_path), f"{sys.executable} -m flux_tui demo"),
                   check=True, env=env)
    try:
        yield session
    finally:
        subprocess.run(tmux_argv("kill-session", "-t", session), capture_output=True, check=False)


def keys(pane: str, *typed: str, literal: bool = False) -> None:
    _tmux("send-keys", "-t", pane, *(["-l"] if literal else []), *typed)


def wait(pane: str, check: Callable[[str], bool]) -> str:
    return _wait_screen(pane, check, timeout=90.0)


def bottom(screen: str) -> list[str]:
    """The status bar and the footer (two blank lines while the terminal resizes)."""
    return ([""] * 2 + screen.rstrip().splitlines())[-2:]


def tree_tags(screen: str, width: int) -> list[str]:
    """The tag names of the expanded unit's rows in the tree (``width`` columns wide)."""
    names = []
    for line in screen.splitlines():
        part = line[:width]
        if len(part) > 7 and part[5] in "├└" and "▼" not in part and "▶" not in part:
            # the name's column: the panel less borders, scrollbar, guides (9) and the value
            # (9: it may carry an engineering unit, '161.0 °F'); a compact tree (below 90
            # columns) has no value column
            end = width - 2 if width < COMPACT_TREE + 1 else 7 + width - 21
            names.append(part[7:end].strip())
    return names


def log_labels(screen: str, left: int) -> list[str]:
    """The label column of the log's lines (the log starts at column ``left``)."""
    labels = []
    for line in screen.splitlines():
        found = re.match(r"[│ ]*\d\d:\d\d:\d\dZ? \S+ +(\S.*?) {2,}\S", line[left:])
        if found:
            labels.append(found.group(1))
    return labels


def log_readable(screen: str, left: int) -> bool:
    """Eight log lines or more, each label whole words, never just ``…Press``."""
    labels = log_labels(screen, left)
    return len(labels) >= 8 and all(not label.startswith("…") and whole_words(label)
                                    for label in labels)


def whole_words(label: str) -> bool:
    """No ellipsis inside a word: every piece between spaces and ellipses is a whole word
    of a demo label (or its abbreviation) or a unit's name."""
    pieces = [p for p in re.split(r"[ …]+", label) if p]
    return bool(pieces) and all(p in WORDS or UNIT.match(p) for p in pieces)


def tree_ok(screen: str, width: int) -> bool:
    """At least eight tag rows, no ellipsis inside a word, no two rows of the unit alike."""
    names = tree_tags(screen, width)
    return (len(names) >= 8 and all(whole_words(n) for n in names)
            and len(set(names)) == len(names))


def query_whole(screen: str, query: str) -> bool:
    """The filter bar's rows (right of the tree) hold the whole query, in order."""
    rows = [line.split("│")[-1] if "│" in line else line for line in screen.splitlines()[:5]]
    top = " ".join(re.sub(r"\s{2,}[\d,]+ (of [\d,]+|lines)\s*$", "", r) for r in rows)
    return " ".join(query.split()) in " ".join(top.replace("/", " ", 1).split())


def test_issue_14_at_120x40_then_80x24(pane: str) -> None:
    # --- 120×40: labels in the tree ------------------------------------------------------
    # (waited for: the first frames may show the rows before their labels are fitted)
    wait(pane, lambda s: len(tree_tags(s, 40)) >= 20 and "LIVE" in s and tree_ok(s, 40))
    # a sparkline: its label follows the same rules
    keys(pane, "Up", "p")  # the cursor on the newest line, its tag pinned
    screen = wait(pane, lambda s: "⚑" in s)
    spark = next(ln for ln in screen.splitlines() if "⚑" in ln)
    label = re.split(r"[▁▂▃▄▅▆▇█]", spark.split("│")[-2])[0].strip()
    assert whole_words(label), spark
    # --- no toast for toggles: eight window changes, shown in the panel's title -----------
    keys(pane, *("w" * 8))
    screen = wait(pane, lambda s: "Sparklines · 1m" in s)
    assert "Sparkline window" not in screen
    # --- the filter bar: a documented example matches; the long query shows whole ---------
    keys(pane, "/")
    keys(pane, "asset:1131 label:pressure", literal=True)
    screen = wait(pane, lambda s: re.search(r"[1-9][\d,]* of [\d,]+", s) is not None)
    keys(pane, "C-u")
    keys(pane, LONG_QUERY, literal=True)
    wait(pane, lambda s: query_whole(s, LONG_QUERY) and " of " in s)
    keys(pane, "C-u")
    keys(pane, "asset:1131 labl:x", literal=True)
    screen = wait(pane, lambda s: "did you mean label:?" in " ".join(s.split()))
    keys(pane, "C-u")
    keys(pane, "asset:1111", literal=True)
    screen = wait(pane, lambda s: "try asset:1131" in " ".join(s.split()))
    assert "no reading matches asset:1111 (0 of" in " ".join(screen.split())
    keys(pane, "C-u", "Escape")
    wait(pane, lambda s: "Leave filter" not in s)
    # --- the palette: words in any order, exact words first -------------------------------
    keys(pane, "C-p")
    keys(pane, "suction 1131", literal=True)
    screen = wait(pane, lambda s: "Go to tag: Suction" in s)
    hits = [ln for ln in screen.splitlines() if "Go to" in ln]
    assert "Suction Pressure @ WHC-1131" in hits[0], hits
    keys(pane, "Escape")
    wait(pane, lambda s: "Go to tag" not in s)
    # --- recording: REC and the token expiry both stay; s proposes another name ----------
    keys(pane, "r")
    wait(pane, lambda s: "Record to" in s)
    keys(pane, "Enter")
    wait(pane, lambda s: "● REC" in s and "token" in s.splitlines()[-2])
    keys(pane, "s")
    screen = wait(pane, lambda s: "readings to" in s and "-2.jsonl" in s)  # not the REC's
    keys(pane, "Escape")
    wait(pane, lambda s: "readings to" not in s)
    # --- 80×24: panels as when started there, the footer whole ----------------------------
    _tmux("resize-window", "-t", pane, "-x", "80", "-y", "24")
    screen = wait(pane, lambda s: "Assets ─" not in s and "Quit" in bottom(s)[-1]
                  and "● REC" in bottom(s)[-2] and "token" in bottom(s)[-2]
                  and "palette" not in bottom(s)[-1])
    status, footer = screen.rstrip().splitlines()[-2:]
    assert "● REC" in status and "token" in status, status
    assert "^p palette" not in footer and footer.rstrip().endswith(
        ("Pin", "Window", "Assets", "Graphs", "Filter", "Help", "Quit")), footer
    # the tree by hand: its labels, the log's beside it and a 70-character query at 80
    # columns (the tree is compact there: a 36-wide one left the log's labels 6 cells)
    keys(pane, "a")
    wait(pane, lambda s: tree_ok(s, COMPACT_TREE) and log_readable(s, COMPACT_TREE))
    keys(pane, "/")
    keys(pane, LONG_QUERY, literal=True)
    wait(pane, lambda s: query_whole(s, LONG_QUERY))
    keys(pane, "C-u", "Escape")
    # --- 60 columns: the footer keeps whole keys, help first ------------------------------
    _tmux("resize-window", "-t", pane, "-x", "60", "-y", "24")
    screen = wait(pane, lambda s: "? Help" in bottom(s)[-1] and "rec/s" in bottom(s)[-2]
                  and len(bottom(s)[-2]) <= 60)
    footer = screen.rstrip().splitlines()[-1]
    assert "? Help" in footer and not re.search(r"\w▏|▏\S*\w$", footer), footer
    keys(pane, "r")  # stop the recording before leaving
    wait(pane, lambda s: "● REC" not in s)
    keys(pane, "q")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if subprocess.run(tmux_argv("has-session", "-t", pane), capture_output=True,
                          check=False).returncode != 0:
            return
        time.sleep(0.1)  # a real terminal: nothing to await
    raise AssertionError("the viewer did not quit on q")
