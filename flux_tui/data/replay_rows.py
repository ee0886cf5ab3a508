"""Where each played reading of a replayed session is in its file, recorded while the file
streams (no second pass, no second parse): ``RowIndex`` keeps 20 bytes a row (offset,
length, and the running maximum of the times, which seeking bisects).

``positioned(session)`` streams ``(offset, length, reading)``; ``rows_from(session, index,
row)`` reads the recorded rows again from ``row`` on: one ``pread`` a row for a plain file,
a fresh stream that skips to the row for a compressed one. Any source that can give rows
with a position and re-read from one (another format) fits the same shape.
"""

from __future__ import annotations

import csv
import io
import os
from array import array
from bisect import bisect_left
from collections.abc import Iterator

import orjson

from flux_tui.data.formats import reading_from_csv, reading_from_json
from flux_tui.data.session_read import SessionFile, _reason, iter_lines
from flux_tui.feed.types import Reading

__all__ = ["MISSING_MS", "RowIndex", "positioned", "rows_from"]

MISSING_MS = -(2**63)


class RowIndex:
    """The rows played so far: ``offsets``/``lengths`` in the (decompressed) file and
    ``reached``, the running maximum of their times (file order is arrival order, so
    interleaved shards may step back a little; the maximum never does)."""

    def __init__(self) -> None:
        self.offsets = array("Q")
        self.lengths = array("I")
        self.reached = array("q")
        self.start_ms: int | None = None  # the earliest time seen
        self.complete = False  # the whole file has been read

    def __len__(self) -> int:
        return len(self.offsets)

    def add(self, offset: int, length: int, epoch_ms: int | None) -> None:
        high = self.reached[-1] if self.reached else MISSING_MS
        if epoch_ms is not None:
            high = max(high, epoch_ms)
            if self.start_ms is None or epoch_ms < self.start_ms:
                self.start_ms = epoch_ms
        self.offsets.append(offset)
        self.lengths.append(length)
        self.reached.append(high)

    @property
    def end_ms(self) -> int | None:
        """The latest time seen."""
        return None if not self.reached or self.reached[-1] == MISSING_MS else self.reached[-1]

    def row_at(self, epoch_ms: int) -> int:
        """The first row whose time reaches ``epoch_ms`` (len() when none has yet)."""
        return bisect_left(self.reached, epoch_ms)

    @property
    def nbytes(self) -> int:
        return sum(a.itemsize * len(a) for a in (self.offsets, self.lengths, self.reached))


def positioned(session: SessionFile) -> Iterator[tuple[int, int, Reading]]:
    """``(offset, length, reading)`` for every readable reading, in file order. Damaged
    lines are skipped into ``session.problems``, exactly as ``iter_readings`` does."""
    if session.format == "csv":
        for _, offset, end, reading in session.iter_csv():
            yield offset, end - offset, reading
        return
    problems = session.problems
    loads = orjson.loads
    for line_no, offset, line, complete in iter_lines(session.path, session.compressed,
                                                      problems):
        if not line.strip():
            continue
        try:
            reading = reading_from_json(loads(line))
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as error:
            problems.append((line_no, _reason(error, complete)))
            continue
        yield offset, len(line), reading


def rows_from(session: SessionFile, index: RowIndex, row: int) -> Iterator[tuple[int, Reading]]:
    """``(row, reading)`` for the recorded rows from ``row`` on."""
    if session.compressed:  # no offsets into a gzip stream: read it again, skip to the row
        fresh = SessionFile(session.path)
        for number, (_, _, reading) in enumerate(positioned(fresh)):
            if number >= len(index):
                return
            if number >= row:
                yield number, reading
        return
    with open(session.path, "rb") as handle:
        fd = handle.fileno()
        for number in range(row, len(index)):
            data = os.pread(fd, index.lengths[number], index.offsets[number])
            yield number, _decode(session, data)


def _decode(session: SessionFile, data: bytes) -> Reading:
    if session.format == "csv":
        cells = next(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))
        order = session.csv_order
        return reading_from_csv([cells[i] for i in order] if order else cells)
    return reading_from_json(orjson.loads(data))
