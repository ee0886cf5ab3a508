"""The one place that turns a :class:`Reading` into text: JSONL, CSV and the human table line.

``tail``, ``record``, the TUI's save and its log all use these functions, and session files are
read back with :func:`reading_from_json` / :func:`reading_from_csv`, so what is written and
what is read cannot drift apart. Untrusted text (labels, tag names) goes through the one
terminal sanitizer (:mod:`flux_tui.data.terminal`) before it reaches a terminal, and a CSV
cell that a spreadsheet would run as a formula is written with a leading ``'``.

No payload can break a writer: orjson reads JSON nested up to 1024 levels but writes only
254, so a payload it refuses is written by :func:`json_text`, which has no depth limit.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from flux_tui.data.label_fit import fit_label
from flux_tui.data.terminal import terminal_safe
from flux_tui.feed.decoder import make_reading
from flux_tui.feed.types import Reading

__all__ = [
    "CSV_COLUMNS",
    "FORMULA_START",
    "META_FIELDS",
    "NameLookup",
    "csv_row",
    "format_time",
    "format_value",
    "json_text",
    "jsonl_line",
    "reading_from_csv",
    "reading_from_json",
    "reading_from_payload",
    "safe_text",
    "table_line",
]


class NameLookup(Protocol):
    """Names for ids (from the Enterprise Objects API); ``None`` when unknown."""

    def asset_name(self, asset_id: Any) -> str | None: ...

    def site_name(self, site_id: Any) -> str | None: ...

    def org_name(self, org_id: Any) -> str | None: ...


# Fields a JSONL line adds to the payload. `_sub` is written only for the sub-records of an
# aggregate (sub != 0): without it two sub-records sharing a sequence number would collapse
# into one identity when a session is reopened.
META_FIELDS = ("_shard", "_seq", "_sub", "_arrival")

# The payload's fields that have their own CSV column (current spelling), in column order.
_VALUE_COLUMNS = (
    "epochMs",
    "rtms",
    "orgId",
    "siteId",
    "assetId",
    "tagId",
    "registerId",
    "tagName",
    "label",
    "val",
    "pk",
)

CSV_COLUMNS: tuple[str, ...] = ("time_utc", *_VALUE_COLUMNS, *META_FIELDS, "extra")
"""CSV column order (documented in docs/session-files.md; never reorder, only append)."""

_EXTRA = len(CSV_COLUMNS) - 1
_DERIVED = "_derived"  # key in `extra`: columns filled from the older spelling, not the payload

_OPT = orjson.OPT_APPEND_NEWLINE


# --- JSONL ---------------------------------------------------------------------------------


def jsonl_line(reading: Reading) -> bytes:
    """One JSONL line: every payload field, plus ``_shard``, ``_seq``, ``_arrival`` (and
    ``_sub`` when the reading is a sub-record of an aggregate); newline-terminated."""
    obj = dict(reading.payload)
    obj["_shard"] = reading.shard
    obj["_seq"] = reading.seq
    if reading.sub:
        obj["_sub"] = reading.sub
    obj["_arrival"] = reading.arrival
    try:
        return orjson.dumps(obj, option=_OPT)
    except TypeError:
        # Nested deeper than orjson writes (a hostile record), or values JSON lacks (a
        # payload from a library user): the unlimited writer, same bytes for what it shares.
        return json_text(obj).encode() + b"\n"


_END = object()


def _scalar_json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        if isinstance(value, int):  # wider than 64 bits: still a JSON number
            return str(value)
        return orjson.dumps(str(value)).decode()  # a type JSON lacks: its text


def _open_container(value: Any, parts: list[str], stack: list[list[Any]], depth: int | None
                    ) -> None:
    """Emit ``value``, or open it (push its items) when it is a container within ``depth``."""
    if isinstance(value, dict):
        if depth is not None and len(stack) >= depth:
            parts.append("{…}" if value else "{}")
        else:
            parts.append("{")
            stack.append([iter(value.items()), "}", True])
    elif isinstance(value, (list, tuple)):
        if depth is not None and len(stack) >= depth:
            parts.append("[…]" if value else "[]")
        else:
            parts.append("[")
            stack.append([iter(value), "]", True])
    else:
        parts.append(_scalar_json(value))


def json_text(value: Any, *, max_depth: int | None = None, max_chars: int | None = None) -> str:
    """``value`` as compact JSON with no nesting limit (iterative, so no RecursionError).

    The exact JSON for anything orjson can read, scalars formatted by orjson itself. For
    display, ``max_depth`` shows deeper containers as ``[…]``/``{…}`` and ``max_chars``
    stops early and ends the text with ``…`` (a huge value costs only what is shown).
    """
    parts: list[str] = []
    stack: list[list[Any]] = []  # [items iterator, closing bracket, first item?]
    size = counted = 0
    _open_container(value, parts, stack, max_depth)
    while stack:
        if max_chars is not None:
            size += sum(len(p) for p in parts[counted:])
            counted = len(parts)
            if size > max_chars:
                break
        top = stack[-1]
        item: Any = next(top[0], _END)
        if item is _END:
            parts.append(top[1])
            stack.pop()
            continue
        if not top[2]:
            parts.append(",")
        top[2] = False
        if top[1] == "}":
            key, item = item
            parts.append(_scalar_json(key if isinstance(key, str) else str(key)) + ":")
        _open_container(item, parts, stack, max_depth)
    text = "".join(parts)
    if max_chars is not None and len(text) > max_chars:
        return text[: max_chars - 1] + "…"
    return text


def reading_from_json(obj: dict[str, Any]) -> Reading:
    """The inverse of :func:`jsonl_line`: a JSONL object back into a :class:`Reading`.

    Raises ``ValueError`` when the object lacks ``_shard``/``_seq`` (not a session line).
    """
    payload = dict(obj)
    try:
        shard = payload.pop("_shard")
        seq = payload.pop("_seq")
    except KeyError as exc:
        raise ValueError(f"missing {exc.args[0]}") from None
    sub = payload.pop("_sub", 0)
    arrival = payload.pop("_arrival", 0.0)
    if not isinstance(sub, int) or isinstance(sub, bool):
        raise ValueError("_sub is not an integer")  # noqa: TRY004 - a malformed line
    if not isinstance(arrival, (int, float)) or isinstance(arrival, bool):
        raise ValueError("_arrival is not a number")  # noqa: TRY004 - a malformed line
    return reading_from_payload(str(shard), str(seq), sub, float(arrival), payload)


def reading_from_payload(
    shard: str, seq: str, sub: int, arrival: float, payload: dict[str, Any]
) -> Reading:
    """Build a :class:`Reading` from a saved payload, in either spelling.

    The feed's decoder owns the one mapping from payload fields to canonical ones, so a
    reopened session reads exactly as the live feed did.
    """
    return make_reading(shard, seq, sub, arrival, payload)


# --- CSV -------------------------------------------------------------------------------------

_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


def _cell(value: Any) -> str:
    """A payload value as CSV text that pandas and DuckDB read naturally."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return _json_cell(value)


