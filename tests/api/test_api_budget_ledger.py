"""The shared ledger: budgets of one profile in several processes never exceed the budget
together, share a 429 pause, survive a damaged file and fall back when it cannot be written."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import random
import stat
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_budget import FakeTime, max_in_any_window  # same folder: pytest puts it on sys.path

from flux_tui.api.budget import RateBudget
from flux_tui.api.budget_ledger import BudgetLedger


def shared(
    ledger_path: Path, t: FakeTime, calls: int, window: float, n: int = 2
) -> list[RateBudget]:
    """``n`` budgets of one profile (as if in ``n`` processes) on one fake time."""
    return [
        RateBudget(
            calls,
            window,
            clock=t.clock,
            wall=t.wall,
            sleep=t.sleep,
            margin=0.0,
            rng=random.Random(i),
            ledger=BudgetLedger(ledger_path),
        )
        for i in range(n)
    ]


_steps = st.lists(
    st.tuples(
        st.integers(0, 1),  # which process asks
        st.floats(0, 4, allow_nan=False),  # how much time passed before it asks
        st.sampled_from([0.0, 0.0, 0.0, -3.0]),  # the wall clock stepped back (NTP) now and then
    ),
    max_size=60,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_steps, calls=st.integers(1, 6), window=st.sampled_from([1.0, 5.0, 10.0]))
def test_two_budgets_sharing_a_ledger_never_exceed_it_together(
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[int, float, float]],
    calls: int,
    window: float,
) -> None:
    t = FakeTime()
    budgets = shared(tmp_path_factory.mktemp("ledger") / "p.json", t, calls, window)
    granted: list[float] = []  # true (monotonic) times: a stepped wall clock must not matter
    for who, dt, step in steps:
        t.now += dt
        t.wall_offset += step
        if budgets[who].try_acquire():
            granted.append(t.now)
    assert max_in_any_window(granted, window) <= calls


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    per_process=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    calls=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
def test_concurrent_waiters_in_two_budgets_stay_within_the_shared_window(
    tmp_path_factory: pytest.TempPathFactory,
    per_process: tuple[int, int],
    calls: int,
    seed: int,
) -> None:
    t = FakeTime()
    budgets = shared(tmp_path_factory.mktemp("ledger") / "p.json", t, calls, 10.0)
    order = [0] * per_process[0] + [1] * per_process[1]
    random.Random(seed).shuffle(order)
    granted: list[float] = []

    async def one(budget: RateBudget) -> None:
        await budget.acquire()
        granted.append(t.now)

    async def main() -> None:
        await asyncio.gather(*(one(budgets[who]) for who in order))

    asyncio.run(main())
    assert len(granted) == len(order)  # everybody got through eventually
    assert max_in_any_window(granted, 10.0) <= calls


def test_a_429_pause_holds_the_other_process_back(tmp_path: Path) -> None:
    t = FakeTime()
    first, second = shared(tmp_path / "p.json", t, 10, 10.0)
    assert first.try_acquire()
    lifts = first.note_throttled()
    assert second.try_acquire() is False  # read from the ledger: no call of ours was seen
    assert second.paused_until == pytest.approx(lifts)
    assert second.remaining == 0

    async def go() -> None:
        await second.acquire()

    asyncio.run(go())
    assert t.wall() >= lifts


def test_status_bar_figures_include_the_other_process(tmp_path: Path) -> None:
    t = FakeTime()
    first, second = shared(tmp_path / "p.json", t, 5, 10.0)
    for _ in range(3):
        assert first.try_acquire()
    assert second.try_acquire()
    assert second.remaining == 1  # 5 - (3 of the other process + 1 of ours)
    assert second.try_acquire()
    assert second.remaining == 0
    assert second.resets_in == pytest.approx(10.0)
    assert not first.try_acquire()


def test_ledger_keeps_at_most_calls_times_with_private_modes(tmp_path: Path) -> None:
    t = FakeTime()
    path = tmp_path / "cache" / "budget" / "p.json"
    (budget,) = shared(path, t, 3, 1.0, n=1)
    for _ in range(20):
        asyncio.run(budget.acquire())
    data = orjson.loads(path.read_bytes())
    assert 1 <= len(data["calls_at"]) <= 3  # bounded: never more than `calls` times kept
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}.lock").stat().st_mode) == 0o600


def test_profile_ledger_lives_in_the_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ledger = BudgetLedger.for_profile("plant/a")
    assert ledger.path.parent == tmp_path / "flux-tui" / "budget"
    assert ledger.path.name != BudgetLedger.for_profile("plant_a").path.name


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff not json",
        b'{"calls_at": [1, 2',  # torn
        b"[1, 2, 3]",
        b'{"calls_at": "soon", "paused_until": "later"}',
        b'{"calls_at": [null, true, "x", -5, 1e400], "paused_until": 1e300}',
    ],
)
def test_a_damaged_ledger_is_ignored_and_rewritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    t = FakeTime()
    (budget,) = shared(path, t, 2, 10.0, n=1)
    assert budget.try_acquire() and budget.try_acquire()
    assert not budget.try_acquire()
    data = orjson.loads(path.read_bytes())
    assert data["calls_at"] == [t.wall(), t.wall()] and data["paused_until"] is None
    assert budget.ledger is not None  # still shared


def test_a_pause_far_ahead_is_a_stepped_clock_and_ignored(tmp_path: Path) -> None:
    t = FakeTime()
    path = tmp_path / "p.json"
    path.write_bytes(orjson.dumps({"calls_at": [], "paused_until": t.wall() + 86400}))
    (budget,) = shared(path, t, 2, 10.0, n=1)
    assert budget.try_acquire()


def test_an_unwritable_ledger_degrades_to_a_per_process_budget(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the ledger's folder should be")
    t = FakeTime()
    (budget,) = shared(blocker / "p.json", t, 2, 10.0, n=1)
    with caplog.at_level(logging.WARNING, logger="flux_tui.api.budget"):
        assert budget.try_acquire() and budget.try_acquire()
        assert not budget.try_acquire()  # the per-process window still holds
        budget.note_throttled()
    assert budget.ledger is None
    warnings = [r for r in caplog.records if "ledger" in r.getMessage()]
    assert len(warnings) == 1 and "alone" in warnings[0].getMessage()


def test_a_ledger_locked_too_long_by_another_process_is_asked_again_later(tmp_path: Path) -> None:
    t = FakeTime()
    (budget,) = shared(tmp_path / "p.json", t, 2, 10.0, n=1)
    assert budget.ledger is not None
    assert budget.try_acquire()
    holder = os.open(budget.ledger.lock_path, os.O_RDWR)  # another open file: another owner
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert budget.try_acquire() is False  # not granted blind, and not given up on
        assert budget.ledger is not None
    finally:
        os.close(holder)
    assert budget.try_acquire()
