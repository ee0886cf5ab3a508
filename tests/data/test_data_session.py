"""Session files: every format writes and reopens the same readings, with metadata beside."""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path
from typing import Any

import orjson
import pytest

from flux_tui import __version__
from flux_tui.base.events import Gap
from flux_tui.data.formats import CSV_COLUMNS, reading_from_payload
from flux_tui.data.query import compile_query
from flux_tui.data.session import (
    SessionWriter,
    open_session,
    session_format,
    sidecar_path,
)
from flux_tui.feed.types import Reading

FORMATS = ["jsonl", "jsonl.gz", "csv", "csv.gz"]
T0 = 1_764_424_800_000


def make_readings(
    count: int, *, shard: str = "shardId-000000000000", start: int = 0
) -> list[Reading]:
    """Varied readings: both payload spellings, every value type, unknown fields."""
    readings = []
    for i in range(start, start + count):
        payload: dict[str, Any] = {
            "epochMs": T0 + i * 1000,
            "registerId": 416,
            "val": [38.25, 2, "Running", True, None, -0.001, "2"][i % 7],
            "rtms": T0 + i * 1000 + 567,
            "pk": f"1_333_2222_{1111 + i % 3}_889",
            "tagId": 889 + i % 5,
            "label": ["Suction Pressure", 'Valve, "Loaded"', "Line\nbreak", "Ünïcode ✓"][i % 4],
            "tagName": f"tag_{i % 5}",
            "orgId": 333,
            "siteId": 2222,
            "assetId": 1111 + i % 3,
        }
        if i % 11 == 0:
            payload = {"@timestamp": T0 + i * 1000, "asset_id": "1111", "tag_id": "77",
                       "tag_name": "old", "neptune_id": "n-1", "val": 1.5}  # fmt: skip
        if i % 13 == 0:
            payload["firmware"] = {"v": [1, 2]}
        seq = str(49_600_000_000_000_000_000_000_000_000_000_000_000_000_000 + i)
        readings.append(reading_from_payload(shard, seq, i % 2, 1_764_424_800.125 + i, payload))
    return readings


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("suffix", FORMATS)
def test_write_and_reopen_gives_the_same_readings(tmp_path: Path, suffix: str) -> None:
    readings = make_readings(300)
    path = tmp_path / f"pad7.{suffix}"
    with SessionWriter(path, metadata={"profile": "demo", "company": "acme"}) as writer:
        assert writer.write(readings[:100]) == 100
        assert writer.write(readings[100:]) == 200
        assert writer.count == 300
    session = open_session(path)
    assert list(session.iter_readings()) == readings
    assert session.problems == []
    meta = session.metadata
    assert meta["count"] == 300 and meta["complete"] is True
    assert meta["profile"] == "demo" and meta["company"] == "acme"
    assert meta["app_version"] == __version__
    assert meta["data_format"] == suffix.split(".")[0]
    assert meta["compressed"] is suffix.endswith(".gz")
    assert meta["first_epoch_ms"] == T0 and meta["last_epoch_ms"] == T0 + 299_000
    assert meta["started_at"] and meta["ended_at"] and meta["error"] is None


@pytest.mark.parametrize("first", FORMATS)
@pytest.mark.parametrize("second", FORMATS)
def test_record_open_save_round_trip(tmp_path: Path, first: str, second: str) -> None:
    readings = make_readings(60)
    with SessionWriter(tmp_path / f"a.{first}", metadata={}) as writer:
        writer.write(readings)
    again = list(open_session(tmp_path / f"a.{first}").iter_readings())
    with SessionWriter(tmp_path / f"b.{second}", metadata={}) as writer:
        writer.write(again)
    assert list(open_session(tmp_path / f"b.{second}").iter_readings()) == readings


def test_jsonl_is_plain_json_lines(tmp_path: Path) -> None:
    readings = make_readings(5)
    path = tmp_path / "s.jsonl"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    lines = path.read_bytes().splitlines()
    assert len(lines) == 5
    first = orjson.loads(lines[1])
    assert first["_shard"] == readings[1].shard and first["_seq"] == readings[1].seq
    assert first["label"] == readings[1].label  # the payload's own fields, as they were


