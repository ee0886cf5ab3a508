"""Turn a page of readings into the store's columns: per-tag state, tiered history, and the
ring's columns for each reading (or the reading kept whole when no template rebuilds it).

Two paths give the same result. A *plain* page (a few shards, sequence numbers of one length
and, per shard, one prefix, integer times, float arrivals, small sub-record numbers: what
the API sends, and what a replayed session's pages hold)
has its source, sequence, rtms, arrival and sub columns built at once, page-wide, at C speed
(``map`` over the readings), its tags looked up and its payloads checked against their
tags' templates the same way; only each tag's running state goes reading by reading. Any
other page goes reading by reading (:meth:`PageEncoder.careful`), where every odd case is
told apart. Both keep the reading exactly: what a template and the columns cannot rebuild
is kept whole in the sparse table.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from itertools import chain, compress, repeat
from operator import add, attrgetter, call, eq, is_, is_not, itemgetter, mul, sub, truediv
from typing import Any

from flux_tui.data.store.columns import (
    CODE,
    FALSE,
    FLOAT,
    INT,
    MISSING_MS,
    NONE,
    OTHER,
    SPARSE,
    TRUE,
    ReadingColumns,
    Template,
    _Batch,
)
from flux_tui.data.store.tag_state import HistoryBacklog, TagKey, TagState
from flux_tui.feed.types import Reading

__all__ = ["PageEncoder"]

_MAX_VARIANTS = 8  # templates a tag may have (a label that changes...); then sparse
_I32 = 2**31
_F53 = 2**53  # integers beyond this do not survive the float value column
_SEQ_DIGITS = 18  # the sequence number's digits kept as a number (< 2**63)
_NO_DELTA = -(2**31)  # the columns' "none" for rtms/arrival
_CHANGING = itemgetter("epochMs", "rtms", "val")
_SHARD, _SEQ, _SUB, _ARRIVAL, _MS, _RTMS = (itemgetter(i) for i in range(6))
_ASSET_ID, _TAG_ID, _VAL, _PAYLOAD = itemgetter(8), itemgetter(9), itemgetter(13), itemgetter(14)
_FACTS_OF = itemgetter(slice(6, 13))
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_NUMBER = attrgetter("number")  # a tag's
_TEMPLATE = attrgetter("template")
_TEMPLATE_NUMBER = attrgetter("number")
_QUICK, _KEYS, _STATIC_OF, _STATIC, _STATIC_TYPES, _FACTS = (
    attrgetter(name) for name in ("quick", "keys", "static_of", "static", "static_types", "facts"))
_EXTRA = len(Reading._fields) > 15  # a Reading with more fields: such pages go carefully


class _Page:
    """The page-wide columns of a plain page (see :func:`_plain_page`)."""

    __slots__ = ("arr", "ms", "ms_col", "rt", "rts", "seq", "src", "sub")

    def __init__(self, ms: list[int], ms_col: array[int], rts: list[int], src: array[int],
                 seq: array[int], rt: array[int], arr: array[int], sub: array[int]) -> None:
        self.ms, self.ms_col, self.rts, self.src, self.seq = ms, ms_col, rts, src, seq
        self.rt, self.arr, self.sub = rt, arr, sub


class PageEncoder:
    """Encodes pages for one store: its columns, its tags (``new_tag`` makes one) and the
    template number → tag list (``tag_of``)."""

    def __init__(self, cols: ReadingColumns, tags: dict[TagKey, TagState],
                 new_tag: Callable[[TagKey, Reading], TagState],
                 tag_of: list[TagState], backlog: HistoryBacklog) -> None:
        self.cols = cols
        self.backlog = backlog
        self.tags = tags
        self.new_tag = new_tag
        self.tag_of = tag_of
        self.latest_ms = 0  # the newest epochMs seen
        self.delay_ms: float | None = None  # mean rtms - epochMs of the last page

    def encode(self, readings: list[Reading]) -> _Batch:
        """The columns of ``readings`` (at least one), updating the tags on the way."""
        page = None if _EXTRA else _plain_page(readings, self.cols)
        if page is None:
            return self.careful(readings)
        return self.plain(readings, page)

    def plain(self, readings: list[Reading], page: _Page) -> _Batch:
        """A plain page: each step a pass over the whole page (see the module's docstring);
        only the tags' own running state goes reading by reading."""
        cols = self.cols
        start = cols.total
        tags = self.tags_of(readings)
        vals = list(map(_VAL, readings))
        kinds, nums, history = self.values(tags, vals)
        sparse: list[tuple[int, Reading]] = []
        numbers = self.templates(readings, tags, vals, page, kinds, sparse)
        backs = _follow_tags(tags, vals, page.ms, start)
        self.backlog.add(map(_NUMBER, tags), page.ms, history)
        self.latest_ms = max(self.latest_ms, max(page.ms))
        self.delay_ms = sum(page.rt) / len(page.rt)
        return _Batch.from_columns(
            tpl=array("I", numbers), ms=page.ms_col, val=array("d", nums), kind=kinds,
            back=array("i", backs), src=page.src, seq=page.seq,
            rt=page.rt, arr=page.arr, sub=page.sub, sparse=sparse)

    def tags_of(self, readings: list[Reading]) -> list[TagState]:
        """Each reading's tag; new tags are made in reading order (the tree's order)."""
        tag_ids = list(map(_TAG_ID, readings))
        if None in tag_ids:  # no id: the tag name tells the tag
            keys = [(r[8], r[9] if r[9] is not None else r[11]) for r in readings]
        else:
            keys = list(zip(map(_ASSET_ID, readings), tag_ids))
        found: list[TagState | None] = list(map(self.tags.get, keys))
        if None in found:
            for i in compress(range(len(found)), map(is_, found, repeat(None))):
                found[i] = self.tags.get(keys[i]) or self.new_tag(keys[i], readings[i])
        return found  # type: ignore[return-value]

    def values(self, tags: list[TagState], vals: list[Any]
               ) -> tuple[array[int], list[float], list[float]]:
        """(kind column, value column, history values) of the values ``vals``: floats as
        they are, the others one by one (a state's history value is its tag's code)."""
        n = len(vals)
        kinds = array("b", bytes(n))  # FLOAT is 0
        types = list(map(type, vals))
        if types.count(float) == n:
            return kinds, vals, vals
        nums, history = vals[:], vals[:]
        cols = self.cols
        for i in compress(range(n), map(is_not, types, repeat(float))):
            val = vals[i]
            kind, num = _kind_of(val, cols)
            kinds[i] = kind
            nums[i] = num
            history[i] = num if kind <= INT else tags[i].code_of(val)
        return kinds, nums, history

    def templates(self, readings: list[Reading], tags: list[TagState], vals: list[Any],
                  page: _Page, kinds: array[int], sparse: list[tuple[int, Reading]]
                  ) -> list[int]:
        """Each reading's template number (SPARSE for one kept whole, put in ``sparse``).

        The usual page is checked whole, pass by pass (what :meth:`Template.fits` asks of
        each reading): every tag has a quick template and every payload fits it. Else the
        readings are matched one by one."""
        current = list(map(_TEMPLATE, tags))
        payloads = list(map(_PAYLOAD, readings))
        if (None not in current and all(map(_QUICK, current)) and OTHER not in kinds
                and _one_type(payloads, dict)
                and list(map(tuple, payloads)) == list(map(_KEYS, current))):
            changing = list(map(_CHANGING, payloads))
            epochs, rtms, values = (list(map(get, changing)) for get in (_FIRST, _SECOND, _THIRD))
            static = list(map(call, map(_STATIC_OF, current), payloads))
            if (epochs == page.ms and _one_type(epochs, int)
                    and rtms == page.rts and _one_type(rtms, int)
                    and values == vals and list(map(type, values)) == list(map(type, vals))
                    and static == list(map(_STATIC, current))
                    and list(map(type, chain.from_iterable(static)))
                    == list(chain.from_iterable(map(_STATIC_TYPES, current)))
                    and list(map(_FACTS_OF, readings)) == list(map(_FACTS, current))):
                return list(map(_TEMPLATE_NUMBER, current))
        numbers = []
        for i, (r, t, val, ms) in enumerate(zip(readings, tags, vals, page.ms)):
            tp = self.template(t, r, ms, val) if kinds[i] != OTHER else None
            if tp is None:
                sparse.append((i, r))
                numbers.append(SPARSE)
            else:
                numbers.append(tp.number)
        return numbers

    def template(self, t: TagState, r: Reading, ms: Any, val: Any) -> Template | None:
        """The template of tag ``t`` that rebuilds ``r``: its current one, another it had,
        or a new one (at most a few per tag: then None, and the reading is kept whole)."""
        tp = t.template
        if tp is not None and tp.fits(r, ms, val):
            return tp
        if type(r[14]) is not dict:
            return None
        for tp in t.variants:
            if tp.fits(r, ms, val):
                t.template = tp
                return tp
        if len(t.variants) >= _MAX_VARIANTS or not Template(0, r).fits(r, ms, val):
            return None
        tp = self.cols.new_template(r)
        if tp is not None:
            t.variants.append(tp)
            self.tag_of.append(t)
            t.template = tp
        return tp

    def careful(self, readings: list[Reading]) -> _Batch:
        """Any page, reading by reading (one tuple a reading, turned into columns at the
        end: cheaper than ten appends)."""
        self.backlog.flush()  # the history below goes in directly: after what waits
        cols = self.cols
        rows: list[tuple[Any, ...]] = []
        put = rows.append
        sparse: list[tuple[int, Reading]] = []
        tags, sources, source_of = self.tags, cols.sources, cols._source_of
        pos = cols.total
        delay_sum = delay_n = 0
        latest = self.latest_ms
        for r in readings:
            tag_id = r[9]
            key = (r[8], tag_id if tag_id is not None else r[11])
            t = tags.get(key)
            if t is None:
                t = self.new_tag(key, r)
            val = r[13]
            t.prev = t.last
            t.last = val
            t.count += 1
            lp = t.last_pos
            back = pos - lp if 0 <= lp and pos - lp < _I32 else 0
            t.last_pos = pos
            kind, num = (FLOAT, val) if type(val) is float else _kind_of(val, cols)
            ms = r[4]
            if ms is not None:
                gap = ms - t.last_ms
                if gap > 0:
                    if t.count > 1:
                        t.interval_ms = gap if t.interval_ms == 0 else t.interval_ms * 0.8 + gap * 0.2
                    t.last_ms = ms
                latest = max(latest, ms)
                rt = r[5]
                if rt is not None:
                    delay_sum += rt - ms
                    delay_n += 1
                t.tiers.add(ms // 1000, num if kind <= INT else t.code_of(val))
            # Columns when a template rebuilds this reading exactly, else kept whole.
            where = None
            if kind != OTHER and not (_EXTRA and any(r[15:])):
                tp = self.template(t, r, ms, val)
                if tp is not None:
                    where = _where(r, ms, cols, sources, source_of)
            if where is None:
                sparse.append((pos - cols.total, r))
                put((SPARSE, ms if type(ms) is int else MISSING_MS, num, OTHER, back,
                     0, 0, 0, 0, 0))
            else:
                put((tp.number, MISSING_MS if ms is None else ms, num, kind, back, *where))  # type: ignore[union-attr]
            pos += 1
        self.latest_ms = latest
        if delay_n:
            self.delay_ms = delay_sum / delay_n
        return _Batch.of(rows, sparse)


def _follow_tags(tags: list[TagState], vals: list[Any], ms: list[int], start: int
                 ) -> list[int]:
    """Each tag's last and previous value, count, newest position and time, and usual
    interval, reading by reading; returns each reading's distance back to its tag's
    previous reading (0: none held)."""
    backs: list[int] = []
    put_back = backs.append
    pos = start
    for t, val, m in zip(tags, vals, ms):
        t.prev = t.last
        t.last = val
        t.count += 1
        lp = t.last_pos
        put_back(pos - lp if 0 <= lp and pos - lp < _I32 else 0)
        t.last_pos = pos
        gap = m - t.last_ms
        if gap > 0:
            if t.count > 1:
                # EWMA of the reporting interval: adapts, but one late point moves it little
                t.interval_ms = gap if t.interval_ms == 0 else t.interval_ms * 0.8 + gap * 0.2
            t.last_ms = m
        pos += 1
    return backs


def _one_type(values: list[Any], cls: type) -> bool:
    return type(values[0]) is cls and len(set(map(type, values))) == 1


def _plain_page(readings: list[Reading], cols: ReadingColumns) -> _Page | None:
    """The page-wide columns when the page is plain (see the module's docstring), else None.

    Every check is a pass of a C-level builtin over the page; a page that fails one goes
    reading by reading, which keeps whatever it cannot put in a column whole."""
    ms = list(map(_MS, readings))
    rts = list(map(_RTMS, readings))
    arrivals = list(map(_ARRIVAL, readings))
    subs = list(map(_SUB, readings))
    if not (_one_type(ms, int) and _one_type(rts, int) and _one_type(arrivals, float)
            and _one_type(subs, int)) or min(ms) == MISSING_MS or 0.0 in arrivals:
        return None
    try:
        ms_col = array("q", ms)
        d_rt = array("i", map(sub, rts, ms))
        d_arr = array("i", map(sub, map(round, map(mul, arrivals, repeat(1000.0))), ms))
        subs_col = array("B", subs)
    except (OverflowError, ValueError):  # a delta past 32 bits, a sub past 255, a NaN
        return None
    if (min(d_rt) == _NO_DELTA or min(d_arr) == _NO_DELTA
            or list(map(truediv, map(add, ms, d_arr), repeat(1000.0))) != arrivals):
        return None
    found = _sequence_columns(list(map(_SHARD, readings)), list(map(_SEQ, readings)), cols)
    if found is None:
        return None
    src, seq = found
    return _Page(ms, ms_col, rts, src, seq, d_rt, d_arr, subs_col)


_MAX_SHARDS = 16  # shards a plain page may mix (a replayed session's pages mix a few)


def _sequence_columns(shards: list[Any], seqs: list[Any], cols: ReadingColumns
                      ) -> tuple[array[int], array[int]] | None:
    """(source column, the sequence numbers' last digits) when every sequence number of the
    page has the same length and, shard by shard, the same leading digits; else None."""
    if not (_one_type(shards, str) and _one_type(seqs, str)):
        return None
    lengths = set(map(len, seqs))
    distinct = set(shards)
    if len(lengths) != 1 or len(distinct) > _MAX_SHARDS:
        return None
    length = lengths.pop()
    width = min(length, _SEQ_DIGITS)  # what every source of numbers this long keeps
    tails = list(map(itemgetter(slice(length - width, None)), seqs))
    digits = "".join(tails)
    if not (digits.isdigit() and digits.isascii()):
        return None
    source_of: dict[str, int] = {}
    for shard in distinct:
        mine = seqs if len(distinct) == 1 else list(compress(seqs, map(eq, shards,
                                                                       repeat(shard))))
        src = _source(shard, mine, length, width, cols)
        if src is None:
            return None
        source_of[shard] = src
    if len(distinct) == 1:
        column = array("H", source_of.values()) * len(seqs)
    else:
        column = array("H", map(source_of.__getitem__, shards))
    return column, array("q", map(int, tails))


def _source(shard: str, seqs: list[str], length: int, width: int, cols: ReadingColumns
            ) -> int | None:
    """The source number of one shard's sequence numbers (all ``length`` long): the shard's
    last one when they start with its digits, else a new one; None when they do not share
    their leading digits or there are too many sources."""
    src = cols._source_of.get(shard)
    if src is not None:
        _, prefix, kept = cols.sources[src]
        if len(prefix) + kept == length and (
                not prefix or all(map(str.startswith, seqs, repeat(prefix)))):
            return src
    prefix = seqs[0][:length - width]
    if prefix and not all(map(str.startswith, seqs, repeat(prefix))):
        return None
    src = cols.source(shard, prefix, width)
    return None if src < 0 else src


def _kind_of(val: Any, cols: ReadingColumns) -> tuple[int, float]:
    """How the value column holds ``val`` (a float is FLOAT, handled by the caller)."""
    vt = type(val)
    if vt is int and -_F53 < val < _F53:
        return INT, float(val)
    if val is None:
        return NONE, 0.0
    if vt is bool:
        return (TRUE if val else FALSE), 0.0
    if vt is str:
        c = cols._code_of.get(val)
        if c is None:
            c = cols.code(val)
        if c >= 0:
            return CODE, float(c)
    return OTHER, 0.0


def _where(r: Reading, ms: Any, cols: ReadingColumns, sources: list[tuple[str, str, int]],
           source_of: dict[str, int]) -> tuple[int, int, int, int, int] | None:
    """(source, sequence tail, rtms delta, arrival delta, sub) of ``r``, or None when one
    of them does not fit its column (the reading is then kept whole)."""
    if ms is not None and type(ms) is not int:
        return None
    rt = r[5]
    if rt is None:
        d_rt = _NO_DELTA
    elif ms is None or type(rt) is not int or not -_I32 < rt - ms < _I32:
        return None
    else:
        d_rt = rt - ms
    arrival = r[3]
    if type(arrival) is not float:
        return None
    if arrival == 0.0:
        d_arr = _NO_DELTA
    else:
        if ms is None:
            return None
        d_arr = int(arrival * 1000.0 + 0.5) - ms
        if not -_I32 < d_arr < _I32 or (ms + d_arr) / 1000.0 != arrival:
            return None
    sub_ = r[2]
    if type(sub_) is not int or not 0 <= sub_ < 256:
        return None
    # The sequence number: its last 18 digits as a number, the digits before them (the
    # same for a long run of a shard's records) once per source: no 56-digit conversion.
    seq = r[1]
    if type(seq) is not str:
        return None
    shard = r[0]
    src = source_of.get(shard)
    if src is not None:
        _, prefix, width = sources[src]
        if len(seq) == len(prefix) + width and seq.startswith(prefix):
            tail = seq[-width:]
            if tail.isdigit() and tail.isascii():
                return src, int(tail), d_rt, d_arr, sub_
    if type(shard) is not str or not seq:
        return None
    width = min(len(seq), _SEQ_DIGITS)
    tail = seq[-width:]
    if not (tail.isdigit() and tail.isascii()):
        return None
    src = cols.source(shard, seq[:-width], width)
    return None if src < 0 else (src, int(tail), d_rt, d_arr, sub_)
