"""``docs/architecture.md`` names only files that exist: every path it quotes (``api/client.py``,
``flux_tui/connect.py``, ``tests/...``, a folder such as ``config/``) is found in the repository.
A bare file name (``asset_tree.py``) is looked up in the package its section describes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "flux_tui"

# A quoted path: no spaces or call syntax, and either a folder (ends with "/") or a file with
# one of the project's extensions.
_QUOTED = re.compile(r"`([^`\s()]+)`")
_PATHLIKE = re.compile(r"^[\w./-]+(\.(py|md|toml|tcss|json|txt)|/)$")
_REPO_TOPS = ("flux_tui/", "tests/", "docs/", "benchmarks/", "themes/")


def named_paths(text: str) -> list[tuple[str, str, int]]:
    """``(path, section package, line)`` for every path the document quotes. The section
    package is the first word of the ``##`` heading above ("## ui (Textual…)" -> "ui")."""
    found: list[tuple[str, str, int]] = []
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            section = line[3:].split()[0] if line[3:].split() else ""
            continue
        for quoted in _QUOTED.findall(line):
            if _PATHLIKE.match(quoted) and "//" not in quoted:
                found.append((quoted, section, number))
    return found


def candidates(path: str, section: str) -> list[Path]:
    """Where ``path`` may be: repository-relative when it starts with a top folder, else
    relative to the package; a bare file name also in its section's package."""
    if path.startswith("../"):
        return []  # outside the repository (the shared design docs): not this test's business
    if path.startswith(_REPO_TOPS):
        return [ROOT / path]
    places = [PACKAGE / path]
    if "/" not in path.rstrip("/") and (PACKAGE / section).is_dir():
        places.insert(0, PACKAGE / section / path)
    return places


def missing_paths(text: str) -> list[str]:
    missing = []
    for path, section, number in named_paths(text):
        places = candidates(path, section)
        if places and not any(p.exists() for p in places):
            missing.append(f"docs/architecture.md:{number}: {path}")
    return missing


def test_the_path_finder_reads_the_forms_the_document_uses() -> None:
    text = (
        "## ui (Textual)\n"
        "- `ui/app.py` — `FluxApp(opener, ...)`, widgets: `log_view.py`, `nothere.py`.\n"
        "- `flux_tui/connect.py`, `tests/test_layers.py`, `config/`, `../shared/x.md`,\n"
        "  `https://api.axil.ai`, `pause/resume`, `asset_name/site_name/org_name`.\n"
        "## cli\n"
        "- `connect.py`, `gone/module.py`\n"
    )
    assert [p for p, _, _ in named_paths(text)] == [
        "ui/app.py", "log_view.py", "nothere.py", "flux_tui/connect.py",
        "tests/test_layers.py", "config/", "../shared/x.md", "connect.py", "gone/module.py",
    ]
    assert missing_paths(text) == [
        "docs/architecture.md:2: nothere.py",
        "docs/architecture.md:6: gone/module.py",
    ]


def test_every_path_the_architecture_doc_names_exists() -> None:
    text = DOC.read_text()
    assert len(named_paths(text)) >= 30  # the document still lists the modules
    missing = missing_paths(text)
    assert not missing, "docs/architecture.md names paths that do not exist:\n" + "\n".join(
        missing
    )
