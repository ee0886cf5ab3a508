"""Opening a saved session: metadata from the sidecar, readings streamed line by line.

Nothing here is fatal for damaged data: a corrupt line, a truncated last line or a gzip
stream cut short by a killed process is recorded in ``problems`` as ``(line_no, reason)``
and skipped. Large files are indexed column-wise by :mod:`.index`.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from flux_tui.data.formats import CSV_COLUMNS, reading_from_csv, reading_from_json
from flux_tui.data.session.gzip_points import GzipPoints, inflate, inflate_from
from flux_tui.data.session.index import SessionIndex
from flux_tui.data.session.write import session_format, sidecar_path
from flux_tui.feed.types import Reading

__all__ = ["SessionFile", "iter_lines", "open_session"]

CHUNK = 1 << 20
POINT_FEED = 64 << 10  # compressed bytes fed at a time while gzip resume points are kept
MAX_LINE = 16 << 20  # a session line is one reading (≤ 1 MiB record, a few KB in practice)

Problem = tuple[int, str]


def _chunks(path: Path, compressed: bool, problems: list[Problem],
            points: GzipPoints | None = None, start: int = 0) -> Iterator[bytes]:
    """The file's (decompressed) bytes in chunks of at most :data:`CHUNK`, from (decompressed)
    byte ``start`` on. A gzip stream that ends early (no trailer: the writer was killed) just
    ends; corrupt compressed data ends it with a problem. Inflating is bounded per step (1 MB
    of gzip can hold 1 GB of newlines: it comes out a chunk at a time, never all at once).
    ``points`` collects resume points while a gzip file is read from its start, and lets a
    later read start near ``start`` (:mod:`.gzip_points`)."""
    if start:
        if compressed:
            yield from inflate_from(path, start, points, CHUNK)
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            while chunk := handle.read(CHUNK):
                yield chunk
        return
    with open(path, "rb") as handle:
        if not compressed:
            while chunk := handle.read(CHUNK):
                yield chunk
            return
        step = CHUNK if points is None else min(CHUNK, points.spacing)  # a chance per step
        # A copied inflater keeps its unread input alive (``unconsumed_tail``): with resume
        # points, feed it small pieces so each point holds at most one.
        feed = CHUNK if points is None else POINT_FEED
        try:
            whole = yield from inflate(handle, feed=feed, step=step, points=points)
        except zlib.error as error:
            problems.append((0, f"corrupt compressed data: {error}; the rest is skipped"))
            return
        if not whole:
            problems.append((0, "the compressed data ends early (recording interrupted)"))


def iter_lines(
    path: Path, compressed: bool, problems: list[Problem], *,
    points: GzipPoints | None = None, start: int = 0,
) -> Iterator[tuple[int, int, bytes, bool]]:
    """``(line_no, offset, line, complete)`` for every line, 1-based numbers, offsets in the
    decompressed bytes, the newline removed; ``complete`` is False only for a last line
    without a newline. From byte ``start`` (a line's start; ``points``: see :func:`_chunks`)
    the numbers count from there.

    Linear in the file's size: a line spanning many chunks is joined once, when it ends. A
    line longer than :data:`MAX_LINE` is skipped (a problem says so) without being held.
    """
    line_no, offset = 0, start
    parts: list[bytes] = []  # the pending line's pieces
    size = 0  # the pending line's length so far (also while its bytes are dropped)
    for chunk in _chunks(path, compressed, problems, points, start):
        end = chunk.find(b"\n")
        if end < 0:
            size += len(chunk)
            if size <= MAX_LINE:
                parts.append(chunk)
            else:
                parts.clear()  # too long to keep: only its length is counted
            continue
        size += end
        line_no += 1
        if size <= MAX_LINE:
            parts.append(chunk[:end])
            yield line_no, offset, b"".join(parts), True
        else:
            problems.append((line_no, _too_long(size)))
        offset += size + 1
        lines = chunk[end + 1 :].split(b"\n")
        last = lines.pop()
        for line in lines:  # each shorter than a chunk, so within MAX_LINE
            line_no += 1
            yield line_no, offset, line, True
            offset += len(line) + 1
        parts = [last]
        size = len(last)
    if size > MAX_LINE:
        problems.append((line_no + 1, _too_long(size)))
    elif size:
        yield line_no + 1, offset, b"".join(parts), False


def _too_long(size: int) -> str:
    return f"line of {size:,} bytes skipped (longer than the {MAX_LINE // (1 << 20)} MiB bound)"


class SessionFile:
    """A saved session opened for reading; cheap to create (reads only the sidecar)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format, self.compressed = session_format(path)
        self.problems: list[Problem] = []
        self.csv_order: list[int] | None = None  # set from a CSV header in a different order
        self.gzip_points: GzipPoints | None = None  # set: resume points kept while reading
        self.metadata: dict[str, Any] = self._load_metadata()

    @property
    def csv_guarded(self) -> bool:
        """CSV cells carry the formula guard (a leading ``'``) unless recorded with
        ``--csv-raw``; files without a sidecar are taken as guarded (the default)."""
        return self.metadata.get("csv_formula_guard", True) is not False

    def _load_metadata(self) -> dict[str, Any]:
        minimal: dict[str, Any] = {
            "data_file": self.path.name,
            "data_format": self.format,
            "compressed": self.compressed,
            "sidecar": False,
        }
        sidecar = sidecar_path(self.path)
        try:
            loaded = orjson.loads(sidecar.read_bytes())
        except FileNotFoundError:
            return minimal
        except (OSError, orjson.JSONDecodeError) as error:
            self.problems.append((0, f"metadata file {sidecar.name} unreadable: {error}"))
            return minimal
        if not isinstance(loaded, dict):
            self.problems.append((0, f"metadata file {sidecar.name} is not a JSON object"))
            return minimal
        return {**loaded, "sidecar": True}

    def lines(self) -> Iterator[tuple[int, int, bytes, bool]]:
        """The file's lines (see :func:`iter_lines`); damage goes to :attr:`problems`."""
        return iter_lines(self.path, self.compressed, self.problems, points=self.gzip_points)

    @staticmethod
    def line_problem(error: Exception, complete: bool) -> str:
        """What to say about a line that did not read as a reading."""
        return _reason(error, complete)

    def index(self) -> SessionIndex:
        """Load every reading into compact columns (see :class:`SessionIndex`)."""
        return SessionIndex.load(self)

    def iter_readings(self) -> Iterator[Reading]:
        """Every readable reading, in file order, streamed (memory does not grow with the
        file). Damaged lines are skipped and added to :attr:`problems`."""
        if self.format == "csv":
            for *_, reading in self.iter_csv():
                yield reading
            return
        problems = self.problems
        loads = orjson.loads
        for line_no, _, line, complete in iter_lines(self.path, self.compressed, problems):
            if not line.strip():
                continue
            try:
                yield reading_from_json(loads(line))
            except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as error:
                problems.append((line_no, _reason(error, complete)))

    def iter_csv(
        self, tee: Callable[[bytes], object] | None = None
    ) -> Iterator[tuple[int, int, int, Reading]]:
        """``(line_no, offset, end_offset, reading)`` for each CSV row (a row may span lines
        when a value holds a newline). The header may order the known columns differently
        (:attr:`csv_order` then maps them). ``tee`` receives the decompressed bytes."""
        problems = self.problems
        lines = iter_lines(self.path, self.compressed, problems, points=self.gzip_points)
        rows = _CsvLines(_teed(lines, tee) if tee is not None else lines)
        csv.field_size_limit(MAX_LINE)  # the default 128 KiB would refuse rows we wrote
        reader = csv.reader(rows)
        guarded = self.csv_guarded
        order: list[int] | None = None
        for row in _safe_rows(reader, rows, problems):
            if order is None:
                missing = [name for name in CSV_COLUMNS if name not in row]
                if missing:
                    problems.append((rows.row_line, f"not a session CSV header (no {missing[0]})"))
                    return
                order = [row.index(name) for name in CSV_COLUMNS]
                self.csv_order = None if row == list(CSV_COLUMNS) else order
                continue
            if not row or row == [""]:
                continue
            try:
                if len(row) < len(order):
                    raise ValueError(f"{len(row)} of {len(CSV_COLUMNS)} columns")
                reading = reading_from_csv([row[i] for i in order], guarded=guarded)
                yield rows.row_line, rows.row_offset, rows.row_end, reading
            except (ValueError, TypeError, orjson.JSONDecodeError) as error:
                problems.append((rows.row_line, _reason(error, rows.complete)))


def _teed(
    lines: Iterator[tuple[int, int, bytes, bool]], tee: Callable[[bytes], object]
) -> Iterator[tuple[int, int, bytes, bool]]:
    for item in lines:
        tee(item[2] + b"\n" if item[3] else item[2])
        yield item


def _reason(error: Exception, complete: bool) -> str:
    if not complete:
        return "truncated last line (the recording was interrupted)"
    return f"unreadable: {error}"


class _CsvLines:
    """Feeds decoded lines to ``csv.reader`` and remembers where the current row began."""

    def __init__(self, lines: Iterator[tuple[int, int, bytes, bool]]) -> None:
        self.lines = lines
        self.row_line = 0
        self.row_offset = 0
        self.row_end = 0
        self.complete = True
        self.at_row_start = True

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line_no, offset, line, complete = next(self.lines)
        if self.at_row_start:
            self.row_line, self.row_offset = line_no, offset
            self.at_row_start = False
        self.complete = complete
        self.row_end = offset + len(line) + (1 if complete else 0)
        return line.decode("utf-8", "replace") + ("\n" if complete else "")


def _safe_rows(reader: Any, rows: _CsvLines, problems: list[Problem]) -> Iterator[list[str]]:
    """csv.reader's rows; a malformed row (csv.Error) is reported and the reading goes on."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.append((rows.row_line, f"unreadable: {error}"))
            rows.at_row_start = True
            continue
        yield row
        rows.at_row_start = True


OPENERS: list[Callable[[Path], Any]] = []
"""Other kinds of session (``flux_tui/data/__init__.py`` registers Parquet): each takes the
path and returns a session of :class:`SessionFile`'s shape, or None when it is not its kind.
A registry rather than an import, so this module does not import the readers that import
it back (through the index)."""


def open_session(path: str | os.PathLike[str]) -> SessionFile:
    """Open a session file (JSONL or CSV, optionally .gz; Parquet: a file or a folder, see
    :mod:`parquet_read`). Raises ``FileNotFoundError`` / ``PermissionError`` when the data
    file cannot be opened."""
    data = Path(path)
    for opener in OPENERS:
        session = opener(data)
        if session is not None:
            return session  # type: ignore[no-any-return]  # SessionFile's shape
    with open(data, "rb"):
        pass  # fail now, with the OS's own message, rather than at the first iteration
    return SessionFile(data)
