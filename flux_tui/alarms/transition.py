"""What the alarm engine reports: one :class:`Transition` per change of an alarm's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["STATES", "Transition", "iso_utc"]

#: Every state a transition can report; ``flux-tui alarms`` prints the first four.
STATES = ("active", "cleared", "stale", "reporting", "acknowledged", "shelved", "unshelved")
STALE_RULE = "stale"


def iso_utc(epoch_ms: int) -> str:
    """``2026-12-01T14:02:11.000Z`` for a reading time."""
    at = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Transition:
    """An alarm changed state at reading time ``time_ms``.

    ``tag_id`` is None for a whole unit (stale/reporting of a unit). ``bell`` says this
    transition should ring (a bell rule's activation, not shelved).
    """

    time_ms: int
    rule: str
    severity: str
    state: str
    asset_id: Any
    tag_id: Any
    label: str | None = None
    val: Any = None
    tag_name: str | None = None
    bell: bool = False
    shelved: bool = False

    @property
    def key(self) -> tuple[str, Any, Any]:
        """The alarm this transition belongs to: (rule, unit, tag)."""
        return (self.rule, self.asset_id, self.tag_id)

    def as_json(self, names: Any = None) -> dict[str, Any]:
        """The JSON object ``flux-tui alarms`` prints (names added when known)."""
        out: dict[str, Any] = {
            "time": iso_utc(self.time_ms),
            "epochMs": self.time_ms,
            "rule": self.rule,
            "severity": self.severity,
            "state": self.state,
            "assetId": self.asset_id,
            "tagId": self.tag_id,
            "label": self.label,
            "val": self.val,
        }
        if self.tag_name is not None:
            out["tagName"] = self.tag_name
        if self.shelved:
            out["shelved"] = True
        if names is not None:
            unit = names.asset_name(self.asset_id)
            if unit:
                out["assetName"] = unit
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Transition:
        """Back from :meth:`as_json` (the session journal); raises KeyError/TypeError/ValueError."""
        return cls(
            time_ms=int(obj["epochMs"]),
            rule=str(obj["rule"]),
            severity=str(obj["severity"]),
            state=str(obj["state"]),
            asset_id=obj.get("assetId"),
            tag_id=obj.get("tagId"),
            label=obj.get("label"),
            val=obj.get("val"),
            tag_name=obj.get("tagName"),
            shelved=bool(obj.get("shelved", False)),
        )
