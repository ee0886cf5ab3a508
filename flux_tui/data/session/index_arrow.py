"""A Parquet session's :class:`~flux_tui.data.session.index.SessionIndex` columns, built
straight from Arrow arrays, a bounded record batch at a time.

Why: the index keeps per row only the time, the value and a key number (shard, ids, tag
name, label). Converting each of a million rows to a Python ``Reading`` to get them took
longer than indexing the same JSONL and held whole row groups while it ran. Here Arrow
computes the columns; Python looks once per batch at each distinct key and each distinct
``extra`` text (they repeat: a few thousand a batch); a value that is not a number is kept
once (:class:`OtherValues`), its number in the row's value column. Rows whose ``extra``
holds more than
the value (unknown fields, an older spelling, text ids...) or whose columns are damaged go
through the reading path (``readings_from_flux``), so every row's columns are what that
path gives: ``tests/data/test_data_parquet_index.py`` compares them, for both schemas.

Rows are read in file order and put in time order at the end (``order``: the file rows in
time order, or None when the file is already in time order); damaged rows are left out and
reported in ``problems`` as the reading path reports them.
"""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Iterator, Mapping
from itertools import repeat
from operator import itemgetter
from typing import Any, Protocol

import orjson

from flux_tui.data.session.index import MISSING_MS, SessionIndex
from flux_tui.data.session.parquet_format import (
    FLUX_READ_COLUMNS,
    SPARK_SHARD,
    arrow,
    readings_from_flux,
    release_memory,
)
from flux_tui.feed.decoder import _id, _text, timestamp_ms
from flux_tui.feed.types import Reading

__all__ = ["BATCH_ROWS", "ArrowRows", "fill_from_arrow"]

# Rows read at a time (the whole-process peak of opening a million rows and indexing them,
# measured 2026-12-01: 16,384 took 1.9-2.5 s and peaked at 156-158 MB; 8192, 3.1 s and 149).
BATCH_ROWS = 8192
_EXTRAS_KEPT = 8192  # distinct extra texts remembered across batches (most repeat)
# Value kinds, as index.py numbers them (a float column holds numbers; the kind says how
# to give them back).
_FLOAT, _INT, _TRUE, _FALSE, _NONE, _OTHER = range(6)
_FLUX_KEY = ("_shard", "orgId", "siteId", "assetId", "tagId", "registerId", "tagName", "label")
_SPARK_KEY = ("asset_id", "tag_id", "register_id", "tag_name", "label")
_SPARK_READ = ("@timestamp", "val", *_SPARK_KEY)


class ArrowRows(Protocol):
    """What the fill reads of a :class:`~flux_tui.data.session.parquet_read.ParquetSession`."""

    kind: str  # "flux" (our schema) or "spark"
    rows: int  # how many rows the files hold
    problems: list[tuple[int, str]]

    def file_batches(self, columns: tuple[str, ...], size: int) -> Iterator[Any]:
        """Record batches of every row, in file order (row groups one after another)."""
        ...

    def time_order(self) -> Any | None:
        """The file rows in time order (an Arrow integer array), None when they already are."""
        ...


def fill_from_arrow(index: SessionIndex, rows: ArrowRows) -> None:
    """Fill ``index``'s columns (empty) with every readable row of ``rows``, in time order.
    ``index.offsets`` holds each row's place in the time order (``range(rows)`` when no
    row is damaged); ``index._others`` becomes an :class:`OtherValues`."""
    index.lengths = array("I")  # no text to re-read: a row is read back by its place
    for name in ("epoch_ms", "key_of", "_vals", "_kinds"):  # allocated once, full size
        column = getattr(index, name)
        setattr(index, name, array(column.typecode, [0]) * rows.rows)
    others = OtherValues(index)
    index._others = others  # type: ignore[assignment]  # a Mapping: what index.py reads
    bad: dict[int, str] = {}
    first = 0
    flux = rows.kind == "flux"
    extras: dict[str | None, tuple[int, float, bool, bool]] = {}  # by extra text (they repeat)
    for batch in rows.file_batches(FLUX_READ_COLUMNS if flux else _SPARK_READ, BATCH_ROWS):
        if not batch.num_rows:
            continue
        if flux:
            if len(extras) > _EXTRAS_KEPT:
                extras.clear()
            _flux_batch(index, batch, first, bad, extras, others)
        else:
            _spark_batch(index, batch, first, others)
        first += batch.num_rows
        del batch
        release_memory()  # what the batch held, before the next one is read
    if first != rows.rows:
        raise ValueError(f"the row groups hold {first:,} rows, their footers {rows.rows:,}")
    _into_time_order(index, rows.time_order(), bad, rows.problems)


# --- our schema -----------------------------------------------------------------------------


