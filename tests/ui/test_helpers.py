"""The Pilot tests' polling helper: its deadline only bounds a wait, so it is generous enough
for a loaded 2-core machine (a 10 s bound once failed there), and it still fails."""

from __future__ import annotations

from types import SimpleNamespace

import helpers
import pytest
from helpers import wait_until


class _Pilot:
    """Each pause takes one second of the fake clock."""

    def __init__(self, now: list[float]) -> None:
        self.now = now

    async def pause(self, delay: float | None = None) -> None:
        self.now[0] += 1.0


async def test_wait_until_gives_a_slow_machine_thirty_seconds_and_then_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(helpers, "time", SimpleNamespace(monotonic=lambda: now[0]))
    pilot: object = _Pilot(now)
    await wait_until(pilot, lambda: now[0] >= 25)  # type: ignore[arg-type]
    now[0] = 0.0
    with pytest.raises(AssertionError, match="deadline"):
        await wait_until(pilot, lambda: False)  # type: ignore[arg-type]
    assert 30 <= now[0] <= 32
