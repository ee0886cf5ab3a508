"""The filter language's meaning: a parsed tree compiled once into nested closures over a
:class:`Reading` tuple, plus the resolution of ``since:``/``until:`` times.

Why closures with caches: the feed repeats the same few thousand labels, tag names and ids
millions of times, so every text test is memoised per distinct string or id (bounded), and a
typical query costs a few dictionary look-ups per reading instead of lower-casing strings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flux_tui.data.formats import NameLookup
from flux_tui.data.query.parse import All, And, Compare, Field, Node, Not, Text, Time
from flux_tui.feed.types import Reading

__all__ = ["Predicate", "compile_node", "resolve_time"]

Predicate = Callable[[Reading], bool]

# Reading field positions: indexing a tuple is cheaper than a named-tuple attribute on the
# hot path.
_EPOCH, _ORG, _SITE, _ASSET, _TAG, _REGISTER, _TAG_NAME, _LABEL, _VAL = (
    4,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
)
_CACHE_LIMIT = 65_536  # distinct strings/ids remembered per term; cleared when exceeded

# --- time ----------------------------------------------------------------------------------

_RELATIVE = re.compile(r"-?([0-9]+(?:\.[0-9]+)?)(s|m|h|d|w)\Z")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3}))?)?\Z")
_DIGITS = re.compile(r"[0-9]+\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def resolve_time(value: str, now: float) -> int | None:
    """Epoch milliseconds for a ``since:``/``until:`` value, or None when it is not a time.

    ``-5m`` (also ``5m``; units s, m, h, d, w) is that long before ``now``; ``now`` is now;
    ``14:00``/``14:00:30`` is today in local time; ISO ``2026-11-29``/``2026-11-29T14:00``
    is local time unless it carries ``Z`` or an offset; plain digits are epoch milliseconds.
    """
    try:
        return _resolve_time(value, now)
    except (ValueError, OverflowError, OSError):  # a year 1 or 9999 local time, a huge span
        return None


def _resolve_time(value: str, now: float) -> int | None:
    text = value.strip()
    if text.lower() == "now":
        return int(now * 1000)
    match = _RELATIVE.match(text)
    if match:
        return int((now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]) * 1000)
    if _DIGITS.match(text):
        return int(text)
    match = _CLOCK.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        second = int(match.group(3) or 0)
        ms = int((match.group(4) or "0").ljust(3, "0"))
        if hour > 23 or minute > 59 or second > 59:
            return None
        today = datetime.fromtimestamp(now).astimezone()
        at = today.replace(hour=hour, minute=minute, second=second, microsecond=ms * 1000)
        return int(at.timestamp() * 1000)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # a naive time is the user's local time
    return int(parsed.timestamp() * 1000)


# --- text matching -------------------------------------------------------------------------


def _text_test(pattern: str, *, whole: bool) -> Callable[[str], bool]:
    """Case-insensitive test of a string against a user pattern (``*`` = any run).

    Without ``*``: ``whole`` means equality (ids), otherwise containment (names, labels).
    With ``*`` the pattern must match the whole string, so ``*status*`` is containment and
    ``*status`` an ending.
    """
    needle = pattern.lower()
    if "*" in needle:
        regex = re.compile(
            ".*".join(re.escape(part) for part in needle.split("*")) + r"\Z", re.DOTALL
        )
        match = regex.match
        return lambda s: match(s.lower()) is not None
    if whole:
        return lambda s: s.lower() == needle
    return lambda s: needle in s.lower()


def _memo_str(test: Callable[[str], bool]) -> Callable[[Any], bool]:
    """``test`` memoised per distinct string (labels and tag names repeat endlessly)."""
    cache: dict[Any, bool] = {}
    get = cache.get

    def memo(value: Any) -> bool:
        hit = get(value)
        if hit is None:
            hit = test(value if isinstance(value, str) else str(value))
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[value] = hit
        return hit

    return memo


def _id_test(pattern: str, name_of: Callable[[Any], str | None] | None) -> Callable[[Any], bool]:
    """Matches an id (exactly, or by pattern) or the name the lookup gives for it.

    A result is remembered only once it cannot change: names arrive later (from the
    Enterprise Objects API), so "no name yet" is asked again next time.
    """
    by_id = _text_test(pattern, whole=True)
    by_name = _text_test(pattern, whole=False)
    cache: dict[Any, bool] = {}
    get = cache.get

    def test(ident: Any) -> bool:
        if ident is None:
            return False
        try:
            hit = get(ident)
        except TypeError:  # an unhashable id (a list in a strange payload) is no id
            return False
        if hit is not None:
            return hit
        hit = by_id(str(ident))
        if not hit and name_of is not None:
            name = name_of(ident)
            if name is None:
                return False
            hit = by_name(name)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[ident] = hit
        return hit

    return test


# --- compiling the tree --------------------------------------------------------------------


def compile_node(node: Node, names: NameLookup | None) -> Predicate:
    """A predicate for ``node``; built once, called for every reading."""
    if isinstance(node, All):
        return lambda r: True
    if isinstance(node, Text):
        return _compile_text(node.value, names)
    if isinstance(node, Field):
        return _compile_field(node, names)
    if isinstance(node, Compare):
        return _compile_compare(node)
    if isinstance(node, Time):
        return _compile_time(node.field == "since", node.ms)
    if isinstance(node, Not):
        inner = compile_node(node.child, names)
        return lambda r: not inner(r)
    parts = [compile_node(child, names) for child in node.children]
    return _chain(parts, all_of=isinstance(node, And))


def _compile_time(since: bool, ms: int) -> Predicate:
    # A reading without a time never falls inside a window.
    def after(r: Any) -> bool:
        at = r[_EPOCH]
        return at is not None and at >= ms

    def before(r: Any) -> bool:
        at = r[_EPOCH]
        return at is not None and at < ms

    return after if since else before


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) and b(r)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda r: a(r) or b(r)


def _chain(parts: list[Predicate], *, all_of: bool) -> Predicate:
    """Combine predicates pairwise (short-circuit, no loop or generator per reading)."""
    join = _both if all_of else _either
    combined = parts[0]
    for part in parts[1:]:
        combined = join(combined, part)
    return combined


def _compile_text(value: str, names: NameLookup | None) -> Predicate:
    text = _memo_str(_text_test(value, whole=False))
    unit_test = _text_test(value, whole=False)
    unit_cache: dict[Any, bool] = {}
    unit_get = unit_cache.get

    def unit(asset_id: Any) -> bool:
        # The unit name is what the screen shows: the known name, else "Unit <id>".
        try:
            hit = unit_get(asset_id)
        except TypeError:  # an unhashable id in a strange payload: just not cached
            hit = None
        if hit is not None:
            return hit
        known = names.asset_name(asset_id) if names is not None else None
        hit = unit_test(known or (f"Unit {asset_id}" if asset_id is not None else "Unit ?"))
        # A name may arrive later (Enterprise Objects API): remember only results computed
        # from a real name, or when there is no lookup at all.
        if known or names is None:
            if len(unit_cache) >= _CACHE_LIMIT:
                unit_cache.clear()
            try:
                unit_cache[asset_id] = hit
            except TypeError:
                pass
        return hit

    return lambda r: text(r[_LABEL]) or text(r[_TAG_NAME]) or unit(r[_ASSET])


def _compile_field(node: Field, names: NameLookup | None) -> Predicate:
    field, value = node.field, node.value
    if field == "label":
        label = _memo_str(_text_test(value, whole=False))
        return lambda r: label(r[_LABEL])
    if field == "tag":
        tag_id = _id_test(value, None)
        tag_name = _memo_str(_text_test(value, whole=False))
        return lambda r: tag_id(r[_TAG]) or tag_name(r[_TAG_NAME])
    if field == "register":
        register = _id_test(value, None)
        return lambda r: register(r[_REGISTER])
    lookups = {
        "asset": (_ASSET, names.asset_name if names else None),
        "site": (_SITE, names.site_name if names else None),
        "org": (_ORG, names.org_name if names else None),
    }
    index, name_of = lookups[field]
    test = _id_test(value, name_of)
    return lambda r: test(r[index])


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_INDEX = {
    "val": _VAL,
    "asset": _ASSET,
    "site": _SITE,
    "org": _ORG,
    "tag": _TAG,
    "register": _REGISTER,
}


def _as_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _compile_compare(node: Compare) -> Predicate:
    index, op = _INDEX[node.field], node.op
    if node.number is None:
        # Text equality (`val=Running`, `val!=Off*`): case-insensitive, `*` allowed. A
        # reading without a value never satisfies a comparison.
        same = _memo_str(_text_test(node.value, whole=True))
        if op == "=":
            return lambda r: r[index] is not None and same(_as_text(r[index]))
        return lambda r: r[index] is not None and not same(_as_text(r[index]))
    number = node.number
    if number.is_integer() and abs(number) < 2**53:
        number = int(number)  # exact comparison with big integer ids/values
    if node.field == "val":
        # Only numbers compare with numbers (bools, text and null never satisfy it).
        compare = _ORDER[op]
        return lambda r: type(r[_VAL]) in (int, float) and compare(r[_VAL], number)
    as_number = _numeric_id()
    compare = _ORDER[op]

    def ident(r: Reading) -> bool:
        value = as_number(r[index])
        return value is not None and compare(value, number)

    return ident


def _numeric_id() -> Callable[[Any], float | int | None]:
    """Ids are ints in the current payload and numeric strings in the older one."""
    cache: dict[Any, float | int | None] = {}

    def convert(ident: Any) -> float | int | None:
        if type(ident) is int:
            return ident
        if ident is None or not isinstance(ident, (str, float)):
            return None
        if ident in cache:
            return cache[ident]
        result: float | int | None = None
        if isinstance(ident, float):
            result = ident
        elif isinstance(ident, str):
            try:
                result = int(ident)
            except ValueError:
                try:
                    result = float(ident)
                except ValueError:
                    result = None
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[ident] = result
        return result

    return convert


def now_seconds() -> float:
    """The default clock for relative times."""
    return time.time()
