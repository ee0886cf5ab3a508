"""Readings as Parquet columns, and back: our schema (the CSV's columns, typed) and the
fleet's Spark capture schema (``@timestamp``, ``neptune_id``, ``asset_id``...).

pyarrow is optional (``pip install 'flux-tui[parquet]'``): :func:`arrow` imports it and
turns its absence into :class:`ParquetUnavailable`, an ``OSError`` whose message names the
install command, so every caller that reports file errors reports this one too.

Our columns hold the canonical values; ``extra`` (JSON text) holds every payload field the
typed columns cannot give back exactly (an integer ``val``, a text id, ``null``, unknown
fields), and ``_derived`` in it lists columns filled from the older spelling, exactly as in
the CSV: reading a file back gives every payload unchanged.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import orjson

from flux_tui.base.errors import FluxError
from flux_tui.data.formats import reading_from_payload
from flux_tui.feed.decoder import _id, _text, timestamp_ms
from flux_tui.feed.types import Reading

__all__ = [
    "FLUX_READ_COLUMNS",
    "INSTALL_HINT",
    "PARQUET_COLUMNS",
    "SPARK_COLUMNS",
    "ParquetUnavailable",
    "arrow",
    "columns_of",
    "readings_from_flux",
    "readings_from_spark",
    "release_memory",
    "schema",
]

INSTALL_HINT = "pip install 'flux-tui[parquet]' (installed with pipx: pipx inject flux-tui pyarrow)"

# (name, kind): kind is how the column is typed; the order is the CSV's (never reorder).
_VALUE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("epochMs", "int"), ("rtms", "int"), ("orgId", "int"), ("siteId", "int"),
    ("assetId", "int"), ("tagId", "int"), ("registerId", "int"), ("tagName", "str"),
    ("label", "str"), ("val", "float"), ("pk", "str"),
)  # fmt: skip
PARQUET_COLUMNS: tuple[str, ...] = (
    "time_utc", *(name for name, _ in _VALUE_COLUMNS),
    "_shard", "_seq", "_sub", "_arrival", "extra",
)  # fmt: skip
"""Our Parquet columns, in the CSV's order (documented in docs/session-files.md)."""

SPARK_COLUMNS = ("@timestamp", "neptune_id", "pk", "register_id", "val", "label", "asset_id",
                 "tag_id", "tag_name")
"""The Spark capture's columns (the fleet's PySpark Structured Streaming job)."""
SPARK_SHARD = "spark-capture"  # the shard of a Spark row (it has no Kinesis identity)

_DERIVED = "_derived"
_EMPTY: dict[str, Any] = {}  # the payload of a slim reading (never changed)
_INT64 = 2**63


class ParquetUnavailable(FluxError, OSError):
    """pyarrow is not installed; the message says how to install it."""


