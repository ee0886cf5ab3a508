"""Opening Parquet as a session: one file, a folder of part files, or a partitioned dataset
(``date=2026-11-29/part-00000-<uuid>.snappy.parquet``, Spark's ``_SUCCESS`` beside them), in
our schema or in the Spark capture's (:mod:`parquet_format`). Readings come out sorted by
time (ties keep file order), whatever order the files hold them in.

Lazy: opening reads the footers and the one time column, sorts it (a million rows in well
under a second), and converts rows to readings a block at a time, from the few row groups
that block needs (an LRU of Arrow row groups). :class:`ParquetSession` has the shape of
:class:`~flux_tui.data.session.read.SessionFile` (``metadata``, ``problems``,
``iter_readings()``, ``index()``), so replay, seeking and filtering work unchanged.
"""

from __future__ import annotations

import io
import mmap
import struct
import sys
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from flux_tui.base.errors import FluxError
from flux_tui.data.session.index import SessionIndex
from flux_tui.data.session.index_arrow import fill_from_arrow
from flux_tui.data.session.parquet_footer import MAGIC, FooterError, RowGroupFooters, parse_footer
from flux_tui.data.session.parquet_format import (
    FLUX_READ_COLUMNS,
    SPARK_COLUMNS,
    arrow,
    readings_from_flux,
    readings_from_spark,
    release_memory,
)
from flux_tui.data.session.write import sidecar_path
from flux_tui.feed.decoder import timestamp_ms
from flux_tui.feed.types import Reading

__all__ = ["NotASession", "ParquetSession", "is_parquet_source", "open_if_parquet"]

BLOCK = 1024  # readings converted together
_CACHED_BLOCKS = 4  # the viewer's paged log keeps its own lines; a block is ~1 MB of readings
# Blocks played between two releases of freed memory: the C allocator keeps what the
# batches and the readings made from them freed (45 MB after 400,000 readings), and
# gives it back only when asked.
_RELEASE_EVERY = 32
_NONE = 2**63 - 1  # the time of a row without one: sorts last
# Text that repeats: read as dictionaries (memory), in either schema.
_DICTIONARY = ["tagName", "label", "pk", "_shard", "neptune_id", "tag_id", "tag_name"]


class NotASession(FluxError, OSError):
    """The path holds no Parquet this viewer can read; the message says why."""


def is_parquet_source(path: Path) -> bool:
    """A ``.parquet`` name (file or Spark's folder) or any folder."""
    return path.name.lower().endswith(".parquet") or path.is_dir()


def open_if_parquet(path: Path) -> ParquetSession | None:
    """A :class:`ParquetSession` when ``path`` is Parquet (see :func:`is_parquet_source`),
    else None; registered with ``open_session``."""
    if path.exists() and is_parquet_source(path):
        return ParquetSession(path)
    return None


def _part_files(path: Path) -> list[Path]:
    """The data files of a dataset folder: ``*.parquet`` at any depth, skipping names that
    start with ``_`` or ``.`` (``_SUCCESS``, ``_temporary/``, ``.crc`` files), as Spark does."""
    if not path.is_dir():
        return [path]
    found = []
    for file in sorted(path.rglob("*")):
        parts = file.relative_to(path).parts
        if any(part.startswith(("_", ".")) for part in parts):
            continue
        if file.is_file() and file.name.lower().endswith(".parquet"):
            found.append(file)
    return found


def _kind(names: list[str], file: Path) -> str:
    if {"_shard", "_seq", "epochMs", "extra"} <= set(names):
        return "flux"
    if "@timestamp" in names and "val" in names:
        return "spark"
    raise NotASession(f"{file}: neither a flux-tui session (no _shard, _seq, epochMs) nor a "
                      f"Spark capture (no @timestamp, val); columns: {', '.join(names[:12])}")


