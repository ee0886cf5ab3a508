"""Replaying a saved session: pacing at 1x/10x/max with an injected clock, pause, speed
changes, seeking by time and fraction, damaged lines skipped and reported."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from flux_tui.base.events import FeedState, Gap, StateChanged
from flux_tui.data.session import SessionWriter
from flux_tui.data.session.replay import ReplaySeeked, SessionReplay
from flux_tui.feed.types import Batch
from tests.data.test_data_session import T0, make_readings


class FakeTime:
    """A monotonic clock that only moves when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def write_session(path: Path, count: int, **meta: Any) -> list[Any]:
    readings = make_readings(count)  # one a second from T0
    with SessionWriter(path, metadata={"profile": "demo", "company": "acme", **meta}) as w:
        w.write(readings)
        w.note_gap(Gap("shardId-000000000000", T0, T0 + 500, "iterator expired"))
    return readings


async def play(replay: SessionReplay, until: Any = None) -> list[Any]:
    items = []
    async for item in replay:
        items.append(item)
        if until is not None and until(item, items):
            break
    return items


def played(items: list[Any]) -> list[Any]:
    return [r for item in items if isinstance(item, Batch) for r in item.readings]


@pytest.mark.parametrize(("speed", "elapsed"), [(1.0, 19.0), (10.0, 1.9), (None, 0.0)])
def test_plays_every_reading_in_session_time(tmp_path: Path, speed: float | None,
                                             elapsed: float) -> None:
    path = tmp_path / "s.jsonl"
    readings = write_session(path, 20)
    fake = FakeTime()
    replay = SessionReplay(path, speed=speed, clock=fake.clock, sleep=fake.sleep)
    items = asyncio.run(play(replay))
    assert played(items) == readings
    assert fake.now == pytest.approx(elapsed, abs=0.11)
    assert items[0] == StateChanged(FeedState.REPLAY, {1.0: "1×", 10.0: "10×", None: "max"}[speed])
    assert isinstance(items[1], Gap) and items[1].reason == "iterator expired"
    assert replay.position_ms == T0 + 19_000 and replay.fraction == 1.0
    assert replay.metadata["company"] == "acme"


def test_max_speed_plays_in_batches_and_first_batch_comes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    write_session(path, 2500)
    replay = SessionReplay(path, speed=None, batch_size=1000)
    first_seen: list[bool] = []

    def note_first(item: Any, items: list[Any]) -> bool:
        if isinstance(item, Batch) and not first_seen:
            first_seen.append(replay.index is None)  # streamed, before any index load
        return False

    items = asyncio.run(play(replay, note_first))
    assert first_seen == [True]
    sizes = [len(item.readings) for item in items if isinstance(item, Batch)]
    assert sizes == [1000, 1000, 500]


def test_pause_holds_and_resume_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    readings = write_session(path, 10)
    fake = FakeTime()
    replay = SessionReplay(path, speed=1.0, clock=fake.clock, sleep=fake.sleep)

    async def scenario() -> list[Any]:
        items: list[Any] = []

        async def consume() -> None:
            async for item in replay:
                items.append(item)
                if isinstance(item, Batch) and len(played(items)) == 3:
                    replay.pause()

        task = asyncio.create_task(consume())
        for _ in range(50):
            await asyncio.sleep(0)
        assert replay.paused and len(played(items)) == 3
        held = fake.now
        for _ in range(50):
            await asyncio.sleep(0)
        assert fake.now == held  # paused: no time passes for the replay, nothing plays
        assert StateChanged(FeedState.REPLAY, "paused") in items
        replay.resume()
        await asyncio.wait_for(task, 5)
        return items

    items = asyncio.run(scenario())
    assert played(items) == readings


