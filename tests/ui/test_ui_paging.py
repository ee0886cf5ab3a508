"""Pilot tests of a replayed file larger than the log's history ([ui] history): the log, `home`,
paging, the filter's count and seeking cover the whole file, paged from disk."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from fakefeed import T0_MS, make_reading
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.cli.open_cmd import open_app
from flux_tui.data.formats import format_time
from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.session.pages import PagedLog
from flux_tui.data.session.replay import SessionReplay
from flux_tui.ui.detail import reading_json
from flux_tui.ui.path_dialog import PathDialog
from flux_tui.ui.replay_bar import ReplayBar

HISTORY = 5_000
COUNT = 4 * HISTORY  # the file is four times what the log holds in memory
STEP_MS = 100


def write_big(path: Path) -> list:  # type: ignore[type-arg]
    readings = [make_reading(n, asset=1111 + n % 3, tag=n % 7, ms=T0_MS + n * STEP_MS)
                for n in range(COUNT)]
    with SessionWriter(path, metadata={"profile": "demo", "company": "acme"}) as writer:
        writer.write(readings)
    return readings


def count_in_file(path: Path, label: str) -> int:
    """An independent count: the file's lines read with orjson, not through the viewer."""
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip() and orjson.loads(line)["label"] == label)


def paged(app) -> PagedLog:  # type: ignore[no-untyped-def]
    rows = app.log_view.rows
    assert isinstance(rows, PagedLog)
    return rows


@pytest.fixture
def big(tmp_path: Path) -> tuple[Path, list]:  # type: ignore[type-arg]
    path = tmp_path / "big.jsonl"
    return path, write_big(path)


async def test_home_end_paging_and_the_count_cover_the_whole_file(big) -> None:  # type: ignore[no-untyped-def]
    path, readings = big
    replay = SessionReplay(path, speed=None, hold_at_end=True)
    app = open_app(replay, utc=True, capacity=HISTORY)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: replay.at_end and paged(app).total == COUNT, 120)
        await wait_until(pilot, lambda: paged(app).whole, 60)
        assert app.store.held == HISTORY  # memory holds the newest 5,000 only
        log = app.log_view
        await settle(pilot)
        assert log.rows.view_len() == COUNT
        await pilot.press("home")
        await settle(pilot)
        text = screen_text(app)
        assert format_time(T0_MS, utc=True) in text  # the file's first reading
        assert log.cursor == 0
        assert log.current_reading() == readings[0]  # re-read from disk, exactly
        assert app.main.copy_text() == reading_json(readings[0])
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        page = app.log_view.scrollable_content_region.height - 1
        assert log.cursor == 2 * page and log.current_reading() == readings[2 * page]
        assert format_time(readings[2 * page].epoch_ms, utc=True) in screen_text(app)
        await pilot.press("end")
        await settle(pilot)
        assert log.current_reading() == readings[-1]
        assert paged(app).cached <= 2048  # the page cache stays small
        # the filter: the whole file's count, not the 5,000 held
        label = readings[3].label
        expected = count_in_file(path, label)
        await pilot.press("slash", *f'label:"{label}"', "enter", "escape")
        await wait_until(pilot, lambda: paged(app).file_count() == (expected, COUNT), 30)
        await settle(pilot)
        assert f"{expected:,} of {COUNT:,}" in screen_text(app)
        await pilot.press("home")
        await settle(pilot)
        first = next(r for r in readings if r.label == label)
        assert log.current_reading() == first  # the first matching reading of the file
        assert format_time(first.epoch_ms, utc=True) in screen_text(app)
        # `s` saves what the log shows: the whole file's matches, exactly as recorded
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, PathDialog))
        saved_to = path.parent / "matches.jsonl"
        app.screen.input.value = str(saved_to)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(open_session(saved_to).metadata.get("complete"))
                         if saved_to.exists() else False, 60)
    assert list(open_session(saved_to).iter_readings()) == [r for r in readings
                                                            if r.label == label]


async def test_the_count_is_the_whole_files_at_1x_before_it_is_played(big) -> None:  # type: ignore[no-untyped-def]
    path, readings = big
    replay = SessionReplay(path, speed=1.0, hold_at_end=True)
    app = open_app(replay, utc=True, capacity=HISTORY)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total >= 1)
        label = readings[5].label
        expected = count_in_file(path, label)
        await pilot.press("slash", *f'label:"{label}"', "enter", "escape")
        await wait_until(pilot, lambda: paged(app).file_count() == (expected, COUNT), 60)
        await settle(pilot)
        assert f"{expected:,} of {COUNT:,}" in screen_text(app)
        assert app.store.total < COUNT  # at 1x only the first seconds were played
        # the log shows what was played: no line of the future
        assert all(r.epoch_ms <= replay.position_ms for r in
                   (paged(app).reading_at(paged(app).view_pos(i))
                    for i in range(paged(app).view_len())))


