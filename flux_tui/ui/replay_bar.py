"""The replay bar: the session's metadata (file, profile, company, filter, span, count,
gaps), then the speed, position and progress of its replay and the replay keys. Shown above
the status bar only while a session is open."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from flux_tui.data.formats import format_time, safe_text
from flux_tui.data.session.replay import SessionReplay, speed_label

_BAR = 20  # cells of the progress bar
KEYS = "k pause · > speed · j/l ±1 min · [/] ±10 %"


def _clock(ms: int | None, utc: bool, dated: bool = False) -> str:
    """The session's time of day, to the second (``14:02:11``, ``14:02:11Z`` in UTC); with
    ``dated`` the day before it (``11-30 23:59:58``: a session that runs past midnight)."""
    if dated:
        text = format_time(ms, utc=utc, date=True)
        return f"{text[5:10]} {text[11:19]}" + ("Z" if utc else "")
    text = format_time(ms, utc=utc)
    return text[:8] + ("Z" if utc else "")


def _days_apart(start: int | None, end: int | None, utc: bool) -> bool:
    """The span covers more than one calendar day (in the zone shown)."""
    if start is None or end is None:
        return False
    return format_time(start, utc=utc, date=True)[:10] != format_time(end, utc=utc, date=True)[:10]


def progress_text(replay: SessionReplay, *, utc: bool = False) -> str:
    """``▶ 10×  14:02:11  ━━━━━━━───────────── 35 %  of 13:40:00–15:05:26  12,000 readings``
    (plain text): where the replay is as the session's time of day, and the whole span."""
    icon = "⏸" if replay.paused else ("■" if replay.at_end else "▶")
    state = "paused" if replay.paused else ("end" if replay.at_end else speed_label(replay.speed))
    parts = [f"{icon} {state}"]
    start, end = replay.start_ms, replay.end_ms
    dated = _days_apart(start, end, utc)
    if replay.position_ms is not None:
        parts.append(_clock(replay.position_ms, utc, dated))
    fraction = replay.fraction
    if fraction is not None:
        done = round(fraction * _BAR)
        parts.append("━" * done + "─" * (_BAR - done) + f" {fraction * 100:3.0f} %")
    if start is not None and end is not None:
        parts.append(f"of {_clock(start, utc, dated)}–{_clock(end, utc, dated)}")
    total = replay.total
    if total is not None:
        parts.append(f"{total:,} readings")
    if replay.problems:
        parts.append(f"{len(replay.problems)} damaged lines skipped")
    return "  ".join(parts)


class ReplayBar(Widget):
    """Two lines: what the session is; where the replay is, and its keys. Redraws itself 4x a second, only when
    the text changed (bytes to the terminal matter on a weak link)."""

    DEFAULT_CSS = """
    ReplayBar {
        height: 2;
        background: $boost;
        color: $text;
        padding: 0 1;
    }
    """

    def __init__(self, replay: SessionReplay, *, id: str | None = "replay-bar") -> None:
        super().__init__(id=id)
        self.replay = replay
        self.utc = False
        self._text = ""

    def on_mount(self) -> None:
        self.set_interval(0.25, self._update, name="replay-bar")
        self._update()

    def _update(self) -> None:
        text = progress_text(self.replay, utc=self.utc)
        if text != self._text:
            self._text = text
            self.refresh()

    @property
    def text(self) -> str:
        """What the bar shows now (for tests and the tmux check)."""
        return self._text

    def render(self) -> Text:
        header = Text(safe_text(self.replay.describe()), no_wrap=True, overflow="ellipsis")
        line = Text.assemble((self._text, "bold"), ("  ·  " + KEYS, "dim"))
        line.no_wrap = True
        line.overflow = "ellipsis"
        return Text("\n").join([header, line])
