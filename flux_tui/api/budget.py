"""The one sliding-window request budget every Realtime call passes through.

However many shards and callers there are, no more than ``calls`` requests are granted in any
``window`` (plus a small safety margin). A 429 pauses every caller until the window frees.
With a :class:`~flux_tui.api.budget_ledger.BudgetLedger`, every process of the profile (one
token, one server-side budget) shares the window and the pause.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable

from flux_tui.api.budget_ledger import BudgetLedger, LedgerBusy, LedgerState, shared_wait

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

# Latency between our clock and the server's differs from call to call, so two calls we space
# exactly one window apart may look closer together to the server. Half a second of slack
# costs little for "100/60s" and keeps "10/10s" at ~95% of its nominal rate.
DEFAULT_MARGIN = 0.5
# A ledger whose lock another process holds too long is asked again after this long.
LEDGER_BUSY_RETRY = 0.1

_SPEC = re.compile(
    r"^\s*(?P<calls>\d+)\s*/\s*(?P<amount>\d+(?:\.\d+)?)?\s*(?P<unit>ms|s|sec|secs|m|min|mins|h)?\s*$",
    re.IGNORECASE | re.ASCII,  # \d would also match other scripts' digits
)
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "h": 3600,
}


class RateBudget:
    """A sliding-window rate limit shared by every caller of one Realtime client.

    ``acquire()`` waits (in arrival order) until a request may be sent; ``try_acquire()``
    takes a slot only when one is free now. ``clock`` measures the window (monotonic),
    ``wall`` is used only to report :attr:`paused_until` and the value returned by
    :meth:`note_throttled`; both, and ``sleep``, are injectable so tests run on fake time.

    ``ledger`` (optional) shares the budget with the other processes of the same profile:
    a slot is granted only when this process's window *and* the ledger (wall-clock times of
    every process's calls) have room, and a 429 pause is written there too. A ledger that
    cannot be used is dropped with one warning: the budget is then per process again.
    """

    def __init__(
        self,
        calls: int,
        window: float,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        margin: float = DEFAULT_MARGIN,
        rng: random.Random | None = None,
        ledger: BudgetLedger | None = None,
    ) -> None:
        if calls < 1:
            raise ValueError(f"a rate budget needs at least 1 call per window, not {calls}")
        if window <= 0:
            raise ValueError(f"a rate budget window must be positive, not {window}")
        if margin < 0:
            raise ValueError(f"a rate budget margin cannot be negative, not {margin}")
        self.calls = calls
        self.window = float(window)
        self.margin = float(margin)
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._granted: deque[float] = deque()  # clock() of each grant still inside the span
        self._lock = asyncio.Lock()  # FIFO: waiters are served in the order they arrived
        self._pause_mono: float | None = None  # clock() when the 429 pause lifts
        self._paused_until: float | None = None  # the same instant on the wall clock
        self._last_throttle: float | None = None
        self._throttle_streak = 0
        self.ledger = ledger
        self._shared = LedgerState((), None)  # what the ledger said last (status bar reads it)

    @classmethod
    def parse(cls, spec: str, **kwargs: object) -> RateBudget:
        """Build a budget from ``"100/60s"``, ``"10/10s"``, ``"100/1m"``, ``"100/min"``…"""
        match = _SPEC.match(spec) if isinstance(spec, str) else None
        problem = ""
        if match is None:
            problem = "expected CALLS/WINDOW"
        elif not match["amount"] and not match["unit"]:
            problem = "the window is missing"
        else:
            calls = int(match["calls"])
            amount = float(match["amount"]) if match["amount"] else 1.0
            window = amount * _UNIT_SECONDS[(match["unit"] or "s").lower()]
            if calls < 1 or window <= 0:
                problem = "calls and window must both be positive"
        if problem:
            raise ValueError(
                f"bad rate limit {spec!r}: {problem}, such as '100/60s', '10/10s' or '100/1m' "
                "(window units ms, s, m, h)"
            )
        return cls(calls, window, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"RateBudget({self.calls}/{self.window:g}s, remaining={self.remaining})"

    # --- what the status bar reads -------------------------------------------------------

    @property
    def span(self) -> float:
        """How long a granted call counts against the budget: the window plus the margin."""
        return self.window + self.margin

    @property
    def remaining(self) -> int:
        """Calls that could be sent right now (0 while a 429 pause lasts)."""
        now = self._clock()
        self._expire(now)
        if self._pause_left(now) > 0:
            return 0
        left = self.calls - len(self._granted)
        if self.ledger is not None:
            wall = self._wall()
            if shared_wait(self._shared, wall, self.calls, self.span) > 0:
                return 0
            recent = sum(1 for t in self._shared.calls_at if wall - self.span < min(t, wall))
            left = min(left, self.calls - recent)
        return max(0, left)

    @property
    def resets_in(self) -> float:
        """Seconds until the next call may be sent; 0 when one may be sent now."""
        return max(self._wait_time(self._clock()), self._shared_wait())

    @property
    def paused_until(self) -> float | None:
        """``time.time()`` at which the current 429 pause lifts (ours or another process's
        of the same profile), or None when not paused."""
        shared = self._shared.paused_until
        if shared is not None and shared <= self._wall():
            shared = None
        if self._pause_mono is None or self._pause_left(self._clock()) <= 0:
            return shared
        assert self._paused_until is not None
        return max(self._paused_until, shared or 0.0)

    @property
    def throttled(self) -> bool:
        """True while a 429 pause holds every caller back."""
        return self.paused_until is not None

    # --- taking slots -----------------------------------------------------------------------

    async def acquire(self) -> None:
        """Wait until a request may be sent and count it. Callers are served in order."""
        async with self._lock:
            while True:
                now = self._clock()
                wait = self._wait_time(now)
                if wait <= 0:
                    wait = self._take_shared()
                    if wait <= 0:
                        self._granted.append(now)
                        return
                # The lock stays held while sleeping so later callers cannot jump the queue;
                # the loop re-checks because a 429 may have extended the pause meanwhile.
                await self._sleep(wait)

    def try_acquire(self) -> bool:
        """Take a slot only if one is free now and nobody is already waiting for one."""
        if self._lock.locked():
            return False
        now = self._clock()
        if self._wait_time(now) > 0 or self._take_shared() > 0:
            return False
        self._granted.append(now)
        return True

    def note_throttled(self) -> float:
        """Record a 429: pause every caller until the window frees, plus jitter.

        Returns the ``time.time()`` at which calls resume. When our own count says the
        window is full, the pause ends when our oldest call leaves it. When it does not
        (the server counted calls we did not see, e.g. another process with the same
        credentials), we cannot know when the server's window frees: pause a tenth of the
        window and double that on each further 429 within a window, up to a whole window.
        """
        now = self._clock()
        self._expire(now)
        if self._last_throttle is not None and now - self._last_throttle <= self.span:
            self._throttle_streak += 1
        else:
            self._throttle_streak = 0
        self._last_throttle = now
        wall = self._wall()
        shared = [t for t in self._shared.calls_at if wall - self.span < min(t, wall)]
        if len(self._granted) >= self.calls:
            delay = self._granted[0] + self.span - now
        elif len(shared) >= self.calls:  # the other processes filled the window
            delay = min(shared[-self.calls], wall) + self.span - wall
        else:
            delay = min(self.span, self.window / 10 * 2**self._throttle_streak)
        # Jitter keeps several processes sharing one credential from retrying in lockstep.
        delay = max(delay, 0.0) + self._rng.uniform(0, min(1.0, self.window / 20))
        lift = now + delay
        if self._pause_mono is None or lift > self._pause_mono:
            self._pause_mono = lift
            self._paused_until = wall + delay
        assert self._paused_until is not None
        if self.ledger is not None:
            try:
                self._shared = self.ledger.pause_until(
                    self._paused_until, wall, self.calls, self.span
                )
            except LedgerBusy:
                pass  # our own pause holds us back; the others learn of the 429 themselves
            except OSError as exc:
                self._drop_ledger(exc)
        return self._paused_until

    # --- internals -----------------------------------------------------------------------

    def _take_shared(self) -> float:
        """Record a call in the ledger if it has room: 0.0, else the seconds to wait."""
        if self.ledger is None:
            return 0.0
        try:
            wait, self._shared = self.ledger.take(self._wall(), self.calls, self.span)
        except LedgerBusy:
            return LEDGER_BUSY_RETRY
        except OSError as exc:
            self._drop_ledger(exc)
            return 0.0
        return wait

    def _shared_wait(self) -> float:
        if self.ledger is None:
            return 0.0
        return shared_wait(self._shared, self._wall(), self.calls, self.span)

    def _drop_ledger(self, exc: OSError) -> None:
        # Said once: from here on this process budgets alone (as before the ledger existed).
        assert self.ledger is not None
        log.warning(
            "cannot use the shared rate-budget ledger %s (%s): budgeting this process alone; "
            "other flux-tui processes of this profile may cause 429s",
            self.ledger.path,
            exc.strerror or exc,
        )
        self.ledger = None
        self._shared = LedgerState((), None)

    def _expire(self, now: float) -> None:
        span = self.span
        while self._granted and self._granted[0] + span <= now:
            self._granted.popleft()

    def _pause_left(self, now: float) -> float:
        if self._pause_mono is None:
            return 0.0
        left = self._pause_mono - now
        if left <= 0:
            self._pause_mono = self._paused_until = None
            return 0.0
        return left

    def _wait_time(self, now: float) -> float:
        self._expire(now)
        wait = self._pause_left(now)
        if len(self._granted) >= self.calls:
            # The slot frees when the call `calls` places back leaves the span.
            oldest = self._granted[len(self._granted) - self.calls]
            wait = max(wait, oldest + self.span - now)
        return wait