def _json_cell(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # deeper than orjson writes, or not JSON: the unlimited writer
        return json_text(value)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is a formula to a spreadsheet (CSV injection)."""


def guard_cell(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula.

    Numbers (``-5``, ``-1.5e3``) are left alone. A cell that already starts with ``'``
    before such a character gets one more, so :func:`unguard_cell` can always remove
    exactly one and give the text back unchanged.
    """
    if cell.lstrip("'").startswith(FORMULA_START) and not _FLOAT_RE.match(cell):
        return "'" + cell
    return cell


def unguard_cell(cell: str) -> str:
    """The inverse of :func:`guard_cell`."""
    if cell[:1] == "'" and cell.lstrip("'").startswith(FORMULA_START):
        return cell[1:]
    return cell


def _parse_cell(text: str) -> Any:
    """The inverse of :func:`_cell` for scalars (the writer checks it round-trips)."""
    if text == "true":
        return True
    if text == "false":
        return False
    if _INT_RE.match(text):
        return int(text)
    if _FLOAT_RE.match(text):
        return float(text)
    return text


def _reproduced(value: Any, cell: str) -> bool:
    if cell == "":
        return False
    back = _parse_cell(cell)
    return type(back) is type(value) and back == value


def format_time(epoch_ms: int | None, *, utc: bool = False, date: bool = False) -> str:
    """``HH:MM:SS.mmm`` (local time, or UTC with a ``Z``); with ``date`` the ISO date first."""
    if epoch_ms is None:
        return "--:--:--.---"
    seconds, ms = divmod(int(epoch_ms), 1000)
    try:
        parts = time.gmtime(seconds) if utc else time.localtime(seconds)
    except (OverflowError, OSError, ValueError):
        return "??:??:??.???"
    text = time.strftime("%Y-%m-%dT%H:%M:%S" if date else "%H:%M:%S", parts) + f".{ms:03d}"
    return text + "Z" if utc else text


def csv_row(reading: Reading, *, guard: bool = True) -> list[str]:
    """One CSV row in :data:`CSV_COLUMNS` order.

    With ``guard`` (the default) every cell a spreadsheet would run as a formula gets a
    leading ``'`` (see :func:`guard_cell`); :func:`reading_from_csv` removes it again.

    Columns hold the canonical values (also for payloads in the older spelling) so a table
    tool sees the same columns for every row; ``extra`` is a JSON object with every payload
    field a column does not reproduce exactly (unknown fields, a string ``"2"`` in ``val``,
    ``null``...), so :func:`reading_from_csv` gives back the payload unchanged.
    """
    payload = reading.payload
    canonical = (
        reading.epoch_ms,
        reading.rtms,
        reading.org_id,
        reading.site_id,
        reading.asset_id,
        reading.tag_id,
        reading.register_id,
        reading.tag_name or None,
        reading.label or None,
        reading.val,
        payload.get("pk"),
    )
    when = reading.epoch_ms
    row = [format_time(when, utc=True, date=True) if when is not None else ""]
    extra: dict[str, Any] = {}
    derived: list[str] = []
    for key, value in zip(_VALUE_COLUMNS, canonical):
        if key in payload:
            value = payload[key]
            cell = _cell(value)
            if not _reproduced(value, cell):
                extra[key] = value
        else:
            cell = _cell(value)
            if cell:
                derived.append(key)
        row.append(cell)
    for key, value in payload.items():
        if key not in _COLUMN_SET:
            extra[key] = value
    if derived:
        extra[_DERIVED] = derived
    row += [reading.shard, reading.seq, str(reading.sub), repr(float(reading.arrival))]
    row.append(_json_cell(extra) if extra else "")
    return [guard_cell(cell) for cell in row] if guard else row


_COLUMN_SET = frozenset(_VALUE_COLUMNS)


class CsvRows:
    """Writes CSV rows (``\n`` line ends) that ``csv.reader`` reads back whole.

    Python's writer quotes a field holding a line feed but not one holding a bare CR (the
    CR is not in the ``\n`` line terminator), and the reader then splits the row there: a
    label with a CR lost its reading on reopening. Such rows are written fully quoted.
    """

    def __init__(self, stream: Any) -> None:
        self._minimal = csv.writer(stream, lineterminator="\n")
        self._quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, row: Sequence[str]) -> None:
        """One row."""
        (self._quoted if "\r" in "".join(row) else self._minimal).writerow(row)

    def writerows(self, rows: Any) -> None:
        """Several rows, in order."""
        for row in rows:
            self.writerow(row)


