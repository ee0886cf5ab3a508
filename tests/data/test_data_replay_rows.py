"""The replay's row index: checkpoints recorded while the file streams, exact seeking by
time, re-reading from any row (plain JSONL by offset; gzip and CSV by reading again)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.session import SessionWriter
from flux_tui.data.session.read import open_session
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


@pytest.mark.parametrize("name", ["s.jsonl", "s.jsonl.gz", "s.csv"])
def test_locate_and_rows_from_agree_with_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    readings = _readings(3 * EVERY + 40)
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    if name == "s.jsonl":  # a damaged line and a blank one in the middle: skipped alike
        lines = path.read_bytes().split(b"\n")
        lines.insert(300, b'{"broken')
        lines.insert(500, b"")
        path.write_bytes(b"\n".join(lines))
    session = open_session(path)
    index = RowIndex()
    got = []
    for offset, _, reading in positioned(session):
        index.add(offset, reading.epoch_ms)
        got.append(reading)
    index.complete = True
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
    assert len(session.problems) == (1 if name == "s.jsonl" else 0)  # reported once
