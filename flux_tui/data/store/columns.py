"""The viewer's held readings as typed columns: what a reading shares with the other
readings of its tag is kept once, per *template*; what changes is kept per reading in
``array`` columns of a ring.

Per reading (44 bytes): template number (4), epochMs (8), the value (8) and its kind (1),
rtms as a delta from epochMs (4), arrival as a delta from epochMs (4), a source number
(the shard and the sequence number's leading digits, kept once; 2), the sequence number's
last 18 digits (8), the sub-record index (1) and the distance back to the same tag's previous reading (4,
for the change arrow).

Per template: the payload of the tag's first reading (every field, in its order) and the
canonical fields (org, site, unit, tag and register ids, tag name, label). A reading whose
payload equals its template's once its ``epochMs``, ``rtms`` and ``val`` are put in is
stored as columns (the payload's field types must match the template's too); anything else (other fields, an older spelling, a sequence number or
arrival that does not fit, extra fields a later ``Reading`` may carry) is kept whole in a
sparse table, so :meth:`ReadingColumns.reading` always gives back the reading that went in.

Why ``array`` and not numpy (measured, see docs/architecture.md): the ingest loop and the
rebuilds touch scalars one at a time from Python, where numpy is slower (a scalar read
~1.8x an ``array`` one); the columns need no vector arithmetic on the hot path; and
importing numpy alone added 16 MB of RSS to a process whose whole budget is 160 MB. The one
bulk operation, the filter, runs through ``itertools.compress`` over the template column.

Nothing per reading is a Python object tracked by the garbage collector: a full collection
walks only the per-tag objects, however many readings are held.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterator
from itertools import compress
from operator import itemgetter
from typing import Any

from flux_tui.feed.types import Reading

__all__ = ["MISSING_MS", "ReadingColumns", "Template"]

MISSING_MS = -(2**63)  # epochMs column value of a reading without a time
_NO_DELTA = -(2**31)  # rtms / arrival column value: none
_INT32 = 2**31
SPARSE = 0xFFFFFFFF  # template number of a reading kept whole in the sparse table
MAX_TEMPLATES = 0xFFFFFFF0
MAX_CODES = 1 << 16  # distinct text values held as codes (more go sparse)
MAX_SOURCES = 0xFFFF
# Value kinds
FLOAT, INT, TRUE, FALSE, NONE, CODE, OTHER = range(7)
_KIND_VALUE = (None, None, True, False, None)
_VARYING = frozenset((1, 2, 3, 4, 5, 13, 14, 0))  # Reading fields not fixed by a template
_EMPTY: dict[str, Any] = {}
_MORE = (None,) * (len(Reading._fields) - 15)  # fields a later Reading may add (default None)


class Template:
    """What the readings of one tag share: the payload (``base``, first reading's field
    order) and the canonical fields. ``has_e``/``has_rt``/``has_v`` say whether the payload
    carries ``epochMs``/``rtms``/``val`` (those come from the columns).

    A payload fits the template when it has the same keys in the same order, the same
    values of the same types in every other field (``static``, read by ``static_of``), and
    its ``epochMs``/``rtms``/``val`` are the reading's own (see :meth:`fits`). ``quick``:
    the payload carries all three, so the store's loop checks it inline."""

    __slots__ = ("base", "facts", "has_e", "has_rt", "has_v", "keys", "number", "quick",
                 "static", "static_of", "static_types")

    def __init__(self, number: int, r: Reading) -> None:
        self.number = number
        self.base: dict[str, Any] = dict(r[14])
        self.has_e = "epochMs" in self.base
        self.has_rt = "rtms" in self.base
        self.has_v = "val" in self.base
        self.facts: tuple[Any, ...] = tuple(r[6:13])  # org, site, asset, tag, register, name, label
        self.keys = tuple(self.base)
        # ``static_of`` always gives a tuple (itemgetter of one key would give the value).
        static = [k for k in self.keys if k not in _CHANGING]
        self.static_of = itemgetter(*static) if len(static) > 1 else _one_or_none(static)
        self.static = self.static_of(self.base)
        # Types too: ``==`` alone would take 2222.0 (or True) for 2222.
        self.static_types = tuple(map(type, self.static))
        self.quick = self.has_e and self.has_rt and self.has_v

    def fits(self, r: Reading, ms: Any, val: Any) -> bool:
        """Whether this template and the columns rebuild ``r``'s payload and canonical fields
        exactly (``ms``/``val`` are ``r``'s epochMs and value)."""
        p = r[14]
        if type(p) is not dict or tuple(p) != self.keys:
            return False
        if self.has_e and not _same(p["epochMs"], ms):
            return False
        if self.has_rt and not _same(p["rtms"], r[5]):
            return False
        if self.has_v and not _same(p["val"], val):
            return False
        static = self.static_of(p)
        return (static == self.static and tuple(map(type, static)) == self.static_types
                and r[6:13] == self.facts)


