"""RateBudget: the sliding window holds under concurrency, reports what is left, pauses on 429."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.api.budget import RateBudget


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0, wall_offset: float = 1_700_000_000.0) -> None:
        self.now = start
        self.wall_offset = wall_offset
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.wall_offset

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += max(delay, 0.0)
        await asyncio.sleep(0)


def make(
    calls: int, window: float, margin: float = 0.0, **kw: object
) -> tuple[RateBudget, FakeTime]:
    t = FakeTime()
    b = RateBudget(
        calls,
        window,
        clock=t.clock,
        wall=t.wall,
        sleep=t.sleep,
        margin=margin,
        rng=random.Random(1),
        **kw,  # type: ignore[arg-type]
    )
    return b, t


def max_in_any_window(times: list[float], window: float) -> int:
    """Most grants inside any half-open window (a nanosecond of float rounding forgiven)."""
    times = sorted(times)
    window -= 1e-9
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.mark.parametrize(
    ("spec", "calls", "window"),
    [
        ("100/60s", 100, 60.0),
        ("10/10s", 10, 10.0),
        ("100/1m", 100, 60.0),
        ("100/min", 100, 60.0),
        (" 5 / 2.5s ", 5, 2.5),
        ("7/500ms", 7, 0.5),
        ("1/1h", 1, 3600.0),
        ("3/60", 3, 60.0),
    ],
)
def test_parse_accepts_common_spellings(spec: str, calls: int, window: float) -> None:
    b = RateBudget.parse(spec)
    assert (b.calls, b.window) == (calls, window)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "100",
        "100/",
        "0/60s",
        "100/0s",
        "-1/60s",
        "a/b",
        "100/60x",
        "100 per minute",
        "\u0661\u0660\u0660/\u0666\u0660s",  # Arabic-Indic digits: \d matched them
        "\u00b9\u00b2/60s",  # superscripts
    ],
)
def test_parse_rejects_bad_specs_with_an_example(spec: str) -> None:
    with pytest.raises(ValueError, match="100/60s"):
        RateBudget.parse(spec)


async def test_sequential_calls_wait_for_the_oldest_to_leave_the_window() -> None:
    b, t = make(3, 10.0, margin=0.5)
    granted = []
    for _ in range(7):
        await b.acquire()
        granted.append(t.now - 1000.0)
    assert granted == [0, 0, 0, 10.5, 10.5, 10.5, 21.0]


async def test_remaining_and_resets_in() -> None:
    b, t = make(2, 10.0)
    assert (b.remaining, b.resets_in) == (2, 0)
    assert b.try_acquire()
    t.now += 4
    assert b.try_acquire()
    assert (b.remaining, b.resets_in) == (0, pytest.approx(6.0))
    assert not b.try_acquire()
    t.now += 6
    assert (b.remaining, b.resets_in) == (1, 0)
    t.now += 4
    assert b.remaining == 2


async def test_waiters_are_served_in_arrival_order() -> None:
    b, _t = make(1, 1.0)
    order: list[int] = []

    async def caller(i: int) -> None:
        await b.acquire()
        order.append(i)

    tasks = [asyncio.create_task(caller(i)) for i in range(6)]
    await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_try_acquire_does_not_jump_the_queue() -> None:
    b, t = make(1, 5.0)
    assert b.try_acquire()
    waiter = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)  # the waiter now holds the queue
    t.now += 100  # the window has long freed, but someone is first in line
    assert not b.try_acquire()
    await waiter


async def test_cancelled_waiter_does_not_block_the_queue() -> None:
    b, t = make(1, 5.0)
    stuck = asyncio.Event()

    async def never(_: float) -> None:
        await stuck.wait()

    b._sleep = never  # the first waiter sleeps forever…
    assert b.try_acquire()
    first = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)
    first.cancel()  # …until cancelled: the lock must be released
    with pytest.raises(asyncio.CancelledError):
        await first
    b._sleep = t.sleep
    await asyncio.wait_for(b.acquire(), 1)


async def test_note_throttled_pauses_every_caller_until_the_window_frees() -> None:
    b, t = make(3, 10.0)
    for _ in range(3):
        assert b.try_acquire()
    t.now += 2
    lift_wall = b.note_throttled()
    # Our window is full: it frees in 8 s; the jitter adds at most 0.5 s (window/20).
    assert t.wall() + 8 <= lift_wall <= t.wall() + 8.5
    assert b.paused_until == lift_wall and b.throttled
    assert b.remaining == 0 and b.resets_in == pytest.approx(lift_wall - t.wall())
    granted: list[float] = []

    async def caller() -> None:
        await b.acquire()
        granted.append(t.wall())

    await asyncio.gather(*(caller() for _ in range(3)))
    assert min(granted) >= lift_wall
    assert b.paused_until is None and not b.throttled


async def test_throttle_with_a_not_full_window_escalates_but_stays_within_a_window() -> None:
    b, t = make(100, 60.0)
    assert b.try_acquire()
    first = b.note_throttled() - t.wall()
    assert 6 <= first <= 7  # a tenth of the window plus jitter
    t.now += first
    second = b.note_throttled() - t.wall()
    assert 12 <= second <= 13
    for _ in range(6):
        t.now += 1
        last = b.note_throttled() - t.wall()
    assert last <= 60 + 1


async def test_a_later_throttle_never_shortens_a_pause() -> None:
    b, _t = make(100, 60.0)
    long = b.note_throttled()
    b._throttle_streak = -10  # force a tiny computed delay for the second notice
    assert b.note_throttled() == long


def test_constructor_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RateBudget(0, 10)
    with pytest.raises(ValueError):
        RateBudget(1, 0)
    with pytest.raises(ValueError):
        RateBudget(1, 1, margin=-1)


@settings(max_examples=60, deadline=None)
@given(
    calls=st.integers(1, 8),
    window=st.sampled_from([1.0, 2.5, 10.0]),
    margin=st.sampled_from([0.0, 0.5]),
    plans=st.lists(st.lists(st.floats(0, 5), min_size=1, max_size=8), min_size=1, max_size=6),
    throttle_at=st.sets(st.integers(0, 30), max_size=3),
)
def test_never_more_than_calls_in_any_window(
    calls: int, window: float, margin: float, plans: list[list[float]], throttle_at: set[int]
) -> None:
    """Concurrent callers with random think times: no window ever holds more than `calls`."""

    async def run() -> list[float]:
        b, t = make(calls, window, margin=margin)
        granted: list[float] = []

        async def caller(thinks: list[float]) -> None:
            for think in thinks:
                await t.sleep(think)
                if len(granted) % 2 and b.try_acquire():
                    pass
                else:
                    await b.acquire()
                granted.append(t.now)
                if len(granted) in throttle_at:
                    lift = b.note_throttled()
                    assert b.paused_until == lift

        await asyncio.gather(*(caller(p) for p in plans))
        return granted

    granted = asyncio.run(run())
    assert len(granted) == sum(len(p) for p in plans)
    assert max_in_any_window(granted, window + margin) <= calls
