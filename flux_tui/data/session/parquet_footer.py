"""Just enough of Parquet's footer (Thrift compact protocol) to append row groups to a file.

Why: pyarrow writes a Parquet footer only when its writer closes, and refuses to continue a
file it did not start ("Appending to file not implemented"). A recording must survive being
killed, so :mod:`parquet_write` encodes each row group on its own with pyarrow, appends its
bytes to the file, and writes a footer for every row group so far. Each row group's metadata
comes from its own little file, where offsets count from that file's start: this module moves
them to where the bytes landed and joins the row groups into one footer.

Only the fields that hold file offsets are touched; everything else is copied field by field.
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["FooterError", "RowGroupFooters", "footer_bytes", "split_file"]

MAGIC = b"PAR1"

# Compact protocol types.
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(1, 13)

# Field ids (parquet.thrift) whose i64 value is a file offset, by struct.
_ROW_GROUP_OFFSETS = {5}  # RowGroup.file_offset
_CHUNK_OFFSETS = {2, 4, 6}  # ColumnChunk.file_offset, offset_index_offset, column_index_offset
_META_OFFSETS = {9, 10, 11, 14}  # data_page, index_page, dictionary_page, bloom_filter offsets


class FooterError(ValueError):
    """The bytes are not a Parquet footer this module understands."""


# A decoded struct: list of (field id, type, value); a list: (element type, [values]).
Field = tuple[int, int, Any]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise FooterError("footer ends early")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise FooterError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise FooterError("footer ends early")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def value(self, kind: int) -> Any:
        if kind in (_TRUE, _FALSE):
            return kind == _TRUE
        if kind == _BYTE:
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            return self.take(8)
        if kind == _BINARY:
            return self.take(self.varint())
        if kind in (_LIST, _SET):
            header = self.byte()
            size, elem = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            if elem in (_TRUE, _FALSE):
                return elem, [self.byte() for _ in range(size)]
            return elem, [self.value(elem) for _ in range(size)]
        if kind == _MAP:
            size = self.varint()
            if not size:
                return 0, 0, []
            types = self.byte()
            k, v = types >> 4, types & 0x0F
            return k, v, [(self.value(k), self.value(v)) for _ in range(size)]
        if kind == _STRUCT:
            return self.struct()
        raise FooterError(f"unknown Thrift type {kind}")

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last = 0
        while True:
            header = self.byte()
            if header == 0:
                return fields
            delta, kind = header >> 4, header & 0x0F
            fid = last + delta if delta else self.zigzag()
            fields.append((fid, kind, self.value(kind)))
            last = fid


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


class _Encoded(bytes):
    """A value already in its Thrift encoding (the row groups of a joined footer)."""


def _value(kind: int, value: Any) -> bytes:
    if isinstance(value, _Encoded):
        return bytes(value)
    if kind == _BYTE:
        return bytes([value])
    if kind in (_I16, _I32, _I64):
        return _zigzag(value)
    if kind == _DOUBLE:
        return bytes(value)
    if kind == _BINARY:
        return _varint(len(value)) + bytes(value)
    if kind in (_LIST, _SET):
        elem, items = value
        head = bytes([(len(items) << 4) | elem]) if len(items) < 15 else (
            bytes([0xF0 | elem]) + _varint(len(items)))
        if elem in (_TRUE, _FALSE):
            return head + bytes(items)
        return head + b"".join(_value(elem, item) for item in items)
    if kind == _MAP:
        k, v, pairs = value
        if not pairs:
            return b"\x00"
        body = b"".join(_value(k, a) + _value(v, b) for a, b in pairs)
        return _varint(len(pairs)) + bytes([(k << 4) | v]) + body
    if kind == _STRUCT:
        return _struct(value)
    raise FooterError(f"unknown Thrift type {kind}")


def _struct(fields: list[Field]) -> bytes:
    out = bytearray()
    last = 0
    for fid, kind, value in fields:
        if kind in (_TRUE, _FALSE):
            kind = _TRUE if value else _FALSE
        delta = fid - last
        if 0 < delta <= 15:
            out.append((delta << 4) | kind)
        else:
            out.append(kind)
            out += _zigzag(fid)
        if kind not in (_TRUE, _FALSE):
            out += _value(kind, value)
        last = fid
    out.append(0)
    return bytes(out)


def _shift(fields: list[Field], ids: set[int], by: int) -> list[Field]:
    return [(fid, kind, value + by if fid in ids and kind == _I64 and value > 0 else value)
            for fid, kind, value in fields]


def _shift_row_group(row_group: list[Field], by: int, ordinal: int) -> list[Field]:
    out: list[Field] = []
    for fid, kind, value in _shift(row_group, _ROW_GROUP_OFFSETS, by):
        if fid == 1 and kind == _LIST:  # columns
            elem, chunks = value
            value = (elem, [_shift_chunk(chunk, by) for chunk in chunks])
        elif fid == 7 and kind == _I16:  # ordinal: its place in the joined file
            value = ordinal
        out.append((fid, kind, value))
    return out


def _shift_chunk(chunk: list[Field], by: int) -> list[Field]:
    return [(fid, kind, _shift(value, _META_OFFSETS, by) if fid == 3 and kind == _STRUCT
             else value) for fid, kind, value in _shift(chunk, _CHUNK_OFFSETS, by)]


def split_file(data: bytes) -> tuple[bytes, list[Field]]:
    """A whole small Parquet file -> (the row-group bytes between the magics and the footer,
    the decoded footer). Offsets in the footer count from the file's start."""
    if len(data) < 12 or data[:4] != MAGIC or data[-4:] != MAGIC:
        raise FooterError("not a Parquet file")
    length = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - length
    if start < 4:
        raise FooterError("footer length out of range")
    return data[4:start], _Reader(data[start:-8]).struct()


