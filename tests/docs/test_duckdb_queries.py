"""Every DuckDB query in docs/session-files.md runs against sessions written in each format
and a Spark-style capture folder, and returns rows: the documentation stays true."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from flux_tui.data.session.recorder import open_writer
from tests.data.test_data_parquet import write_spark_capture
from tests.data.test_data_session import make_readings

DOC = Path(__file__).resolve().parents[2] / "docs" / "session-files.md"


def documented_queries() -> list[str]:
    text = DOC.read_text()
    queries = re.findall(r"```sql\n(.*?)```", text, flags=re.DOTALL)
    queries += re.findall(r'^duckdb -c "(.*)"$', text, flags=re.MULTILINE)
    return [query.strip() for query in queries]


def test_the_doc_has_queries_over_every_kind_of_file() -> None:
    text = "\n".join(documented_queries())
    for name in ("pad7.jsonl", "pad7.csv", "pad7.parquet", "capture/"):
        assert name in text, name


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sessions")
    readings = make_readings(300)
    for name in ("pad7.jsonl", "pad7.csv", "pad7.parquet"):
        with open_writer(folder / name, metadata={"profile": "demo"}) as writer:
            writer.write(readings)
    write_spark_capture(folder / "capture")
    return folder


@pytest.mark.parametrize("query", documented_queries())
def test_documented_query_runs(query: str, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files)
    rows = duckdb.sql(query).fetchall()
    assert rows, query
