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
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import compress
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import orjson

from flux_tui.data.formats import reading_from_csv, reading_from_json
from flux_tui.data.query import Query
from flux_tui.data.query.evaluate import compile_node
from flux_tui.data.query.parse import All, And, Compare, Field, Node, Not, Or, Text
from flux_tui.feed.decoder import _id, _ms_field, _text, timestamp_ms  # the same conversions
from flux_tui.feed.types import Reading

__all__ = ["LOAD_GATE", "ROW_ERRORS", "LoadGate", "SessionIndex", "row_key", "row_reading"]

MISSING_MS = -(2**63)  # epoch_ms column value for a reading without a time
_EMPTY: dict[str, Any] = {}
# Value kinds: a float column holds numbers; the kind says how to give them back.
_FLOAT, _INT, _TRUE, _FALSE, _NONE, _OTHER = range(6)


class IndexedFile(Protocol):
    """What the index reads of a session file (:class:`~flux_tui.data.session.read.SessionFile`,
    which builds its index with :meth:`SessionIndex.load`)."""

    path: Path
    compressed: bool
    format: str
    problems: list[tuple[int, str]]
    csv_order: list[int] | None

    @property
    def csv_guarded(self) -> bool: ...

    def lines(self) -> Iterator[tuple[int, int, bytes, bool]]: ...

    def line_problem(self, error: Exception, complete: bool) -> str: ...

    def iter_csv(
        self, tee: Callable[[bytes], object] | None = None
    ) -> Iterator[tuple[int, int, int, Reading]]: ...


ROW_ERRORS = (orjson.JSONDecodeError, ValueError, TypeError, KeyError)
"""What :func:`row_reading` (or ``orjson.loads`` before it) raises for a line that is no row."""


def row_reading(obj: Any) -> Reading:
    """The index's reading of one parsed JSONL line (the fields the columns and the filter
    look at; no seq, arrival or payload copy), or one of :data:`ROW_ERRORS` for a line that
    is no row. Shared with the whole-file prefilter count so both keep exactly the same
    rows.

    Equal to ``reading_from_payload(str(shard), str(seq), 0, 0.0, obj)`` (a test checks it
    on odd payloads), about twice as fast: the common types (int times and ids, str names)
    are taken as they are, anything else goes through the decoder's own conversions."""
    shard, seq = _check_row(obj)
    get = obj.get
    epoch = get("epochMs")
    if type(epoch) is not int:
        epoch = _ms_field(epoch) if "epochMs" in obj else timestamp_ms(get("@timestamp"))
    rtms = get("rtms")
    if type(rtms) is not int:
        rtms = _ms_field(rtms)
    org, site, asset, tag, register, tag_name, label = _key_fields(get)
    return Reading(shard, seq, 0, 0.0, epoch, rtms, org, site, asset, tag, register, tag_name,
                   label, get("val"), obj)


def row_key(obj: Any) -> tuple[Any, ...]:
    """(org, site, asset, tag, register, tag_name, label) of the row ``obj`` is, exactly as
    :func:`row_reading` gives them, and refused exactly as it refuses (its time and value
    conversions never raise): what a query that looks at no value or time needs."""
    _check_row(obj)
    return _key_fields(obj.get)


def _check_row(obj: Any) -> tuple[str, str]:
    # The columns need no payload: skip reading_from_json's copy, but refuse exactly the
    # lines it refuses so rows and iter_readings() agree.
    if type(obj) is not dict or type(obj.get("_sub", 0)) is not int:
        reading_from_json(obj)  # raises the precise error
    shard, seq = obj["_shard"], obj["_seq"]
    if type(obj.get("_arrival", 0.0)) not in (int, float):
        raise ValueError("_arrival is not a number")
    return (shard if type(shard) is str else str(shard)), (seq if type(seq) is str else str(seq))


def _key_fields(get: Callable[[str], Any]) -> tuple[Any, ...]:
    org = get("orgId")
    if org is None:
        org = get("org_id")
    site = get("siteId")
    if site is None:
        site = get("site_id")
    asset, tag, register = get("assetId"), get("tagId"), get("registerId")
    if asset is None:
        asset = get("asset_id")
    if tag is None:
        tag = get("tag_id")
    if register is None:
        register = get("register_id")
    if type(asset) is str:
        asset = _id(asset)
    if type(tag) is str:
        tag = _id(tag)
    if type(register) is str:
        register = _id(register)
    tag_name = get("tagName")
    if tag_name is None:
        tag_name = get("tag_name")
    if type(tag_name) is not str:
        tag_name = _text(tag_name)
    label = get("label")
    if type(label) is not str:
        label = _text(label)
    return org, site, asset, tag, register, tag_name, label


