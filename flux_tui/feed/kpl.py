"""KPL (Kinesis Producer Library) aggregated records: parse and build.

An aggregated record is ``F3 89 9A C2`` + protobuf ``AggregatedRecord`` + the 16-byte MD5 of
the protobuf bytes. Only the few protobuf wire rules the format needs are implemented here,
so the feed carries no protobuf dependency.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

KPL_MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST_LEN = 16

# protobuf wire types
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class KplError(ValueError):
    """The bytes start with the KPL magic but are not a valid aggregated record."""


class SubRecord(NamedTuple):
    """One user record inside an aggregate."""

    partition_key: str | None
    explicit_hash_key: str | None
    data: bytes


def is_aggregate(raw: bytes) -> bool:
    """True when ``raw`` starts with the KPL magic number."""
    return raw[:4] == KPL_MAGIC


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Read a base-128 varint at ``pos``; return (value, next position)."""
    value = 0
    shift = 0
    while True:
        if pos >= end:
            raise KplError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:  # a uint64 never needs more than ten bytes
            raise KplError("varint too long")


def _fields(buf: bytes, pos: int, end: int) -> list[tuple[int, int, int | bytes]]:
    """Split a protobuf message into (field number, wire type, value) triples.

    Length-delimited values come back as bytes, varints as ints; fixed-width values (which
    the KPL schema never uses) are skipped over but kept as bytes so nothing is misread.
    """
    out: list[tuple[int, int, int | bytes]] = []
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise KplError("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos, end)
            out.append((number, wire, value))
        elif wire == _LEN:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise KplError("length-delimited field runs past the end")
            out.append((number, wire, buf[pos : pos + length]))
            pos += length
        elif wire in (_I64, _I32):
            width = 8 if wire == _I64 else 4
            if pos + width > end:
                raise KplError("fixed-width field runs past the end")
            out.append((number, wire, buf[pos : pos + width]))
            pos += width
        else:  # groups (3, 4) and the unused wire types 6, 7
            raise KplError(f"unsupported wire type {wire}")
    return out


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KplError("key table entry is not UTF-8") from exc


def parse_aggregate(raw: bytes) -> list[SubRecord]:
    """Parse an aggregated record (magic included) into its sub-records, in order.

    Raises :class:`KplError` on a bad magic, a bad checksum or malformed protobuf.
    """
    if not is_aggregate(raw):
        raise KplError("missing KPL magic")
    if len(raw) < len(KPL_MAGIC) + _DIGEST_LEN:
        raise KplError("too short for a KPL aggregate")
    body = raw[len(KPL_MAGIC) : -_DIGEST_LEN]
    if hashlib.md5(body).digest() != raw[-_DIGEST_LEN:]:  # a checksum, not security
        raise KplError("MD5 checksum mismatch")
    pk_table: list[str] = []
    ehk_table: list[str] = []
    entries: list[bytes] = []
    for number, wire, value in _fields(body, 0, len(body)):
        if wire != _LEN:
            continue  # unknown scalar fields: skipped as protobuf readers do
        assert isinstance(value, bytes)
        if number == 1:
            pk_table.append(_text(value))
        elif number == 2:
            ehk_table.append(_text(value))
        elif number == 3:
            entries.append(value)
    subs: list[SubRecord] = []
    for entry in entries:
        pk_index: int | None = None
        ehk_index: int | None = None
        data: bytes | None = None
        for number, wire, value in _fields(entry, 0, len(entry)):
            if number == 1 and wire == _VARINT:
                pk_index = value  # type: ignore[assignment]
            elif number == 2 and wire == _VARINT:
                ehk_index = value  # type: ignore[assignment]
            elif number == 3 and wire == _LEN:
                data = value  # type: ignore[assignment]
        if data is None:
            raise KplError("sub-record without data")
        pk = _lookup(pk_table, pk_index, "partition key")
        ehk = _lookup(ehk_table, ehk_index, "explicit hash key")
        subs.append(SubRecord(pk, ehk, data))
    return subs


def _lookup(table: list[str], index: int | None, what: str) -> str | None:
    if index is None:
        return None
    if index >= len(table):
        raise KplError(f"{what} index {index} outside its table of {len(table)}")
    return table[index]


# --- building (tests, benchmarks and the simulator produce aggregates with this) ------------


def _put_varint(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _put_len(out: bytearray, number: int, payload: bytes) -> None:
    _put_varint(out, (number << 3) | _LEN)
    _put_varint(out, len(payload))
    out += payload


def build_aggregate(records: list[tuple[str, bytes]]) -> bytes:
    """Build an aggregated record from (partition key, data) pairs, as the KPL would."""
    keys: list[str] = []
    index: dict[str, int] = {}
    body = bytearray()
    encoded: list[bytes] = []
    for pk, data in records:
        if pk not in index:
            index[pk] = len(keys)
            keys.append(pk)
        rec = bytearray()
        _put_varint(rec, (1 << 3) | _VARINT)
        _put_varint(rec, index[pk])
        _put_len(rec, 3, data)
        encoded.append(bytes(rec))
    for pk in keys:
        _put_len(body, 1, pk.encode("utf-8"))
    for rec_bytes in encoded:
        _put_len(body, 3, rec_bytes)
    payload = bytes(body)
    return KPL_MAGIC + payload + hashlib.md5(payload).digest()
