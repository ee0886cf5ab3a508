"""Shared helpers for the viewer's Pilot tests: polling with a deadline, never fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await pilot.pause(0.02)


async def settle(pilot: Pilot) -> None:
    """Let one refresh tick (4 Hz) and the resulting repaint happen."""
    app = pilot.app
    ticks = app._ticks  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: app._ticks > ticks)  # type: ignore[attr-defined]
    await pilot.pause()