def test_csv_has_the_documented_header_and_opens_in_a_csv_reader(tmp_path: Path) -> None:
    path = tmp_path / "s.csv.gz"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(make_readings(20))
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))
    assert len(rows) == 20
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[1]["label"] == 'Valve, "Loaded"' and rows[2]["label"] == "Line\nbreak"


def test_csv_columns_may_be_reordered_by_a_tool(tmp_path: Path) -> None:
    readings = make_readings(10)
    path = tmp_path / "s.csv"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    shuffled = tmp_path / "shuffled.csv"
    with open(shuffled, "w", newline="") as handle:
        csv.writer(handle).writerows([list(reversed(row)) + ["x"] for row in rows])
    session = open_session(shuffled)
    assert list(session.iter_readings()) == readings
    with session.index() as index:
        assert list(index.readings()) == readings


def test_a_csv_without_our_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    session = open_session(path)
    assert list(session.iter_readings()) == []
    assert session.problems == [(1, "not a session CSV header (no time_utc)")]


def test_the_same_reading_is_never_written_twice(tmp_path: Path) -> None:
    readings = make_readings(50)
    path = tmp_path / "d.jsonl"
    with SessionWriter(path, metadata={}) as writer:
        assert writer.write(readings[:30]) == 30
        assert writer.write(readings[20:]) == 20  # an overlapping page
        assert writer.write(readings[5:6] + readings[5:6]) == 0
        other_shard = [r._replace(shard="shardId-000000000001") for r in readings[:3]]
        assert writer.write(other_shard) == 3  # same sequence numbers, another shard
        assert writer.duplicates == 10 + 2
    assert len(list(open_session(path).iter_readings())) == 53
    assert open_session(path).metadata["duplicates_skipped"] == 12


def test_dedupe_accepts_late_readings_and_stays_bounded(tmp_path: Path) -> None:
    readings = make_readings(6000)
    late, rest = readings[4000], readings[:4000] + readings[4001:]
    with SessionWriter(tmp_path / "late.jsonl", metadata={}) as writer:
        assert writer.write(rest) == 5999
        assert writer.write([late]) == 1  # out of order but never written: kept
        assert writer.write([late]) == 0
        assert writer.write(readings[:10]) == 0  # long gone from the window: still refused
        assert len(writer._dedupe.shards["shardId-000000000000"].recent) <= 4096


def test_a_single_reading_may_be_written(tmp_path: Path) -> None:
    readings = make_readings(3)
    with SessionWriter(tmp_path / "one.jsonl", metadata={}) as writer:
        assert writer.write(readings[0]) == 1
        assert writer.write(readings[0]) == 0
        assert writer.write(iter(readings)) == 2
    assert list(open_session(tmp_path / "one.jsonl").iter_readings()) == readings


def test_sub_records_of_one_sequence_number_are_distinct(tmp_path: Path) -> None:
    base = make_readings(1)[0]
    subs = [base._replace(sub=i) for i in range(4)]
    with SessionWriter(tmp_path / "k.csv", metadata={}) as writer:
        assert writer.write(subs) == 4
        assert writer.write(subs) == 0
    assert list(open_session(tmp_path / "k.csv").iter_readings()) == subs


def test_refuses_an_existing_file_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "keep.jsonl"
    path.write_text("precious\n")
    with pytest.raises(FileExistsError, match="already exists"):
        SessionWriter(path, metadata={})
    assert path.read_text() == "precious\n"
    with SessionWriter(path, metadata={}, overwrite=True) as writer:
        writer.write(make_readings(2))
    assert len(list(open_session(path).iter_readings())) == 2


