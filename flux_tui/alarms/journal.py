"""The alarm journal and the marks of one viewing or recording, as JSON-able lists for a
session's sidecar (``"alarms"``, ``"marks"``), and the times a replay can jump to. Pure: the
viewer (``m``, the alarms it raises) and ``flux-tui record`` both keep one."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from flux_tui.alarms.engine import AlarmEngine
from flux_tui.alarms.transition import Transition, iso_utc
from flux_tui.feed.types import Reading

__all__ = ["MAX_EVENTS", "NOTE_LENGTH", "JournalWatcher", "SessionEvents"]

MAX_EVENTS = 5_000  # alarm transitions and marks kept for a session's sidecar
NOTE_LENGTH = 200


class SessionEvents:
    """The alarm journal and the marks of one viewing (or recording), as JSON-able lists
    for the sidecar, plus the times a replay can jump to (``times``, sorted)."""

    def __init__(self) -> None:
        self.alarms: list[dict[str, Any]] = []
        self.marks: list[dict[str, Any]] = []
        self.dropped = 0

    def add_transitions(self, transitions: list[Transition]) -> bool:
        """Keep these transitions; True when the journal changed."""
        room = MAX_EVENTS - len(self.alarms)
        self.dropped += max(0, len(transitions) - room)
        self.alarms += [x.as_json() for x in transitions[: max(0, room)]]
        return bool(transitions) and room > 0

    def add_mark(self, epoch_ms: int, note: str, asset_id: Any = None, tag_id: Any = None) -> dict:
        """Keep a mark at reading time ``epoch_ms``."""
        mark = {"time": iso_utc(epoch_ms), "epochMs": epoch_ms, "note": note[:NOTE_LENGTH],
                "assetId": asset_id, "tagId": tag_id}  # fmt: skip
        if len(self.marks) < MAX_EVENTS:
            self.marks.append(mark)
        return mark

    @staticmethod
    def times_in(metadata: dict[str, Any]) -> list[int]:
        """Every alarm (``active``/``stale``) and mark time a session's sidecar holds."""
        out = []
        for key in ("alarms", "marks"):
            items = metadata.get(key)
            if not isinstance(items, list):
                continue  # a hand-edited sidecar must not break a replay
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("epochMs"), int):
                    continue
                if key == "alarms" and item.get("state") not in ("active", "stale"):
                    continue
                out.append(item["epochMs"])
        return sorted(set(out))

    @staticmethod
    def next_time(times: list[int], now_ms: int, forward: bool) -> int | None:
        """The first event after (or the last before) ``now_ms``, None at either end."""
        if forward:
            i = bisect.bisect_right(times, now_ms + 999)  # not the one we stand on
            return times[i] if i < len(times) else None
        i = bisect.bisect_left(times, now_ms - 999)
        return times[i - 1] if i > 0 else None


class JournalWatcher:
    """Keeps the alarm journal of a headless recording (``flux-tui record``): every reading
    goes through ``engine`` (a watcher of the view: before the filter, as in the viewer),
    its transitions into :attr:`events`, and the journal to ``annotate("alarms", …)`` (the
    session writer's sidecar) whenever it changed."""

    def __init__(self, engine: AlarmEngine, annotate: Callable[[str, Any], None]) -> None:
        self.engine = engine
        self.events = SessionEvents()
        self._annotate = annotate

    def take(self, readings: list[Reading]) -> None:
        """Evaluate these readings; a new transition updates the sidecar's journal."""
        if self.events.add_transitions(self.engine.observe(readings)):
            self._annotate("alarms", self.events.alarms)

    def note(self, event: Any) -> None:
        """States and gaps change no alarm."""

    def tick(self) -> None:
        """The writer flushes the journal with its readings."""
