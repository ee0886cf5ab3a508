"""The shipped themes live in the top-level themes/ folder and reach the wheel, the sdist
and the installed package; the package list names every package of the source tree."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"dark.toml", "high-contrast.toml", "light.toml", "monochrome.toml"}


def test_themes_are_at_the_top_level_and_load_from_the_installed_package() -> None:
    from importlib import resources

    from flux_tui.ui.themes import BUNDLED_DIR, load_themes

    assert {p.name for p in (ROOT / "themes").glob("*.toml")} == SHIPPED
    assert not (ROOT / "flux_tui" / "themes").exists()
    assert Path(str(resources.files("flux_tui.themes"))) == BUNDLED_DIR
    assert sorted(load_themes().themes) == ["flux-dark", "flux-high-contrast", "flux-light",
                                            "flux-monochrome"]


def test_every_source_package_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "flux_tui").rglob("__init__.py")}
    assert found <= listed
    assert "flux_tui.themes" in listed


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_themes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(tmp_path),
                    "--no-deps", "-q"], check=True, cwd=tmp_path)
    wheel = next(tmp_path.glob("flux_tui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.rsplit("/", 1)[1] for n in names
            if n.startswith("flux_tui/themes/") and n.endswith(".toml")} == SHIPPED
    code = ("from setuptools import build_meta; import sys; "
            f"print(build_meta.build_sdist({str(tmp_path)!r}))")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    sdist = next(tmp_path.glob("flux_tui-*.tar.gz")) if list(tmp_path.glob("flux_tui-*.tar.gz")) \
        else next(tmp_path.glob("flux-tui-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert {m.rsplit("/", 1)[1] for m in members if "/themes/" in m and m.endswith(".toml")} \
        == SHIPPED


def test_the_readme_theme_example_loads(tmp_path: Path) -> None:
    import re

    from flux_tui.ui.themes import load_themes

    readme = (ROOT / "README.md").read_text()
    example = next(block for block in re.findall(r"```toml\n(.*?)```", readme, re.DOTALL)
                   if block.startswith("# <config folder>/themes/"))
    (tmp_path / "pad-night.toml").write_text(example)
    loaded = load_themes(tmp_path)
    assert loaded.problems == []
    assert loaded.themes["pad-night"].primary == "#4FC3F7"
