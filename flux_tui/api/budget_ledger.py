"""The rate-budget ledger one profile's processes share: a small private file of call times.

The gateway counts calls per token, not per process: two ``flux-tui`` processes of one profile
(same cached token) must share one budget. Each call is recorded here, under an advisory lock
(``fcntl.flock`` on a lock file beside it), as a wall-clock time; so is a 429 pause.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from flux_tui.base.files import cache_folder, safe_file_name, write_private

log = logging.getLogger(__name__)

LEDGER_VERSION = 1
# The lock is held for well under a millisecond; a holder that keeps it longer (a stopped
# process) must not freeze this one's event loop: give up after this long and try later.
LOCK_PATIENCE = 0.05


class LedgerBusy(Exception):
    """Another process held the ledger's lock for longer than :data:`LOCK_PATIENCE`."""


@dataclass(frozen=True, slots=True)
class LedgerState:
    """What the ledger said at one instant: call times (``time.time()``, oldest first) still
    inside the span, and the wall time a shared 429 pause lifts (None when not paused)."""

    calls_at: tuple[float, ...]
    paused_until: float | None


class BudgetLedger:
    """One profile's shared record of Realtime calls: ``take()`` one, ``pause_until()``.

    Every method holds the lock only to read the file, drop what left the window, add ours
    and write it back. An unreadable or damaged file counts as empty and is rewritten; an
    ``OSError`` on the lock or the write is raised for :class:`RateBudget` to fall back on
    per-process budgeting.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    @classmethod
    def for_profile(cls, profile: str, directory: Path | None = None) -> BudgetLedger:
        """The ledger of ``profile`` in the user cache folder, beside the token cache."""
        if directory is None:
            directory = cache_folder("budget")
        return cls(Path(directory) / safe_file_name(profile))

    def __repr__(self) -> str:
        return f"BudgetLedger({str(self.path)!r})"

    # --- the two operations ----------------------------------------------------------------

    def take(self, now: float, calls: int, span: float) -> tuple[float, LedgerState]:
        """Record a call at ``now`` if fewer than ``calls`` were recorded in the last ``span``
        seconds and no pause holds; returns ``(0.0, state)`` then, else ``(wait, state)``
        with the seconds until a slot may free (nothing recorded)."""
        with self._locked():
            state = self._read(now, calls, span)
            wait = shared_wait(state, now, calls, span)
            if wait > 0:
                return wait, state
            state = LedgerState((*state.calls_at, now)[-calls:], state.paused_until)
            self._write(state, calls, span)
            return 0.0, state

    def pause_until(self, until: float, now: float, calls: int, span: float) -> LedgerState:
        """Share a 429 pause: no process of the profile sends before ``until`` (wall time)."""
        with self._locked():
            state = self._read(now, calls, span)
            if state.paused_until is None or until > state.paused_until:
                state = LedgerState(state.calls_at, until)
            self._write(state, calls, span)
            return state

    def read(self, now: float, calls: int, span: float) -> LedgerState:
        """The current state (for reports); never writes."""
        with self._locked():
            return self._read(now, calls, span)

    # --- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            deadline = time.monotonic() + LOCK_PATIENCE
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LedgerBusy(str(self.lock_path)) from None
                    time.sleep(0.001)
            yield  # closing the descriptor releases the lock
        finally:
            os.close(fd)

    def _read(self, now: float, calls: int, span: float) -> LedgerState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LedgerState((), None)
        except OSError as exc:
            log.debug("ignoring the unreadable budget ledger %s: %s", self.path, exc)
            return LedgerState((), None)
        try:
            data: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            return LedgerState((), None)  # damaged: start afresh, the next write replaces it
        times = data.get("calls_at")
        kept: list[float] = []
        for value in times if isinstance(times, list) else ():
            if not _is_time(value):
                continue
            # A time ahead of ours means a clock stepped back (here or in another process):
            # count it as now, so it still holds a slot for at most one span.
            when = min(float(value), now)
            if when > now - span:
                kept.append(when)
        kept.sort()
        paused: Any = data.get("paused_until")
        pause = float(paused) if _is_time(paused) else None
        # A pause is never longer than a span plus jitter; one further ahead is a stepped clock.
        if pause is not None and not now < pause <= now + 2 * span + 1:
            pause = None
        return LedgerState(tuple(kept[-calls:]), pause)

    def _write(self, state: LedgerState, calls: int, span: float) -> None:
        data = {
            "version": LEDGER_VERSION,
            "calls": calls,
            "span": span,
            "calls_at": list(state.calls_at[-calls:]),
            "paused_until": state.paused_until,
        }
        write_private(self.path, orjson.dumps(data))


def _is_time(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def shared_wait(state: LedgerState, now: float, calls: int, span: float) -> float:
    """Seconds until ``state`` allows another call at wall time ``now`` (0: one may go now)."""
    wait = state.paused_until - now if state.paused_until is not None else 0.0
    recent = [t for t in state.calls_at if now - span < min(t, now)]
    if len(recent) >= calls:
        wait = max(wait, min(recent[-calls], now) + span - now)
    return max(wait, 0.0)
