"""`b` (look back) and the catching-up status on the real feed stack: the demo profile's
in-process simulator with older history, on its manual clock."""

from __future__ import annotations

from typing import Any

from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.base.events import FeedState
from flux_tui.config import load_config
from flux_tui.connect import open_feed
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings
from flux_tui.ui.app import FluxApp
from flux_tui.ui.look_back import LookBackDialog

NOW = 1_764_400_000.0


def app_with_history() -> FluxApp:
    profile = load_config(env={}).profile("demo")
    # the clock is frozen: a shard's read bandwidth and its reads a second would never
    # free up again (the reader would back off in real seconds, over and over)
    simulator = Simulator(SimSettings(seed=7, company="demo", units=4, sites=1, orgs=1,
                                      backlog_seconds=60, history_seconds=900,
                                      shard_read_bytes_per_second=None,
                                      shard_reads_per_second=10**6),
                          SimClock.manual_at(NOW))  # fmt: skip

    def opener_from(start: str | None) -> Any:
        async def opener() -> Any:
            return await open_feed(profile, start=start, simulator=simulator)

        return opener

    return FluxApp(opener_from("30s"), clock=lambda: NOW, utc=True, look_back=opener_from)


async def test_look_back_reopens_from_earlier_keeping_the_filter_and_pins() -> None:
    app = app_with_history()
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.store
        await wait_until(pilot, lambda: store.caught_up and store.total > 50, 60)
        first_oldest = min(r.arrival for _, r, _ in store.view_slice(0, store.view_len()))
        assert first_oldest >= NOW - 31
        unit = next(iter(store.units))
        await pilot.press("slash", *f"asset:{unit}", "enter")
        await settle(pilot)
        key = next(k for k in store.tags if k[0] == unit)
        app.sparks.toggle_pin(key)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, LookBackDialog))
        assert app.screen.query_one("Input").value == "15m"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: store.caught_up and store.state is FeedState.LIVE
                         and store.total > 0, 60)  # fmt: skip
        await settle(pilot)
        readings = [r for _, r, _ in store.view_slice(0, store.view_len())]
        assert readings and all(r.asset_id == unit for r in readings)  # the filter stayed
        assert min(r.arrival for r in readings) < NOW - 600  # from 15 minutes back
        assert min(r.arrival for r in readings) >= NOW - 900
        keys = [(r.shard, r.seq, r.sub) for r in readings]
        assert len(keys) == len(set(keys))  # the log started again: nothing twice
        assert app.sparks.pinned == [key]
        assert f"asset:{unit}" in screen_text(app)


async def test_a_bad_look_back_form_is_said_and_the_dialog_stays() -> None:
    app = app_with_history()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, LookBackDialog))
        await pilot.press(*["backspace"] * 3, "5", "x", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LookBackDialog)
        assert "not a start" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LookBackDialog)
        listed = [text for _, keys in app.key_sections() for key, text in keys if key == "b"]
        assert listed and "Look back" in listed[0]  # in help (?), under its key


def test_status_while_catching_up_shows_how_far_behind_and_the_eta() -> None:
    from flux_tui.base.events import StateChanged
    from flux_tui.data.store import LiveStore
    from flux_tui.feed.types import SourceFacts
    from flux_tui.ui.feed_status import status_from

    store = LiveStore(100, clock=lambda: NOW)
    store.note(StateChanged(FeedState.CATCHING_UP, ""))
    info = status_from(store, SourceFacts(millis_behind=754_000, eta_seconds=61.4), NOW)
    assert info.behind_ms == 754_000 and info.eta_s == 61
    info = status_from(store, SourceFacts(millis_behind=2_000), NOW)
    assert info.behind_ms is None  # as good as live: the usual lag
    store.note(StateChanged(FeedState.LIVE, ""))
    assert status_from(store, SourceFacts(millis_behind=754_000), NOW).behind_ms is None
