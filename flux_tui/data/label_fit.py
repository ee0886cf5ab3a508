"""Fitting tag and unit names into narrow columns without making them lie.

First words are abbreviated from a table (Pressure → Press, from the last word back, only as
far as needed); then, if the name is still too long, whole words are left out and an
ellipsis stands where they were: never inside a word. The words that tell a name apart from
its siblings (``1`` in "Stage 1 Discharge Pressure", ``Left`` in "Exhaust Temperature Left
Bank", ``#3``) are kept first. Used by the tree, the sparklines, the palette, the log and the
tail table; the table is configurable (``[ui.abbreviations]``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["DEFAULT_ABBREVIATIONS", "abbreviations", "configure_abbreviations", "fit_apart",
           "fit_label"]

DEFAULT_ABBREVIATIONS: dict[str, str] = {
    "Pressure": "Press", "Temperature": "Temp", "Discharge": "Disch", "Suction": "Suct",
    "Stage": "Stg", "Engine": "Eng", "Position": "Pos", "Vibration": "Vib",
    "Exhaust": "Exh", "Compressor": "Comp", "Controller": "Ctrl", "Emergency": "Emerg",
    "Ambient": "Amb", "Intake": "Int", "Manifold": "Man", "Scrubber": "Scrub",
    "Voltage": "Volt", "Recycle": "Recyc", "Coolant": "Clnt", "Battery": "Batt",
    "Shutdown": "Shutdn", "Level": "Lvl", "Switch": "Sw", "Status": "Stat",
    "Active": "Act", "Enabled": "Enab", "Frequency": "Freq", "Differential": "Diff", "Cylinder": "Cyl", "Number": "No",
}

_table: dict[str, str] = dict(DEFAULT_ABBREVIATIONS)
_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[object, ...], object] = OrderedDict()
ELLIPSIS = "…"


def abbreviations() -> dict[str, str]:
    """The table in force (a copy)."""
    return dict(_table)


def configure_abbreviations(user: Mapping[str, object] | None) -> list[str]:
    """The default table with the user's words over it; ``""`` removes a word. Returns the
    problems (entries that are not text), which are skipped."""
    table = dict(DEFAULT_ABBREVIATIONS)
    problems: list[str] = []
    for word, short in (user or {}).items():
        if not isinstance(short, str) or not isinstance(word, str) or " " in word.strip():
            problems.append(f"ui.abbreviations.{word}: must be text for one word")
            continue
        if short.strip():
            table[word.strip()] = short.strip()
        else:
            table.pop(word.strip(), None)
    _table.clear()
    _table.update(table)
    _cache.clear()
    return problems


def _short(word: str) -> str:
    short = _table.get(word)
    if short is None:
        short = _table.get(word.capitalize())
        if short is not None and word.islower():
            short = short.lower()
    return short if short is not None and len(short) < len(word) else word


def _abbreviated(words: list[str], width: int) -> list[str]:
    """Words with table abbreviations applied from the last word back until they fit (all
    of them when they never do)."""
    out = list(words)
    for i in range(len(out) - 1, -1, -1):
        if len(" ".join(out)) <= width:
            break
        out[i] = _short(out[i])
    return out


def _joined(words: Sequence[str], kept: Iterable[int]) -> str:
    """The kept words in order; an ellipsis stands for each run of left-out words."""
    keep = set(kept)
    parts: list[str] = []
    gap = False
    for i, word in enumerate(words):
        if i in keep:
            if gap:
                parts.append(ELLIPSIS)
            elif parts:
                parts.append(" ")
            parts.append(word)
            gap = False
        else:
            gap = True
    if gap:
        parts.append(ELLIPSIS)
    return "".join(parts)


def _telling(words: list[str], siblings: Sequence[list[str]]) -> set[int]:
    """Indexes of the words that tell ``words`` apart from its closest siblings: the first
    word after the longest prefix it shares with one, the last before the longest suffix."""
    n = len(words)
    prefix = suffix = 0
    for other in siblings:
        if other == words:
            continue
        p = 0
        while p < min(n, len(other)) and words[p] == other[p]:
            p += 1
        s = 0
        while s < min(n, len(other)) - p and words[n - 1 - s] == other[-1 - s]:
            s += 1
        prefix, suffix = max(prefix, p), max(suffix, s)
    return {i for i in (min(prefix, n - 1), max(0, n - 1 - suffix)) if 0 <= i < n}


def _clip_words(words: list[str], width: int, must: set[int]) -> str:
    """Keep ``must``, then the last word, the first, and the rest from the front, each while
    it fits. A word loses letters only when not even one whole word fits."""
    kept = set(must) if len(_joined(words, must)) <= width else set()
    n = len(words)
    for i in [n - 1, 0, *range(1, n - 1)]:
        if i not in kept and len(_joined(words, kept | {i})) <= width:
            kept.add(i)
    if not kept:
        return " ".join(words)[:width].rstrip()
    return _joined(words, kept)


def _fit(text: str, width: int, siblings: Sequence[list[str]] | None = None) -> str:
    if len(text) <= width:
        return text
    if width <= 0:
        return ""
    words = text.split()
    short = _abbreviated(words, width)
    if len(" ".join(short)) <= width:
        return " ".join(short)
    if len(words) == 1:
        return short[0][:width]  # one word: its start, no ellipsis inside it
    must = _telling(words, siblings) if siblings else set()
    return _clip_words(short, width, must)


def fit_label(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells (see the module's docstring)."""
    return _fit(text, width, ())


def fit_apart(names: Sequence[str], width: int) -> list[str]:
    """Each of ``names`` fitted to ``width``, keeping the words that tell it apart from the
    others (siblings: the tags of one unit)."""
    key = (width, *names)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return list(hit)  # type: ignore[call-overload]
    fitted = [_fit(n, width) for n in names]
    # where two different names came out the same, keep the words that tell them apart
    seen: dict[str, set[str]] = {}
    for name, out in zip(names, fitted):
        seen.setdefault(out, set()).add(name)
    alike = [i for i, out in enumerate(fitted) if len(seen[out]) > 1]
    if alike:
        split = [n.split() for n in names]
        for i in alike:
            fitted[i] = _fit(names[i], width, split)
    _cache[key] = tuple(fitted)
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return fitted
