"""Turn raw Kinesis records (base64 ``Data``) into :class:`Reading` tuples.

``Data`` may hold a JSON object, a JSON array of objects, newline-delimited JSON, gzip of any
of those, or a KPL aggregate. Both payload spellings (current camelCase and the older
``@timestamp``/snake_case one) are read. Nothing here raises: a record that cannot be decoded
becomes a :class:`DecodeError` with its raw bytes.

The common case (one current-spelling JSON object per record) runs inline in
:func:`decode_records` with no per-reading Python function call: the budget is 3 µs a reading.
"""

from __future__ import annotations

import binascii
import math
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from flux_tui.feed.kpl import KPL_MAGIC, KplError, parse_aggregate
from flux_tui.feed.types import DecodeError, Reading

__all__ = [
    "MAX_INFLATED",
    "MAX_READINGS_PER_RECORD",
    "MAX_VALUES_PER_RECORD",
    "decode_data",
    "decode_records",
]

GZIP_MAGIC = b"\x1f\x8b"
# A Kinesis record carries at most 1 MiB of data. JSON telemetry gzips 5-8x, so a full real
# record inflates to at most ~8 MiB; more is a zip bomb. The cap is per record, gzip members
# and KPL sub-records together (a KPL aggregate of gzip blobs cannot repeat it). Parsing the
# worst 8 MiB (``[{},{},...]``) costs ~200 MB for a moment, then the reading cap refuses it.
MAX_INFLATED = 8 * 1024 * 1024
# The smallest reading that says something (epochMs, tagName, label, val) is ~80 bytes of
# JSON: 8 MiB holds ~100,000 of them. More elements in one record are not telemetry, and
# each would cost a Reading and a dict (~1 KB): 11 M of them was 3-7 GB.
MAX_READINGS_PER_RECORD = 100_000
# Parsing costs memory per JSON value, not per byte: 8 MiB of `{},{},...` is 2.8 M dicts,
# ~250 MB for a moment. A reading has ~11 fields, so 100,000 readings need ~1.1 M commas;
# a blob with more commas than this is refused before parsing (counting them is a memchr,
# and only blobs longer than the cap can reach it): a record costs ~100 MB at worst.
MAX_VALUES_PER_RECORD = 1_200_000
_MAX_DEPTH = 3  # gzip inside KPL inside ... : deeper nesting is not a real producer
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_SECONDS_CUTOFF = 1e11  # below: epoch seconds (year ≤ 5138); above: epoch milliseconds
_BOM = b"\xef\xbb\xbf"

_a2b = binascii.a2b_base64
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_new_reading = tuple.__new__  # builds the NamedTuple without its Python-level __new__


class _Record:
    """One record on the careful path: where it came from, where its readings and errors
    go, and what is left of its caps (shared by its gzip members and KPL sub-records, so
    nesting cannot multiply them)."""

    __slots__ = ("arrival", "errors", "inflated", "readings", "readings_left", "seq", "shard")

    def __init__(self, shard: str, seq: str, arrival: float, readings: list[Reading],
                 errors: list[DecodeError]) -> None:
        self.shard, self.seq, self.arrival = shard, seq, arrival
        self.readings, self.errors = readings, errors
        self.inflated = MAX_INFLATED
        self.readings_left = MAX_READINGS_PER_RECORD

    def fail(self, reason: str, raw: bytes) -> None:
        """One decode error of this record."""
        self.errors.append(DecodeError(self.shard, self.seq, reason, raw, self.arrival))

    def take(self, value: dict[str, Any], sub: int) -> None:
        """One reading of this record."""
        self.readings.append(make_reading(self.shard, self.seq, sub, self.arrival, value))

    def take_readings(self, count: int) -> None:
        """Count ``count`` more readings against the cap (CapExceeded past it)."""
        if count > self.readings_left:
            raise CapExceeded(
                f"record holds more than {MAX_READINGS_PER_RECORD:,} readings "
                "(the per-record cap; a 1 MiB Kinesis record cannot carry more real readings)"
            )
        self.readings_left -= count


