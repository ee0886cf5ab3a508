"""LiveView without a terminal: the one dispatch, taps in reading order, the filter applied
once for store, taps and recording, the stop rules, and failures headless or not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from flux_tui.api import errors
from flux_tui.base.events import CaughtUp, FeedProblem, FeedState, Gap, StateChanged
from flux_tui.data.session import open_session
from flux_tui.data.session.replay import ReplaySeeked
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, Reading, SourceFacts
from flux_tui.view.live import LiveView, RunSummary, StopRun, StopWhen
from flux_tui.view.source import FeedSource, SourceItem, ViewEvent


def reading(n: int, asset: int = 1111) -> Reading:
    ms = 1_700_000_000_000 + n * 1000
    payload = {"epochMs": ms, "assetId": asset, "tagId": 900, "label": "Suction", "val": n}
    return Reading("shardId-0", str(10**20 + n), 0, ms / 1000, ms, ms + 300, 333, 2222, asset,
                   900, 400, "tag_0", "Suction", float(n), payload)


def batch(start: int, count: int) -> Batch:
    return Batch("shardId-0", [reading(n, 1111 + n % 2) for n in range(start, start + count)])


class Source:
    """A scripted source: its items, then (``stay_open``) waits until closed."""

    def __init__(self, items: list[SourceItem], *, stay_open: bool = False,
                 fail: Exception | None = None) -> None:
        self.items, self.stay_open, self.fail = items, stay_open, fail
        self.closed = False
        self.names = None

    async def __aiter__(self) -> AsyncIterator[SourceItem]:
        for item in self.items:
            yield item
            await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        while self.stay_open:
            await asyncio.sleep(0.01)

    def facts(self) -> SourceFacts:
        return SourceFacts(requests=7, throttled=1)

    def person_login(self) -> None:
        return None

    async def aclose(self) -> None:
        self.closed = True


def opener(source: Source) -> Any:
    async def open_it() -> FeedSource:
        return source

    return open_it


class Log:
    """A tap that remembers what it was told, in order."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.seen: list[Any] = []
        self.stop_after = stop_after

    def take(self, readings: list[Reading]) -> None:
        self.seen.append([int(r.val) for r in readings])
        if self.stop_after is not None and len(self.seen) >= self.stop_after:
            raise StopRun("enough")

    def note(self, event: ViewEvent) -> None:
        self.seen.append(type(event).__name__)

    def tick(self) -> None:
        pass


async def test_taps_get_the_filtered_readings_and_events_in_order() -> None:
    source = Source([StateChanged(FeedState.LIVE), batch(0, 6), Gap("shardId-0", 1, 2, "x"),
                     batch(6, 4), CaughtUp()])
    store = LiveStore(100)
    view = LiveView(opener(source), store=store)
    calls: list[int] = []

    def odd_units(r: Reading) -> bool:
        calls.append(1)
        return r.asset_id == 1112

    view.set_filter(odd_units)
    log = Log()
    view.taps.append(log)
    summary = await view.run(StopWhen(caught_up=True))
    assert log.seen == ["StateChanged", [1, 3, 5], "Gap", [7, 9], "CaughtUp"]
    assert store.total == 10 and store.view_len() == 5  # the store keeps all, shows the filter
    assert store.state is FeedState.LIVE and store.caught_up
    assert summary.stopped_by == "caught up" and summary.seen == 10 and summary.readings == 5
    assert summary.gaps == 1 and (summary.requests, summary.throttled) == (7, 1)
    assert len(calls) == 20  # once for the store's view, once for the taps: no more
    assert source.closed


async def test_count_cuts_the_batch_and_stops() -> None:
    view = LiveView(opener(Source([batch(0, 6), batch(6, 6)], stay_open=True)))
    log = Log()
    view.taps.append(log)
    summary = await view.run(StopWhen(count=8, headless=True))
    assert log.seen == [[0, 1, 2, 3, 4, 5], [6, 7]]
    assert summary.stopped_by == "count" and summary.readings == 8


async def test_a_tap_ends_the_run_and_the_source_is_closed() -> None:
    source = Source([batch(0, 2), batch(2, 2), batch(4, 2)], stay_open=True)
    view = LiveView(opener(source))
    view.taps.append(Log(stop_after=2))
    summary = await view.run(StopWhen(headless=True))
    assert summary.stopped_by == "enough" and summary.readings == 4 and source.closed


