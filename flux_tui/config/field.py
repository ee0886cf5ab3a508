"""The config file's field-intelligence tables: ``[[alarms]]``, ``[alarm_options]``,
``[stale]``, ``[units]`` and ``[value_names]``, read into the engine's and the display's own
types.

Every mistake is a :class:`ConfigError` naming the file, the rule (for alarms) and the key;
:func:`check_field_tables` runs them all when the file is loaded, so a bad rule shows at once.
"""

from __future__ import annotations

from typing import Any

from flux_tui.alarms.rules import AlarmRule, RuleError, parse_duration_ms, rule_from_table
from flux_tui.alarms.stale import StalePolicy
from flux_tui.base.errors import ConfigError
from flux_tui.data.presentation import Presentation, PresentationError, presentation_from_tables

__all__ = ["ALARM_OPTION_KEYS", "DEFAULT_SHELVE_MINUTES", "STALE_KEYS", "alarm_rules",
           "check_field_tables", "presentation", "shelve_minutes", "stale_policy"]

STALE_KEYS = ("stale_after", "minimum", "report_tags", "enabled")
# ``[alarm_options]`` and not ``[alarms]``: TOML cannot have both a table and the array of
# tables ``[[alarms]]`` (the rules) under one name.
ALARM_OPTION_KEYS = ("shelve",)
DEFAULT_SHELVE_MINUTES = 15.0
_MAX_SHELVE_MS = 7 * 24 * 3_600_000  # a week: longer is forgetting the alarm, not shelving it


def alarm_rules(data: dict[str, Any], file: str | None) -> list[AlarmRule]:
    """The ``[[alarms]]`` rules, checked; names must be unique."""
    tables = data.get("alarms", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError("must be a list of [[alarms]] tables", file=file, key="alarms")
    rules: list[AlarmRule] = []
    seen: set[str] = set()
    for position, table in enumerate(tables, 1):
        try:
            rule = rule_from_table(table, position)
        except RuleError as exc:
            raise ConfigError(
                f"alarm rule {exc.rule!r} (#{position}): {exc.problem}",
                file=file,
                key=f"alarms.{exc.key}",
            ) from None
        if rule.name in seen:
            raise ConfigError(
                f"alarm rule {rule.name!r} (#{position}): another rule has this name",
                file=file,
                key="alarms.name",
            )
        seen.add(rule.name)
        rules.append(rule)
    return rules


def stale_policy(data: dict[str, Any], file: str | None) -> StalePolicy | None:
    """The ``[stale]`` table as a policy; None when ``enabled = false``."""
    table = data.get("stale", {})
    if not isinstance(table, dict):
        raise ConfigError("must be a table: [stale]", file=file, key="stale")
    unknown = [k for k in table if k not in STALE_KEYS]
    if unknown:
        raise ConfigError(
            f"unknown key; known: {', '.join(STALE_KEYS)}", file=file, key=f"stale.{unknown[0]}"
        )
    for key in ("enabled", "report_tags"):
        if not isinstance(table.get(key, True), bool):
            raise ConfigError("must be true or false", file=file, key=f"stale.{key}")
    if not table.get("enabled", True):
        return None
    after = table.get("stale_after", "auto")
    after_ms = None if after == "auto" else parse_duration_ms(after)
    if after != "auto" and not after_ms:
        raise ConfigError(
            'must be "auto" (3x the tag\'s median interval) or a duration like "5m"',
            file=file,
            key="stale.stale_after",
        )
    minimum_ms = parse_duration_ms(table.get("minimum", "60s"))
    if minimum_ms is None:
        raise ConfigError('must be a duration like "60s"', file=file, key="stale.minimum")
    return StalePolicy(
        after_ms=after_ms, minimum_ms=minimum_ms, report_tags=bool(table.get("report_tags", False))
    )


def shelve_minutes(data: dict[str, Any], file: str | None) -> float:
    """``[alarm_options] shelve``: how long ``s`` in the alarms list silences an alarm
    (a duration like ``"30m"`` or ``"2h"``, 1 minute to 7 days; default 15 minutes)."""
    table = data.get("alarm_options", {})
    if not isinstance(table, dict):
        raise ConfigError("must be a table: [alarm_options]", file=file, key="alarm_options")
    unknown = [k for k in table if k not in ALARM_OPTION_KEYS]
    if unknown:
        raise ConfigError(f"unknown key; known: {', '.join(ALARM_OPTION_KEYS)}", file=file,
                          key=f"alarm_options.{unknown[0]}")  # fmt: skip
    if "shelve" not in table:
        return DEFAULT_SHELVE_MINUTES
    value = table["shelve"]
    ms = parse_duration_ms(value) if isinstance(value, str) else None
    if ms is None or not 60_000 <= ms <= _MAX_SHELVE_MS:
        raise ConfigError('must be a duration from 1 minute to 7 days (168h), like "30m" or "2h"',
                          file=file, key="alarm_options.shelve")  # fmt: skip
    return ms / 60_000


def presentation(data: dict[str, Any], file: str | None, *, demo: bool = False) -> Presentation:
    """``[units]`` and ``[value_names]`` with the shipped defaults (demo codes on the demo)."""
    try:
        return presentation_from_tables(data.get("units"), data.get("value_names"), demo=demo)
    except PresentationError as exc:
        raise ConfigError(exc.problem, file=file, key=exc.key) from None


def check_field_tables(data: dict[str, Any], file: str | None) -> None:
    """Check all five tables (called when the config file is loaded)."""
    alarm_rules(data, file)
    shelve_minutes(data, file)
    stale_policy(data, file)
    presentation(data, file)