def arrow() -> tuple[ModuleType, ModuleType, ModuleType]:
    """``(pyarrow, pyarrow.parquet, pyarrow.compute)``, or :class:`ParquetUnavailable`.

    The first call makes the C library's allocator Arrow's default memory pool (unless
    ``ARROW_DEFAULT_MEMORY_POOL`` chooses one): pyarrow's own default, mimalloc, kept about
    90 MB of freed batches after reading a million rows a batch at a time, against a
    viewer's whole budget of 160 MB; the system pool gives them back (with
    :func:`release_memory`), at no measurable cost in time."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.parquet
    except ImportError:
        raise ParquetUnavailable(
            f"Parquet needs pyarrow, which is not installed: {INSTALL_HINT}"
        ) from None
    if not _POOL_CHOSEN:
        _POOL_CHOSEN.append(True)
        if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
            pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    return pyarrow, pyarrow.parquet, pyarrow.compute


_POOL_CHOSEN: list[bool] = []


def release_memory() -> None:
    """Give back to the system the memory freed since the last call: Arrow's pool, and the
    C library's heap (``malloc_trim``; glibc keeps freed pages otherwise: 45 MB after
    playing 400,000 readings of a file, JSONL or Parquet). Called between record batches
    on the passes over a whole file; about a millisecond."""
    arrow()[0].default_memory_pool().release_unused()
    if not _TRIM:
        try:
            _TRIM.append(ctypes.CDLL(None).malloc_trim)
        except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
            _TRIM.append(None)
    trim = _TRIM[0]
    if trim is not None:
        trim(0)


_TRIM: list[Any] = []


def schema() -> Any:
    """Our Parquet schema (a ``pyarrow.Schema``)."""
    pa = arrow()[0]
    kinds = {"int": pa.int64(), "str": pa.string(), "float": pa.float64()}
    fields = [pa.field("time_utc", pa.timestamp("ms", tz="UTC"))]
    fields += [pa.field(name, kinds[kind]) for name, kind in _VALUE_COLUMNS]
    fields += [pa.field("_shard", pa.string()), pa.field("_seq", pa.string()),
               pa.field("_sub", pa.int64()), pa.field("_arrival", pa.float64()),
               pa.field("extra", pa.string())]
    return pa.schema(fields)


def _typed(kind: str, value: Any) -> tuple[Any, bool]:
    """(the column's value, whether reading it back gives ``value`` exactly)."""
    if kind == "str":
        return (value, True) if type(value) is str else (None, False)
    if type(value) is int:
        if kind == "int":
            return (value, True) if -_INT64 <= value < _INT64 else (None, False)
        return (float(value), False) if abs(value) < 2**53 else (None, False)
    if type(value) is float and kind == "float":
        return value, True
    return None, False


def columns_of(readings: Iterable[Reading]) -> dict[str, list[Any]]:
    """The readings as Python lists, one per column of :func:`schema`."""
    cols: dict[str, list[Any]] = {name: [] for name in PARQUET_COLUMNS}
    value_cols = [(name, kind, cols[name]) for name, kind in _VALUE_COLUMNS]
    time_col, extra_col = cols["time_utc"], cols["extra"]
    for reading in readings:
        payload = reading.payload
        canonical = (reading.epoch_ms, reading.rtms, reading.org_id, reading.site_id,
                     reading.asset_id, reading.tag_id, reading.register_id,
                     reading.tag_name or None, reading.label or None, reading.val,
                     payload.get("pk"))  # fmt: skip
        extra: dict[str, Any] = {}
        derived: list[str] = []
        for (name, kind, column), value in zip(value_cols, canonical):
            if name in payload:
                value = payload[name]
                typed, exact = _typed(kind, value)
                if not exact:
                    extra[name] = value
            else:
                typed, _ = _typed(kind, value)
                if typed is not None:
                    derived.append(name)
            column.append(typed)
        for key, value in payload.items():
            if key not in _NAMES:
                extra[key] = value
        if derived:
            extra[_DERIVED] = derived
        epoch = reading.epoch_ms
        time_col.append(epoch if epoch is not None and abs(epoch) < 2**53 else None)
        cols["_shard"].append(reading.shard)
        cols["_seq"].append(reading.seq)
        cols["_sub"].append(reading.sub)
        cols["_arrival"].append(float(reading.arrival))
        extra_col.append(orjson.dumps(extra, default=str).decode() if extra else None)
    return cols


_NAMES = frozenset(name for name, _ in _VALUE_COLUMNS)
_READ_COLUMNS = [*(name for name, _ in _VALUE_COLUMNS), "_shard", "_seq", "_sub", "_arrival",
                 "extra"]
FLUX_READ_COLUMNS = tuple(_READ_COLUMNS)
"""What :func:`readings_from_flux` reads of our schema (every column but ``time_utc``)."""


def _pylist(column: Any) -> list[Any]:
    """A column's values; dictionary-encoded text is decoded in Arrow first (its own
    ``to_pylist`` goes value by value, ~20x slower)."""
    pa, _, pc = arrow()
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    return column.to_pylist()


_NOT_QUICK = object()


def _quick_val(extra_text: str | None) -> Any:
    """The value of an ``extra`` that holds only ``val`` as a number, boolean or null, else
    :data:`_NOT_QUICK` (the careful path reads it)."""
    if not extra_text or not extra_text.startswith('{"val":') or extra_text.count('"') != 2:
        return _NOT_QUICK
    try:
        return orjson.loads(extra_text)["val"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return _NOT_QUICK


def readings_from_flux(batch: Any, *, slim: bool = False) -> list[Reading | str]:
    """Readings from a record batch (or table) in our schema: the inverse of
    :func:`columns_of`. A row that is not a reading gives the reason instead. ``slim``:
    readings without their payload where the columns say everything (for an index)."""
    data = {name: _pylist(batch.column(name)) for name in _READ_COLUMNS}
    values = [(name, data[name]) for name, _ in _VALUE_COLUMNS]
    out: list[Reading | str] = []
    names = [name for name, _ in values]
    shards, seqs, subs, arrivals = data["_shard"], data["_seq"], data["_sub"], data["_arrival"]
    rows = zip(*(column for _, column in values))
    for row, (extra_text, cells) in enumerate(zip(data["extra"], rows)):
        exact_val = _quick_val(extra_text)  # {"val":2}: the commonest extra, an integer
        if (not extra_text or exact_val is not _NOT_QUICK) and shards[row] and seqs[row]:
            # Nothing beyond the columns (and perhaps the exact val): they are the payload
            # and the canonical values (what make_reading gives, without its lookups).
            em, rt, org, site, asset, tag, register, tag_name, label, val, _ = cells
            if extra_text:
                val = exact_val
            payload: dict[str, Any] = _EMPTY if slim else {
                name: (val if name == "val" else cell) for name, cell in zip(names, cells)
                if cell is not None or (extra_text and name == "val")}
            arrival = arrivals[row]
            out.append(Reading(shards[row], seqs[row], subs[row] or 0,
                               0.0 if arrival is None else arrival, em, rt, org, site, asset,
                               tag, register, tag_name or "", label or "", val, payload))
            continue
        try:
            extra = orjson.loads(extra_text) if extra_text else {}
        except orjson.JSONDecodeError as error:
            out.append(f"unreadable extra: {error}")
            continue
        if not isinstance(extra, dict):
            out.append("extra is not a JSON object")
            continue
        derived = extra.pop(_DERIVED, ())
        if not isinstance(derived, list):
            derived = ()
        payload = {}
        for name, column in values:
            if name in extra:
                payload[name] = extra.pop(name)
            else:
                value = column[row]
                if value is not None and name not in derived:
                    payload[name] = value
        payload.update(extra)
        shard, seq = data["_shard"][row], data["_seq"][row]
        if not shard or not seq:
            out.append("missing _shard or _seq")
            continue
        arrival = data["_arrival"][row]
        out.append(reading_from_payload(shard, seq, data["_sub"][row] or 0,
                                        0.0 if arrival is None else arrival, payload))
    return out


def readings_from_spark(batch: Any, rows: list[int], *, slim: bool = False) -> list[Reading]:
    """Readings from a record batch in the Spark capture's schema. The payload keeps the
    capture's own names (the older spelling the decoder reads); ``@timestamp`` becomes ISO
    text with milliseconds. A Spark row has no Kinesis identity: ``_shard`` is
    ``spark-capture``, ``_seq`` the row's place in the capture's time order (``rows``),
    ``_arrival`` the reading's own time."""
    pa, _, pc = arrow()
    names = [name for name in SPARK_COLUMNS if name in batch.schema.names]
    data = {name: batch.column(name) for name in names}
    stamp = data.pop("@timestamp")
    if pa.types.is_timestamp(stamp.type):
        # Spark writes microseconds (or INT96 nanoseconds); a reading's time is milliseconds.
        stamp = pc.cast(stamp, pa.timestamp("ms", tz="UTC"), safe=False)
        ms = pc.cast(stamp, pa.int64()).to_pylist()
        stamps = [] if slim else pc.strftime(stamp, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
    else:  # text or epoch numbers: the decoder reads them as the older spelling does
        stamps = stamp.to_pylist()
        ms = [timestamp_ms(value) for value in stamps]
    names = list(data)
    columns = [_pylist(column) for column in data.values()]
    out: list[Reading] = []
    for row, values in enumerate(zip(*columns) if columns else ((),) * len(ms)):
        fields = dict(zip(names, values))
        payload: dict[str, Any] = _EMPTY if slim else {"@timestamp": stamps[row], **fields}
        when = ms[row]
        get = fields.get
        # What make_reading gives for this payload, without parsing the ISO time again.
        out.append(Reading(SPARK_SHARD, str(rows[row]), 0,
                           when / 1000.0 if when is not None else 0.0, when, None, None, None,
                           _id(get("asset_id")), _id(get("tag_id")), _id(get("register_id")),
                           _text(get("tag_name")), _text(get("label")), get("val"), payload))
    return out
