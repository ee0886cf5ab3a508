"""Engineering units and state names: how a tag's value reads to a technician.

``[units]`` maps a label pattern to a unit (``"*pressure*" = "psi"``) and ``[value_names]`` a
label pattern to ``{value = text}`` (Run Status 0/1 → Stopped/Running). Patterns are the
filter language's: case-insensitive, ``*`` any run, no ``*`` means "contains". The user's
patterns come first, then the shipped defaults (``defaults = false`` turns those off). Only
what is shown changes: JSONL and CSV keep the raw values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flux_tui.data.formats import format_value, safe_text

__all__ = [
    "DEFAULT_UNITS",
    "DEFAULT_VALUE_NAMES",
    "DEMO_VALUE_NAMES",
    "Presentation",
    "PresentationError",
    "presentation_from_tables",
    "value_key",
]

#: Units of the usual compressor tags (first match wins; order matters).
DEFAULT_UNITS: tuple[tuple[str, str], ...] = (
    ("*pressure*", "psi"),
    ("*temperature*", "°F"),
    ("*speed*", "rpm"),
    ("*vibration*", "in/s"),
    ("*voltage*", "V"),
    ("*load", "%"),  # "Engine Load", not "Valve Loaded Position"
    ("*gas flow*", "MCF/d"),
    ("*run hours*", "h"),
    ("*valve position*", "%"),  # "Recycle Valve Position"; not "Valve Loaded Position"
    ("*scrubber level*", "%"),
)

#: State names true of any controller.
DEFAULT_VALUE_NAMES: tuple[tuple[str, dict[str, str]], ...] = (
    ("run status", {"0": "Stopped", "1": "Running", "2": "Starting"}),
    ("valve loaded position", {"1": "Unloaded", "2": "Loaded"}),
)

#: The simulator's shutdown and alarm codes, shown on the demo only.
DEMO_VALUE_NAMES: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "shutdown code",
        {
            "0": "None",
            "12": "High Discharge Temperature",
            "17": "Low Suction Pressure",
            "23": "High Vibration",
            "31": "Low Oil Pressure",
            "44": "Emergency Stop",
        },
    ),
    (
        "alarm code",
        {
            "0": "None",
            "101": "High Suction Pressure Warning",
            "104": "Low Fuel Gas Pressure",
            "112": "High Coolant Temperature Warning",
            "120": "Communication Loss Slave 2",
        },
    ),
)

_CACHE_LIMIT = 65_536
MAX_TEXT = 60  # a unit or a state name longer than this is cut (it shares a line)


class PresentationError(ValueError):
    """A bad ``[units]`` or ``[value_names]`` entry; ``key`` is the dotted key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


def _pattern(pattern: str) -> Callable[[str], bool]:
    needle = pattern.lower()
    if "*" in needle:
        regex = re.compile(".*".join(re.escape(p) for p in needle.split("*")) + r"\Z", re.DOTALL)
        return lambda s: regex.match(s.lower()) is not None
    return lambda s: needle in s.lower()


def value_key(val: Any) -> str | None:
    """How a value is looked up in a names table: ``1``/``1.0`` → ``"1"``, ``True`` →
    ``"true"``, text as is; None for values that have no name (null, lists)."""
    if val is True:
        return "true"
    if val is False:
        return "false"
    if isinstance(val, int):
        return str(val)
    if isinstance(val, float):
        return str(int(val)) if val.is_integer() else repr(val)
    if isinstance(val, str):
        return val
    return None


