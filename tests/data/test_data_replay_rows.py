"""The replay's row index: checkpoints recorded while the file streams, exact seeking by
time, re-reading from any row (JSONL and CSV by byte offset, gzip from a resume point,
Parquet by position)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.session.gzip_points import GzipPoints
from flux_tui.data.session.read import open_session
from flux_tui.data.session.recorder import open_writer
from flux_tui.data.session.replay_rows import (
    EVERY,
    MISSING_MS,
    RowIndex,
    locate,
    positioned,
    rows_from,
)

T0 = 1_764_590_000_000


def _readings(count: int) -> list:  # type: ignore[type-arg]
    rng = random.Random(5)
    out = []
    for n in range(count):  # times step back a little now and then (interleaved shards)
        ms = T0 + n * 100 - rng.choice([0, 0, 0, 250])
        out.append(reading_from_payload("shardId-0", str(1000 + n), 0, 0.0, {
            "epochMs": ms, "val": n * 0.5, "tagId": n % 7, "assetId": 1111, "label": "x"}))
    return out


NAMES = ["s.jsonl", "s.jsonl.gz", "s.csv", "s.csv.gz", "s.parquet"]


def _record(session: Any) -> tuple[RowIndex, list]:  # type: ignore[type-arg]
    index = RowIndex()
    got = []
    for offset, _, reading in positioned(session):
        index.add(offset, reading.epoch_ms)
        got.append(reading)
    index.complete = True
    return index, got


@pytest.mark.parametrize("name", NAMES)
def test_locate_and_rows_from_agree_with_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    readings = _readings(3 * EVERY + 40)
    with open_writer(path, metadata={}) as writer:
        writer.write(readings)
    if name in ("s.jsonl", "s.csv"):  # a damaged line and a blank one: skipped alike
        lines = path.read_bytes().split(b"\n")
        lines.insert(300, b'{"broken' if name == "s.jsonl" else b'x,y')
        lines.insert(500, b"")
        path.write_bytes(b"\n".join(lines))
    if name.endswith(".parquet"):  # Parquet gives its readings in time order
        readings.sort(key=lambda r: r.epoch_ms)
    session = open_session(path)
    if session.compressed:
        session.gzip_points = GzipPoints(spacing=4096)  # many points in a small file
    index, got = _record(session)
    assert got == readings and len(index) == len(readings)
    assert index.nbytes < 200
    running = []
    high = MISSING_MS
    for r in readings:
        high = max(high, r.epoch_ms)
        running.append(high)
    for target in (T0 - 5, T0, T0 + 100 * 255 + 1, T0 + 100 * 300 - 200, T0 + 100 * 700,
                   running[-1], running[-1] + 1):
        expected = next((row for row, h in enumerate(running) if h >= target), len(readings))
        assert locate(session, index, target) == expected
    for row in (0, 1, EVERY - 1, EVERY, EVERY + 1, 2 * EVERY + 17, len(readings) - 1):
        assert [r for _, r in rows_from(session, index, row)] == readings[row:]
    assert len(session.problems) == (1 if name in ("s.jsonl", "s.csv") else 0)  # once


@pytest.mark.parametrize("name", NAMES)
def test_rows_from_does_not_read_the_file_again_from_its_start(tmp_path: Path,
                                                               name: str) -> None:
    """Once the rows were recorded, the file's first part is spoilt: reading again from the
    start would fail, so rows after it can only come by offset, resume point or position."""
    path = tmp_path / name
    readings = _readings(40 * EVERY)
    with open_writer(path, metadata={}) as writer:
        writer.write(readings)
    if name.endswith(".parquet"):
        readings.sort(key=lambda r: r.epoch_ms)
    session = open_session(path)
    if session.compressed:
        session.gzip_points = GzipPoints(spacing=64 << 10)
    index, got = _record(session)
    assert got == readings
    if name.endswith(".parquet"):
        session._blocks.clear()  # type: ignore[attr-defined]  # nothing converted is kept
        session.iter_readings = None  # type: ignore[method-assign]  # no re-reading at all
    else:
        data = bytearray(path.read_bytes())
        data[10:4000] = b"#" * 3990  # the header, the first lines, the first deflate blocks
        path.write_bytes(bytes(data))
    row = 30 * EVERY + 5
    assert [r for _, r in rows_from(session, index, row)] == readings[row:]
    assert locate(session, index, readings[row].epoch_ms) <= row


def test_gzip_points_stay_bounded_and_resume_exactly(tmp_path: Path) -> None:
    import gzip

    from flux_tui.data.session.gzip_points import inflate_from
    from flux_tui.data.session.read import iter_lines

    rng = random.Random(7)
    text = b"".join(b"%d %s\n" % (n, bytes(rng.choice(b"abcdef") for _ in range(rng.randrange(80))))
                    for n in range(40_000))
    path = tmp_path / "t.gz"
    half = len(text) // 2  # two members, as `cat a.gz b.gz` makes
    path.write_bytes(gzip.compress(text[:half]) + gzip.compress(text[half:]))
    points = GzipPoints(spacing=8 << 10, limit=6)
    lines = list(iter_lines(path, True, [], points=points))
    assert b"\n".join(line for _, _, line, _ in lines) + b"\n" == text
    assert 3 <= len(points) <= 6 and points.spacing > 8 << 10  # thinned, spread out
    assert points.outs[-1] > len(text) // 2  # ...over the whole file
    for offset in (0, 1, 8191, len(text) // 3, half, half + 5, len(text) - 3, len(text)):
        assert b"".join(inflate_from(path, offset, points, chunk=4096)) == text[offset:]
