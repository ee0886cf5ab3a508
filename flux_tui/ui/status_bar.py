"""The status bar: connection state, rate, lag, delay, API budget, token expiry, errors.

It draws from a :class:`StatusInfo` snapshot the app builds on its timer, so the bar never
reaches into the feed itself and a test can give it any figures it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.widget import Widget

from flux_tui.base.events import FeedState
from flux_tui.data.formats import safe_text

_STATE_STYLE = {
    FeedState.CONNECTING: ("◌", "connecting", "status--warn"),
    FeedState.CATCHING_UP: ("◐", "catching up", "status--warn"),
    FeedState.LIVE: ("●", "LIVE", "status--ok"),
    FeedState.THROTTLED: ("◑", "throttled", "status--warn"),
    FeedState.RECONNECTING: ("◌", "reconnecting", "status--warn"),
    FeedState.AUTH_NEEDED: ("✗", "auth needed", "status--bad"),
    FeedState.OFFLINE: ("✗", "offline", "status--bad"),
    FeedState.STOPPED: ("■", "stopped", "status--bad"),
    FeedState.REPLAY: ("▶", "REPLAY", "status--ok"),
}

# states that wait for the user: the bar says how to try again
_NEEDS_USER = frozenset({FeedState.AUTH_NEEDED, FeedState.OFFLINE, FeedState.STOPPED})


@dataclass(slots=True)
class StatusInfo:
    """The figures the bar shows; ``None`` hides a figure that is not known."""

    state: FeedState = FeedState.CONNECTING
    rate: float = 0.0
    lag_ms: int | None = None
    behind_ms: int | None = None  # while catching up: how far behind the stream's tip
    eta_s: float | None = None  # while catching up: until caught up at the measured pace
    delay_ms: float | None = None
    budget_left: int | None = None
    budget_total: int | None = None
    budget_resets_in: float | None = None
    token_expires_in: float | None = None
    decode_errors: int = 0
    paused: bool = False
    recording: str | None = None  # e.g. "3,201 → pad7.jsonl" while recording
    names_unavailable: bool = False  # no Enterprise Objects names (API down, no cache)
    alarms: tuple[int, int, int] | None = None  # raised alarms: critical, warning, info
    detail: str = ""


def human_count(n: float) -> str:
    """1234 -> 1.2k, 1234567 -> 1.2M."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{n:.0f}"


def human_duration(seconds: float) -> str:
    """41 s, 3m05s, 23h12m, 2d04h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _alarm_counts(counts: tuple[int, int, int], style: Any) -> Text:
    """``▲ 1 crit 2 warn`` (only the severities that have alarms), early in the line."""
    text = Text("▲")
    for n, word, cls in zip(counts, ("crit", "warn", "info"), ("status--bad", "status--warn",
                                                               "status--dim")):
        if n:
            text.append(f" {n} {word}", style(cls))
    return text


class StatusBar(Widget):
    """One line of live figures at the bottom of the screen."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    StatusBar > .status--ok { color: $success; text-style: bold; }
    StatusBar > .status--warn { color: $warning; text-style: bold; }
    StatusBar > .status--bad { color: $error; text-style: bold; }
    StatusBar > .status--dim { color: $text-muted; }
    StatusBar > .status--rec { color: $error; text-style: bold; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"status--ok", "status--warn", "status--bad", "status--dim",
                         "status--rec"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = StatusInfo()
        self._last: StatusInfo | None = None

    def show(self, info: StatusInfo) -> None:
        """Take new figures; redraw only when what is shown changed (bytes to the terminal)."""
        self.info = info
        if info != self._last:
            self._last = info
            self.refresh()

    def render(self) -> Text:
        info = self.info
        style = self.get_component_rich_style
        sep = Text(" · ", style("status--dim"))
        icon, word, cls = _STATE_STYLE.get(info.state, ("?", info.state.value, "status--warn"))
        parts: list[Text] = [Text.assemble((f"{icon} {word}", style(cls)))]
        if info.detail and info.state is not FeedState.LIVE:
            parts[0].append(f" ({safe_text(info.detail)[:40]})", style("status--dim"))
        if info.state in _NEEDS_USER and info.detail != "waiting for login":
            parts[0].append(" ctrl+r retry", style("status--warn"))
        if info.recording:  # early in the line: an 80-column bar cuts off the end
            parts.append(Text(f"● REC {safe_text(info.recording)}", style("status--rec")))
        if info.alarms is not None and any(info.alarms):
            parts.append(_alarm_counts(info.alarms, style))
        if info.paused:
            parts.append(Text("⏸ paused", style("status--warn")))
        parts.append(Text(f"{human_count(info.rate)} rec/s"))
        if info.behind_ms is not None:
            eta = f" · ETA {human_duration(info.eta_s)}" if info.eta_s is not None else ""
            parts.append(Text(f"behind {human_duration(info.behind_ms / 1000)}{eta}",
                              style("status--warn")))
        elif info.lag_ms is not None:
            parts.append(Text(f"lag {info.lag_ms / 1000:.1f} s"))
        if info.delay_ms is not None:
            parts.append(Text(f"delay {info.delay_ms / 1000:.1f} s"))
        if info.budget_left is not None:
            budget = f"API {info.budget_left}"
            if info.budget_total:
                budget += f"/{info.budget_total}"
            if info.budget_resets_in:
                budget += f" (resets {human_duration(info.budget_resets_in)})"
            low = info.budget_total and info.budget_left < info.budget_total * 0.1
            parts.append(Text(budget, style("status--warn") if low else ""))
        if info.token_expires_in is not None:
            expiring = info.token_expires_in < 300
            parts.append(Text(f"token {human_duration(info.token_expires_in)}",
                              style("status--warn") if expiring else ""))
        if info.decode_errors:
            parts.append(Text(f"{info.decode_errors:,} decode errors", style("status--bad")))
        if info.names_unavailable:
            parts.append(Text("names unavailable", style("status--warn")))
        line = sep.join(parts)
        line.no_wrap = True
        line.overflow = "ellipsis"
        return line
