"""Names and filters agree everywhere: on the demo (seeded, frozen clock), a query by a site's,
a unit's or an organisation's name selects the same readings in ``tail`` (the headless view
into its sink), in the viewer's log, and in ``open`` (a replay of the whole recording, with
the names of the profile that recorded it). Before the LiveView, ``site:"pad 7"`` matched
thousands of readings in the viewer and none in ``tail``."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from helpers import settle, wait_until

from flux_tui.cli.output import Progress, ReadingSink
from flux_tui.cli.tail import SinkTap, compile_filter, stream
from flux_tui.config import load_config
from flux_tui.connect import open_feed, replay_source
from flux_tui.data.session import SessionWriter
from flux_tui.data.session.replay import SessionReplay
from flux_tui.feed.types import Reading
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings
from flux_tui.ui.app import FluxApp
from flux_tui.view.live import LiveView, RunSummary, StopWhen
from flux_tui.view.source import FeedSource, ViewEvent

NOW = 1_764_400_000.0
QUERIES = ['site:"pad 7"', "asset:whc", 'org:"acme energy"']
Key = tuple[str, str, int]


def key(r: Reading) -> Key:
    return (r.shard, r.seq, r.sub)


async def demo_feed() -> FeedSource:
    """The demo profile on a seeded simulator with a frozen clock: the same readings each
    time (seed 1 and the default fleet: the names a replay borrows from the demo match).
    The simulator's read limits are off: they count simulated seconds, which the frozen
    clock never lets pass. A 45-second backlog (some 9,000 readings) is plenty to compare."""
    settings = SimSettings(seed=1, company="demo", throttle=None, shard_reads_per_second=10**6,
                           shard_read_bytes_per_second=None, backlog_seconds=45)
    simulator = Simulator(settings, SimClock.manual_at(NOW))
    return await open_feed(load_config(env={}).profile("demo"), start="trim-horizon",
                           simulator=simulator)


class Collect:
    def __init__(self) -> None:
        self.readings: list[Reading] = []

    def take(self, readings: list[Reading]) -> None:
        self.readings.extend(readings)

    def note(self, event: ViewEvent) -> None:
        pass

    def tick(self) -> None:
        pass


async def tail_keys(query: str) -> set[Key]:
    """What ``tail --filter QUERY --until-caught-up`` writes (its view, filter and sink)."""
    view = LiveView(demo_feed)
    view.set_filter(compile_filter(query, view.names))
    out = io.BytesIO()
    tap = SinkTap(ReadingSink("jsonl", out), Progress(io.StringIO()), RunSummary())
    summary = await stream(view, tap, StopWhen(caught_up=True, headless=True, names_wait=10),
                           stop_signals=())
    assert summary.error is None and summary.stopped_by == "caught up"
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    return {(d["_shard"], d["_seq"], 0) for d in lines}


async def record_everything(path: Path) -> list[Reading]:
    view = LiveView(demo_feed)
    everything = Collect()
    view.taps.append(everything)
    await view.run(StopWhen(caught_up=True, headless=True))
    with SessionWriter(path, metadata={"profile": "demo", "company": "demo"}) as writer:
        writer.write(everything.readings)
    return everything.readings


async def open_keys(path: Path, query: str) -> set[Key]:
    """What ``open FILE`` shows for QUERY: the replay, with the demo profile's names."""
    replay = SessionReplay(path, speed=None)
    view = LiveView(lambda: replay_source(replay, load_config(env={})))
    view.set_filter(compile_filter(query, view.names))
    got = Collect()
    view.taps.append(got)
    summary = await view.run(StopWhen(headless=True, names_wait=10))
    assert summary.error is None and view.names.state == "fresh"
    return {key(r) for r in got.readings}


async def viewer_keys(queries: list[str]) -> dict[str, set[Key]]:
    """What the viewer's log holds for each query typed in its filter bar."""
    app = FluxApp(demo_feed, clock=lambda: NOW, utc=True)
    found: dict[str, set[Key]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.store
        await wait_until(pilot, lambda: store.caught_up and app.names.state == "fresh", 60)
        for query in queries:
            await pilot.press("slash", "ctrl+u", *query, "enter")
            await settle(pilot)
            found[query] = {key(r) for _, r, _ in store.view_slice(0, store.view_len())}
    return found


@pytest.mark.slow
async def test_site_unit_and_org_names_select_the_same_readings_everywhere(
        tmp_path: Path) -> None:
    path = tmp_path / "all.jsonl"
    everything = await record_everything(path)
    assert len(everything) > 5000
    in_viewer = await viewer_keys(QUERIES)
    for query in QUERIES:
        in_tail = await tail_keys(query)
        in_open = await open_keys(path, query)
        assert 0 < len(in_tail) < len(everything), query  # names resolved, and selective
        assert in_tail == in_viewer[query] == in_open, query
