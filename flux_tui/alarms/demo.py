"""The demo's built-in alarm rules: what ``flux-tui demo`` and ``flux-tui alarms --profile
demo`` watch when the config file has no ``[[alarms]]`` of its own."""

from __future__ import annotations

from flux_tui.alarms.rules import AlarmRule

__all__ = ["DEMO_RULES"]

DEMO_RULES: tuple[AlarmRule, ...] = (
    AlarmRule(
        name="low suction pressure",
        when='label:"suction pressure" val<20',
        for_ms=30_000,
        deadband=2.0,
        severity="critical",
        bell=True,
    ),
    AlarmRule(
        name="unit shut down",
        when='label:"run status" val=0',
        severity="warning",
    ),
    AlarmRule(
        name="high discharge temperature",
        when='label:"discharge temperature" val>330',
        for_ms=60_000,
        deadband=10.0,
        severity="warning",
    ),
)