def test_speed_change_takes_effect_mid_play(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    write_session(path, 21)
    fake = FakeTime()
    replay = SessionReplay(path, speed=1.0, clock=fake.clock, sleep=fake.sleep)

    def switch(item: Any, items: list[Any]) -> bool:
        if isinstance(item, Batch) and len(played(items)) == 11:
            replay.cycle_speed()  # 1x -> 10x after ten seconds of session time
        return False

    items = asyncio.run(play(replay, switch))
    assert len(played(items)) == 21
    assert fake.now == pytest.approx(10.0 + 1.0, abs=0.11)
    assert StateChanged(FeedState.REPLAY, "10×") in items


def test_seek_by_time_and_fraction(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    readings = write_session(path, 100)
    replay = SessionReplay(path, speed=None, batch_size=10)
    seeks = iter([lambda: replay.seek(T0 + 90_000), lambda: replay.seek_fraction(0.5),
                  lambda: replay.seek_by(-45)])
    seen: list[Any] = []
    ready = [True]  # the next page after a jump asks for the next jump

    def control(item: Any, items: list[Any]) -> bool:
        if isinstance(item, ReplaySeeked):
            seen.append(item)
            ready[0] = True
        elif isinstance(item, Batch) and ready[0]:
            ready[0] = False
            next(seeks, lambda: None)()
        return False

    items = asyncio.run(play(replay, control))
    assert [(s.position_ms, s.backwards, s.row) for s in seen] == [
        (T0 + 90_000, False, 90), (T0 + 49_500, True, 50), (T0 + 14_000, True, 14)]
    # forwards, every reading up to the target was played (the log keeps them)
    assert played(items)[:90] == readings[:90]
    # the last seek went back 45 s from the end of the page 50-59: reading 14 onwards
    assert played(items)[-86:] == readings[14:]
    assert replay.duration_ms == 99_000 and replay.total == 100


def test_seek_while_held_at_the_end_plays_again(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    readings = write_session(path, 30)
    replay = SessionReplay(path, speed=None, hold_at_end=True)

    async def scenario() -> list[Any]:
        items: list[Any] = []
        async for item in replay:
            items.append(item)
            if item == StateChanged(FeedState.REPLAY, "end of session"):
                if any(isinstance(i, ReplaySeeked) for i in items):
                    await replay.aclose()
                else:
                    replay.seek_fraction(0.0)
        return items

    items = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert played(items) == readings + readings


def test_damaged_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    readings = write_session(path, 10)
    lines = path.read_bytes().split(b"\n")
    lines[3] = b"{not json"
    path.write_bytes(b"\n".join(lines[:-1]) + b"\n" + b'{"_shard": "x", "_se')
    replay = SessionReplay(path, speed=None)
    items = asyncio.run(play(replay))
    assert played(items) == readings[:3] + readings[4:]
    assert [line for line, _ in replay.problems] == [4, 11]
    assert "truncated" in replay.problems[-1][1]


def test_a_missing_file_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SessionReplay(tmp_path / "none.jsonl")


def test_describe_names_the_session(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    write_session(path, 5, filter="asset:1111")
    text = SessionReplay(path).describe()
    assert text.startswith("m.jsonl: demo · acme · filter asset:1111 · ")
    assert "5 readings" in text and "1 gap" in text


def test_a_damaged_sidecar_neither_breaks_describe_nor_the_replay(tmp_path: Path) -> None:
    """A hand-edited or damaged sidecar (count not a number, a time out of range, gaps not
    a list) must not crash `flux-tui open` or `o`: the header leaves out what it cannot
    read, and the readings still play."""
    import json

    path = tmp_path / "d.jsonl"
    readings = write_session(path, 5)
    sidecar = path.with_name(path.name + ".meta.json")
    meta = json.loads(sidecar.read_text())
    meta.update(count="many", first_epoch_ms=10**20, last_epoch_ms=10**20, gaps=3)
    sidecar.write_text(json.dumps(meta))
    replay = SessionReplay(path, speed=None)
    text = replay.describe()
    assert text.startswith("d.jsonl: demo · acme") and "many" not in text
    assert played(asyncio.run(play(replay))) == readings


@pytest.mark.parametrize("counting", [False, True])
def test_max_speed_holds_back_while_a_whole_file_count_runs(tmp_path: Path,
                                                           counting: bool) -> None:
    """A count the user waits for (the prefilter's scan holds LOAD_GATE) gets the
    interpreter: a max-speed replay waits between pages, for at most 3 s a page."""
    from contextlib import nullcontext

    from flux_tui.data.session.index import LOAD_GATE

    path = tmp_path / "big.jsonl"
    readings = write_session(path, 2500)
    fake = FakeTime()
    replay = SessionReplay(path, speed=None, batch_size=1000, clock=fake.clock,
                           sleep=fake.sleep)
    with LOAD_GATE.paused() if counting else nullcontext():
        items = asyncio.run(play(replay, until=lambda item, items: len(played(items)) >= 2000))
    assert played(items) == readings[:2000]
    if counting:
        assert 3.0 <= fake.now < 3.1  # held back after the first page, then on
    else:
        assert fake.now < 0.01
    assert LOAD_GATE.open
