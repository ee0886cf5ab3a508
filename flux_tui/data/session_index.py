"""A large session held as compact columns (about 33 bytes a reading) instead of a million
``Reading`` objects: re-filtering runs over the columns, and a full reading (with its
payload) is re-read from the file only when it is shown or saved.

Why: one ``Reading`` with its payload dict costs about a kilobyte; a million of them would
not fit the memory target and would make every garbage collection slow.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import IO, Any, Self

import orjson

from flux_tui.data.formats import reading_from_csv, reading_from_json, reading_from_payload
from flux_tui.data.query import Query
from flux_tui.data.session_read import SessionFile, _reason, iter_lines
from flux_tui.feed.types import Reading

__all__ = ["SessionIndex"]

MISSING_MS = -(2**63)  # epoch_ms column value for a reading without a time
_EMPTY: dict[str, Any] = {}
# Value kinds: a float column holds numbers; the kind says how to give them back.
_FLOAT, _INT, _TRUE, _FALSE, _NONE, _OTHER = range(6)


class SessionIndex:
    """Every reading of a session as columns, in file order. Row ``i`` is the i-th readable
    reading. Build it with :meth:`load` (or ``SessionFile.index()``); close it when done
    (a compressed session is decompressed into an anonymous temporary file)."""

    def __init__(self, session: SessionFile, source: IO[bytes], owns_source: bool) -> None:
        self.session = session
        self.problems = session.problems
        self._source = source
        self._owns_source = owns_source
        self.offsets = array("Q")  # where each reading's text starts in the (plain) source
        self.lengths = array("I")
        self.epoch_ms = array("q")  # MISSING_MS when absent
        self.key_of = array("I")  # index into `keys`
        self.keys: list[
            tuple[Any, ...]
        ] = []  # (shard, org, site, asset, tag, register, tag_name, label)
        self._key_index: dict[tuple[Any, ...], int] = {}
        self._vals = array("d")
        self._kinds = array("b")
        self._others: dict[int, Any] = {}

    # --- building ------------------------------------------------------------------------

    @classmethod
    def load(
        cls, session: SessionFile, *, progress: Callable[[int], None] | None = None
    ) -> SessionIndex:
        """Read the whole session once. ``progress(rows)`` is called every 100,000 rows
        (the UI shows the first screen from ``iter_readings`` meanwhile)."""
        if session.compressed:
            source: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            owns = True
        else:
            source = open(session.path, "rb")  # noqa: SIM115 - closed by close()
            owns = True
        index = cls(session, source, owns)
        try:
            index._fill(progress)
        except BaseException:
            index.close()
            raise
        return index

    def _fill(self, progress: Callable[[int], None] | None) -> None:
        add = self._add
        copy = self._source.write if self.session.compressed else None
        if self.session.format == "csv":
            for _, offset, end, reading in self.session.iter_csv(copy):
                add(reading, offset, end - offset)
                if progress is not None and len(self.offsets) % 100_000 == 0:
                    progress(len(self.offsets))
        else:
            loads = orjson.loads
            problems = self.problems
            for line_no, offset, line, complete in iter_lines(
                self.session.path, self.session.compressed, problems
            ):
                if copy is not None:
                    copy(line + b"\n" if complete else line)
                if not line.strip():
                    continue
                try:
                    obj = loads(line)
                    # The columns need no payload: skip reading_from_json's copy, but refuse
                    # exactly the lines it refuses so rows and iter_readings() agree.
                    if type(obj) is not dict or type(obj.get("_sub", 0)) is not int:
                        reading = reading_from_json(obj)  # raises the precise error
                    shard, seq = obj["_shard"], obj["_seq"]
                    if type(obj.get("_arrival", 0.0)) not in (int, float):
                        raise ValueError("_arrival is not a number")
                except (orjson.JSONDecodeError, ValueError, TypeError, KeyError) as error:
                    problems.append((line_no, _reason(error, complete)))
                    continue
                add(reading_from_payload(str(shard), str(seq), 0, 0.0, obj), offset, len(line))
                if progress is not None and len(self.offsets) % 100_000 == 0:
                    progress(len(self.offsets))
        if copy is not None:
            self._source.flush()

    def _add(self, reading: Reading, offset: int, length: int) -> None:
        key: tuple[Any, ...] = (
            reading.shard, reading.org_id, reading.site_id, reading.asset_id, reading.tag_id,
            reading.register_id, reading.tag_name, reading.label,
        )  # fmt: skip
        try:
            number = self._key_index.get(key)
        except TypeError:  # an unhashable id (a list...) in a strange payload
            key = tuple(k if isinstance(k, (str, int, float, type(None))) else repr(k) for k in key)
            number = self._key_index.get(key)
        if number is None:
            number = self._key_index[key] = len(self.keys)
            self.keys.append(key)
        self.key_of.append(number)
        self.offsets.append(offset)
        self.lengths.append(length)
        self.epoch_ms.append(MISSING_MS if reading.epoch_ms is None else reading.epoch_ms)
        val = reading.val
        kind = type(val)
        if kind is float:
            self._vals.append(val)
            self._kinds.append(_FLOAT)
        elif kind is int and -(2**53) < val < 2**53:
            self._vals.append(float(val))
            self._kinds.append(_INT)
        else:
            self._vals.append(0.0)
            if val is True:
                self._kinds.append(_TRUE)
            elif val is False:
                self._kinds.append(_FALSE)
            elif val is None:
                self._kinds.append(_NONE)
            else:
                self._others[len(self._kinds)] = val
                self._kinds.append(_OTHER)

    # --- using ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.offsets)

    @property
    def nbytes(self) -> int:
        """Memory held by the columns (arrays, distinct keys, non-numeric values), roughly."""
        columns = (self.offsets, self.lengths, self.epoch_ms, self.key_of, self._vals, self._kinds)
        arrays = sum(column.itemsize * len(column) for column in columns)
        keys = sum(sys.getsizeof(key) + 8 for key in self.keys) * 2  # keys list + dict
        return arrays + keys + sys.getsizeof(self._others) + 64 * len(self._others)

    def value(self, row: int) -> Any:
        """Row ``row``'s value without reading the file."""
        kind = self._kinds[row]
        if kind == _FLOAT:
            return self._vals[row]
        if kind == _INT:
            return int(self._vals[row])
        return (None, None, True, False, None, self._others.get(row))[kind]

    def filter(self, query: Query | Callable[[Reading], bool]) -> array[int]:
        """Row numbers of the readings the query keeps, in order.

        The query sees a stand-in reading built from the columns: every field the filter
        language looks at is there; ``seq``, ``arrival``, ``rtms`` and ``payload`` are not.
        """
        if isinstance(query, Query):
            if query.is_empty:
                return array("I", range(len(self)))
            predicate = query.predicate
        else:
            predicate = query
        keys, others = self.keys, self._others
        out = array("I")
        keep = out.append
        for row, key_number, epoch, number, kind in zip(
            range(len(self)), self.key_of, self.epoch_ms, self._vals, self._kinds
        ):
            shard, org, site, asset, tag, register, tag_name, label = keys[key_number]
            if kind == _FLOAT:
                val: Any = number
            elif kind == _INT:
                val = int(number)
            else:
                val = (None, None, True, False, None, others.get(row))[kind]
            probe = (
                shard, "", 0, 0.0, None if epoch == MISSING_MS else epoch, None,
                org, site, asset, tag, register, tag_name, label, val, _EMPTY,
            )  # fmt: skip
            if predicate(probe):  # type: ignore[arg-type]  # a Reading-shaped tuple
                keep(row)
        return out

    def reading(self, row: int) -> Reading:
        """The full reading (payload and all) of one row, re-read from the file."""
        data = os.pread(self._source.fileno(), self.lengths[row], self.offsets[row])
        return self._decode(data)

    def readings(self, rows: Iterable[int] | None = None) -> Iterator[Reading]:
        """Full readings for ``rows`` (all rows when None), e.g. to save or replay them."""
        for row in range(len(self)) if rows is None else rows:
            yield self.reading(row)

    def _decode(self, data: bytes) -> Reading:
        if self.session.format == "csv":
            row = next(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))
            order = self.session.csv_order
            return reading_from_csv([row[i] for i in order] if order else row)
        return reading_from_json(orjson.loads(data))

    def close(self) -> None:
        """Release the open file (and delete the temporary copy of a compressed session)."""
        if self._owns_source:
            self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
