"""What the viewer tells the user, and which of it becomes a toast.

Every message is kept whole in a bounded list (the problems view, ``e``). A toast is shown
only when it helps: repeats of one message coalesce into one toast with a count, at most
:data:`MAX_TOASTS` are on screen (the oldest goes), none is shown while help or a dialog of
ours is open, and toasts sit at the top right (over the log's oldest lines, never its
newest), an informational one for :data:`INFO_SECONDS` at most.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import App

from flux_tui.data.formats import format_time, safe_text

__all__ = ["INFO_SECONDS", "MAX_TOASTS", "TOAST_CSS", "Notice", "NoticeBoard", "make_room",
           "notices_table", "show_toast"]

MAX_TOASTS = 2
INFO_SECONDS = 2.0
_KEEP = 100

#: The app's CSS for the toast rack: at the top right, under the filter bar.
TOAST_CSS = """
ToastRack { dock: top; align: right top; margin: 2 1 0 0; }
"""


@dataclass(slots=True)
class Notice:
    """One message: when it last came, how often, and how serious."""

    when: float
    title: str
    message: str
    severity: str
    count: int = 1

    @property
    def text(self) -> str:
        """The message with its repeat count ("… (×3)")."""
        return f"{self.message} (×{self.count})" if self.count > 1 else self.message


class NoticeBoard:
    """The kept messages (newest last, at most 100) and the toast decisions."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.notices: deque[Notice] = deque(maxlen=_KEEP)

    def note(self, message: str, title: str = "", severity: str = "information") -> Notice:
        """Keep ``message``; a repeat of the newest same message counts instead."""
        message, title = safe_text(str(message)), safe_text(str(title))
        for notice in reversed(self.notices):
            if notice.message == message and notice.title == title:
                notice.count += 1
                notice.when = self.clock()
                self.notices.remove(notice)
                self.notices.append(notice)
                return notice
        notice = Notice(self.clock(), title, message, severity)
        self.notices.append(notice)
        return notice

    @staticmethod
    def timeout(severity: str, wanted: float | None) -> float:
        """How long a toast stays: information at most :data:`INFO_SECONDS`; warnings and
        errors as asked (they sit over the log's oldest lines)."""
        if severity == "information":
            return min(wanted or INFO_SECONDS, INFO_SECONDS)
        return wanted if wanted is not None else 8.0

    @property
    def problems(self) -> list[Notice]:
        """The warnings and errors kept, newest first."""
        return [n for n in reversed(self.notices) if n.severity != "information"]


def notices_table(board: NoticeBoard) -> Table:
    """Every kept message, newest first, whole (the status bar and toasts clip them)."""
    table = Table(expand=True, show_edge=False, pad_edge=False)
    table.add_column("when", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("message", ratio=1, overflow="fold")
    marks = {"error": ("✗", "bold red"), "warning": ("!", "bold yellow")}
    for notice in reversed(board.notices):
        mark, style = marks.get(notice.severity, ("·", "dim"))
        title = f"{notice.title}: " if notice.title else ""
        table.add_row(format_time(int(notice.when * 1000)), Text(mark, style),
                      Text(f"{title}{notice.text}"))
    if not board.notices:
        table.add_row("", "", Text("No messages yet.", "dim"))
    return table


def show_toast(app: Any, notice: Notice, severity: Any, timeout: float) -> None:
    """``notice`` as a toast, literal text, after :func:`make_room`. On the app's own thread
    the toast list changes at once (a burst of 20 cannot queue 20 toasts); from another
    thread it goes through Textual's thread-safe ``notify``."""
    from textual.notifications import Notification

    if threading.get_ident() != getattr(app, "_thread_id", None):
        App.notify(app, notice.text, title=notice.title, severity=severity, timeout=timeout,
                   markup=False)
        return
    make_room(app, notice)
    app._notifications.add(Notification(notice.text, notice.title, severity, timeout,
                                        markup=False))
    app._refresh_notifications()


def make_room(app: Any, notice: Notice) -> None:
    """Before ``notice``'s toast: drop the toast of the same message (the new one carries
    the count) and the oldest ones beyond :data:`MAX_TOASTS` - 1. Uses Textual's own
    notification list (``App._notifications``/``_unnotify``), the one way to withdraw a
    toast."""
    shown = list(getattr(app, "_notifications", ()))
    for old in shown:
        if old.title == notice.title and old.message.startswith(notice.message):
            app._unnotify(old, refresh=False)
    shown = [n for n in getattr(app, "_notifications", ())]
    for old in shown[: max(0, len(shown) - (MAX_TOASTS - 1))]:
        app._unnotify(old, refresh=False)
