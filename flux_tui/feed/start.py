"""Where reading begins: the ``--from`` forms, parsed without I/O (the caller gives ``now``).

``latest``, ``trim-horizon``, an ISO-8601 time (``2026-11-29T06:00:00Z``, with an offset, or no
zone = local time) or a duration back from now (``90s``, ``15m``, ``2h``, ``1d``, ``1h30m``).
Every command and :func:`flux_tui.connect.open_feed` use :func:`parse_start`, so the forms
and their messages are the same everywhere.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

FORMS = (
    "latest, trim-horizon, an ISO-8601 time (2026-11-29T06:00:00Z, 2026-11-29T06:00:00-06:00, "
    "or without a zone for local time) or a duration back from now (90s, 15m, 2h, 1d)"
)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)([smhd]))+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
# The clock of the machine and the server's may differ a little: a time a second or two
# "in the future" is a clock skew, not a mistake.
FUTURE_SLACK = 2.0

StartKind = Literal["latest", "trim-horizon", "time"]


class StartFormError(ValueError):
    """A ``--from`` value that is not one of the forms, or a time in the future."""


@dataclass(frozen=True, slots=True)
class StartAt:
    """A parsed start: ``kind``, and for ``time`` the epoch seconds ``at``."""

    kind: StartKind
    at: float | None = None
    text: str = ""

    @property
    def at_ms(self) -> int | None:
        """``at`` in epoch milliseconds (what ApproximateArrivalTimestamp compares with)."""
        return None if self.at is None else round(self.at * 1000)

    def describe(self, *, utc: bool = False) -> str:
        """A short human form: ``latest``, ``trim-horizon`` or ``06:00:00`` (local or UTC)."""
        if self.at is None:
            return self.kind
        stamp = time.gmtime(self.at) if utc else time.localtime(self.at)
        if abs(time.time() - self.at) < 86400:
            return time.strftime("%H:%M:%S", stamp)
        return time.strftime("%Y-%m-%d %H:%M:%S", stamp)


LATEST = StartAt("latest", None, "latest")
TRIM_HORIZON = StartAt("trim-horizon", None, "trim-horizon")


def duration_seconds(text: str) -> float | None:
    """``15m`` -> 900.0, ``1h30m`` -> 5400.0; None when ``text`` is not a duration."""
    if not text.isascii() or _DURATION.fullmatch(text) is None:
        return None
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))


def parse_start(text: str | StartAt, *, now: float | None = None) -> StartAt:
    """Parse one ``--from`` form; ``now`` (epoch seconds) anchors durations and the future
    check. Raises :class:`StartFormError` (its message lists the forms)."""
    if isinstance(text, StartAt):
        return text
    now = time.time() if now is None else now
    raw = text.strip()
    lowered = raw.lower()
    if lowered in ("latest", "trim-horizon"):
        return LATEST if lowered == "latest" else TRIM_HORIZON
    seconds = duration_seconds(lowered)
    if seconds is not None:
        return StartAt("time", now - seconds, raw)
    at = _iso_seconds(raw)
    if at is None:
        raise StartFormError(f"{text!r} is not a start; use {FORMS}")
    if at > now + FUTURE_SLACK:
        raise StartFormError(f"{text!r} is in the future: a start must be a past time")
    return StartAt("time", at, raw)


def _iso_seconds(text: str) -> float | None:
    if not text.isascii() or len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.timestamp()  # naive: local time, as the user's own clock shows it


def check_start(text: str) -> str:
    """Validate a ``--from`` form now (argparse ``type=`` and config values); returns it."""
    parse_start(text)
    return text
