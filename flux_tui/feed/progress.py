"""How fast a feed that is behind catches up: plain facts for a status bar (no UI here).

:class:`CatchUp` keeps a short, bounded history of (wall time, readings delivered, how far
behind) and derives the drain rate (readings a second), the catch-up speed (feed seconds
read per wall second) and an ETA: the lag divided by how fast the lag shrinks.
"""

from __future__ import annotations

from collections import deque

WINDOW = 15.0  # seconds of history the rates are measured over
MIN_SPAN = 2.0  # below this the rates are noise: none are given
MAX_SAMPLES = 256


class CatchUp:
    """Measures the feed's drain; :meth:`note` after every page."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._samples: deque[tuple[float, int, int]] = deque(maxlen=MAX_SAMPLES)
        self.millis_behind = 0

    def note(self, wall: float, readings: int, millis_behind: int) -> None:
        """After a page: the wall time, readings delivered so far, the feed's lag in ms."""
        self.millis_behind = max(0, int(millis_behind))
        samples = self._samples
        samples.append((wall, readings, self.millis_behind))
        while len(samples) > 2 and samples[1][0] <= wall - self.window:
            samples.popleft()

    def _span(self) -> tuple[tuple[float, int, int], tuple[float, int, int]] | None:
        if len(self._samples) < 2:
            return None
        first, last = self._samples[0], self._samples[-1]
        if last[0] - first[0] < MIN_SPAN:
            return None
        return first, last

    @property
    def readings_per_second(self) -> float | None:
        """Readings delivered a second, measured over the window; None until measurable."""
        span = self._span()
        if span is None:
            return None
        (t0, n0, _), (t1, n1, _) = span
        return (n1 - n0) / (t1 - t0)

    @property
    def speed(self) -> float | None:
        """Feed seconds read per wall second (1.0: keeping pace; above: catching up)."""
        span = self._span()
        if span is None:
            return None
        (t0, _, b0), (t1, _, b1) = span
        fed = (t1 * 1000 - b1) - (t0 * 1000 - b0)  # how far the read position moved, ms
        return fed / ((t1 - t0) * 1000)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds until caught up at the measured speed; None when not behind, not yet
        measurable, or not gaining (falling further behind)."""
        if self.millis_behind <= 0:
            return None
        speed = self.speed
        if speed is None or speed <= 1.0:
            return None
        return self.millis_behind / 1000 / (speed - 1.0)