def _flux_batch(index: SessionIndex, batch: Any, first: int, bad: dict[int, str],
                extras: dict[str | None, tuple[int, float, bool, bool]],
                others: OtherValues) -> None:
    """Put one batch's rows (file rows ``first``...) in the columns; rows the columns cannot
    say are read whole (the whole batch when its columns have another writer's types)."""
    pa, _, pc = arrow()
    names = batch.schema.names
    column = batch.column
    if not (pa.types.is_integer(column("epochMs").type)
            and pa.types.is_floating(column("val").type) and _is_text(pa, column("_seq").type)):
        _by_readings(index, batch, first, range(batch.num_rows), bad)
        return
    keys = [_codes(column(name) if name in names else None) for name in _FLUX_KEY]
    shard_bad = [value is None or value == "" for value in keys[0][1]]
    for part in (6, 7):  # tag name and label: None reads as "" (what the reading path gives)
        keys[part] = (keys[part][0], [value or "" for value in keys[part][1]])
    numbers = _key_numbers(index, keys, batch.num_rows)
    extra_codes, extra_texts = _codes(column("extra"))
    table_kinds, table_vals, table_from_column, table_whole = _extra_table(
        extra_texts, extras, others)
    kinds = pc.take(pa.array(table_kinds, pa.int8()), extra_codes)
    vals = pc.take(pa.array(table_vals, pa.float64()), extra_codes)
    from_column = pc.take(pa.array(table_from_column, pa.bool_()), extra_codes)
    val = pc.cast(column("val"), pa.float64())
    column_kinds = pc.if_else(pc.is_valid(val), pa.scalar(_FLOAT, pa.int8()),
                              pa.scalar(_NONE, pa.int8()))
    kinds = pc.if_else(from_column, column_kinds, kinds)
    vals = pc.if_else(from_column, pc.fill_null(val, 0.0), vals)
    seq = column("_seq")
    whole = pc.or_(pc.take(pa.array(table_whole, pa.bool_()), extra_codes),
                   pc.take(pa.array(shard_bad), keys[0][0]))
    whole = pc.or_(whole, pc.fill_null(pc.equal(pc.binary_length(_decoded(pa, pc, seq)), 0),
                                       True))
    _put(index.epoch_ms, first, pc.fill_null(pc.cast(column("epochMs"), pa.int64()), MISSING_MS))
    _put(index.key_of, first, numbers)
    _put(index._vals, first, vals)
    _put(index._kinds, first, kinds)
    rows = pc.indices_nonzero(whole).to_pylist()
    if rows:
        _by_readings(index, batch, first, rows, bad)


def _extra_table(texts: list[str | None], seen: dict[str | None, tuple[int, float, bool, bool]],
                 others: OtherValues) -> list[tuple[Any, ...]]:
    """What each distinct ``extra`` text says about a row's value, as four lists: its kind,
    its number, whether it comes from the ``val`` column (no extra) and whether the row
    needs the reading path (``whole``). An extra that holds only the value makes it a
    constant (a value that is not a number is numbered by ``others``)."""
    said = list(map(seen.get, texts))
    for place, text in enumerate(texts):
        if said[place] is None:
            said[place] = seen[text] = _what_extra_says(text, others)
    return list(zip(*said)) if said else [(), (), (), ()]


def _what_extra_says(text: str | None, others: OtherValues) -> tuple[int, float, bool, bool]:
    if text is None:
        return _FLOAT, 0.0, True, False
    value, whole = _only_val(text)
    if whole:
        return _FLOAT, 0.0, False, True
    kind, number = _classify(value)
    if kind == _OTHER:
        if isinstance(value, (list, dict)):  # mutable: each row keeps its own
            return _FLOAT, 0.0, False, True
        number = others.number(value)
    return kind, number, False, False


def _only_val(text: str | None) -> tuple[Any, bool]:
    """(the value, False) when ``extra`` is absent or holds only ``val``; (None, True) when
    the row needs the reading path (``readings_from_flux``'s careful branch then gives the
    columns for every other field, exactly as here)."""
    if text is None:
        return None, False
    try:
        extra = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, True
    if type(extra) is not dict or len(extra) != 1 or "val" not in extra:
        return None, True
    return extra["val"], False


def _classify(val: Any) -> tuple[int, float]:
    """(kind, number) of a value, as ``SessionIndex._add`` stores it."""
    kind = type(val)
    if kind is float:
        return _FLOAT, val
    if kind is int and -(2**53) < val < 2**53:
        return _INT, float(val)
    if val is True:
        return _TRUE, 0.0
    if val is False:
        return _FALSE, 0.0
    if val is None:
        return _NONE, 0.0
    return _OTHER, 0.0


