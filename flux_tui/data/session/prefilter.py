"""The whole file's count of a filter before its index is loaded: a byte-level prefilter
over the JSONL text at C speed, then the real query on each candidate line.

Why: the index reads a line in about 11 µs (a million lines: 10-35 s on a loaded machine),
but most filters name text that must appear in a matching line (``label:"suction
pressure"``, a word, ``tag:...``). Lower-casing 8 MB blocks and ``bytes.find`` of that text
costs well under a second for 369 MB; only the lines found (and a few that a byte search
cannot rule out) are parsed and tested with the compiled query, so the count is exact: a
line whose text matched in another field is not counted.

When the filter names no such text (``val>100``, ``-label:x``, a time), or the file is CSV
or Parquet, :func:`needles` says None and the caller waits for the index.

Exactness (the query's text tests are ``needle in str(field).lower()``):

* A pure-ASCII needle found in ``s.lower()`` comes from ASCII characters of ``s``, which
  stand as themselves in UTF-8, except ``K`` (U+212A, lowers to ``k``) and ``İ`` (U+0130,
  lowers to ``i`` + U+0307). For needles with a ``k``, ending with ``i``, or not ASCII,
  every line holding a non-ASCII byte is a candidate.
* JSON escapes (``"\\u0073uction"``) hide text from a byte search: every line with a
  backslash is a candidate.
* The query reads ``str(value)`` of a field that is not a string: an array or object
  prints differently from its JSON (``[1, 2]``), so every line with ``[`` or a nested
  ``{`` is a candidate; a float may too (``1e3`` is ``1000.0``), so needles made only of
  number characters are not prefiltered.
* A bare word also matches the unit's name, ``Unit <asset id>`` when no name is known (a
  replay has no names): needles inside ``unit ?`` or starting across ``unit `` are not
  prefiltered. With a name lookup that may answer, words and ``asset:``/``site:``/``org:``
  are not prefiltered either (the names are not in the file).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from flux_tui.data.query import Query
from flux_tui.data.query.parse import And, Compare, Field, Node, Or, Text
from flux_tui.data.session.gzip_points import inflate
from flux_tui.data.session.index import (
    LOAD_GATE,
    ROW_ERRORS,
    depends_on_key_only,
    row_key,
    row_reading,
)
from flux_tui.data.session.read import MAX_LINE, SessionFile, open_session
from flux_tui.feed.types import Reading

__all__ = ["BLOCK", "FileCount", "count_file", "needles", "scan_block"]

BLOCK = 2 << 20  # bytes scanned at a time (each block is held about three times over)
_NUMBERISH = frozenset("0123456789.e+-infa")
_REPR_ONLY = frozenset("'\\\",:[]{}")  # characters str() of a list or dict adds
_UNIT = "unit "

FileCount = tuple[int, int]  # (matching rows, lines)
KeyTest = Callable[[Reading], bool]


def _no_names(names: Any) -> bool:
    """True when the lookup can give no name (none at all, or a replay's empty one)."""
    return names is None or getattr(names, "directory", True) is None


def _literal(value: str, *, unit: bool = False) -> list[str] | None:
    """The text a field matching ``value`` (``*`` = any run) must contain, lower-cased."""
    part = max(value.lower().split("*"), key=len)
    if not part or set(part) <= _NUMBERISH or not _REPR_ONLY.isdisjoint(part):
        return None
    if "none" in part or part[0] == " " or part[-1] == " ":
        return None  # str([None]) says None; str([1, 2]) puts spaces after , and :
    if unit and (part in "unit ?" or any(part.startswith(_UNIT[i:]) for i in range(5))):
        return None
    return [part]


def needles(node: Node, names: Any = None) -> list[str] | None:
    """Lower-cased texts of which a line the query keeps holds at least one (checked with
    :func:`scan_block`'s rules), or None when no such text can be named."""
    if isinstance(node, Text):
        return _literal(node.value, unit=True) if _no_names(names) else None
    if isinstance(node, Field):
        if node.field in ("asset", "site", "org") and not _no_names(names):
            return None
        return _literal(node.value)
    if isinstance(node, Compare) and node.number is None and node.op == "=" and node.field != "val":
        return _literal(node.value)  # an id equal to text (`tag=abc`): str(id) equals it
    if isinstance(node, And):
        found = [n for n in (needles(c, names) for c in node.children) if n is not None]
        return max(found, key=lambda n: min(map(len, n))) if found else None
    if isinstance(node, Or):
        union: list[str] = []
        for child in node.children:
            part = needles(child, names)
            if part is None:
                return None
            union.extend(p for p in part if p not in union)
        return union
    return None  # every row (All), a value or time test, a negation


def _line_span(data: bytes, at: int, end: int) -> tuple[int, int]:
    """The line around ``at``; ``data[end - 1]`` is a newline, or ``end`` the data's end."""
    stop = data.find(b"\n", at, end)
    return data.rfind(b"\n", 0, at) + 1, (end if stop < 0 else stop)


def scan_block(
    block: bytes, finds: list[bytes], non_ascii: bool, *, start: int = 0, end: int | None = None
) -> list[bytes]:
    """The candidate lines of ``block[start:end]`` (whole lines, newline removed), in order:
    those holding one of ``finds`` (lower-case ASCII, found case-insensitively), a
    backslash, and (``non_ascii``) a byte above 127."""
    if end is None:
        end = len(block)
    low = block.lower()  # ASCII letters only, as the rules above need
    spans: dict[int, int] = {}
    for find in (*finds, b"\\"):
        at = low.find(find, start, end)
        while at >= 0:
            begin, stop = _line_span(low, at, end)
            spans[begin] = stop
            at = low.find(find, stop, end)
    if non_ascii and not block.isascii():
        begin = start
        for line in block[start:end].split(b"\n"):
            if not line.isascii():
                spans[begin] = begin + len(line)
            begin += len(line) + 1
    return [block[begin : spans[begin]] for begin in sorted(spans)]


def _raw_blocks(path: Path, compressed: bool) -> Iterator[bytes]:
    """The file's (decompressed) bytes, about :data:`BLOCK` at a time; a damaged gzip
    stream just ends (the index reports it)."""
    with open(path, "rb") as handle:
        if not compressed:
            while chunk := handle.read(BLOCK):
                yield chunk
            return
        try:
            yield from inflate(handle, feed=BLOCK, step=BLOCK)
        except zlib.error:
            return


Block = tuple[bytes, int, int]  # the bytes, and where its whole lines start and end


def _line_blocks(path: Path, compressed: bool) -> Iterator[Block]:
    """The file as blocks of whole lines (the last may lack its newline), without copying
    the bulk: a chunk's complete lines are given as its range, a line across chunks on its
    own. A line longer than :data:`MAX_LINE` is dropped, as the index skips it."""
    carry = b""  # the start of a line that goes on in the next chunk
    dropping = False  # within a line too long to keep
    for chunk in _raw_blocks(path, compressed):
        first = chunk.find(b"\n")
        if first < 0:
            if not dropping:
                carry += chunk
                if len(carry) > MAX_LINE:
                    carry, dropping = b"", True
            continue
        if dropping:
            dropping = False
        elif carry:
            head = carry + chunk[: first + 1]
            if len(head) <= MAX_LINE + 1:
                yield head, 0, len(head)
        else:
            first = -1  # the chunk starts with a line: its first line is in the range
        carry = b""
        last = chunk.rfind(b"\n") + 1
        if first + 1 < last:
            yield chunk, first + 1, last
        if last < len(chunk):
            carry = chunk[last:]
            if len(carry) > MAX_LINE:
                carry, dropping = b"", True
    if carry and not dropping:
        yield carry, 0, len(carry)


def count_file(
    path: Path,
    query: Query | None,
    key_test: KeyTest | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> FileCount | None:
    """(rows ``query`` and ``key_test`` keep, lines) of a JSONL session (.gz too),
    or None when the prefilter cannot answer: another format, a filter naming no text, or
    ``cancelled()`` turned True. The rows are exact (each candidate is read as the index
    reads it); the lines equal the index's rows unless lines are blank or damaged (the
    index's count replaces them once loaded)."""
    session = open_session(path)
    if type(session) is not SessionFile or session.format != "jsonl":
        return None
    if query is None or query.is_empty:
        if key_test is not None:
            return None
        finds: list[str] | None = []
    else:
        finds = needles(query.node, query.names)
    if finds is None:
        return None
    non_ascii = any(not f.isascii() or "k" in f or f.endswith("i") for f in finds)
    ascii_finds = [f.encode() for f in finds if f.isascii()]
    test = query.matches if query is not None and not query.is_empty else None
    keeps = None
    if test is not None:
        assert query is not None
        keeps = (
            _by_key(test, key_test)
            if depends_on_key_only(query.node)
            else _by_reading(test, key_test)
        )
    with LOAD_GATE.paused():  # the index's load waits: this is what the user waits for
        return _count(session, keeps, ascii_finds, non_ascii, cancelled)


def _count(
    session: SessionFile,
    keeps: Callable[[bytes], bool] | None,
    finds: list[bytes],
    non_ascii: bool,
    cancelled: Callable[[], bool],
) -> FileCount | None:
    matches = lines = 0
    for block, start, end in _line_blocks(session.path, session.compressed):
        if cancelled():
            return None
        lines += block.count(b"\n", start, end) + (block[end - 1] != 10)
        if keeps is not None:
            candidates = scan_block(block, finds, non_ascii, start=start, end=end)
            for number, line in enumerate(candidates, 1):
                matches += keeps(line)
                if not number & 4095 and cancelled():
                    return None
    return (lines if keeps is None else matches), lines


def _by_reading(test: KeyTest, key_test: KeyTest | None) -> Callable[[bytes], bool]:
    """Whether a line is a row the query keeps, read as the index reads it."""
    loads = orjson.loads

    def keeps(line: bytes) -> bool:
        try:
            reading = row_reading(loads(line))
        except ROW_ERRORS:
            return False
        return test(reading) and (key_test is None or key_test(reading))

    return keeps


def _by_key(test: KeyTest, key_test: KeyTest | None) -> Callable[[bytes], bool]:
    """The same for a query that looks at no value or time: decided once per distinct key
    (labels and ids repeat), on a stand-in reading as the index's filter builds."""
    loads = orjson.loads
    verdicts: dict[tuple[Any, ...], bool] = {}

    def keeps(line: bytes) -> bool:
        try:
            key = row_key(loads(line))  # a blank line is no JSON
        except ROW_ERRORS:
            return False
        try:
            return verdicts[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable id (a list...) in a strange payload
            return _decide(key, test, key_test)
        verdict = verdicts[key] = _decide(key, test, key_test)
        return verdict

    return keeps


def _decide(key: tuple[Any, ...], test: KeyTest, key_test: KeyTest | None) -> bool:
    probe: Any = ["", "", 0, 0.0, None, None, *key, None, {}]
    return bool(test(probe)) and (key_test is None or bool(key_test(probe)))