_CHANGING = frozenset(("epochMs", "rtms", "val"))


def _one_or_none(keys: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if keys:
        key = keys[0]
        return lambda p: (p[key],)
    return lambda p: ()


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (1, 1.0 and True are three different JSON values)."""
    return a is b or (type(a) is type(b) and a == b)


class _Probe:
    """A stand-in reading for the filter: the template's fields, and a note of whether the
    predicate looked at anything that changes from reading to reading."""

    __slots__ = ("facts", "seen", "touched")

    def __init__(self, facts: tuple[Any, ...]) -> None:
        self.facts = facts
        self.touched = False
        self.seen: set[int] = set()  # the changing fields it looked at

    def __getitem__(self, index: int) -> Any:
        if index in _VARYING or index < 0:
            self.touched = True
            self.seen.add(index)
            return None
        return self.facts[index - 6]

    def __len__(self) -> int:
        return 15

    def __getattr__(self, name: str) -> Any:
        try:
            return self[Reading._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None


def _zeros(code: str) -> array[Any]:
    return array(code)


class ReadingColumns:
    """A ring of ``capacity`` readings addressed by absolute position (0 = the first ever
    added): position ``p`` is held while ``total - capacity <= p < total``. The arrays grow
    up to ``capacity`` and are then overwritten in place (eviction is O(1))."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.total = 0
        self.floor = 0  # no position below it is held (a cut-back ring's overwritten slots)
        self.tpl = _zeros("I")
        self.ms = _zeros("q")
        self.val = _zeros("d")
        self.kind = _zeros("b")
        self.rt = _zeros("i")
        self.arr = _zeros("i")
        self.src = _zeros("H")
        self.seq = _zeros("q")
        self.sub = _zeros("B")
        self.back = _zeros("i")  # distance to the same tag's previous reading (0: none)
        self.templates: list[Template] = []
        # (shard, the sequence number's leading digits, how many digits follow them)
        self.sources: list[tuple[str, str, int]] = []
        self._source_of: dict[str, int] = {}
        self.codes: list[Any] = []  # text values of CODE kind
        self._code_of: dict[Any, int] = {}
        self.sparse: dict[int, Reading] = {}
        self._sparse_order: deque[int] = deque()

    @property
    def first(self) -> int:
        """The oldest position held."""
        return max(self.floor, self.total - self.capacity)

    # --- adding ---------------------------------------------------------------------------

    def new_template(self, r: Reading) -> Template | None:
        """A template for ``r``'s tag (None once there are too many)."""
        payload = r[14]
        if len(self.templates) >= MAX_TEMPLATES or type(payload) is not dict or any(
                type(v) in (list, dict) for v in payload.values()):
            return None  # nested values compare equal across types ([1] == [1.0]): kept whole
        t = Template(len(self.templates), r)
        self.templates.append(t)
        return t

    def code(self, val: Any) -> int:
        """The code of a text value (-1: too many distinct values, keep it sparse)."""
        c = self._code_of.get(val)
        if c is None:
            if len(self.codes) >= MAX_CODES:
                return -1
            c = self._code_of[val] = len(self.codes)
            self.codes.append(val)
        return c

    def source(self, shard: str, prefix: str, width: int) -> int:
        """The source number for ``shard``'s sequence numbers that start with ``prefix`` and
        have ``width`` more digits (-1: too many sources, keep the reading whole)."""
        if len(self.sources) >= MAX_SOURCES:
            return -1
        number = self._source_of[shard] = len(self.sources)
        self.sources.append((shard, prefix, width))
        return number

    def write(self, batch: _Batch) -> None:
        """Put a batch of encoded readings (see :class:`_Batch`) into the ring."""
        n = len(batch.tpl)
        if n > self.capacity:
            raise ValueError("a batch larger than the ring")
        start = self.total
        cap = self.capacity
        cols = ("tpl", "ms", "val", "kind", "rt", "arr", "src", "seq", "sub", "back")
        slot = start % cap
        if start < cap:  # still growing: append what fits, wrap the rest
            grow = min(n, cap - start)
            for name in cols:
                part = getattr(batch, name)
                getattr(self, name).extend(part[:grow] if grow < n else part)
            rest_from, slot = grow, 0
        else:
            rest_from = 0
        while rest_from < n:
            k = min(n - rest_from, cap - slot)
            for name in cols:
                getattr(self, name)[slot:slot + k] = getattr(batch, name)[rest_from:rest_from + k]
            rest_from += k
            slot = 0
        self.total = start + n
        for pos, reading in batch.sparse:
            self.sparse[start + pos] = reading
            self._sparse_order.append(start + pos)
        self._evict_sparse()

    def skip(self, count: int) -> None:
        """Count ``count`` readings as seen without holding them (a batch larger than the
        ring: only its newest readings are written, and they fill the ring)."""
        grow = min(count, max(0, self.capacity - self.total))
        for name in ("tpl", "ms", "val", "kind", "rt", "arr", "src", "seq", "sub", "back"):
            column = getattr(self, name)
            column.extend(array(column.typecode, [0]) * grow)
        self.total += count

    def _evict_sparse(self) -> None:
        first = self.first
        order, sparse = self._sparse_order, self.sparse
        while order and order[0] < first:
            sparse.pop(order.popleft(), None)

    def truncate(self, total: int) -> None:
        """Forget the positions from ``total`` on (a replay went back)."""
        if not self.first <= total <= self.total:
            raise ValueError("can only cut inside what is held")
        # Once wrapped, the slots of the positions before ``first`` hold newer ones: a cut
        # must not make them look held again.
        self.floor = self.first
        if self.total <= self.capacity:  # never wrapped: the arrays simply shrink
            for name in ("tpl", "ms", "val", "kind", "rt", "arr", "src", "seq", "sub", "back"):
                del getattr(self, name)[total:]
        self.total = total
        order, sparse = self._sparse_order, self.sparse
        while order and order[-1] >= total:
            sparse.pop(order.pop(), None)

    # --- reading back ---------------------------------------------------------------------

    def value(self, pos: int) -> Any:
        """The value at ``pos`` without rebuilding the reading."""
        slot = pos % self.capacity
        kind = self.kind[slot]
        if kind == FLOAT:
            return self.val[slot]
        if kind == INT:
            return int(self.val[slot])
        if kind == CODE:
            return self.codes[int(self.val[slot])]
        if kind == OTHER:
            return self.sparse[pos][13]
        return _KIND_VALUE[kind]

    def prev_value(self, pos: int) -> Any:
        """The same tag's previous value (None when there is none held)."""
        back = self.back[pos % self.capacity]
        if back <= 0 or pos - back < self.first:
            return None
        return self.value(pos - back)

    def reading(self, pos: int) -> Reading:
        """The reading at ``pos``, exactly as it was added."""
        slot = pos % self.capacity
        number = self.tpl[slot]
        if number == SPARSE:
            return self.sparse[pos]
        t = self.templates[number]
        payload = t.base.copy()
        ms = self.ms[slot]
        epoch = None if ms == MISSING_MS else ms
        rt = self.rt[slot]
        rtms = None if rt == _NO_DELTA else epoch + rt  # type: ignore[operator]
        val = self.value(pos)
        if t.has_e:
            payload["epochMs"] = epoch
        if t.has_rt:
            payload["rtms"] = rtms
        if t.has_v:
            payload["val"] = val
        shard, prefix, width = self.sources[self.src[slot]]
        arr = self.arr[slot]
        arrival = 0.0 if arr == _NO_DELTA else (epoch + arr) / 1000.0  # type: ignore[operator]
        seq = prefix + str(self.seq[slot]).zfill(width)
        return Reading(shard, seq, self.sub[slot], arrival, epoch, rtms,
                       *t.facts, val, payload)

    # --- filtering ------------------------------------------------------------------------

    def filter(self, predicate: Callable[[Any], bool], start: int | None = None,
               stop: int | None = None, verdicts: list[bool | None] | None = None
               ) -> Iterator[int]:
        """Positions from ``start`` to ``stop`` (default: all held) that pass ``predicate``.

        The predicate is first tried on each template with a stand-in that notes whether it
        looked at anything that changes per reading (time, value, sequence...). When it did
        not, its answer holds for every reading of that template, and those readings are
        picked at C speed; only the others are rebuilt and tested one by one. ``verdicts``
        caches the per-template answers between calls with the same predicate.
        """
        first = self.first
        start = first if start is None else max(start, first)
        stop = self.total if stop is None else min(stop, self.total)
        if start >= stop:
            return iter(())
        if verdicts is None:
            verdicts = []
        verdicts.extend(_verdict(predicate, t.facts) for t in self.templates[len(verdicts):])
        return _merge_positions(self, predicate, verdicts, start, stop)


def _verdict(predicate: Callable[[Any], bool], facts: tuple[Any, ...]) -> Any:
    """True/False when the predicate's answer holds for every reading of a template with
    these ``facts``; else None, or TIME_VALUE when it only looked at the time and value
    (then a light stand-in per reading does, instead of rebuilding each one)."""
    probe = _Probe(facts)
    try:
        result = bool(predicate(probe))
    except Exception:  # noqa: BLE001 - the stand-in confused it: test reading by reading
        return None
    if not probe.touched:
        return result
    return TIME_VALUE if probe.seen <= {4, 13} else None


TIME_VALUE = "time-value"  # a verdict: test each reading's time and value only


def _merge_positions(cols: ReadingColumns, predicate: Callable[[Any], bool],
                     verdicts: list[bool | None], start: int, stop: int) -> Iterator[int]:
    last = len(verdicts)  # stands for SPARSE in the lists below
    keep = [v is True for v in verdicts] + [False]
    check = [v is None or v is TIME_VALUE for v in verdicts] + [True]
    light: list[list[Any] | None] = [
        ["", "", 0, 0.0, None, None, *t.facts, None, _EMPTY, *_MORE] if v is TIME_VALUE else None
        for t, v in zip(cols.templates, verdicts)] + [None]
    cap = cols.capacity
    reading, value = cols.reading, cols.value
    a = start
    while a < stop:  # the ring's slots for start..stop: at most two runs
        slot = a % cap
        k = min(stop - a, cap - slot)
        numbers = cols.tpl[slot:slot + k]
        if SPARSE in numbers:
            numbers = array("I", (n if n != SPARSE else last for n in numbers))
        elif not any(check[:last]):  # every verdict holds for its whole template
            yield from compress(range(a, a + k), map(keep.__getitem__, numbers))
            a += k
            continue
        for i, n in enumerate(numbers):
            if keep[n]:
                yield a + i
            elif check[n]:
                pos = a + i
                if light[n] is not None:  # only the time and value matter: a light stand-in
                    probe = light[n]
                    ms = cols.ms[pos % cap]
                    probe[4] = None if ms == MISSING_MS else ms
                    probe[13] = value(pos)
                    if predicate(Reading._make(probe)):
                        yield pos
                elif predicate(reading(pos)):
                    yield pos
        a += k


_ORDER = ("tpl", "ms", "val", "kind", "back", "src", "seq", "rt", "arr", "sub")
_CODES = {"tpl": "I", "ms": "q", "val": "d", "kind": "b", "back": "i", "src": "H", "seq": "q",
          "rt": "i", "arr": "i", "sub": "B"}


class _Batch:
    """One ingest's encoded readings, column by column, before they go into the ring."""

    __slots__ = ("arr", "back", "kind", "ms", "rt", "seq", "sparse", "src", "sub", "tpl", "val")

    def __init__(self) -> None:
        for name in _ORDER:
            setattr(self, name, array(_CODES[name]))
        self.sparse: list[tuple[int, Reading]] = []

    @classmethod
    def of(cls, rows: list[tuple[Any, ...]], sparse: list[tuple[int, Reading]]) -> _Batch:
        """From one tuple a reading, in :data:`_ORDER` (template number, epochMs, value,
        kind, back-link, source, sequence tail, rtms delta, arrival delta, sub)."""
        batch = cls.__new__(cls)
        columns = zip(*rows) if rows else [()] * len(_ORDER)
        for name, column in zip(_ORDER, columns):
            setattr(batch, name, array(_CODES[name], column))
        batch.sparse = sparse
        return batch

    @classmethod
    def from_columns(cls, *, sparse: list[tuple[int, Reading]], **columns: array[Any]
                     ) -> _Batch:
        """From whole columns, one keyword each of :data:`_ORDER` (all of the same length)."""
        batch = cls.__new__(cls)
        for name in _ORDER:
            setattr(batch, name, columns[name])
        batch.sparse = sparse
        return batch
