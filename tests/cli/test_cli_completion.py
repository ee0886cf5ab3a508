"""`flux-tui completion SHELL`: scripts generated from the parser, run in the real shells."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flux_tui.cli.main import main

CASES = [  # (words typed, the last one being completed) -> words that must be offered
    (["flux-tui", ""], {"tail", "record", "open", "export", "completion", "demo"}),
    (["flux-tui", "ex"], {"export"}),
    (["flux-tui", "tail", "--f"], {"--filter", "--format", "--from"}),
    (["flux-tui", "tail", "--from", ""], {"latest", "trim-horizon", "15m", "1h"}),
    (["flux-tui", "--profile", ""], {"prd", "dev", "demo", "site-b"}),
    (["flux-tui", "record", "--profile", "site-b", "--o"], {"--out"}),
    (["flux-tui", "completion", ""], {"bash", "zsh", "fish"}),
    (["flux-tui", "tail", "--format", ""], {"jsonl", "csv", "table"}),
    (["flux-tui", "export", "pad"], {"pad7.jsonl"}),
]


@pytest.fixture
def shell_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A config with one profile of its own, flux-tui on PATH, a file to complete."""
    config = tmp_path / "config.toml"
    config.write_text('[profiles.site-b]\ncompany = "acme"\n')
    (tmp_path / "pad7.jsonl").write_text("")
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "FLUX_TUI_CONFIG": str(config),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return env


def script(shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["completion", shell]) == 0
    path = tmp_path / f"flux-tui.{shell}"
    path.write_text(capsys.readouterr().out)
    return path


def test_profiles_are_listed_from_the_config(shell_env: dict[str, str],
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FLUX_TUI_CONFIG", shell_env["FLUX_TUI_CONFIG"])
    assert main(["completion", "--profiles"]) == 0
    assert capsys.readouterr().out.split() == ["prd", "dev", "demo", "site-b"]


def test_a_shell_must_be_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion"]) == 2
    assert "bash|zsh|fish" in capsys.readouterr().err


def _sh_words(words: list[str]) -> str:
    return " ".join("'" + w + "'" for w in words)


@pytest.mark.parametrize(("words", "offered"), CASES)
def test_bash(words: list[str], offered: set[str], shell_env: dict[str, str], tmp_path: Path,
              capsys: pytest.CaptureFixture[str]) -> None:
    path = script("bash", tmp_path, capsys)
    code = (f"source {path}; COMP_WORDS=({_sh_words(words)}); COMP_CWORD={len(words) - 1}; "
            "_flux_tui; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "-c", code], env=shell_env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert offered <= set(out), out


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
@pytest.mark.parametrize(("words", "offered"), CASES[:6])
def test_zsh(words: list[str], offered: set[str], shell_env: dict[str, str], tmp_path: Path,
             capsys: pytest.CaptureFixture[str]) -> None:
    path = script("zsh", tmp_path, capsys)
    # bashcompinit calls the function under sh emulation (0-based arrays): do the same.
    code = (f"source {path}; f() {{ emulate -L sh; setopt kshglob noshglob braceexpand; "
            f"COMP_WORDS=({_sh_words(words)}); COMP_CWORD={len(words) - 1}; _flux_tui; "
            "printf '%s\\n' \"${COMPREPLY[@]}\"; }; f")
    out = subprocess.run(["zsh", "-f", "-c", code], env=shell_env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert offered <= set(out), out


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
@pytest.mark.parametrize(("words", "offered"), CASES)
def test_fish(words: list[str], offered: set[str], shell_env: dict[str, str], tmp_path: Path,
              capsys: pytest.CaptureFixture[str]) -> None:
    path = script("fish", tmp_path, capsys)
    line = " ".join(words)
    out = subprocess.run(["fish", "--no-config", "-c", f"source {path}; complete -C '{line}'"],
                         env=shell_env, capture_output=True, text=True, check=True).stdout
    assert offered <= {row.split("\t")[0] for row in out.splitlines()}, out