async def test_seek_back_while_paused_past_the_history_shows_that_point_and_before(big) -> None:  # type: ignore[no-untyped-def]
    path, readings = big
    replay = SessionReplay(path, speed=None, hold_at_end=True)
    app = open_app(replay, utc=True, capacity=HISTORY)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: replay.at_end and replay.row == COUNT, 120)
        await wait_until(pilot, lambda: paged(app).whole, 60)
        await pilot.press("k")  # pause
        replay.seek_fraction(0.3)  # far past the 5,000 readings held: row 6,000
        await wait_until(pilot, lambda: replay.row == 6_000 and paged(app).total == 6_000, 30)
        await pilot.press("left_square_bracket")  # and 10 % more: row 4,000
        target = 4_000
        await wait_until(pilot, lambda: replay.row == target and paged(app).total == target, 30)
        await settle(pilot)
        assert replay.paused
        log = app.log_view
        assert log.rows.view_len() == target  # every reading up to that point...
        text = screen_text(app)
        assert format_time(readings[target - 1].epoch_ms, utc=True) in text  # ...at the bottom
        assert "connecting" not in text.lower()
        await pilot.press("home")
        await settle(pilot)
        assert log.current_reading() == readings[0]  # and the history before it stays
        bar = app.query_one(ReplayBar)
        await wait_until(pilot, lambda: format_time(replay.position_ms, utc=True)[:8] in bar.text)
        await pilot.press("k")  # play on to the end: the whole file again
        await wait_until(pilot, lambda: replay.at_end and paged(app).total == COUNT, 120)
        assert paged(app).reading_at(COUNT - 1) == readings[-1]


async def test_a_capture_past_midnight_shows_both_days(tmp_path: Path) -> None:
    """The header and the replay bar named only the first day of a two-day capture."""
    from datetime import UTC, datetime

    from flux_tui.ui.replay_bar import progress_text

    start = int(datetime(2026, 11, 30, 23, 50, tzinfo=UTC).timestamp() * 1000)
    path = tmp_path / "night.jsonl"
    readings = [make_reading(n, ms=start + n * 60_000) for n in range(21)]  # to 00:10
    with SessionWriter(path, metadata={"profile": "demo"}) as writer:
        writer.write(readings)
    replay = SessionReplay(path, speed=None)
    assert "2026-11-30 23:50–2026-12-01 00:10 UTC" in replay.describe()
    async for _ in replay:
        if replay.at_end:
            break
    bar = progress_text(replay, utc=True)
    assert "of 11-30 23:50:00Z–12-01 00:10:00Z" in bar and "12-01 00:10:00Z " in bar
    await replay.aclose()
    same_day = tmp_path / "day.jsonl"
    with SessionWriter(same_day, metadata={"profile": "demo"}) as writer:
        writer.write(readings[:5])
    assert "2026-11-30 23:50–23:54 UTC" in SessionReplay(same_day).describe()


async def test_seeking_back_step_by_step_under_a_filter_shows_only_matches_up_to_there(
        big) -> None:  # type: ignore[no-untyped-def]
    """Each jump back cuts the store's ring; once it had wrapped, its older slots hold newer
    readings: they must never show again as if they were the older ones."""
    path, readings = big
    replay = SessionReplay(path, speed=None, hold_at_end=True)
    app = open_app(replay, utc=True, capacity=HISTORY)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: replay.at_end and paged(app).total == COUNT, 120)
        label = readings[3].label
        await pilot.press("slash", *f'label:"{label}"', "enter", "escape", "k")
        await wait_until(pilot, lambda: paged(app).file_count() is not None, 60)
        for _ in range(5):  # 90 %, 80 %... each one a cut of the ring, then a fresh start
            row = replay.row
            await pilot.press("left_square_bracket")
            await wait_until(pilot, lambda: replay.row < row and paged(app).total == replay.row
                             and paged(app).whole, 30)
            await settle(pilot)
            log = app.log_view
            shown = [log.rows.reading_at(log.rows.view_pos(i))
                     for i in range(log.rows.view_len())]
            assert shown == [r for r in readings[:replay.row] if r.label == label]
            lines = [line for line in screen_text(app).splitlines()
                     if re.search(r"\d\d:\d\d:\d\d\.\d{3}Z", line)]  # the log's lines
            assert lines and all(label in line for line in lines)
            last = shown[-1]
            assert format_time(last.epoch_ms, utc=True) in screen_text(app)
