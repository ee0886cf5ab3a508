"""`flux-tui export`: every format to every other and back gives the same readings."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from flux_tui.cli.main import main
from flux_tui.data.session import open_session
from flux_tui.data.session.recorder import open_writer
from tests.data.test_data_parquet import write_spark_capture
from tests.data.test_data_session import make_readings

FORMATS = ["jsonl", "jsonl.gz", "csv", "csv.gz", "parquet"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FLUX_TUI_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def write(path: Path, readings: list) -> None:
    with open_writer(path, metadata={"profile": "demo", "company": "acme"}) as writer:
        writer.write(readings)


@pytest.mark.parametrize(("source", "target"), list(itertools.permutations(FORMATS, 2)))
def test_round_trip_is_exact(tmp_path: Path, source: str, target: str) -> None:
    readings = make_readings(240)  # both spellings, every value type, unknown fields
    first = tmp_path / f"a.{source}"
    write(first, readings)
    assert main(["export", str(first), "--to", str(tmp_path / f"b.{target}")]) == 0
    assert main(["export", str(tmp_path / f"b.{target}"), "--to",
                 str(tmp_path / f"c.{source}")]) == 0
    for name in (f"b.{target}", f"c.{source}"):
        session = open_session(tmp_path / name)
        assert list(session.iter_readings()) == readings, name
        assert session.problems == []
    meta = open_session(tmp_path / f"b.{target}").metadata
    assert meta["profile"] == "demo" and meta["source"] == f"a.{source}"


def test_filter_keeps_only_matching_readings(tmp_path: Path) -> None:
    readings = make_readings(100)
    write(tmp_path / "a.jsonl", readings)
    assert main(["export", "a.jsonl", "--to", "b.parquet", "--filter", "asset:1112"]) == 0
    kept = list(open_session(tmp_path / "b.parquet").iter_readings())
    assert kept == [r for r in readings if r.asset_id == 1112] and kept
    assert open_session(tmp_path / "b.parquet").metadata["export_filter"] == "asset:1112"


def test_a_spark_capture_exports_to_jsonl_and_back(tmp_path: Path) -> None:
    write_spark_capture(tmp_path / "capture")
    assert main(["export", "capture", "--to", "c.jsonl"]) == 0
    assert main(["export", "c.jsonl", "--to", "c.parquet"]) == 0
    spark = list(open_session(tmp_path / "capture").iter_readings())
    assert len(spark) == 100
    assert list(open_session(tmp_path / "c.jsonl").iter_readings()) == spark
    assert list(open_session(tmp_path / "c.parquet").iter_readings()) == spark


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "a.jsonl", make_readings(5))
    (tmp_path / "b.csv").write_text("keep")
    assert main(["export", "a.jsonl", "--to", "b.csv"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "b.csv").read_text() == "keep"
    assert main(["export", "a.jsonl", "--to", "b.csv", "--force"]) == 0
    assert main(["export", "a.jsonl", "--to", "x.csv", "--filter", "val>"]) == 2
    assert "--filter" in capsys.readouterr().err
    assert main(["export", "missing.jsonl", "--to", "x.csv"]) == 1
    assert "cannot open" in capsys.readouterr().err
    assert main(["export", "a.jsonl", "--to", "a.jsonl"]) == 2