class CapExceeded(ValueError):
    """A record over one of the per-record caps; the message names the cap."""


def decode_records(shard: str, records: list[Any]) -> tuple[list[Reading], list[DecodeError]]:
    """Decode one GetRecords page of ``shard``.

    Returns the readings in record order (sub-records in their order, ``sub`` numbering them
    inside a record) and one :class:`DecodeError` per undecodable record or element.
    Never raises.
    """
    readings: list[Reading] = []
    errors: list[DecodeError] = []
    append = readings.append
    for rec in records:
        # Fast path: one current-spelling object. Anything unusual (missing keys, bad base64,
        # other formats, odd types) raises or falls through to the careful path below.
        try:
            seq = rec["SequenceNumber"]
            arr = rec["ApproximateArrivalTimestamp"]
            raw = _a2b(rec["Data"], strict_mode=True)
            if seq.__class__ is str and raw[:1] == b"{":
                if arr.__class__ is not float or arr > _SECONDS_CUTOFF:
                    arr = arrival_seconds(arr)
                try:
                    d = _loads(raw)
                except _JSONDecodeError:
                    d = None  # NDJSON or broken JSON: the careful path says which
                if d.__class__ is dict:
                    get = d.get
                    em = get("epochMs")
                    rt = get("rtms")
                    lb = get("label")
                    tn = get("tagName")
                    if (
                        em.__class__ is int
                        and lb.__class__ is str
                        and tn.__class__ is str
                        and (rt is None or rt.__class__ is int)
                    ):
                        append(
                            _new_reading(
                                Reading,
                                (
                                    shard,
                                    seq,
                                    0,
                                    arr,
                                    em,
                                    rt,
                                    get("orgId"),
                                    get("siteId"),
                                    get("assetId"),
                                    get("tagId"),
                                    get("registerId"),
                                    tn,
                                    lb,
                                    get("val"),
                                    d,
                                ),
                            )
                        )
                    else:
                        append(make_reading(shard, seq, 0, arr, d))
                    continue
        except Exception:  # noqa: BLE001, S110 - the careful path below classifies it
            pass
        try:
            _decode_record(shard, rec, readings, errors)
        except Exception as exc:  # noqa: BLE001 - a decoder bug must not stop the feed
            errors.append(DecodeError(shard, _seq_text(rec), f"internal error: {exc!r}", b""))
    return readings, errors


def decode_data(
    shard: str, seq: str, arrival: float, raw: bytes
) -> tuple[list[Reading], list[DecodeError]]:
    """Decode already base64-decoded record bytes (sessions and tests use this)."""
    readings: list[Reading] = []
    errors: list[DecodeError] = []
    _decode_capped(shard, seq, arrival, raw, readings, errors)
    return readings, errors


def _decode_capped(
    shard: str,
    seq: str,
    arrival: float,
    raw: bytes,
    readings: list[Reading],
    errors: list[DecodeError],
) -> None:
    """Decode one record's bytes under the per-record caps: a record over a cap is one
    decode error naming the cap, and none of its readings are kept (all or nothing)."""
    kept, failed = len(readings), len(errors)
    record = _Record(shard, seq, arrival, readings, errors)
    try:
        _decode_blob(record, raw, 0, 0)
    except CapExceeded as exc:
        del readings[kept:], errors[failed:]
        record.fail(str(exc), raw)


# --- the careful path ------------------------------------------------------------------------


def _seq_text(rec: Any) -> str:
    if isinstance(rec, dict):
        seq = rec.get("SequenceNumber")
        if isinstance(seq, str):
            return seq
        if isinstance(seq, int) and not isinstance(seq, bool):
            return str(seq)
    return ""


