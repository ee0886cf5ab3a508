"""Pilot: a filter typed right after launch, while the file's index is still loading, shows
the whole file's count (the byte prefilter's), equal to an independent count."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from fakefeed import T0_MS, make_reading
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.cli.open_cmd import open_app
from flux_tui.data.session import SessionWriter
from flux_tui.data.session.replay import SessionReplay

HISTORY = 2_000
COUNT = 5 * HISTORY  # the file is five times what the log holds in memory


def count_in_file(path: Path, needle: str) -> int:
    """An independent count: every line read with orjson, the label compared by hand."""
    with open(path, "rb") as handle:
        return sum(1 for line in handle
                   if line.strip() and needle in orjson.loads(line)["label"].lower())


async def test_a_filter_typed_before_the_index_is_loaded_counts_the_whole_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jsonl"
    readings = [make_reading(n, asset=1111 + n % 3, tag=n % 7, ms=T0_MS + n * 100)
                for n in range(COUNT)]
    with SessionWriter(path, metadata={"profile": "demo"}) as writer:
        writer.write(readings)
    release = threading.Event()  # the index stays "loading" until the test lets it go
    build = SessionReplay._build_index

    def slow_build(self: SessionReplay):  # type: ignore[no-untyped-def]
        release.wait(60)
        return build(self)

    monkeypatch.setattr(SessionReplay, "_build_index", slow_build)
    replay = SessionReplay(path, speed=1.0, hold_at_end=True)
    app = open_app(replay, utc=True, capacity=HISTORY)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.store.total >= 1)
            word = readings[2].label.split()[0]
            expected = count_in_file(path, word.lower())
            assert 0 < expected < COUNT
            await pilot.press("slash", *f"label:{word.upper()}", "enter", "escape")
            paging = app.main.paging
            assert paging is not None
            await wait_until(pilot, lambda: paging.count() == (expected, COUNT), 60)
            await settle(pilot)
            text = screen_text(app)
            assert f"{expected:,} of {COUNT:,}" in text and "held" not in text
            assert paging.log.index is None  # counted without the index
            assert app.store.total < COUNT  # at 1x only the first seconds were played
            # with a value test too: each candidate line is read whole and tested
            await pilot.press("slash", *" val>100", "enter", "escape")
            both = f"label:{word.upper()} val>100"
            await wait_until(pilot, lambda: app.main.filter_bar.good_text == both)
            by_hand = sum(1 for r in readings if word.lower() in r.label.lower()
                          and isinstance(r.val, float) and r.val > 100)
            await wait_until(pilot, lambda: paging.count() == (by_hand, COUNT), 60)
            # a filter that names no text waits for the index, and says so
            app.main.filter_bar.set_text("val>100")
            await wait_until(pilot, lambda: app.main.filter_bar.good_text == "val>100")
            await settle(pilot)
            assert paging.count() is None and "held · indexing file…" in screen_text(app)
            release.set()  # the index arrives: its count takes over
            await wait_until(pilot, lambda: paging.count() is not None, 60)
            by_hand = sum(1 for r in readings if isinstance(r.val, float) and r.val > 100)
            assert paging.count() == (by_hand, COUNT)
    finally:
        release.set()
