"""The status bar: connection state, rate, lag, delay, API budget, token expiry, errors.

It draws from a :class:`StatusInfo` snapshot the app builds on its timer, so the bar never
reaches into the feed itself and a test can give it any figures it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

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
        # content_size follows a resize at once (content_region lagged a frame behind, so
        # after 120 → 80 columns the bar was fitted for 120 and cut)
        width = self.content_size.width or 80
        return fit_status(self.parts(), width, self.get_component_rich_style("status--dim"))

    def parts(self) -> list[tuple[int, Text]]:
        """(priority, text) of each figure; the lowest priorities leave first when the bar
        is narrow. The state, the recording and the token expiry stay longest."""
        info = self.info
        style = self.get_component_rich_style
        icon, word, cls = _STATE_STYLE.get(info.state, ("?", info.state.value, "status--warn"))
        parts: list[tuple[int, Text]] = [(100, Text(f"{icon} {word}", style(cls)))]
        if info.detail and info.state is not FeedState.LIVE:
            # clipped at a word end by fit_status; the whole text is in the problems view (e)
            parts.append((_DETAIL, Text(safe_text(info.detail), style("status--dim"))))
        if info.state in _NEEDS_USER and info.detail != "waiting for login":
            parts.append((97, Text("ctrl+r retry", style("status--warn"))))
        if info.recording:
            count, _, path = safe_text(info.recording).partition(" → ")
            parts.append((95, Text(f"● REC {count}", style("status--rec"))))
            if path:
                parts.append((30, Text(f"→ {path}", style("status--rec"))))
        if info.alarms is not None and any(info.alarms):
            parts.append((93, _alarm_counts(info.alarms, style)))
        if info.paused:
            parts.append((90, Text("⏸ paused", style("status--warn"))))
        parts.append((50, Text(f"{human_count(info.rate)} rec/s")))
        if info.behind_ms is not None:  # catching up: how far behind matters more than lag
            eta = f" · ETA {human_duration(info.eta_s)}" if info.eta_s is not None else ""
            parts.append((65, Text(f"behind {human_duration(info.behind_ms / 1000)}{eta}",
                                   style("status--warn"))))
        elif info.lag_ms is not None:
            parts.append((40, Text(f"lag {info.lag_ms / 1000:.1f} s")))
        if info.delay_ms is not None:
            parts.append((20, Text(f"delay {info.delay_ms / 1000:.1f} s")))
        if info.budget_left is not None:
            budget = f"API {info.budget_left}"
            if info.budget_total:
                budget += f"/{info.budget_total}"
            if info.budget_resets_in:
                budget += f" (resets {human_duration(info.budget_resets_in)})"
            low = bool(info.budget_total and info.budget_left < info.budget_total * 0.1)
            parts.append((85 if low else 60, Text(budget, style("status--warn") if low else "")))
        if info.token_expires_in is not None:
            expiring = info.token_expires_in < 300
            parts.append((92, Text(f"token {human_duration(info.token_expires_in)}",
                                   style("status--warn") if expiring else "")))
        if info.decode_errors:
            parts.append((80, Text(f"{info.decode_errors:,} decode errors",
                                   style("status--bad"))))
        if info.names_unavailable:
            parts.append((70, Text("names unavailable", style("status--warn"))))
        return parts


_DETAIL = 10  # the state's detail: shown in what room is left, clipped at a word end
_SEP = " · "


def _sep(text: Text) -> str:
    """What goes before a part: " · ", or a space before the recording's "→ file"."""
    return " " if text.plain.startswith("→ ") else _SEP