def _decode_record(
    shard: str, rec: Any, readings: list[Reading], errors: list[DecodeError]
) -> None:
    if not isinstance(rec, dict):
        errors.append(DecodeError(shard, "", "record is not an object", _repr_bytes(rec)))
        return
    seq = _seq_text(rec)
    arrival = arrival_seconds(rec.get("ApproximateArrivalTimestamp"))
    data = rec.get("Data")
    if not seq:
        errors.append(DecodeError(shard, "", "missing SequenceNumber", _repr_bytes(data), arrival))
        return
    if isinstance(data, str):
        try:
            raw = _a2b(data, strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            errors.append(
                DecodeError(
                    shard,
                    seq,
                    f"bad base64: {exc}",
                    data.encode("utf-8", "backslashreplace"),
                    arrival,
                )
            )
            return
    elif isinstance(data, (bytes, bytearray)):
        raw = bytes(data)  # a caller that already decoded (or a binary transport)
    else:
        reason = "missing Data" if data is None else "Data is not a string"
        errors.append(DecodeError(shard, seq, reason, _repr_bytes(data), arrival))
        return
    _decode_capped(shard, seq, arrival, raw, readings, errors)


def _decode_blob(record: _Record, raw: bytes, sub: int, depth: int) -> int:
    """Decode one blob of ``record``, numbering its elements from ``sub``.

    Returns the next free ``sub`` so nested formats (KPL of arrays) keep numbers unique.
    Raises :class:`CapExceeded` when the record passes a per-record cap.
    """
    if raw[:4] == KPL_MAGIC:
        if depth > 0:
            record.fail("KPL aggregate nested in a record", raw)
            return sub + 1
        try:
            subs = parse_aggregate(raw)
        except KplError as exc:
            record.fail(f"bad KPL aggregate: {exc}", raw)
            return sub + 1
        record.take_readings(len(subs))
        record.readings_left += len(subs)  # only a bound up front: each sub takes its share
        for part in subs:
            sub = _decode_blob(record, part.data, sub, depth + 1)
        return sub
    if raw[:2] == GZIP_MAGIC:
        return _decode_gzip(record, raw, sub, depth)
    text = raw[3:] if raw[:3] == _BOM else raw
    if not text.strip():
        record.fail("empty record", raw)
        return sub + 1
    if len(text) > MAX_VALUES_PER_RECORD and text.count(b",") >= MAX_VALUES_PER_RECORD:
        raise CapExceeded(
            f"record holds more than {MAX_VALUES_PER_RECORD:,} JSON values (the per-record "
            "cap; refused before parsing)"
        )
    try:
        value = _loads(text)
    except _JSONDecodeError as exc:
        if b"\n" in text.strip():
            return _decode_lines(record, text, sub)
        record.fail(_json_reason(text, exc), raw)
        return sub + 1
    if isinstance(value, dict):
        record.take_readings(1)
        record.take(value, sub)
        return sub + 1
    if isinstance(value, list):
        record.take_readings(len(value))
        for element in value:
            if isinstance(element, dict):
                record.take(element, sub)
            else:
                record.fail(f"element {sub} is not an object", _repr_bytes(element))
            sub += 1
        return sub
    record.fail("not a JSON object", raw)
    return sub + 1


def _decode_gzip(record: _Record, raw: bytes, sub: int, depth: int) -> int:
    """A gzip blob: inflated within what is left of the record's cap, then decoded."""
    if depth >= _MAX_DEPTH:
        record.fail("gzip nested too deep", raw)
        return sub + 1
    try:
        inflated = _gunzip(raw, record.inflated)
    except CapExceeded:
        raise
    except (zlib.error, ValueError, EOFError) as exc:
        record.fail(f"bad gzip: {exc}", raw)
        return sub + 1
    record.inflated -= len(inflated)
    return _decode_blob(record, inflated, sub, depth + 1)


def _decode_lines(record: _Record, text: bytes, sub: int) -> int:
    """Newline-delimited JSON: one element per non-blank line."""
    for line in text.split(b"\n"):
        if not line.strip():
            continue
        record.take_readings(1)
        try:
            value = _loads(line)
        except _JSONDecodeError as exc:
            record.fail(_json_reason(line, exc), line)
        else:
            if isinstance(value, dict):
                record.take(value, sub)
            else:
                record.fail("line is not a JSON object", line)
        sub += 1
    return sub


def _gunzip(raw: bytes, limit: int = MAX_INFLATED) -> bytes:
    """Inflate gzip (possibly several members), at most ``limit`` bytes (what is left of the
    record's cap): never more than that is held, whatever the blob claims."""
    out: list[bytes] = []
    total = 0
    data = raw
    while data:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        chunk = inflater.decompress(data, limit - total + 1)
        total += len(chunk)
        if total > limit or inflater.unconsumed_tail:
            raise CapExceeded(
                f"record inflates past {MAX_INFLATED // (1024 * 1024)} MiB (the per-record "
                "cap: 8x the 1 MiB Kinesis record limit)"
            )
        if not inflater.eof:
            raise EOFError("truncated gzip stream")
        out.append(chunk)
        data = inflater.unused_data
        if data[:2] != GZIP_MAGIC:
            break  # trailing padding after the last member is tolerated, as gzip(1) does
    return b"".join(out)


def _json_reason(text: bytes, exc: Exception) -> str:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    return f"not JSON: {exc}"


def _repr_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace")
    try:
        return orjson.dumps(value)
    except TypeError:
        pass
    try:
        return repr(value).encode("utf-8", "backslashreplace")
    except RecursionError:  # nested deeper than repr goes: the kind is all we can keep
        return f"<{type(value).__name__} nested too deep to show>".encode()


# --- canonical fields from either spelling ----------------------------------------------------


def make_reading(shard: str, seq: str, sub: int, arrival: float, d: dict[str, Any]) -> Reading:
    """Build a :class:`Reading` from a payload in either spelling; ``payload`` is ``d`` itself."""
    get = d.get
    if "epochMs" in d:
        epoch = _ms_field(get("epochMs"))
    else:
        epoch = timestamp_ms(get("@timestamp"))
    return Reading(
        shard,
        seq,
        sub,
        arrival,
        epoch,
        _ms_field(get("rtms")),
        _first(d, "orgId", "org_id"),
        _first(d, "siteId", "site_id"),
        _id(_first(d, "assetId", "asset_id")),
        _id(_first(d, "tagId", "tag_id")),
        _id(_first(d, "registerId", "register_id")),
        _text(_first(d, "tagName", "tag_name")),
        _text(get("label")),
        get("val"),
        d,
    )


def _first(d: dict[str, Any], current: str, older: str) -> Any:
    value = d.get(current)
    return d.get(older) if value is None else value


def _id(value: Any) -> Any:
    """The older spelling writes ids as strings: ``"889"`` and ``889`` name the same tag."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _ms_field(value: Any) -> int | None:
    """A field whose name says milliseconds (epochMs, rtms)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if not math.isnan(value) and abs(value) < 1e18 else None
    if isinstance(value, str):
        try:
            return int(float(value)) if value.strip() else None
        except (ValueError, OverflowError):
            return None
    return None


def timestamp_ms(value: Any) -> int | None:
    """``@timestamp``: an ISO 8601 string or an epoch number (seconds or milliseconds)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        try:
            number = float(s)
        except ValueError:
            try:
                dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                return None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)  # Kinesis-era timestamps are UTC
            return (dt - _EPOCH) // _MS
        value = number
    if isinstance(value, (int, float)):
        if math.isnan(value) or abs(value) > 1e16:
            return None
        return int(value) if abs(value) >= _SECONDS_CUTOFF else round(value * 1000)
    return None


def arrival_seconds(value: Any) -> float:
    """ApproximateArrivalTimestamp as epoch seconds; tolerant of strings and milliseconds.

    Kinesis writes a JSON number of seconds (``1.441215410867E9``); proxies have been seen
    writing strings or ISO dates. Unreadable values give 0.0 rather than losing the reading.
    """
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        ms = timestamp_ms(value)
        return ms / 1000.0 if ms is not None else 0.0
    else:
        return 0.0
    if math.isnan(seconds) or abs(seconds) > 1e16:
        return 0.0
    return seconds / 1000.0 if abs(seconds) >= _SECONDS_CUTOFF else seconds