class LoadGate:
    """Lets a short, urgent scan of the file (the filter's count before the index is
    ready) run without the index's load taking half of the interpreter meanwhile: while
    paused, :meth:`SessionIndex.load` waits between lines. Both run in threads and the
    load is pure Python, so it would hold the GIL for 5 ms slices in turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._free = threading.Event()
        self._free.set()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Loads wait while this block runs (at most a few seconds: a scan of the file)."""
        with self._lock:
            self._holders += 1
            self._free.clear()
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if not self._holders:
                    self._free.set()

    def wait(self) -> None:
        """Return once no scan runs (or after 10 s: a load never stalls for good)."""
        self._free.wait(10.0)

    @property
    def open(self) -> bool:
        return self._free.is_set()


LOAD_GATE = LoadGate()
"""The one gate of this process's index loads (a viewer replays one file at a time)."""


class SessionIndex:
    """Every reading of a session as columns, in file order. Row ``i`` is the i-th readable
    reading. Build it with :meth:`load` (or ``SessionFile.index()``); close it when done
    (a compressed session is decompressed into an anonymous temporary file)."""

    def __init__(self, session: IndexedFile, source: IO[bytes], owns_source: bool) -> None:
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
        cls,
        session: IndexedFile,
        *,
        progress: Callable[[int], None] | None = None,
        progress_every: int = 100_000,
    ) -> SessionIndex:
        """Read the whole session once. ``progress(rows)`` is called every
        ``progress_every`` rows (the UI shows the first screen from ``iter_readings``
        meanwhile, and this runs in a worker thread)."""
        if session.compressed:
            source: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            owns = True
        else:
            source = open(session.path, "rb")  # noqa: SIM115 - closed by close()
            owns = True
        index = cls(session, source, owns)
        try:
            index._fill(progress, progress_every)
        except BaseException:
            index.close()
            raise
        return index

    def _fill(self, progress: Callable[[int], None] | None, every: int) -> None:
        add = self._add
        copy = self._source.write if self.session.compressed else None
        if self.session.format == "csv":
            for _, offset, end, reading in self.session.iter_csv(copy):
                add(reading, offset, end - offset)
                if progress is not None and len(self.offsets) % every == 0:
                    progress(len(self.offsets))
        else:
            loads = orjson.loads
            problems = self.problems
            add_key = self._add_key
            gate = LOAD_GATE
            for line_no, offset, line, complete in self.session.lines():
                if not line_no & 1023 and not gate.open:
                    gate.wait()  # a filter's count is scanning the file: let it run alone
                if copy is not None:
                    copy(line + b"\n" if complete else line)
                if not line.strip():
                    continue
                try:
                    obj = loads(line)
                    shard, _ = _check_row(obj)
                    key = (shard, *_key_fields(obj.get))
                except ROW_ERRORS as error:
                    problems.append((line_no, self.session.line_problem(error, complete)))
                    continue
                # The same row as row_reading(obj) gives, without building the Reading.
                epoch = obj.get("epochMs")
                if type(epoch) is not int:
                    epoch = _ms_field(epoch) if "epochMs" in obj \
                        else timestamp_ms(obj.get("@timestamp"))
                add_key(key, epoch, obj.get("val"), offset, len(line))
                if progress is not None and len(self.offsets) % every == 0:
                    progress(len(self.offsets))
        if copy is not None:
            self._source.flush()

    def _add(self, reading: Reading, offset: int, length: int) -> None:
        key: tuple[Any, ...] = (
            reading.shard, reading.org_id, reading.site_id, reading.asset_id, reading.tag_id,
            reading.register_id, reading.tag_name, reading.label,
        )  # fmt: skip
        self._add_key(key, reading.epoch_ms, reading.val, offset, length)

    def _add_key(self, key: tuple[Any, ...], epoch: int | None, val: Any, offset: int,
                 length: int) -> None:
        """One row: ``key`` is (shard, org, site, asset, tag, register, tag_name, label)."""
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
        self.epoch_ms.append(MISSING_MS if epoch is None else epoch)
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

    def key_number(self, key: tuple[Any, ...]) -> int:
        """The number of a distinct key (shard, org, site, asset, tag, register, tag name,
        label), added when new: for fills that build the columns without ``_add``
        (Parquet's, :mod:`~flux_tui.data.session.index_arrow`)."""
        try:
            number = self._key_index.get(key)
        except TypeError:  # an unhashable id, as in _add
            key = tuple(k if isinstance(k, (str, int, float, type(None))) else repr(k) for k in key)
            number = self._key_index.get(key)
        if number is None:
            number = self._key_index[key] = len(self.keys)
            self.keys.append(key)
        return number

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
        if isinstance(query, Query) and query.is_empty:
            return array("I", range(len(self)))
        templates = [self._template(k) for k in range(len(self.keys))]
        if not isinstance(query, Query):
            return self._filter_rows([query] * len(templates), templates)
        # Labels, names and ids repeat: decide every term that looks only at them once per
        # distinct key. What is left per key is True, False, or a test of value and time
        # (e.g. `val>600`), the only part that runs row by row.
        verdicts = _Specializer(query).verdicts(templates)
        if all(type(v) is bool for v in verdicts):
            keep = [v is True for v in verdicts]
            return array("I", compress(range(len(self)), map(keep.__getitem__, self.key_of)))
        return self._filter_rows(verdicts, templates)

    def _filter_rows(self, verdicts: list[Any], templates: list[list[Any]]) -> array[int]:
        epochs, vals, kinds, others = self.epoch_ms, self._vals, self._kinds, self._others
        out = array("I")
        keep = out.append
        for row, key_number in enumerate(self.key_of):
            verdict = verdicts[key_number]
            if verdict is True:
                keep(row)
            elif verdict is not False:
                # The key's own stand-in reading, with this row's time and value: predicates
                # only index into the reading, so a list serves as well as the tuple.
                probe = templates[key_number]
                epoch = epochs[row]
                probe[4] = None if epoch == MISSING_MS else epoch
                kind = kinds[row]
                if kind == _FLOAT:
                    probe[13] = vals[row]
                elif kind == _INT:
                    probe[13] = int(vals[row])
                else:
                    probe[13] = (None, None, True, False, None, others.get(row))[kind]
                if verdict(probe):
                    keep(row)
        return out

    def _template(self, key_number: int) -> list[Any]:
        shard, org, site, asset, tag, register, tag_name, label = self.keys[key_number]
        return [shard, "", 0, 0.0, None, None, org, site, asset, tag, register, tag_name,
                label, None, _EMPTY]  # fmt: skip

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
            guarded = self.session.csv_guarded
            return reading_from_csv([row[i] for i in order] if order else row, guarded=guarded)
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