def test_flushes_to_disk_once_a_second_as_readings_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    clock = FakeClock()
    readings = make_readings(40)
    path = tmp_path / "f.jsonl.gz"
    writer = SessionWriter(path, metadata={}, clock=clock)
    start = len(synced)
    writer.write(readings[:10])
    clock.now += 0.5
    writer.write(readings[10:20])
    assert len(synced) == start  # not yet a second
    clock.now += 0.6
    writer.write(readings[20:30])
    assert len(synced) > start  # a second passed: data and sidecar synced
    assert sidecar(path)["count"] == 30
    readable = list(open_session(copy_of(path, tmp_path)).iter_readings())
    assert readable == readings[:30]
    writer.write(readings[30:])
    clock.now += 1.0
    writer.tick()  # no more readings arrive: the timer still gets them to disk
    assert list(open_session(copy_of(path, tmp_path)).iter_readings()) == readings
    writer.close()


def test_tick_does_nothing_when_nothing_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    writer = SessionWriter(tmp_path / "t.jsonl", metadata={}, clock=clock)
    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd))
    clock.now += 5
    writer.tick()
    assert calls == []
    writer.close()
    writer.tick()  # closed: still nothing


def test_sidecar_is_written_at_start_and_holds_gaps(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    writer = SessionWriter(path, metadata={"filter": "asset:1111", "profile": "prd"})
    meta = sidecar(path)
    assert meta["complete"] is False and meta["ended_at"] is None and meta["count"] == 0
    assert meta["filter"] == "asset:1111"
    writer.note_gap(Gap("shardId-1", T0, T0 + 5000, "iterator expired"))
    writer.flush()
    assert sidecar(path)["gaps"] == [
        {"shard": "shardId-1", "start_ms": T0, "end_ms": T0 + 5000, "reason": "iterator expired"}
    ]
    writer.close()
    writer.close()  # twice is harmless
    assert sidecar(path)["complete"] is True
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary behind


def test_metadata_without_a_sidecar_is_minimal(tmp_path: Path) -> None:
    path = tmp_path / "bare.jsonl"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(make_readings(3))
    sidecar_path(path).unlink()
    session = open_session(path)
    assert session.metadata == {
        "data_file": "bare.jsonl", "data_format": "jsonl", "compressed": False, "sidecar": False
    }  # fmt: skip
    assert len(list(session.iter_readings())) == 3


def test_a_broken_sidecar_is_a_problem_not_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(make_readings(3))
    sidecar_path(path).write_text("{not json")
    session = open_session(path)
    assert session.metadata["sidecar"] is False
    assert session.problems and "unreadable" in session.problems[0][1]


def test_format_by_extension() -> None:
    assert session_format("a.jsonl") == ("jsonl", False)
    assert session_format("a.CSV.GZ") == ("csv", True)
    assert session_format("a.ndjson") == ("jsonl", False)
    assert session_format("a") == ("jsonl", False)
    assert sidecar_path("x/a.csv.gz") == Path("x/a.csv.gz.meta.json")


def test_open_missing_file_raises() -> None:
    with pytest.raises(FileNotFoundError):
        open_session("/nonexistent/session.jsonl")


@pytest.mark.parametrize("suffix", FORMATS)
def test_index_filters_and_rereads_full_readings(tmp_path: Path, suffix: str) -> None:
    readings = make_readings(500)
    path = tmp_path / f"i.{suffix}"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    query = compile_query("asset:1112 OR val>10 -label:*break*")
    with open_session(path).index() as index:
        assert len(index) == 500
        rows = index.filter(query)
        assert [index.reading(i) for i in rows] == [r for r in readings if query.matches(r)]
        assert list(index.filter(compile_query(""))) == list(range(500))
        assert [index.value(i) for i in range(7)] == [r.val for r in readings[:7]]
        assert list(index.readings(range(495, 500))) == readings[495:]
        assert index.epoch_ms[3] == readings[3].epoch_ms
        assert 0 < index.nbytes / len(index) < 100
    assert list(open_session(path).index().filter(lambda r: r[8] == 1111)) == [
        i for i, r in enumerate(readings) if r.asset_id == 1111
    ]


def sidecar(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(sidecar_path(path).read_bytes())
    return loaded


def copy_of(path: Path, folder: Path) -> Path:
    """What a reader would find if the writer were killed now (bytes on disk, no close)."""
    target = folder / f"copy-{path.name}"
    target.write_bytes(path.read_bytes())
    return target
