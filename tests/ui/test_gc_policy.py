"""The viewer's collection policy: young collections between pages, not while one is in
flight; the middle generation every few; a full one seldom; start-up frozen; the collector
given back as it was when the loop ends."""

from __future__ import annotations

import asyncio
import gc
from itertools import pairwise

import pytest

from flux_tui.ui import gc_policy
from flux_tui.ui.gc_policy import BURST, FULL_EVERY, HOLD, MIDDLE, YOUNG, GcPolicy


class FakeCollector:
    """Counts as the gc module gives them; records what was asked of it."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.collected: list[int] = []
        self.threshold = (700, 10, 10)
        self.frozen = False

    def get_count(self) -> tuple[int, int, int]:
        return self.count[0], self.count[1], self.count[2]

    def collect(self, generation: int = 2) -> int:
        self.collected.append(generation)
        self.count[generation] = 0
        for younger in range(generation):
            self.count[younger] = 0
        if generation < 2:
            self.count[generation + 1] += 1
        return 0

    def get_threshold(self) -> tuple[int, int, int]:
        return self.threshold

    def set_threshold(self, a: int, b: int = 10, c: int = 10) -> None:
        self.threshold = (a, b, c)

    def freeze(self) -> None:
        self.frozen = True

    def unfreeze(self) -> None:
        self.frozen = False


def test_a_young_collection_waits_while_a_page_is_alive() -> None:
    fake = FakeCollector()
    policy = GcPolicy(fake, clock=lambda: 0.0)
    fake.count[0] = YOUNG + 10 * BURST  # a page just made: it grew by far more than a burst
    assert policy.step() is None
    fake.count[0] -= 9 * BURST  # the page was freed: what is left is small, and shrinking
    assert policy.step() == 0
    assert fake.collected == [0]


def test_a_held_young_generation_is_collected_anyway() -> None:
    fake = FakeCollector()
    policy = GcPolicy(fake, clock=lambda: 0.0)
    fake.count[0] = HOLD + 1
    assert policy.step() == 0


def test_nothing_is_collected_while_little_is_young() -> None:
    fake = FakeCollector()
    policy = GcPolicy(fake, clock=lambda: 0.0)
    fake.count[0] = YOUNG - 1
    assert policy.step() is None
    assert fake.collected == []


def test_the_middle_generation_after_enough_young_collections_and_a_full_one_seldom() -> None:
    now = [0.0]
    fake = FakeCollector()
    policy = GcPolicy(fake, clock=lambda: now[0])
    generations = []
    for _ in range(100 * MIDDLE):  # 100 s of steps
        fake.count[0] += YOUNG  # steady, one step's growth below a burst each time
        policy.last_young = fake.count[0]
        generations.append(policy.step())
        now[0] += 0.1
    assert generations.count(1) >= 2 * 10
    fulls = [i for i, g in enumerate(generations) if g == 2]
    assert len(fulls) >= 2  # they come...
    assert all(b - a >= FULL_EVERY / 0.1 for a, b in pairwise(fulls))  # ...seldom


def test_the_policy_freezes_start_up_and_gives_the_collector_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeCollector()
    monkeypatch.setattr(gc_policy, "FREEZE_AFTER", 0.0)
    monkeypatch.setattr(gc_policy, "STEP", 0.001)

    async def run() -> None:
        task = asyncio.get_running_loop().create_task(GcPolicy(fake).run())
        for _ in range(200):
            await asyncio.sleep(0.001)
            if fake.frozen:
                break
        assert fake.frozen
        assert fake.threshold == gc_policy.SAFETY_THRESHOLDS
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert fake.threshold == (700, 10, 10)
    assert not fake.frozen


def test_the_real_collector_is_left_as_it_was() -> None:
    before = gc.get_threshold()

    async def run() -> None:
        policy = gc_policy.install_gc_policy()
        assert gc_policy.install_gc_policy() is policy  # one policy a loop
        await asyncio.sleep(0)
        assert gc.get_threshold() == gc_policy.SAFETY_THRESHOLDS

    asyncio.run(run())
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