def clip_words(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut after a whole word with "…" (never inside a word;
    a first word longer than the room is left out whole)."""
    if len(text) <= width:
        return text
    words = text.split(" ")
    out = ""
    for word in words:
        candidate = f"{out} {word}" if out else word
        if len(candidate) + 1 > width:
            break
        out = candidate
    return f"{out.rstrip(',;:')}…" if out else ""


def fit_status(parts: list[tuple[int, Text]], width: int, sep_style: Any = "") -> Text:
    """The parts in their order, leaving out the least important until the line fits in
    ``width``; the detail (priority ``_DETAIL``) takes what room is left, clipped at a word
    end. Nothing is cut inside a figure."""
    kept = [p for p in parts if p[0] != _DETAIL]
    detail = next((t for prio, t in parts if prio == _DETAIL), None)
    # the reason of a state that needs the user outranks the rates: its first words keep
    # a place (a stand-in while dropping) and it takes whatever room is left afterwards
    reserve = min(len(detail), 24) + 3 - len(_SEP) if detail is not None else 0

    def length(items: list[tuple[int, Text]]) -> int:
        return sum(len(t) + len(_sep(t)) for _, t in items[1:]) + len(items[0][1])

    while len(kept) > 1 and length(kept) + max(0, reserve) > width:
        lowest = min(kept[1:], key=lambda p: p[0])
        if reserve and lowest[0] > 75:
            reserve = 0  # the figures that matter more than the reason stay
            continue
        kept.remove(lowest)
    if detail is not None:
        # the reason whole rather than the rates, when leaving them out is what it takes
        while (len(detail) > width - length(kept) - 3
               and any(prio < 60 for prio, _ in kept[1:])):
            kept.remove(min(kept[1:], key=lambda p: p[0]))
        room = width - length(kept) - 3  # " (" and ")"
        shown = clip_words(detail.plain, room) if room > 4 else ""
        if shown:
            state = kept[0][1].copy()
            state.append(f" ({shown})", detail.style)
            kept[0] = (kept[0][0], state)
    line = kept[0][1].copy()
    for _, text in kept[1:]:
        line.append(_sep(text), sep_style)
        line.append_text(text)
    line.no_wrap = True
    line.overflow = "crop"
    line.truncate(width)
    return line


class KeyFooter(Footer):
    """Textual's footer, with the keys that do not fit left out whole (at 80 columns the
    last key was cut to 'p Pi' under the palette hint, with a stray 'a' after it) and the
    palette hint shown only where there is room for it (ctrl+p works anyway; help says so)."""

    PALETTE_MIN_WIDTH = 100

    def __init__(self, *, compact: bool = True) -> None:
        super().__init__(compact=compact)
        self._laid_out_for = -1
        self._composed_for: tuple[Any, ...] | None = None  # what the keys shown were made of
        self._recompose_queued = False

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._queue_recompose()  # which keys fit depends on the width

    def bindings_changed(self, screen: Screen[Any]) -> None:
        # Textual's footer recomposes on every publication of the screen's bindings: five
        # times while the viewer starts (a focus, the stack, the deferred focus refresh...),
        # each one removing and mounting every key, and the screen draws nothing until it is
        # done (the first readings waited for them). One recompose for a burst, and none
        # when the keys are the same.
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._queue_recompose()

    def _queue_recompose(self) -> None:
        if not self._recompose_queued:
            self._recompose_queued = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._recompose_queued = False
        if self._composed_for != self._made_of():
            await self.recompose()

    def _made_of(self) -> tuple[Any, ...]:
        """What compose draws from: the width and the screen's active bindings."""
        keys = tuple((key, b.key, b.action, b.description, b.show, enabled, tooltip, id(b.group))
                     for key, (_node, b, enabled, tooltip)
                     in self.screen.active_bindings.items())
        return self.size.width or self.app.size.width, self._bindings_ready, keys

    def compose(self) -> ComposeResult:
        self._composed_for = self._made_of()
        width = self.size.width or self.app.size.width
        self._laid_out_for = width
        self.show_command_palette = width >= self.PALETTE_MIN_WIDTH
        items = list(super().compose())
        palette = [w for w in items if w.has_class("-command-palette")]
        room = width - sum(_key_width(w) for w in palette if isinstance(w, FooterKey)) - 1
        keys = [w for w in items if isinstance(w, FooterKey) and w not in palette]
        # help, quit and the filter first when not every key fits; then the footer's order
        ranked = sorted(keys, key=lambda k: (_ESSENTIAL.get(k.action, len(_ESSENTIAL)),
                                             keys.index(k)))
        used, chosen = 0, set()
        for key in ranked:
            need = _key_width(key) + 1  # compact keys have one cell of margin (Footer CSS)
            if used + need <= room:
                used += need
                chosen.add(id(key))
        for item in items:
            if item in palette or id(item) in chosen or not isinstance(item, FooterKey):
                yield item


_ESSENTIAL = {"help": 0, "quit": 1, "filter": 2}


def _key_width(key: FooterKey) -> int:
    """Cells of a compact footer key: key, space, description (a palette key: its edge)."""
    edge = 1 if key.has_class("-command-palette") else 0
    return edge + len(key.key_display) + (1 + len(key.description) if key.description else 0)
