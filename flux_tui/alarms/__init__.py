"""Field intelligence: alarm rules evaluated on reading time, stale tags and silent units.

Pure code (no Textual, no I/O): :class:`AlarmEngine` takes readings and returns
:class:`Transition` values; the headless ``flux-tui alarms`` and the viewer both drive it.
"""

from flux_tui.alarms.engine import Alarm, AlarmEngine, AlarmKey
from flux_tui.alarms.rules import (
    SEVERITIES,
    AlarmRule,
    RuleError,
    compile_rule,
    parse_duration_ms,
    rule_from_table,
    rule_from_text,
)
from flux_tui.alarms.stale import StalePolicy, StaleTracker
from flux_tui.alarms.transition import STATES, Transition, iso_utc

__all__ = [
    "SEVERITIES",
    "STATES",
    "Alarm",
    "AlarmEngine",
    "AlarmKey",
    "AlarmRule",
    "RuleError",
    "StalePolicy",
    "StaleTracker",
    "Transition",
    "compile_rule",
    "iso_utc",
    "parse_duration_ms",
    "rule_from_table",
    "rule_from_text",
]