class ParquetSession:
    """A Parquet session opened for reading (see the module's doc)."""

    format = "parquet"
    compressed = False
    csv_order = None

    def __init__(self, path: Path) -> None:
        pq = arrow()[1]
        self.path = path
        self.problems: list[tuple[int, str]] = []
        files = _part_files(path)
        if not files:
            raise NotASession(f"{path}: no .parquet files in this folder")
        handles = []
        self._files: list[tuple[Path, Any]] = []
        self._file_of: dict[int, Path] = {}
        kinds = set()
        for file in files:
            handle = self._open_file(pq, file)
            kinds.add(_kind(handle.schema_arrow.names, file))
            handles.append(handle)
            self._files.append((file, handle))
            self._file_of[id(handle)] = file
        if len(kinds) > 1:
            raise NotASession(f"{path}: mixes flux-tui sessions and Spark captures")
        self.kind = kinds.pop()
        self._time_column = "epochMs" if self.kind == "flux" else "@timestamp"
        self._groups = [(handle, number) for handle in handles
                        for number in range(handle.metadata.num_row_groups)]
        self._sort()
        self._tables: dict[int, Any] = {}  # row groups in memory, see _table()
        self._blocks: OrderedDict[int, list[Reading | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.metadata = self._load_metadata(len(files))

    def _open_file(self, pq: Any, file: Path) -> Any:
        try:
            handle = pq.ParquetFile(file)
            wanted = _dictionary_columns(handle.schema_arrow.names)
            return pq.ParquetFile(file, metadata=handle.metadata, read_dictionary=wanted)
        except OSError as error:
            raise NotASession(f"cannot read {file}: {error}") from None
        except Exception as error:  # noqa: BLE001 - pyarrow's ArrowInvalid: a damaged file
            recovered = recover(pq, file)
            if recovered is None:
                raise NotASession(f"{file}: not a readable Parquet file ({error})") from None
            rows = recovered.metadata.num_rows
            reason = (f"{file.name}: the footer is missing (recording interrupted); "
                      f"{rows:,} readings recovered from its row groups")
            self.problems.append((0, reason))
            return recovered

    # --- order -----------------------------------------------------------------------------

    def _sort(self) -> None:
        """The time order: a stable sort (ties keep file order; rows without a time last).
        Only the time column is read, a row group at a time. Kept: ``_order``, the row
        numbers (across all row groups) in time order, 4 bytes a row, or None when the
        files are in time order already (a recording, a streaming capture); and each
        block's first and last time (``_edges``, what :meth:`_table` keeps row groups by)."""
        pa, _, pc = arrow()
        chunks: list[Any] = []
        self._starts: list[int] = []  # each row group's first row number
        self._spans: list[tuple[int, int]] = []  # each row group's (first, last) time
        total = 0
        in_order = True
        for handle, number in self._groups:
            times = handle.read_row_group(number, columns=[self._time_column],
                                          use_threads=False).column(0)
            if pa.types.is_timestamp(times.type):
                times = pc.cast(times, pa.timestamp("ms", tz="UTC"), safe=False)
            elif not (pa.types.is_integer(times.type) or pa.types.is_floating(times.type)):
                # Text times (another Spark job's): read as a reading's time is.
                times = pa.chunked_array([pa.array(map(timestamp_ms, times.to_pylist()),
                                                   pa.int64())], pa.int64())
            times = pc.cast(times, pa.int64(), safe=False)
            low, high = (pc.min_max(times)[k].as_py() for k in ("min", "max"))
            self._spans.append((_NONE if low is None else low, _NONE if high is None else high))
            times = pc.fill_null(times, _NONE)
            self._starts.append(total)
            total += len(times)
            for chunk in times.chunks:  # arrays: a list of chunked arrays would be converted
                # value by value (3 s for a million rows)
                in_order = in_order and _ascending(pc, chunk, chunks[-1] if chunks else None)
                chunks.append(chunk)
        known = [span for span in self._spans if span[0] != _NONE]
        self._first_ms = min(low for low, _ in known) if known else None
        self._last_ms = max(high for _, high in known) if known else None
        self.rows = total
        self._order = None
        times = pa.chunked_array(chunks, type=pa.int64())
        del chunks
        if not in_order:
            # One array: sorting a chunked array is ~3x slower (it merges the chunks).
            times = times.combine_chunks()
            order = pc.sort_indices(times)
            self._order = pc.cast(order, pa.uint32()) if total < 2**32 else order
        self._edges = self._block_edges(times)
        del times
        release_memory()

    def _block_edges(self, times: Any) -> list[tuple[int, int]]:
        """Each block's first and last time (the time order's times at its two ends)."""
        pa, _, pc = arrow()
        places: list[int] = []
        for start in range(0, self.rows, BLOCK):
            places += (start, min(start + BLOCK, self.rows) - 1)
        rows = pa.array(places, pa.int64())
        if self._order is not None:
            rows = pc.take(self._order, rows)
        ends = pc.take(times, rows).to_pylist()
        return list(zip(ends[0::2], ends[1::2]))

    # --- metadata --------------------------------------------------------------------------

    def _load_metadata(self, files: int) -> dict[str, Any]:
        minimal: dict[str, Any] = {
            "data_file": self.path.name,
            "data_format": "parquet",
            "compressed": False,
            "sidecar": False,
            "count": self.rows,
            "first_epoch_ms": self._first_ms,
            "last_epoch_ms": self._last_ms,
        }
        if self.kind == "spark":
            minimal["source"] = f"Spark capture, {files} file{'s' if files > 1 else ''}"
        sidecar = sidecar_path(self.path)
        try:
            loaded = orjson.loads(sidecar.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return minimal
        if not isinstance(loaded, dict):
            return minimal
        # The file is the truth for what it holds (a killed recording's sidecar may count
        # readings whose row group never closed).
        return {**loaded, **{k: minimal[k] for k in ("count", "first_epoch_ms",
                                                      "last_epoch_ms")}, "sidecar": True}

    # --- readings --------------------------------------------------------------------------

    def __len__(self) -> int:
        return self.rows

    def iter_readings(self) -> Iterator[Reading]:
        """Every readable reading in time order, a block at a time (not kept: the replay
        reads the session once, front to back). Files in time order are read as a stream
        of record batches, one in memory at a time."""
        if self._order is not None:  # rows shuffled in time: blocks gather them
            for start in range(0, self.rows, BLOCK):
                yield from (r for r in self.convert(start, BLOCK) if r is not None)
            return
        first = 0
        columns = FLUX_READ_COLUMNS if self.kind == "flux" else SPARK_COLUMNS
        for number, batch in enumerate(self.file_batches(columns, BLOCK), 1):
            yield from self._readings(batch, first)
            first += batch.num_rows
            if number % _RELEASE_EVERY == 0:
                release_memory()

    def _readings(self, batch: Any, first: int) -> list[Reading]:
        """The readings of a batch of file rows ``first``... (files in time order), damaged
        rows reported in ``problems`` as :meth:`convert` reports them."""
        if self.kind != "flux":
            return readings_from_spark(batch, list(range(first, first + batch.num_rows)))
        out = []
        for row, reading in enumerate(readings_from_flux(batch), first):
            if isinstance(reading, str):
                self.problems.append((row + 1, reading))
            else:
                out.append(reading)
        return out

    def reading_at(self, position: int) -> Reading | None:
        """The reading at ``position`` of the time order (None: an unreadable row)."""
        return self.block(position // BLOCK)[position % BLOCK]

    def block(self, number: int) -> list[Reading | None]:
        """Readings ``number*BLOCK`` up to the next block, in time order. Safe from several
        threads (the viewer pages lines from the index while a save reads it in a worker):
        the block and row group caches are used by one at a time."""
        with self._lock:
            cached = self._blocks.get(number)
            if cached is not None:
                self._blocks.move_to_end(number)
                return cached
            out = self.convert(number * BLOCK, BLOCK)
            self._blocks[number] = out
            if len(self._blocks) > _CACHED_BLOCKS:
                self._blocks.popitem(last=False)
            return out

    def convert(self, start: int, count: int, *, slim: bool = False) -> list[Reading | None]:
        """Readings at ``start`` ... of the time order (None for an unreadable row); ``slim``
        ones may lack their payload (what an index needs, faster)."""
        end = min(start + count, self.rows)
        if end <= start:
            return []
        order = self._order
        rows = list(range(start, end)) if order is None else order.slice(start, end - start).to_pylist()
        by_group: dict[int, list[int]] = {}
        starts = self._starts
        for place, row in enumerate(rows):
            by_group.setdefault(bisect_right(starts, row) - 1, []).append(place)
        out: list[Reading | None] = [None] * len(rows)
        # The times the rows span (in time order: from the first block's first time to the
        # last block's last one).
        span = (self._edges[start // BLOCK][0], self._edges[(end - 1) // BLOCK][1])
        for group, places in by_group.items():
            table = self._table(group, span)
            wanted = [rows[place] for place in places]
            taken = table.take([row - starts[group] for row in wanted])
            if self.kind == "flux":
                converted: list[Any] = readings_from_flux(taken, slim=slim)
            else:
                # A Spark row's _seq is its place in time order: unique, and increasing as
                # the readings are replayed or saved (so a writer's dedupe keeps them all).
                converted = readings_from_spark(taken, [start + p for p in places], slim=slim)
            for place, row, reading in zip(places, wanted, converted):
                if isinstance(reading, str):
                    self.problems.append((row + 1, reading))
                else:
                    out[place] = reading
        return out

    def _table(self, group: int, span: tuple[int, int]) -> Any:
        """Row group ``group``'s columns. Kept in memory while the readings being converted
        (times ``span``) may still need it: readings come in time order, so a row group
        whose times all lie outside the span is dropped. Memory is what the row groups
        overlapping one moment hold: one or two for a recording (its row groups follow
        each other in time), all of them for a file whose rows are shuffled in time."""
        table = self._tables.get(group)
        if table is None:
            dropped = [g for g in self._tables if not _overlaps(self._spans[g], span)]
            for other in dropped:
                del self._tables[other]
            if dropped:
                release_memory()
            handle, number = self._groups[group]
            names = handle.schema_arrow.names
            wanted = FLUX_READ_COLUMNS if self.kind == "flux" else SPARK_COLUMNS
            # A reader of its own, closed after: the session's keeps what it read.
            reader = arrow()[1].ParquetFile(self._file_of[id(handle)],
                                            metadata=handle.metadata,
                                            read_dictionary=_dictionary_columns(names))
            try:
                table = reader.read_row_group(number, columns=[c for c in wanted if c in names],
                                              use_threads=False)
            finally:
                reader.close()
            self._tables[group] = table
        return table

    def file_batches(self, columns: tuple[str, ...], size: int) -> Iterator[Any]:
        """Record batches of at most ``size`` rows of every row group, in file order (the
        row numbers :meth:`time_order` and the index use), with ``columns`` (those the
        files have); one batch is in memory at a time."""
        pq = arrow()[1]
        for file, handle in self._files:
            names = handle.schema_arrow.names
            wanted = [c for c in columns if c in names]
            for number in range(handle.metadata.num_row_groups):
                # A reader of its own for each row group, closed after it: a ParquetFile
                # keeps buffers of what it has read (~1.4 MB a row group), and one given
                # several row groups buffers ahead.
                reader = pq.ParquetFile(file, metadata=handle.metadata,
                                        read_dictionary=_dictionary_columns(names))
                try:
                    yield from reader.iter_batches(batch_size=size, row_groups=[number],
                                                   columns=wanted, use_threads=False)
                finally:
                    reader.close()

    def time_order(self) -> Any | None:
        """The file's row numbers in time order (an Arrow array), None when the file is in
        time order already."""
        return self._order

    def index(self) -> ParquetIndex:
        """The compact index (seeking, filtering) over the readings in time order."""
        return ParquetIndex(self)


class ParquetIndex(SessionIndex):
    """:class:`SessionIndex` whose rows are positions in a :class:`ParquetSession`'s time
    order (the ``offsets`` column holds the position; there is no text to re-read)."""

    def __init__(self, session: ParquetSession) -> None:
        super().__init__(session, io.BytesIO(), owns_source=False)  # type: ignore[arg-type]
        self.parquet = session
        self.problems = session.problems
        fill_from_arrow(self, session)  # column-wise, a bounded batch at a time
        release_memory()

    @property
    def nbytes(self) -> int:
        """Memory held by the columns, the distinct keys and the values that are not
        numbers, roughly (``offsets`` is a ``range`` unless rows were damaged)."""
        columns: list[Any] = [self.epoch_ms, self.key_of, self._vals, self._kinds]
        if not isinstance(self.offsets, range):
            columns.append(self.offsets)
        arrays = sum(column.itemsize * len(column) for column in columns)
        keys = sum(sys.getsizeof(key) + 8 for key in self.keys) * 2  # keys list + dict
        others = getattr(self._others, "distinct", ())
        return arrays + keys + sum(sys.getsizeof(value) + 8 for value in others)

    def reading(self, row: int) -> Reading:
        reading = self.parquet.reading_at(self.offsets[row])
        assert reading is not None  # only readable rows were indexed
        return reading


def _dictionary_columns(names: list[str]) -> list[str]:
    return [name for name in _DICTIONARY if name in names]


def _ascending(pc: Any, chunk: Any, before: Any | None) -> bool:
    """Whether ``chunk``'s times never decrease, from the end of the one ``before`` it."""
    if before is not None and len(before) and len(chunk) and before[-1].as_py() > chunk[0].as_py():
        return False
    return len(chunk) < 2 or bool(pc.all(pc.less_equal(chunk[:-1], chunk[1:])).as_py())


def _overlaps(span: tuple[int, int], other: tuple[int, int]) -> bool:
    return span[0] <= other[1] and other[0] <= span[1]


def recover(pq: Any, file: Path) -> Any | None:
    """A ``ParquetFile`` for a recording killed while appending a row group: each row group
    we write is followed by its own footer; walk them back from the end and join them.
    None when no row group can be found."""
    with open(file, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found: list[list[Any]] = []
        end = len(data)
        while end > 12:
            magic = data.rfind(MAGIC, 4, end)
            if magic < 8:
                break
            length = struct.unpack("<I", data[magic - 4 : magic])[0]
            start = magic - 4 - length
            group = _own_footer(data, start, magic) if 4 <= start < magic else None
            if group is None:
                end = magic  # not a footer: look further back
                continue
            head, offset = group
            found.append(head)
            end = offset
        if not found:
            return None
        joined = RowGroupFooters.join(list(reversed(found)))
    return pq.ParquetFile(file, metadata=pq.read_metadata(io.BytesIO(MAGIC + joined)))


def _own_footer(data: Any, start: int, magic: int) -> tuple[Any, int] | None:
    """(footer, where its row group starts) when ``data[start:magic-4]`` is the footer of
    the row group that ends right before it (the row group's own footer)."""
    try:
        footer = parse_footer(bytes(data[start : magic - 4]))
    except FooterError:
        return None
    groups = [v for fid, kind, v in footer if fid == 4 and kind == 9]
    if len(groups) != 1 or len(groups[0][1]) != 1:
        return None
    group = groups[0][1][0]
    fields = {fid: v for fid, _, v in group}
    offset, size = fields.get(5), fields.get(6)
    if not isinstance(offset, int) or not isinstance(size, int) or offset + size != start:
        return None
    return footer, offset