@dataclass
class Presentation:
    """Units and state names by label. Lookups are memoised per label (labels repeat)."""

    units: list[tuple[str, str]] = field(default_factory=lambda: list(DEFAULT_UNITS))
    value_names: list[tuple[str, dict[str, str]]] = field(
        default_factory=lambda: list(DEFAULT_VALUE_NAMES)
    )

    def __post_init__(self) -> None:
        self._units = [(_pattern(p), safe_text(u)[:MAX_TEXT]) for p, u in self.units]
        self._names = [
            (_pattern(p), {k: safe_text(v)[:MAX_TEXT] for k, v in table.items()})
            for p, table in self.value_names
        ]
        self._unit_of: dict[str, str | None] = {}
        self._names_of: dict[str, dict[str, str] | None] = {}

    def unit(self, label: str | None) -> str | None:
        """The engineering unit for tags of this label, or None."""
        if not label:
            return None
        hit = self._unit_of.get(label, "")
        if hit != "":
            return hit
        found = next((unit for test, unit in self._units if test(label)), None)
        if len(self._unit_of) >= _CACHE_LIMIT:
            self._unit_of.clear()
        self._unit_of[label] = found
        return found

    def names(self, label: str | None) -> dict[str, str] | None:
        """The value → name table for tags of this label, or None."""
        if not label:
            return None
        if label in self._names_of:
            return self._names_of[label]
        found = next((table for test, table in self._names if test(label)), None)
        if len(self._names_of) >= _CACHE_LIMIT:
            self._names_of.clear()
        self._names_of[label] = found
        return found

    def name(self, label: str | None, val: Any) -> str | None:
        """The state name of ``val`` for this label, or None."""
        table = self.names(label)
        if table is None:
            return None
        key = value_key(val)
        return table.get(key) if key is not None else None

    def show(self, label: str | None, val: Any, width: int | None = None) -> str:
        """The value as a technician reads it: ``38.2 psi``, ``Running``; terminal-safe.

        ``width`` is the room a column has: the unit is left out rather than cut
        (``441.8`` where ``441.8 MCF/d`` does not fit)."""
        named = self.name(label, val)
        if named is not None:
            return named
        text = format_value(val)
        if width is not None and len(text) >= width - 1:
            return text
        unit = (
            self.unit(label)
            if isinstance(val, (int, float)) and val is not True and val is not False
            else None
        )
        if unit and width is not None and len(text) + 1 + len(unit) > width:
            return text
        return f"{text} {unit}" if unit else text

    def show_raw_too(self, label: str | None, val: Any) -> str:
        """Like :meth:`show`, with the raw value after a name (``Running (1)``) for details."""
        named = self.name(label, val)
        if named is not None:
            return f"{named} ({format_value(val)})"
        return self.show(label, val)


def _entries(table: Any, name: str) -> dict[str, Any]:
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise PresentationError(name, f"must be a table: [{name}]")
    return dict(table)


def presentation_from_tables(units: Any, value_names: Any, *, demo: bool = False) -> Presentation:
    """Build from the ``[units]`` and ``[value_names]`` tables (either may be None).

    Raises :class:`PresentationError` naming the key of a bad entry.
    """
    unit_table, names_table = _entries(units, "units"), _entries(value_names, "value_names")
    unit_defaults = unit_table.pop("defaults", True)
    names_defaults = names_table.pop("defaults", True)
    for key, flag in (("units.defaults", unit_defaults), ("value_names.defaults", names_defaults)):
        if not isinstance(flag, bool):
            raise PresentationError(key, "must be true or false")
    unit_list: list[tuple[str, str]] = []
    for pattern, unit in unit_table.items():
        if not isinstance(unit, str):
            raise PresentationError(f"units.{pattern}", 'must be a unit text, e.g. "psi"')
        unit_list.append((pattern, unit))
    names_list: list[tuple[str, dict[str, str]]] = []
    for pattern, mapping in names_table.items():
        if not isinstance(mapping, Mapping) or not all(
            isinstance(v, str) for v in mapping.values()
        ):
            raise PresentationError(
                f"value_names.{pattern}", 'must be a table of value = "name", e.g. {0 = "Stopped"}'
            )
        names_list.append((pattern, {str(k): v for k, v in mapping.items()}))
    if unit_defaults:
        unit_list += DEFAULT_UNITS
    if names_defaults:
        names_list += DEFAULT_VALUE_NAMES
        if demo:
            names_list += DEMO_VALUE_NAMES
    return Presentation(unit_list, names_list)
