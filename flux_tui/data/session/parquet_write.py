"""Recording to Parquet: :class:`ParquetSessionWriter`, a :class:`SessionWriter` whose file
is Parquet in our schema (:mod:`parquet_format`).

Parquet keeps its index (the footer) at the end of the file, and pyarrow writes it only when
its writer closes: a recording killed before that would leave nothing any tool can read. So
each row group is encoded on its own, appended to the file followed by a footer that
describes every row group so far (:mod:`parquet_footer`). At every moment but the few
milliseconds of an append, the file is a complete Parquet file holding every closed row
group. Row groups close every :data:`ROW_GROUP_SECONDS` seconds (or at
:data:`ROW_GROUP_ROWS` readings), so a kill loses at most the last 10 s; JSONL and CSV lose
at most 1 s. Readings waiting for their row group are held in memory (bounded by both
limits). Each row group is also followed by its own small footer, which is how
``flux-tui open`` recovers a file killed in the middle of an append.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flux_tui.data.session.parquet_footer import MAGIC, RowGroupFooters
from flux_tui.data.session.parquet_format import arrow, columns_of, schema
from flux_tui.data.session.write import SessionWriter, _fsync, write_sidecar
from flux_tui.feed.types import Reading

__all__ = ["ROW_GROUP_ROWS", "ROW_GROUP_SECONDS", "ParquetSessionWriter", "is_parquet_name"]

ROW_GROUP_SECONDS = 10.0  # the most a killed recording loses
ROW_GROUP_ROWS = 100_000  # readings held in memory at most before their row group closes
COMPRESSION = "zstd"


def is_parquet_name(path: str | os.PathLike[str]) -> bool:
    """True for a name ending in ``.parquet`` (any case)."""
    return Path(path).name.lower().endswith(".parquet")


class ParquetSessionWriter(SessionWriter):
    """Like :class:`SessionWriter` (dedupe, sidecar, errors, never overwrite unless asked),
    writing Parquet. Raises :class:`~flux_tui.data.session.parquet_format.ParquetUnavailable`
    (an ``OSError``) before creating anything when pyarrow is missing."""

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        arrow()
        self._schema = schema()
        self._groups = RowGroupFooters()
        self._pending: list[Reading] = []
        self._data_end = len(MAGIC)  # where the next row group's bytes go
        self._rows_written = 0
        self._group_started = 0.0
        super().__init__(path, **options)

    @property
    def metadata(self) -> dict[str, Any]:
        meta = super().metadata
        meta["data_format"] = "parquet"
        meta["row_groups"] = len(self._groups.row_groups)
        meta["rows_in_file"] = self._rows_written
        return meta

    def _start(self) -> None:
        self.format = "parquet"
        self._raw.write(MAGIC)
        self._group_started = self._clock()
        self._write_group()  # an empty file with a footer: valid from the first moment
        write_sidecar(self.sidecar, self.metadata)
        self._last_flush = self._clock()

    def _write_chunk(self, chunk: list[Reading]) -> None:
        self._pending.extend(chunk)
        self.count += len(chunk)
        self._dirty = True
        times = [r.epoch_ms for r in chunk if r.epoch_ms is not None]
        if times:
            low, high = min(times), max(times)
            self._first_ms = low if self._first_ms is None else min(self._first_ms, low)
            self._last_ms = high if self._last_ms is None else max(self._last_ms, high)
        if len(self._pending) >= ROW_GROUP_ROWS:
            self._write_group()

    def _flush(self) -> None:
        if self._pending and self._clock() - self._group_started >= ROW_GROUP_SECONDS:
            self._write_group()
        write_sidecar(self.sidecar, self.metadata)
        self._last_flush = self._clock()
        self._dirty = bool(self._pending)  # keep ticking until the row group closes

    def _finish(self) -> None:
        if self._pending:
            self._write_group()
        self._raw.close()
        self.closed = True
        self._ended = self._wall()
        write_sidecar(self.sidecar, self.metadata)

    def _write_group(self) -> None:
        """Append the pending readings as one row group, then the footer of them all."""
        pa, pq, _ = arrow()
        table = pa.table(columns_of(self._pending), schema=self._schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression=COMPRESSION, row_group_size=max(len(table), 1),
                       write_page_index=False)
        data, own = self._groups.add(sink.getvalue().to_pybytes(), self._data_end)
        raw = self._raw
        raw.seek(self._data_end)
        raw.truncate()  # the previous footer: the new one describes its row groups too
        if len(table):
            raw.write(data)
            raw.write(own)  # this row group's own footer, for recovery
            self._data_end = raw.tell()
        raw.write(self._groups.footer())
        raw.flush()
        _fsync(raw.fileno())
        self._rows_written += len(table)
        self._pending = []
        self._group_started = self._clock()