def _by_readings(index: SessionIndex, batch: Any, first: int, rows: Any,
                 bad: dict[int, str]) -> None:
    """Rows ``rows`` of the batch through the reading path: their columns are set from the
    readings."""
    pa = arrow()[0]
    taken = batch.take(pa.array(list(rows), pa.int64()))
    for row, reading in zip(rows, readings_from_flux(taken, slim=True)):
        if isinstance(reading, str):
            bad[first + row] = reading  # left out at the end, whatever its columns say
        else:
            _set_row(index, first + row, reading)


def _set_row(index: SessionIndex, place: int, reading: Reading) -> None:
    index.epoch_ms[place] = MISSING_MS if reading.epoch_ms is None else reading.epoch_ms
    index.key_of[place] = index.key_number(_reading_key(reading))
    _set_value(index, place, reading.val)


def _set_value(index: SessionIndex, place: int, value: Any) -> None:
    kind, number = _classify(value)
    if kind == _OTHER:
        number = index._others.number(value)  # type: ignore[attr-defined]  # OtherValues
    index._vals[place] = number
    index._kinds[place] = kind


def _reading_key(reading: Reading) -> tuple[Any, ...]:
    return (reading.shard, reading.org_id, reading.site_id, reading.asset_id, reading.tag_id,
            reading.register_id, reading.tag_name, reading.label)


# --- the Spark capture's schema ---------------------------------------------------------------


def _spark_batch(index: SessionIndex, batch: Any, first: int, others: OtherValues) -> None:
    """Append one batch of a Spark capture (every row is readable: missing fields are None)."""
    pa, _, pc = arrow()
    names = batch.schema.names
    stamp = batch.column("@timestamp")
    if pa.types.is_timestamp(stamp.type):  # as readings_from_spark converts it
        stamp = pc.cast(pc.cast(stamp, pa.timestamp("ms", tz="UTC"), safe=False), pa.int64())
        _put(index.epoch_ms, first, pc.fill_null(stamp, MISSING_MS))
    else:
        times = stamp.to_pylist()
        index.epoch_ms[first : first + len(times)] = array(
            "q", [MISSING_MS if ms is None else ms for ms in map(timestamp_ms, times)])
    keys: list[tuple[Any, list[Any]]] = [(None, [SPARK_SHARD]), (None, [None]), (None, [None])]
    for name, fix in zip(_SPARK_KEY, (_id, _id, _id, _text, _text)):
        codes, values = _codes(batch.column(name) if name in names else None)
        keys.append((codes, [fix(value) for value in values]))  # as readings_from_spark
    _put(index.key_of, first, _key_numbers(index, keys, batch.num_rows))
    val = batch.column("val") if "val" in names else None
    if val is not None and pa.types.is_floating(val.type):
        val = pc.cast(val, pa.float64())
        _put(index._kinds, first, pc.if_else(pc.is_valid(val), pa.scalar(_FLOAT, pa.int8()),
                                             pa.scalar(_NONE, pa.int8())))
        _put(index._vals, first, pc.fill_null(val, 0.0))
        return
    values = [None] * batch.num_rows if val is None else val.to_pylist()
    for row, value in enumerate(values, first):
        _set_value(index, row, value)


# --- Arrow helpers --------------------------------------------------------------------------


def _codes(column: Any) -> tuple[Any, list[Any]]:
    """(a code per row, int64 without nulls; the distinct values the codes name). A missing
    column is one value, None (its codes are None)."""
    if column is None:
        return None, [None]
    pa, _, pc = arrow()
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column, null_encoding="encode")
    values = column.dictionary.to_pylist()
    codes = column.indices
    if codes.null_count:
        codes = pc.fill_null(codes, len(values))
        values.append(None)
    return pc.cast(codes, pa.int64()), values


def _key_numbers(index: SessionIndex, parts: list[tuple[Any, list[Any]]], rows: int) -> Any:
    """Each row's key number (uint32). The parts (codes, the values they name, in key order)
    are folded one at a time into one code per distinct combination (``code * radix +
    own``, renumbered densely, so it stays below the batch's size); each combination's key
    is then read from the first row that has it and looked up once."""
    pa, _, pc = arrow()
    code = None
    for codes, values in parts:
        if codes is not None:
            code = codes if code is None else pc.add(pc.multiply(code, len(values)), codes)
            code = pc.cast(pc.dictionary_encode(code).indices, pa.int64())
    if code is None:  # every part constant: one key
        number = index.key_number(tuple(values[0] for _, values in parts))
        return pa.repeat(pa.scalar(number, pa.uint32()), rows)
    count = pc.max(code).as_py() + 1
    firsts = pc.index_in(pa.array(range(count), pa.int64()), value_set=code)
    columns: list[Any] = []
    for codes, values in parts:
        if codes is None:
            columns.append(repeat(values[0], count))
        else:
            picks = pc.take(codes, firsts).to_pylist()
            columns.append([values[picks[0]]] if count == 1 else itemgetter(*picks)(values))
    keys = list(zip(*columns))
    try:
        numbers = list(map(index._key_index.get, keys))
    except TypeError:  # an unhashable id: key_number has the answer
        numbers = [None] * count
    if None in numbers:
        numbers = [index.key_number(key) if number is None else number
                   for key, number in zip(keys, numbers)]
    return pc.take(pa.array(numbers, pa.uint32()), code)