async def test_duration_and_stop_end_a_run_that_would_go_on() -> None:
    view = LiveView(opener(Source([batch(0, 2)], stay_open=True)))
    summary = await view.run(StopWhen(duration=0.1, headless=True))
    assert summary.stopped_by == "duration" and summary.seen == 2
    view = LiveView(opener(Source([], stay_open=True)))
    summary = RunSummary()
    running = asyncio.ensure_future(view.run(StopWhen(headless=True), summary=summary))
    await asyncio.sleep(0.05)
    view.stop("SIGTERM", 15, summary)  # what the signal handler does
    assert (await running) is summary
    assert (summary.stopped_by, summary.signal, summary.error) == ("SIGTERM", 15, None)


async def test_failures_end_up_in_the_summary_headless_and_are_raised_otherwise() -> None:
    broken = errors.ConnectError("no route")
    summary = await LiveView(opener(Source([batch(0, 1)], fail=broken))).run(
        StopWhen(headless=True))
    assert summary.error is broken and summary.stopped_by == "error"
    with pytest.raises(errors.ConnectError):
        await LiveView(opener(Source([batch(0, 1)], fail=broken))).run()


async def test_a_problem_retrying_cannot_fix_ends_a_headless_run_only() -> None:
    fatal = FeedProblem(errors.AuthError("bad secret"), retry_in=1.0)
    summary = await LiveView(opener(Source([fatal]))).run(StopWhen(headless=True))
    assert summary.stopped_by == "error" and isinstance(summary.error, errors.AuthError)
    log = Log()
    view = LiveView(opener(Source([fatal, batch(0, 1)])))
    view.taps.append(log)
    summary = await view.run()  # the viewer: the reader retries, the view carries on
    assert log.seen == ["FeedProblem", [0]] and summary.stopped_by == "end"


async def test_a_replay_jump_back_cuts_the_store_to_its_row_and_tells_the_listener() -> None:
    store = LiveStore(100)
    told: list[str] = []

    class Listener:
        def source_opened(self, source: FeedSource) -> None:
            told.append("opened")

        def batch_taken(self, first: bool) -> None:
            told.append(f"batch first={first}")

        def problem(self, problem: FeedProblem) -> None:
            told.append("problem")

        def seeked(self, cleared: bool) -> None:
            told.append(f"seeked, {store.total} held, cleared={cleared}")

    source = Source([batch(0, 3), ReplaySeeked(0, backwards=True, row=1), batch(1, 2),
                     ReplaySeeked(0, backwards=False, row=3)])
    await LiveView(opener(source), store=store, listener=Listener()).run()
    # back to row 1: the history before it stays, what follows continues from there
    assert told == ["opened", "batch first=True", "seeked, 1 held, cleared=False",
                    "batch first=False", "seeked, 3 held, cleared=False"]
    assert [store.reading_at(p).val for p in range(3)] == [0.0, 1.0, 2.0]


async def test_a_big_page_reaches_the_store_in_parts_with_the_same_result() -> None:
    from flux_tui.view.live import PART

    store = LiveStore(10 * PART)
    big = batch(0, 2 * PART + 5)
    await LiveView(opener(Source([big])), store=store).run()
    assert store.total == 2 * PART + 5
    assert [store.reading_at(p) for p in (0, PART, 2 * PART + 4)] == [
        big.readings[0], big.readings[PART], big.readings[-1]]


async def test_the_recording_takes_what_passes_the_filter(tmp_path: Path) -> None:
    view = LiveView(opener(Source([batch(0, 4), Gap("shardId-0", 1, 2, "expired"),
                                   batch(4, 4)])), store=LiveStore(100))
    view.set_filter(lambda r: r.asset_id == 1111)
    view.start_recording(tmp_path / "rec.jsonl", "asset:1111")
    await view.run()
    assert view.stop_recording() == 4 and view.taps == []
    session = open_session(tmp_path / "rec.jsonl")
    assert [int(r.val) for r in session.iter_readings()] == [0, 2, 4, 6]
    assert session.metadata["filter"] == "asset:1111" and session.metadata["gaps"]
