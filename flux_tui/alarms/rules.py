"""Alarm rules: what a ``[[alarms]]`` table or a ``--rule`` says, checked and compiled.

A rule's ``when`` is a filter-language query with a comparison on the value. When it holds
exactly one numeric ``val`` comparison, the rest of the query selects the tags and the
comparison gives the limit the ``deadband`` is measured from. Errors are :class:`RuleError`
values that name the rule and the key, so the config layer can add the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flux_tui.data.query import QuerySyntaxError, compile_query
from flux_tui.data.query.evaluate import compile_node
from flux_tui.data.query.parse import All, And, Compare, Node, Not, Or, make_and
from flux_tui.feed.types import Reading

__all__ = [
    "RULE_KEYS",
    "SEVERITIES",
    "AlarmRule",
    "CompiledRule",
    "RuleError",
    "compile_rule",
    "parse_duration_ms",
    "rule_from_table",
    "rule_from_text",
]

SEVERITIES = ("info", "warning", "critical")
RULE_KEYS = ("name", "when", "for", "deadband", "clear_when", "severity", "latch", "bell")
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*\Z")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1000}


class RuleError(ValueError):
    """A rule that cannot be used: ``rule`` is its name (or position), ``key`` the culprit."""

    def __init__(self, rule: str, key: str, problem: str) -> None:
        self.rule, self.key, self.problem = rule, key, problem
        super().__init__(f"alarm rule {rule!r}, key {key!r}: {problem}")


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """One alarm rule as the user wrote it (durations in milliseconds)."""

    name: str
    when: str
    for_ms: int = 0
    deadband: float = 0.0
    clear_when: str | None = None
    severity: str = "warning"
    latch: bool = False
    bell: bool = False


Predicate = Callable[[Reading], bool]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to test readings: ``selects`` picks the tags it watches, ``holds`` is the
    whole ``when``, ``cleared`` says a reading is back beyond the deadband (or ``clear_when``)."""

    rule: AlarmRule
    selects: Predicate
    holds: Predicate
    cleared: Predicate


