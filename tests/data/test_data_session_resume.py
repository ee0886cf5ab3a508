"""Where a session stopped, from the file itself, and appending to a damaged end."""

from __future__ import annotations

import gzip
from pathlib import Path

from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.session.resume import make_appendable, resume_point
from flux_tui.feed.types import Reading


def reading(shard: str, seq: int, sub: int = 0, arrival: float = 1_700_000_000.0) -> Reading:
    payload = {"epochMs": 1, "tagId": 7, "val": sub}
    return Reading(shard, str(seq), sub, arrival, 1, None, None, None, None, 7, None,
                   "t", "L", sub, payload)  # fmt: skip


def write(path: Path, readings: list[Reading], **kw: object) -> None:
    with SessionWriter(path, metadata={"filter": "asset:1"}, **kw) as writer:  # type: ignore[arg-type]
        writer.write(readings)


def test_positions_are_the_last_reading_of_each_shard_compared_as_integers(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    big = 10**55
    write(path, [reading("a", 990), reading("a", 1000, 0, 1_700_000_001.5),
                 reading("a", 1000, 1, 1_700_000_001.5), reading("b", big, 0, 1_699_999_999.0)])  # fmt: skip
    point = resume_point(path)
    assert point.positions == {"a": (1000, 1, 1_700_000_001_500), "b": (big, 0, 1_699_999_999_000)}
    assert point.since == 1_699_999_999.0 and point.readings == 4
    assert point.metadata["filter"] == "asset:1"


def test_appending_to_a_gzip_adds_a_member_and_keeps_the_sidecar_going(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl.gz"
    write(path, [reading("a", 1), reading("a", 2)])
    write(path, [reading("a", 3)], append=True)
    assert [r.seq for r in open_session(path).iter_readings()] == ["1", "2", "3"]
    meta = open_session(path).metadata
    assert meta["count"] == 3 and meta["resumed"][0]["count_before"] == 2
    assert meta["filter"] == "asset:1"


def test_a_gzip_cut_mid_write_is_rewritten_from_its_complete_lines(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl.gz"
    whole = gzip.compress(b'{"_shard":"a","_seq":"1","tagId":1}\n{"_shard":"a","_seq":"2"')
    path.write_bytes(whole[:-8])  # no trailer: the writer was killed
    assert "1 complete lines" in (make_appendable(path) or "")
    write(path, [reading("a", 5)], append=True)
    assert [r.seq for r in open_session(path).iter_readings()] == ["1", "5"]
    assert make_appendable(path) is None


def test_a_partial_last_line_is_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"_shard":"a","_seq":"1","tagId":1}\n{"_shard":"a","_se')
    assert "partial line" in (make_appendable(path) or "")
    write(path, [reading("a", 5)], append=True)
    assert [r.seq for r in open_session(path).iter_readings()] == ["1", "5"]


def test_csv_resume_writes_no_second_header(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    write(path, [reading("a", 1)])
    write(path, [reading("a", 2)], append=True)
    assert path.read_text().count("time_utc") == 1
    assert [r.seq for r in open_session(path).iter_readings()] == ["1", "2"]