def depends_on_key_only(node: Node) -> bool:
    """True when no term looks at the value or the time."""
    if isinstance(node, (All, Text, Field)):
        return True
    if isinstance(node, Compare):
        return node.field != "val"
    if isinstance(node, Not):
        return depends_on_key_only(node.child)
    if isinstance(node, (And, Or)):
        return all(depends_on_key_only(child) for child in node.children)
    return False  # Time


class _Specializer:
    """Partial evaluation of a query per key: key-only subtrees become True/False, the rest
    (value and time terms) stays as a smaller tree, compiled once per distinct shape."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self.key_tests: dict[int, Callable[[Any], bool]] = {}
        self.compiled: dict[Node, Callable[[Any], bool]] = {}

    def verdicts(self, templates: list[list[Any]]) -> list[Any]:
        result: list[Any] = []
        for template in templates:
            residual = self.specialize(self.query.node, template)
            if isinstance(residual, bool):
                result.append(residual)
                continue
            test = self.compiled.get(residual)
            if test is None:
                test = self.compiled[residual] = compile_node(residual, self.query.names)
            result.append(test)
        return result

    def specialize(self, node: Node, template: list[Any]) -> Node | bool:
        if depends_on_key_only(node):
            test = self.key_tests.get(id(node))
            if test is None:
                test = self.key_tests[id(node)] = compile_node(node, self.query.names)
            return bool(test(template))  # type: ignore[arg-type]  # a Reading-shaped list
        if isinstance(node, Not):
            inner = self.specialize(node.child, template)
            return (not inner) if isinstance(inner, bool) else Not(inner)
        if isinstance(node, (And, Or)):
            absorbing = not isinstance(node, And)  # False absorbs an AND, True an OR
            rest: list[Node] = []
            for child in node.children:
                part = self.specialize(child, template)
                if part is absorbing:
                    return absorbing
                if not isinstance(part, bool):
                    rest.append(part)
            if not rest:
                return not absorbing
            if len(rest) == 1:
                return rest[0]
            return And(tuple(rest)) if isinstance(node, And) else Or(tuple(rest))
        return node  # a value or time term