def reading_from_csv(row: Sequence[str], *, guarded: bool = True) -> Reading:
    """The inverse of :func:`csv_row`. Raises ``ValueError`` for a malformed row.

    ``guarded``: the file was written with the formula guard (the default; a session
    recorded with ``--csv-raw`` says otherwise in its sidecar).
    """
    if len(row) != len(CSV_COLUMNS):
        raise ValueError(f"expected {len(CSV_COLUMNS)} columns, found {len(row)}")
    if guarded:
        row = [unguard_cell(cell) for cell in row]
    extra_text = row[_EXTRA]
    extra = orjson.loads(extra_text) if extra_text else {}
    if not isinstance(extra, dict):
        raise ValueError("extra is not a JSON object")  # noqa: TRY004 - a malformed row
    derived = set(extra.pop(_DERIVED, ()))
    payload: dict[str, Any] = {}
    for index, key in enumerate(_VALUE_COLUMNS, start=1):
        if key in extra:
            payload[key] = extra.pop(key)
        elif row[index] and key not in derived:
            payload[key] = _parse_cell(row[index])
    payload.update(extra)
    base = 1 + len(_VALUE_COLUMNS)
    shard, seq, sub, arrival = row[base : base + 4]
    if not shard or not seq:
        raise ValueError("missing _shard or _seq")
    return reading_from_payload(shard, seq, int(sub or 0), float(arrival or 0.0), payload)


