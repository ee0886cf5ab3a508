"""Where the rows of a replayed session are in its file, recorded while the file streams
(no second pass, no second parse). ``RowIndex`` keeps a checkpoint every
:data:`EVERY` rows (its offset, and the running maximum of the times before it): about
16 bytes per 256 rows, so a million-row session costs ~64 KB here, not ~20 MB.

``locate(session, index, epoch_ms)`` finds the first row whose running time maximum reaches
``epoch_ms`` (bisecting the checkpoints, then reading at most one checkpoint's rows);
``rows_from(session, index, row)`` reads the recorded rows again from ``row`` on, from the
checkpoint before it: by byte offset in JSONL and CSV, from the nearest resume point of a
gzip stream (:mod:`.gzip_points`, kept while the file streamed), by position (a block of
row groups) in Parquet. Any source that gives rows with a position it can re-read from fits
the same shape.
"""

from __future__ import annotations

import csv
import io
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

import orjson

from flux_tui.data.formats import CSV_COLUMNS, reading_from_csv, reading_from_json
from flux_tui.data.session.read import (
    MAX_LINE,
    SessionFile,
    _CsvLines,
    _reason,
    _safe_rows,
    iter_lines,
    open_session,
)
from flux_tui.feed.types import Reading

__all__ = ["EVERY", "MISSING_MS", "RowIndex", "locate", "positioned", "rows_from"]

MISSING_MS = -(2**63)


EVERY = 256  # rows between checkpoints


class RowIndex:
    """Checkpoints of the rows read so far: ``offsets[k]`` is where row ``k * EVERY``
    starts in the (decompressed) file, ``before[k]`` the running maximum of the times of
    the rows before it (file order is arrival order, so interleaved shards may step back a
    little; the maximum never does)."""

    def __init__(self) -> None:
        self.offsets = array("Q")
        self.before = array("q")
        self.count = 0
        self.high = MISSING_MS  # the running maximum so far
        self.start_ms: int | None = None  # the earliest time seen
        self.complete = False  # the whole file has been read

    def __len__(self) -> int:
        return self.count

    def add(self, offset: int, epoch_ms: int | None) -> None:
        if not self.count % EVERY:
            self.offsets.append(offset)
            self.before.append(self.high)
        if epoch_ms is not None:
            self.high = max(self.high, epoch_ms)
            if self.start_ms is None or epoch_ms < self.start_ms:
                self.start_ms = epoch_ms
        self.count += 1

    @property
    def end_ms(self) -> int | None:
        """The latest time seen."""
        return None if self.high == MISSING_MS else self.high

    def checkpoint_for(self, epoch_ms: int) -> int:
        """The last checkpoint that starts before the time reaches ``epoch_ms``."""
        return max(0, bisect_left(self.before, epoch_ms) - 1)

    @property
    def nbytes(self) -> int:
        return sum(a.itemsize * len(a) for a in (self.offsets, self.before))


def positioned(session: SessionFile) -> Iterator[tuple[int, int, Reading]]:
    """``(offset, length, reading)`` for every readable reading, in file order. Damaged
    lines are skipped into ``session.problems``, exactly as ``iter_readings`` does."""
    if session.format == "csv":
        for _, offset, end, reading in session.iter_csv():
            yield offset, end - offset, reading
        return
    if session.format != "jsonl":  # Parquet: the position in its time order
        yield from _by_position(session, 0)
        return
    problems = session.problems
    loads = orjson.loads
    for line_no, offset, line, complete in session.lines():
        if not line.strip():
            continue
        try:
            reading = reading_from_json(loads(line))
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as error:
            problems.append((line_no, _reason(error, complete)))
            continue
        yield offset, len(line), reading


def locate(session: SessionFile, index: RowIndex, epoch_ms: int) -> int:
    """The first recorded row whose running time maximum reaches ``epoch_ms`` (the count of
    rows when none does)."""
    k = index.checkpoint_for(epoch_ms)
    high = index.before[k] if len(index.before) else MISSING_MS
    for row, reading in rows_from(session, index, k * EVERY):
        ms = reading.epoch_ms
        if ms is not None and ms > high:
            high = ms
        if high >= epoch_ms:
            return row
    return len(index)


def rows_from(session: SessionFile, index: RowIndex, row: int) -> Iterator[tuple[int, Reading]]:
    """``(row, reading)`` for the recorded rows from ``row`` on, read from the checkpoint
    before it (``session`` is the one the rows were recorded from: its CSV column order and
    gzip resume points)."""
    row = max(0, row)
    if row >= len(index):
        return
    k = row // EVERY
    start = index.offsets[k]
    readings: Iterator[Reading]
    if session.format == "jsonl":
        readings = _jsonl_from(session, start)
    elif session.format == "csv":
        readings = _csv_from(session, start)
    else:
        readings = (reading for _, _, reading in _by_position(session, start))
    for number, reading in enumerate(readings, k * EVERY):
        if number >= len(index):
            return
        if number >= row:
            yield number, reading


def _jsonl_from(session: SessionFile, offset: int) -> Iterator[Reading]:
    """The readable readings of a JSONL session from (decompressed) byte ``offset``, a row's
    start. Damaged lines are skipped: they were reported when first read."""
    loads = orjson.loads
    for _, _, line, _ in iter_lines(session.path, session.compressed, [],
                                    points=session.gzip_points, start=offset):
        if not line.strip():
            continue
        try:
            yield reading_from_json(loads(line))
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
            continue


def _csv_from(session: SessionFile, offset: int) -> Iterator[Reading]:
    """The readable rows of a CSV session from (decompressed) byte ``offset``, a row's start
    past the header (whose column order ``session.csv_order`` keeps); the rows ``iter_csv``
    skipped are skipped alike."""
    if offset == 0:  # the header first: iter_csv reads it
        yield from (reading for *_, reading in open_session(session.path).iter_csv())
        return
    lines = _CsvLines(iter_lines(session.path, session.compressed, [],
                                 points=session.gzip_points, start=offset))
    csv.field_size_limit(MAX_LINE)
    order, guarded = session.csv_order, session.csv_guarded
    for cells in _safe_rows(csv.reader(lines), lines, []):
        if not cells or cells == [""] or len(cells) < len(CSV_COLUMNS):
            continue
        try:
            yield reading_from_csv([cells[i] for i in order] if order else cells,
                                   guarded=guarded)
        except (ValueError, TypeError, orjson.JSONDecodeError):
            continue


def _by_position(session: Any, start: int) -> Iterator[tuple[int, int, Reading]]:
    """``(position, 0, reading)`` of a session read by position (Parquet: ``reading_at``
    converts a block of its time order at a time, from the row groups that block needs)
    from ``start`` on; unreadable rows are skipped."""
    reading_at = getattr(session, "reading_at", None)
    if reading_at is None:  # a kind that cannot be read by position: from its start again
        for number, reading in enumerate(session.iter_readings()):
            if number >= start:
                yield number, 0, reading
        return
    for place in range(start, len(session)):
        reading = reading_at(place)
        if reading is not None:
            yield place, 0, reading


def _decode(session: SessionFile, data: bytes) -> Reading:
    if session.format == "csv":
        cells = next(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))
        order = session.csv_order
        return reading_from_csv([cells[i] for i in order] if order else cells)
    return reading_from_json(orjson.loads(data))