def parse_footer(data: bytes) -> list[Field]:
    """Decode footer bytes (without the length and magic)."""
    return _Reader(data).struct()


def footer_bytes(footer: list[Field]) -> bytes:
    """The footer as it ends a file: Thrift bytes, their length, the magic."""
    body = _struct(footer)
    return body + struct.pack("<I", len(body)) + MAGIC


class RowGroupFooters:
    """Row groups appended so far, and the footer that describes them all.

    ``add(segment, at)`` takes a whole small Parquet file holding one or more row groups
    whose data bytes (``segment``'s bytes between its leading magic and its footer) were
    written at file offset ``at``; returns the data to write there.
    """

    def __init__(self) -> None:
        self.head: list[Field] | None = None  # the first footer (schema, version, ...)
        self.row_groups: list[bytes] = []  # each RowGroup struct, encoded, offsets final
        self.num_rows = 0

    def add(self, segment: bytes, at: int) -> tuple[bytes, bytes]:
        """(data to write at ``at``, the footer of that segment alone, offsets final)."""
        data, footer = split_file(segment)
        if self.head is None:
            self.head = footer
        by = at - 4  # the segment's data began right after its own 4-byte magic
        groups = []
        for fid, kind, value in footer:
            if fid == 3 and kind == _I64:
                self.num_rows += value
            elif fid == 4 and kind == _LIST:
                groups = [group for group in value[1] if _rows(group)]  # not empty ones
        shifted = [_shift_row_group(group, by, len(self.row_groups) + i)
                   for i, group in enumerate(groups)]
        encoded = [_struct(group) for group in shifted]
        own = self._footer(encoded, sum(_rows(group) for group in groups), footer)
        self.row_groups.extend(encoded)
        return data, own

    def footer(self) -> bytes:
        """The footer of every row group added, ready to end the file."""
        if self.head is None:
            raise FooterError("no row group yet")
        return self._footer(self.row_groups, self.num_rows, self.head)

    @classmethod
    def join(cls, footers: list[list[Field]]) -> bytes:
        """One footer for the row groups of several footers whose offsets are final (the
        row groups' own footers, when recovering a file whose last footer is lost)."""
        groups: list[bytes] = []
        rows = 0
        for footer in footers:
            for fid, kind, value in footer:
                if fid == 4 and kind == _LIST:
                    groups += [_struct(group) for group in value[1]]
                elif fid == 3 and kind == _I64:
                    rows += value
        return cls._footer(groups, rows, footers[0])

    @staticmethod
    def _footer(groups: list[bytes], rows: int, head: list[Field]) -> bytes:
        count = len(groups)
        header = bytes([(count << 4) | _STRUCT]) if count < 15 else (
            bytes([0xF0 | _STRUCT]) + _varint(count))
        fields: list[Field] = []
        for fid, kind, value in head:
            if fid == 4 and kind == _LIST:  # the row groups, already encoded
                value = _Encoded(header + b"".join(groups))
            elif fid == 3 and kind == _I64:
                value = rows
            fields.append((fid, kind, value))
        body = _struct(fields)
        return body + struct.pack("<I", len(body)) + MAGIC


def _rows(group: list[Field]) -> int:
    return next((value for fid, kind, value in group if fid == 3 and kind == _I64), 0)
