"""Reaching the past against the simulator, with a gateway that forwards every iterator type
(passthrough) and one that refuses all but TRIM_HORIZON/LATEST (strict): issue 9's checks.

Each runs the real client and reader on the simulator's manual clock (see
``test_feed_against_sim``): a start time gives exactly what arrived from it; a resume after
every iterator expired costs O(outage) calls; a 60,000-record backlog drains in few calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import pytest
from test_feed_against_sim import T0, Rig, caught_up

from flux_tui.base.events import Gap, StateChanged
from flux_tui.config import DEFAULT_PAGE_LIMIT
from flux_tui.feed.start import parse_start
from flux_tui.sim import Simulator

MODES = pytest.mark.parametrize("strict", [False, True], ids=["passthrough", "strict"])


def arrived_from(sim: Simulator, since_ms: int) -> dict[str, list[tuple[int, int]]]:
    """Per shard, (sequence number, arrival ms) of every record held, in order."""
    return {
        shard_id: list(zip(shard.seqs, shard.arrivals, strict=True))
        for shard_id, shard in sim.stream.shards.items()
    }


def check_exactly_from(rig: Rig, since_ms: int) -> int:
    """Delivered = exactly the records that arrived at or after ``since_ms``, on every shard,
    up to where each shard was read (its end, for a closed one). Returns how many."""
    keys = [(r.shard, int(r.seq), r.sub) for r in rig.readings]
    assert len(keys) == len(set(keys)), "a reading delivered twice"
    got: dict[str, set[int]] = {}
    for shard, seq, _ in keys:
        got.setdefault(shard, set()).add(seq)
    shards = rig.reader.shards
    total = 0
    for shard_id, records in arrived_from(rig.sim, since_ms).items():
        seen = got.get(shard_id, set())
        info = shards.get(shard_id)
        reached = max(seen, default=0)
        if info is not None and info.status == "finished":
            reached = max((seq for seq, _ in records), default=0)
        wanted = {seq for seq, arrival in records if arrival >= since_ms and seq <= reached}
        assert seen == wanted, (shard_id, len(seen), len(wanted))
        total += len(seen)
    return total


def strict_sim(rig: Rig, strict: bool) -> None:
    rig.sim.control.strict_iterators(strict)


@MODES
@pytest.mark.parametrize("form", ["iso", "3s"])
async def test_a_start_time_gives_exactly_what_arrived_from_it_on_every_shard(
    make_rig: Callable[..., Rig], strict: bool, form: str
) -> None:
    """`tail --from <ISO time>` and `--from 3s`, with a closed parent still in retention."""
    text = datetime.fromtimestamp(T0 - 25.5, UTC).isoformat() if form == "iso" else "3s"
    rig = make_rig(
        shards=2, rate=40.0, backlog_seconds=60.0, start=lambda now: parse_start(text, now=now)
    )
    strict_sim(rig, strict)
    rig.sim.control.split()  # the parent closes now; its children take what follows
    since_ms = rig.reader.start_at.at_ms
    assert since_ms is not None
    await rig.run(caught_up)
    assert check_exactly_from(rig, since_ms) > 0
    assert all(r.arrival * 1000 >= since_ms for r in rig.readings)
    assert len(rig.reader.shards) == 4  # two, one of them split in two
    assert rig.sim.counters.throttled == 0
    notices = [e for e in rig.events if isinstance(e, StateChanged) and "oldest" in e.detail]
    assert len(notices) == (1 if strict else 0)
    if strict:
        assert "starting at" in notices[0].detail and "calls" in notices[0].detail


def put_many(sim: Simulator, n: int, tag: int = 0) -> None:
    """``n`` records straight into the stream (one shard), now."""
    now = sim.clock.now_ms()
    for i in range(n):
        payload = {"epochMs": now, "assetId": 1111, "tagId": tag, "val": i, "label": "x" * 100}
        sim.stream.put("1_333_2222_1111_1754_889_21_108", orjson.dumps(payload), now)


async def drained_backlog(make_rig: Callable[..., Rig], strict: bool, *, calls: int = 100,
                          window: float = 60.0) -> Rig:
    """One shard, 60,000 records put at once, read until caught up; the budget allows
    ``calls`` per ``window`` seconds."""
    rig = make_rig(
        shards=1,
        rate=0.01,
        backlog_seconds=1.0,
        calls=calls,
        window=window,
        reader_options={"page_limit": DEFAULT_PAGE_LIMIT},
    )
    strict_sim(rig, strict)
    put_many(rig.sim, 60_000)
    await rig.run(caught_up, guard=60)
    return rig


def after_an_outage(rig: Rig) -> Callable[[Rig], bool]:
    """Every iterator expires, 600 new readings of tag 1 arrive: the returned condition
    holds once all of them were read."""
    before = len(rig.readings)
    rig.sim.control.advance_clock(rig.sim.settings.iterator_ttl + 1)
    put_many(rig.sim, 600, tag=1)

    def got_them(r: Rig) -> bool:
        return sum(1 for x in r.readings[before:] if x.tag_id == 1) >= 600

    return got_them


@MODES
async def test_after_every_iterator_expired_600_new_readings_arrive_once_in_few_calls(
    make_rig: Callable[..., Rig], strict: bool
) -> None:
    """One shard holding 60,000 older records; the reader was away longer than an iterator
    lives; 600 new readings: passthrough gets them in <= 4 GetRecords calls."""
    rig = await drained_backlog(make_rig, strict)
    assert len(rig.readings) >= 60_000
    got_them = after_an_outage(rig)
    calls_before = rig.sim.counters.endpoint_calls["records"]
    await rig.run(got_them, guard=60)
    calls = rig.sim.counters.endpoint_calls["records"] - calls_before
    rig.check_exactly_once()
    assert sum(1 for x in rig.readings if x.tag_id == 1) == 600
    assert not [e for e in rig.events if isinstance(e, Gap)]
    if strict:
        assert rig.reader.stats.duplicates_skipped >= 60_000  # the fallback re-reads them
    else:
        assert calls <= 4, calls
        assert rig.reader.stats.duplicates_skipped == 0


@MODES
async def test_a_60000_record_backlog_drains_in_12_calls_within_12_calls_per_6s(
    make_rig: Callable[..., Rig], strict: bool
) -> None:
    rig = await drained_backlog(make_rig, strict, calls=12, window=6.0)
    rig.check_exactly_once()
    assert len(rig.readings) >= 60_000
    assert rig.sim.counters.endpoint_calls["records"] <= 12
    assert rig.sim.counters.throttled == 0 and rig.client.stats.throttled == 0


async def test_faults_while_skipping_in_strict_mode_lose_and_double_nothing(
    make_rig: Callable[..., Rig],
) -> None:
    """The fallback re-reads 60,000 records after an expiry while calls fail at random."""
    rig = await drained_backlog(make_rig, True)
    got_them = after_an_outage(rig)
    kinds = [
        "http-502",
        "timeout-504",
        "expired-iterator",
        "invalid-iterator",
        "drop",
        "truncated-json",
        "throughput-exceeded",
        "internal-failure",
    ]
    rig.sim.control.random_faults(0.2, kinds, seed=5, delay=1.0)
    await rig.run(got_them, guard=120)
    rig.sim.control.clear_faults()
    assert rig.sim.stream.records_trimmed == 0  # retention (a day) did not pass meanwhile
    rig.check_exactly_once()
    assert sum(1 for x in rig.readings if x.tag_id == 1) == 600
    assert rig.reader.stats.duplicates_skipped >= 60_000
    assert sum(rig.sim.counters.faults.values()) > 0
