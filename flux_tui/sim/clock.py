"""The simulator's notion of time: real by default, manual for tests.

Everything in the simulator (token expiry, iterator expiry, retention, throttle windows,
generated telemetry) reads time from one :class:`SimClock`, so a test can jump a day ahead.
"""

from __future__ import annotations

import asyncio
import math
import time


class SimClock:
    """Epoch-seconds clock. Real time plus an offset, or fully manual.

    ``advance`` works in both modes (it shifts the offset of a real clock), so the demo can
    also be pushed forward from the control API.
    """

    def __init__(self, start: float | None = None, *, manual: bool = False) -> None:
        self._manual = manual or start is not None
        self._now = float(start if start is not None else time.time())
        self._offset = 0.0

    @classmethod
    def manual_at(cls, start: float = 1_700_000_000.0) -> SimClock:
        """A manual clock frozen at ``start`` (epoch seconds) until advanced."""
        return cls(start, manual=True)

    @property
    def manual(self) -> bool:
        """True when time only moves through :meth:`advance` and :meth:`set`."""
        return self._manual

    def now(self) -> float:
        """Current simulated time, epoch seconds."""
        if self._manual:
            return self._now
        return time.time() + self._offset

    def now_ms(self) -> int:
        """Current simulated time, epoch milliseconds."""
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds``; returns the new now."""
        if not 0 <= seconds < math.inf:  # nan or inf would break every later time
            raise ValueError(f"a clock only advances forwards by a finite time, not {seconds!r}")
        if self._manual:
            self._now += seconds
        else:
            self._offset += seconds
        return self.now()

    def set(self, t: float) -> float:
        """Jump to epoch seconds ``t`` (never backwards: sequence numbers follow time)."""
        current = self.now()
        if t < current:
            raise ValueError(f"cannot set the clock back from {current} to {t}")
        return self.advance(t - current)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time.

        A manual clock advances instead of waiting, so slow-answer faults cost tests nothing.
        """
        if self._manual:
            self.advance(seconds)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(seconds)