def _put(column: array[Any], first: int, values: Any) -> None:
    """Copy an Arrow array without nulls, of ``column``'s type, into ``column`` from row
    ``first`` on (the columns are allocated once, at their full size)."""
    size = column.itemsize
    data = memoryview(values.buffers()[1]).cast("B")
    start = values.offset * size
    target = memoryview(column).cast("B")
    try:
        target[first * size : (first + len(values)) * size] = data[start : start + len(values) * size]
    finally:
        target.release()
        data.release()


def _decoded(pa: Any, pc: Any, column: Any) -> Any:
    return pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _is_text(pa: Any, kind: Any) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


# --- time order -----------------------------------------------------------------------------


def _into_time_order(index: SessionIndex, order: Any | None, bad: dict[int, str],
                     problems: list[tuple[int, str]]) -> None:
    """Put the file-order columns in time order and leave damaged rows out."""
    pa, _, pc = arrow()
    count = len(index.key_of)
    if order is None and not bad:
        index.offsets = range(count)  # type: ignore[assignment]  # a row is its own place
        return
    places = _arrow_of(array("I", range(count)), pa.uint32())
    rows = places if order is None else pc.cast(order, pa.uint32())
    if bad:
        damaged = sorted(bad, key=_time_place(pa, pc, rows, bad))
        problems.extend((row + 1, bad[row]) for row in damaged)
        keep = pc.invert(pc.is_in(rows, value_set=pa.array(damaged, pa.uint32())))
        places, rows = pc.filter(places, keep), pc.filter(rows, keep)
    for name, kind in (("epoch_ms", pa.int64()), ("key_of", pa.uint32()),
                       ("_vals", pa.float64()), ("_kinds", pa.int8())):
        column = getattr(index, name)
        taken = pc.take(_arrow_of(column, kind), rows)  # a copy: the column is then free
        _put(column, 0, taken)
        del taken, column[len(rows):]
    if bad:
        index.offsets = array("I", [0]) * len(places)
        _put(index.offsets, 0, places)
    else:
        index.offsets = range(count)  # type: ignore[assignment]


def _time_place(pa: Any, pc: Any, rows: Any, bad: dict[int, str]) -> Any:
    """A sort key: a damaged file row's place in the time order (as the reading path meets
    them)."""
    damaged = list(bad)
    places = pc.index_in(pa.array(damaged, pa.uint32()), value_set=rows).to_pylist()
    where = dict(zip(damaged, places))
    return lambda row: where[row]


def _arrow_of(column: array[Any], kind: Any) -> Any:
    """A zero-copy Arrow view of a Python array (kept alive by the caller)."""
    pa = arrow()[0]
    return pa.Array.from_buffers(kind, len(column), [None, pa.py_buffer(column)])


class OtherValues(Mapping[int, Any]):
    """Row -> value for the rows whose value is not a number (text such as ``Running``):
    each distinct value is kept once and the row's float column holds its number, where
    a dict per row (as the JSONL index keeps) would take ~80 bytes for each such row."""

    def __init__(self, index: SessionIndex) -> None:
        self._index = weakref.proxy(index)  # no cycle: a dropped index is freed at once
        self.distinct: list[Any] = []
        self._numbers: dict[tuple[type, Any], int] = {}

    def number(self, value: Any) -> float:
        """``value``'s number (a new one for a value that cannot be hashed)."""
        key = (type(value), value)
        try:
            found = self._numbers.get(key)
        except TypeError:
            found = key = None  # type: ignore[assignment]
        if found is None:
            found = len(self.distinct)
            self.distinct.append(value)
            if key is not None:
                self._numbers[key] = found
        return float(found)

    def get(self, row: int, default: Any = None) -> Any:  # type: ignore[override]
        index = self._index
        if 0 <= row < len(index._kinds) and index._kinds[row] == _OTHER:
            return self.distinct[int(index._vals[row])]
        return default

    def __getitem__(self, row: int) -> Any:
        value = self.get(row, _ABSENT)
        if value is _ABSENT:
            raise KeyError(row)
        return value

    def __iter__(self) -> Iterator[int]:
        return (row for row, kind in enumerate(self._index._kinds) if kind == _OTHER)

    def __len__(self) -> int:
        return self._index._kinds.count(_OTHER)


_ABSENT = object()
