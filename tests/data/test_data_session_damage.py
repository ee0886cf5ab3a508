"""Damaged sessions open anyway (problems reported, lines skipped), and a failing disk stops
a recording with SessionWriteError without losing what was already flushed."""

from __future__ import annotations

import errno
import gzip
import os
import sys
from pathlib import Path

import pytest
from test_data_session import make_readings  # same folder: pytest puts it on sys.path

from flux_tui.base.errors import FluxError
from flux_tui.data.session import SessionWriteError, SessionWriter, open_session

TRUNCATED = "truncated last line (the recording was interrupted)"


def record(path: Path, count: int = 10) -> list:  # type: ignore[type-arg]
    readings = make_readings(count)
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    return readings


@pytest.mark.parametrize("suffix", ["jsonl", "csv"])
def test_truncated_last_line_is_reported_and_skipped(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t.{suffix}"
    readings = record(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 25])  # cut inside the last line
    session = open_session(path)
    assert list(session.iter_readings()) == readings[:-1]
    assert len(session.problems) == 1
    line_no, reason = session.problems[0]
    assert reason == TRUNCATED and line_no >= 10
    with open_session(path).index() as index:
        assert list(index.readings()) == readings[:-1]
        assert index.problems[0][1] == TRUNCATED


def test_a_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    readings = record(path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    session = open_session(path)
    assert list(session.iter_readings()) == readings and session.problems == []


def test_corrupt_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    readings = record(path, 6)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = b'{"val": 1, "_shard": "s"\n'  # cut JSON
    lines[3] = b'{"val": 2}\n'  # JSON, but no identity
    lines.insert(4, b"\n")  # blank lines are not problems
    lines.insert(5, b"[1, 2]\n")
    lines.insert(6, b'{"_shard": "s", "_seq": "1", "_sub": "x"}\n')
    lines.insert(7, b'{"_shard": "s", "_seq": "1", "_arrival": "soon"}\n')
    lines.insert(8, b"\xff\xfe garbage\n")
    path.write_bytes(b"".join(lines))
    session = open_session(path)
    assert list(session.iter_readings()) == [readings[0], readings[2], readings[4], readings[5]]
    assert [number for number, _ in session.problems] == [2, 4, 6, 7, 8, 9]
    assert all(reason.startswith("unreadable") for _, reason in session.problems)
    with open_session(path).index() as index:
        assert list(index.readings()) == [readings[0], readings[2], readings[4], readings[5]]
        assert [number for number, _ in index.problems] == [2, 4, 6, 7, 8, 9]


def test_corrupt_csv_row_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    readings = record(path, 4)
    text = path.read_text().split("\n")
    text.insert(2, "only,three,columns")
    text.insert(3, "\0")
    path.write_text("\n".join(text))
    session = open_session(path)
    assert list(session.iter_readings()) == readings
    assert [number for number, _ in session.problems] == [3, 4]


@pytest.mark.parametrize("suffix", ["jsonl.gz", "csv.gz"])
def test_gzip_killed_mid_write_leaves_a_readable_prefix(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"k.{suffix}"
    readings = make_readings(200)
    writer = SessionWriter(path, metadata={})
    writer.write(readings[:150])
    writer.flush()
    writer.write(readings[150:])  # written to the gzip stream but never flushed
    killed = tmp_path / f"killed.{suffix}"
    killed.write_bytes(path.read_bytes())  # the bytes a killed process leaves behind
    session = open_session(killed)
    assert list(session.iter_readings()) == readings[:150]
    assert session.problems == [(0, "the compressed data ends early (recording interrupted)")]
    with pytest.raises(EOFError):  # the standard library alone would refuse it
        gzip.decompress(killed.read_bytes())
    with open_session(killed).index() as index:
        assert list(index.readings()) == readings[:150]
    writer.close()


def test_gzip_cut_in_the_middle_of_a_block(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl.gz"
    readings = record(path, 300)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    session = open_session(path)
    got = list(session.iter_readings())
    assert got == readings[: len(got)]  # a clean prefix, whatever its length
    assert any("ends early" in reason for _, reason in session.problems)


def test_corrupt_gzip_data_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    record(path, 50)
    data = bytearray(path.read_bytes())
    data[30:60] = b"\xff" * 30
    path.write_bytes(bytes(data))
    session = open_session(path)
    list(session.iter_readings())
    assert any("corrupt compressed data" in reason for _, reason in session.problems)


def test_concatenated_gzip_members_read_as_one(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    readings = make_readings(20)
    with SessionWriter(first, metadata={}) as writer:
        writer.write(readings[:10])
    with SessionWriter(second, metadata={}) as writer:
        writer.write(readings[10:])
    joined = tmp_path / "joined.jsonl.gz"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    session = open_session(joined)
    assert list(session.iter_readings()) == readings and session.problems == []


def test_full_disk_stops_the_recording_with_a_clear_error(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full (Linux)")
    path = tmp_path / "full.jsonl"
    path.symlink_to("/dev/full")
    writer = SessionWriter(path, metadata={}, overwrite=True)
    with pytest.raises(SessionWriteError, match="the disk is full") as caught:
        writer.write(make_readings(100))
        writer.flush()
    assert isinstance(caught.value, FluxError) and isinstance(caught.value, OSError)
    assert writer.closed
    with pytest.raises(SessionWriteError, match="closed"):
        writer.write(make_readings(1))
    writer.close()  # closing a stopped writer is harmless


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "csv"])
def test_disk_error_after_a_flush_keeps_what_was_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = tmp_path / f"e.{suffix}"
    readings = make_readings(60)
    writer = SessionWriter(path, metadata={})
    writer.write(readings[:30])
    writer.flush()

    data_fd = writer._raw.fileno()
    real_fsync = os.fsync

    def no_space(fd: int) -> None:  # the data file's disk fills; the sidecar still fits
        if fd == data_fd and not writer.closed:  # (a closed fd's number gets reused)
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", no_space)
    writer.write(readings[30:])
    with pytest.raises(SessionWriteError, match="the disk is full.*60 readings written") as caught:
        writer.flush()
    assert isinstance(caught.value.__cause__, OSError)
    assert writer.closed
    monkeypatch.undo()
    session = open_session(path)
    assert list(session.iter_readings())[:30] == readings[:30]
    assert session.metadata["complete"] is False
    assert session.metadata["error"].startswith("the disk is full")


def test_unwritable_folder(tmp_path: Path) -> None:
    if sys.platform == "linux" and os.geteuid() == 0:
        target = Path("/sys/flux-tui-test.jsonl")  # refused even to root
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
        target = folder / "r.jsonl"
    with pytest.raises(SessionWriteError, match="permission denied"):
        SessionWriter(target, metadata={})


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SessionWriteError, match="folder does not exist"):
        SessionWriter(tmp_path / "nope" / "r.csv", metadata={})
