"""`record --out x.parquet` against the simulator, and `open` on Parquet from the command line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flux_tui.cli.main import main
from flux_tui.data.session import open_session

COLUMNS = {
    "time_utc": pa.timestamp("ms", tz="UTC"), "epochMs": pa.int64(), "rtms": pa.int64(),
    "orgId": pa.int64(), "siteId": pa.int64(), "assetId": pa.int64(), "tagId": pa.int64(),
    "registerId": pa.int64(), "tagName": pa.string(), "label": pa.string(),
    "val": pa.float64(), "pk": pa.string(), "_shard": pa.string(), "_seq": pa.string(),
    "_sub": pa.int64(), "_arrival": pa.float64(), "extra": pa.string(),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_RATE_LIMIT", "FLUX_PAGE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("short_demo_history")
def test_record_to_parquet_against_the_simulator(tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    argv = ["record", "--profile", "demo", "--from", "trim-horizon", "--until-caught-up",
            "--count", "300", "--out", str(out)]
    assert main(argv) == 0
    table = pq.read_table(out)  # pyarrow itself, no flux-tui code
    assert {field.name: field.type for field in table.schema} == COLUMNS
    assert table.num_rows == 300
    assert table.column("_shard").null_count == 0 and table.column("epochMs").null_count == 0
    assert pa.compute.min(table.column("val")).as_py() is not None
    recorded = list(open_session(out).iter_readings())
    assert len(recorded) == 300
    assert [r.epoch_ms for r in recorded] == sorted(table.column("epochMs").to_pylist())
    meta = open_session(out).metadata
    assert meta["complete"] is True and meta["data_format"] == "parquet"
    assert meta["rows_in_file"] == 300


def test_record_refuses_to_replace_a_parquet_file(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.parquet"
    out.write_bytes(b"keep")
    argv = ["record", "--profile", "demo", "--count", "5", "--out", str(out)]
    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"keep"


def test_open_a_folder_that_is_not_a_session_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "nothing").mkdir()
    assert main(["open", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert "cannot open" in err and "no .parquet files" in err