def parse_duration_ms(value: Any) -> int | None:
    """``30s``, ``5m``, ``1.5h``, ``250ms`` or a plain number of seconds; None when not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value * 1000) if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    if not match:
        return None
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


def rule_from_table(table: Mapping[str, Any], position: int) -> AlarmRule:
    """An ``[[alarms]]`` table as a rule; ``position`` (1-based) names it when it has no name."""
    label = str(table.get("name") or f"#{position}")
    unknown = [k for k in table if k not in RULE_KEYS]
    if unknown:
        raise RuleError(label, unknown[0], f"unknown key; known: {', '.join(RULE_KEYS)}")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RuleError(label, "name", "must be a non-empty string")
    when = table.get("when")
    if not isinstance(when, str) or not when.strip():
        raise RuleError(label, "when", "must be a query, e.g. 'label:\"suction pressure\" val<20'")
    for_ms = parse_duration_ms(table.get("for", 0))
    if for_ms is None:
        raise RuleError(label, "for", "must be a duration like 30s, 5m or 1h")
    deadband = table.get("deadband", 0.0)
    if isinstance(deadband, bool) or not isinstance(deadband, (int, float)) or deadband < 0:
        raise RuleError(label, "deadband", "must be a number ≥ 0")
    clear_when = table.get("clear_when")
    if clear_when is not None and (not isinstance(clear_when, str) or not clear_when.strip()):
        raise RuleError(label, "clear_when", "must be a query")
    severity = table.get("severity", "warning")
    if severity not in SEVERITIES:
        raise RuleError(label, "severity", f"must be one of {', '.join(SEVERITIES)}")
    for key in ("latch", "bell"):
        if not isinstance(table.get(key, False), bool):
            raise RuleError(label, key, "must be true or false")
    rule = AlarmRule(
        name=name.strip(),
        when=when,
        for_ms=for_ms,
        deadband=float(deadband),
        clear_when=clear_when,
        severity=severity,
        latch=bool(table.get("latch", False)),
        bell=bool(table.get("bell", False)),
    )
    compile_rule(rule)  # a query that does not parse is this rule's error, found now
    return rule


_RULE_TEXT = re.compile(r"\s*([^:]+?)\s*:(.*)\Z", re.DOTALL)
_OPTION = re.compile(r"\s+(for|deadband|severity|latch|bell)(?:\s+(\S+))?\s*\Z", re.IGNORECASE)


def rule_from_text(text: str) -> AlarmRule:
    """``NAME: QUERY [for 30s] [deadband 1] [severity critical] [latch] [bell]`` (``--rule``)."""
    match = _RULE_TEXT.match(text)
    if not match or not match.group(2).strip():
        raise RuleError(
            text.strip() or "?", "when", "write it as 'NAME: QUERY [for 30s] [deadband 1]'"
        )
    name, rest = match.group(1), match.group(2)
    table: dict[str, Any] = {"name": name}
    while True:  # options are peeled off the end, so the query may hold any text before them
        option = _OPTION.search(rest)
        if option is None:
            break
        key, value = option.group(1).lower(), option.group(2)
        if key in ("latch", "bell"):
            if value is not None:
                break  # 'bell x' is query text, not the flag
            table[key] = True
        elif value is None:
            break
        elif key == "deadband":
            try:
                table[key] = float(value)
            except ValueError:
                raise RuleError(name, key, f"{value!r} is not a number") from None
        else:
            table[key] = value
        rest = rest[: option.start()]
    table["when"] = rest.strip()
    return rule_from_table(table, 1)


# --- compiling -------------------------------------------------------------------------------


def _has_value_compare(node: Node) -> bool:
    if isinstance(node, Compare):
        return node.field == "val"
    if isinstance(node, Not):
        return _has_value_compare(node.child)
    if isinstance(node, (And, Or)):
        return any(_has_value_compare(child) for child in node.children)
    return False


def _split(node: Node) -> tuple[Node, Compare | None]:
    """(the selecting part, the one numeric ``val`` comparison) of a query, when it has that
    shape (a comparison alone or ANDed with other terms); else (All, None)."""
    if isinstance(node, Compare):
        return (All(), node) if node.field == "val" and node.number is not None else (All(), None)
    if isinstance(node, And):
        found = [c for c in node.children if isinstance(c, Compare) and c.field == "val"]
        if len(found) == 1 and found[0].number is not None:
            rest = [c for c in node.children if c is not found[0]]
            return make_and(rest), found[0]
    return All(), None


def _beyond(compare: Compare, deadband: float) -> Predicate:
    """True when a reading's value has returned past the limit by the deadband."""
    limit = float(compare.number or 0.0)
    if compare.op in ("<", "<="):
        edge = limit + deadband
        if deadband == 0 and compare.op == "<=":
            return lambda r: type(r[13]) in (int, float) and r[13] > edge
        return lambda r: type(r[13]) in (int, float) and r[13] >= edge
    if compare.op in (">", ">="):
        edge = limit - deadband
        if deadband == 0 and compare.op == ">=":
            return lambda r: type(r[13]) in (int, float) and r[13] < edge
        return lambda r: type(r[13]) in (int, float) and r[13] <= edge
    return lambda r: False  # '=' and '!=' have no side to return to


def compile_rule(rule: AlarmRule, names: Any = None) -> CompiledRule:
    """Compile a rule's queries; a bad query or an unusable deadband is a :class:`RuleError`."""
    try:
        when = compile_query(rule.when, names)
    except QuerySyntaxError as exc:
        raise RuleError(rule.name, "when", f"{exc} in {rule.when!r}") from None
    if not _has_value_compare(when.node):
        raise RuleError(rule.name, "when", "needs a comparison on the value, e.g. val<20")
    selector, compare = _split(when.node)
    holds = when.matches
    selects = compile_node(selector, names)
    if rule.clear_when is not None:
        try:
            clear = compile_query(rule.clear_when, names).matches
        except QuerySyntaxError as exc:
            raise RuleError(rule.name, "clear_when", f"{exc} in {rule.clear_when!r}") from None
        return CompiledRule(rule, selects, holds, clear)
    ordered = compare is not None and compare.op not in ("=", "!=")
    if rule.deadband and not ordered:
        raise RuleError(
            rule.name, "deadband", "needs exactly one val<, val<=, val> or val>= in 'when'"
        )
    if compare is None or not ordered:
        return CompiledRule(rule, selects, holds, lambda r: not holds(r))
    # A value that is no number (null, text) is no return to normal: the alarm stays.
    return CompiledRule(rule, selects, holds, _beyond(compare, rule.deadband))