# --- human text ------------------------------------------------------------------------------

def safe_text(text: str) -> str:
    """Untrusted text made safe for one terminal line: control and bidi characters become
    visible placeholders (the one sanitizer, :func:`flux_tui.data.terminal.terminal_safe`)."""
    return terminal_safe(text)


VALUE_PREVIEW = 200  # characters of a list/object value shown on one line
VALUE_DEPTH = 4  # levels of a list/object value shown before "[…]"


def format_value(val: Any) -> str:
    """The one way a reading's value is shown: ``None`` as ``—``, booleans as ``true``/
    ``false``, floats with up to three decimals (at least one), huge or tiny ones in
    scientific notation, text made terminal-safe."""
    if val is None:
        return "—"
    if val is True:
        return "true"
    if val is False:
        return "false"
    if isinstance(val, int):
        return str(val)
    if isinstance(val, float):
        if math.isnan(val):
            return "NaN"
        if math.isinf(val):
            return "∞" if val > 0 else "-∞"
        magnitude = abs(val)
        if magnitude and (magnitude >= 1e12 or magnitude < 1e-3):
            return f"{val:.4g}"
        text = f"{val:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(val, str):
        return safe_text(val)
    return safe_text(json_text(val, max_depth=VALUE_DEPTH, max_chars=VALUE_PREVIEW))


def unit_name(reading: Reading, names: NameLookup | None = None) -> str:
    """The unit's name from ``names``, else ``Unit <assetId>``."""
    if names is not None and reading.asset_id is not None:
        name = names.asset_name(reading.asset_id)
        if name:
            return safe_text(name)
    return f"Unit {safe_text(str(reading.asset_id))}" if reading.asset_id is not None else "Unit ?"


_UNIT_COLUMN = 14  # "Unit 1234567" and "WHC-1131 North" whole
_LABEL_COLUMN = 28


def table_line(
    reading: Reading, *, utc: bool = False, names: NameLookup | None = None, present: Any = None
) -> str:
    """A human one-liner: time with milliseconds (local, or UTC), unit, label, value.

    ``present`` (a :class:`~flux_tui.data.presentation.Presentation`) adds engineering units
    and state names to the value (``38.2 psi``, ``Running``). The unit and label columns have
    fixed widths (long names are abbreviated and lose whole words, see
    :mod:`flux_tui.data.label_fit`), so the values stay in one column."""
    label = safe_text(reading.label or reading.tag_name or f"tag {reading.tag_id}")
    if present is not None:
        value = present.show(reading.label, reading.val)
    else:
        value = format_value(reading.val)
    unit = fit_label(unit_name(reading, names), _UNIT_COLUMN)
    return (
        f"{format_time(reading.epoch_ms, utc=utc)}  {unit:<{_UNIT_COLUMN}}  "
        f"{fit_label(label, _LABEL_COLUMN):<{_LABEL_COLUMN}}  {value:>12}"
    )
