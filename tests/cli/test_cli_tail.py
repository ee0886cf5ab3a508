"""`tail`, `info` and `record` in process against the embedded simulator (the demo profile)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from flux_tui.api import errors
from flux_tui.base.errors import FluxError
from flux_tui.cli.main import main
from flux_tui.cli.output import EXIT_USAGE
from flux_tui.data.formats import CSV_COLUMNS


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FLUX_TUI_CONFIG", "FLUX_PROFILE", "FLUX_RATE_LIMIT", "FLUX_PAGE_LIMIT"):
        monkeypatch.delenv(name, raising=False)


# trim-horizon reads the demo's 2-minute backlog, not its 30 minutes of older history
pytestmark = pytest.mark.usefixtures("short_demo_history")
DEMO = ["tail", "--profile", "demo", "--from", "trim-horizon", "--until-caught-up"]


def test_tail_jsonl_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--count", "40"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 40
    for line in lines:
        row = json.loads(line)
        assert {"_shard", "_seq", "_arrival", "epochMs", "tagName", "val", "assetId"} <= set(row)
        assert row["_shard"].startswith("shardId-") and row["_seq"].isdigit()
    assert len({(json.loads(x)["_shard"], json.loads(x)["_seq"]) for x in lines}) == 40
    summary = captured.err.strip().splitlines()[-1]
    assert summary.startswith("flux-tui: stopped (count): 40 readings")
    assert "decode errors" in summary and "requests" in summary and "429" in summary
    assert "gaps" in summary


def test_tail_until_caught_up_reads_the_backlog_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--page-limit", "5000"]) == 0
    captured = capsys.readouterr()
    keys = [
        (row["_shard"], row["_seq"], row.get("_sub", 0))
        for row in map(json.loads, captured.out.splitlines())
    ]
    assert len(keys) > 1000 and len(keys) == len(set(keys))
    assert "stopped (caught up)" in captured.err
    assert "caught up" in captured.err


def test_tail_csv_has_header_and_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--count", "7", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 8 and all(len(row) == len(CSV_COLUMNS) for row in rows)


def test_tail_table_is_one_line_a_reading(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--count", "5", "--format", "table", "--utc"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(line.strip() for line in lines)


def test_tail_filter_keeps_only_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--count", "20", "--filter", "label:pressure"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 20
    assert all("pressure" in row["label"].lower() for row in rows)
    assert "before the filter" in captured.err


def test_count_without_a_filter_does_not_speak_of_one(capsys: pytest.CaptureFixture[str]) -> None:
    # --count 3 cuts a page of many readings short; no filter hid anything
    assert main([*DEMO, "--count", "3"]) == 0
    err = capsys.readouterr().err
    assert "stopped (count): 3 readings, " in err
    assert "filter" not in err


def test_tail_filter_syntax_error_names_position(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*DEMO, "--filter", "val>"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "key '--filter'" in err and "position 4" in err and "    val>\n        ^" in err


def test_tail_duration_ends_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tail", "--profile", "demo", "--from", "latest", "--duration", "0.3"]) == 0
    assert "stopped (duration)" in capsys.readouterr().err


def test_info_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--profile", "demo"]) == 0
    out = capsys.readouterr().out
    assert "flux-realtime-demo" in out and "ACTIVE" in out
    assert "shardId-000000000000  open" in out
    assert "budget" in out and "of 100 calls left" in out
    assert main(["info", "--profile", "demo", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stream_name"] == "flux-realtime-demo"
    assert [s["closed"] for s in data["shards"]] == [False, False]
    assert data["budget"]["calls"] == 100 and data["budget"]["remaining"] < 100


def test_record_writes_a_session_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flux_tui.data.session import open_session

    out = tmp_path / "pad7.csv"
    argv = ["record", "--profile", "demo", "--until-caught-up", "--count", "300", "--out", str(out)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"saved 300 readings to {out}" in err
    assert sum(1 for _ in open_session(out).iter_readings()) == 300
    meta = json.loads((tmp_path / "pad7.csv.meta.json").read_text())
    assert (meta["profile"], meta["company"], meta["count"]) == ("demo", "demo", 300)
    assert main(argv) == EXIT_USAGE
    assert "already exists" in capsys.readouterr().err
    assert main([*argv, "--force", "--count", "10"]) == 0
    assert sum(1 for _ in open_session(out).iter_readings()) == 10


def test_record_into_a_missing_folder_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["record", "--profile", "demo", "--out", str(tmp_path / "no" / "x.jsonl")])
    assert code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("error", "before_first_answer", "after_it"),
    [
        # a web page where the API should be (wrong base_url, captive portal): stop, exit 5
        (errors.NonJSONResponse(200, "<html><body>hello"), True, False),
        (errors.NonJSONResponse(403, "<HTML><HEAD><TITLE>ERROR"), True, False),
        (errors.NonJSONResponse(502, "<html>Bad Gateway"), False, False),  # may pass
        (errors.ConnectError("refused"), True, False),
        (errors.TimeoutError("slow"), True, False),
        (errors.GatewayServerError("HTTP 502", 502), False, False),
        (errors.ThrottledError("Too Many Requests", 429), False, False),
        (errors.InvalidClientError("wrong secret"), True, True),
        (errors.AuthThrottledError("throttled"), False, False),
    ],
)
def test_which_reader_problems_end_tail(
    error: FluxError, before_first_answer: bool, after_it: bool
) -> None:
    from flux_tui.base.events import FeedProblem
    from flux_tui.cli.tail import ends_run

    assert ends_run(FeedProblem(error, 1.0), reached=False) is before_first_answer
    assert ends_run(FeedProblem(error, 1.0), reached=True) is after_it
    assert ends_run(FeedProblem(error, None), reached=True)  # the reader gave up


def test_tail_table_shows_units_and_state_names_jsonl_stays_raw(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for query, shown in (
        ('label:"suction pressure"', {"psi"}),
        ('label:"run status"', {"Running", "Stopped", "Starting"}),
    ):
        assert main([*DEMO, "--count", "5", "--format", "table", "--filter", query]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 5 and all(line.split()[-1] in shown for line in lines), lines
        assert main([*DEMO, "--count", "5", "--filter", query]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert all(isinstance(row["val"], (int, float)) for row in rows)
