"""The reader's pure decisions: lineage, next shard, idle spacing, page limit."""

from __future__ import annotations

import math
import random

import pytest

from flux_tui.api import errors
from flux_tui.base.errors import FluxError
from flux_tui.base.events import FeedProblem, FeedState, Throttled
from flux_tui.feed.schedule import (
    BACKOFF_CAP,
    MAX_DRAIN_IDLE,
    MAX_IDLE_INTERVAL,
    SHARD_CALL_GAP,
    Health,
    OpenPlan,
    PageLimit,
    ShardTrack,
    TrackStatus,
    drop_delivered_subs,
    fill_seconds,
    idle_interval,
    info,
    lineage_order,
    note_delivered,
    open_plan,
    parents_done,
    pick_next,
    release_children,
    retention_gap,
    trim_gap,
    undelivered,
)


def tracks(*specs: tuple[str, tuple[str, ...], TrackStatus]) -> dict[str, ShardTrack]:
    return {sid: ShardTrack(sid, parents, status=status) for sid, parents, status in specs}


W, R, F = TrackStatus.WAITING, TrackStatus.READING, TrackStatus.FINISHED


def test_children_wait_for_every_parent() -> None:
    t = tracks(("a", (), R), ("b", (), F), ("m", ("a", "b"), W), ("x", ("expired",), W))
    assert release_children(t) == [t["x"]]  # an unknown parent (expired) does not block
    assert t["m"].status is W and not parents_done(t["m"], t)
    t["a"].status = F
    assert release_children(t) == [t["m"]] and t["m"].status is R


@pytest.mark.parametrize("done", [TrackStatus.FINISHED, TrackStatus.SKIPPED, TrackStatus.GONE])
def test_done_states_release_children(done: TrackStatus) -> None:
    t = tracks(("p", (), done), ("c", ("p",), W))
    assert release_children(t) == [t["c"]]


def test_lineage_order_puts_parents_first() -> None:
    t = tracks(("m", ("a", "b"), W), ("c", ("m",), W), ("b", (), F), ("a", (), F))
    order = [x.shard_id for x in lineage_order(t.values())]
    assert order.index("a") < order.index("m") and order.index("b") < order.index("m")
    assert order.index("m") < order.index("c") and sorted(order) == ["a", "b", "c", "m"]


def test_lineage_order_survives_a_cycle() -> None:
    t = tracks(("a", ("b",), W), ("b", ("a",), W))
    assert sorted(x.shard_id for x in lineage_order(t.values())) == ["a", "b"]


def test_pick_next_prefers_due_then_furthest_behind() -> None:
    t = tracks(("a", (), R), ("b", (), R), ("c", (), R), ("d", (), W))
    for x in t.values():
        x.iterator, x.last_call = "it", 10.0
    t["a"].behind = t["a"].caught_up = False  # caught up: due after the idle interval
    t["b"].millis_behind, t["c"].millis_behind = 500, 9000
    best, due = pick_next(t.values(), idle=5.0)
    assert best is t["c"] and due == pytest.approx(10.0 + SHARD_CALL_GAP)
    t["c"].in_flight = t["b"].hold = True
    best, due = pick_next(t.values(), idle=5.0)
    assert best is t["a"] and due == 15.0
    best, due = pick_next(t.values(), idle=5.0, not_before=99.0)
    assert due == 99.0


def test_a_shard_backed_off_waits_for_its_retry_time() -> None:
    track = ShardTrack("a", status=R, iterator="it", last_call=0.0, retry_at=7.0)
    assert track.due_at(idle=1.0) == 7.0


def test_idle_interval_keeps_thirty_percent_headroom() -> None:
    # 4 shards on 100 calls/60 s: 4 polls every 3.43 s is 70 % of the budget
    interval = idle_interval(4, 100, 60.0, floor=1.0)
    assert 4 / interval * 60 == pytest.approx(70.0)
    assert idle_interval(1, 1000, 1.0, floor=2.0) == 2.0  # never faster than the floor
    assert idle_interval(50, 10, 60.0, floor=1.0) == MAX_IDLE_INTERVAL  # iterators must live
    assert idle_interval(0, 100, 60.0, floor=1.5) == 1.5


def test_page_limit_halves_and_grows_within_bounds() -> None:
    limit = PageLimit(1000, 100, 2000)
    assert limit.shrink() and limit.value == 500
    assert limit.shrink() and limit.shrink() and limit.value == 125
    assert limit.shrink() and limit.value == 100 and not limit.shrink()
    assert limit.grow() and limit.value == 150
    while limit.grow():
        pass
    assert limit.value == 2000
    assert PageLimit(5, 1, 3).value == 3 and PageLimit(1, 1, 1).grow() is False
    with pytest.raises(ValueError):
        PageLimit(10, 0, 10)


def test_info_snapshot() -> None:
    track = ShardTrack("a", ("p",), status=R, caught_up=True, last_seq=10**60, readings=3)
    snap = info(track)
    assert snap.status == "caught up" and snap.last_seq == str(10**60) and snap.parents == ("p",)


def test_health_backs_off_longer_each_time_with_a_cap() -> None:
    health = Health(random.Random(1))
    boom = errors.GatewayServerError("HTTP 500: server error", 500)
    delays = [health.failure(boom, now=0.0) for _ in range(10)]
    assert all(0.5 * 2**i <= d <= 2**i for i, d in enumerate(delays[:5]))
    assert max(delays) <= BACKOFF_CAP and health.backoff_until == delays[-1]
    assert health.trouble is FeedState.OFFLINE  # persisting after the client's own retries
    health.success()
    assert (health.failures, health.backoff_until, health.trouble) == (0, 0.0, None)


@pytest.mark.parametrize(
    ("exc", "state"),
    [
        (errors.ThrottledError("Too Many Requests", 429), FeedState.THROTTLED),
        (errors.ConnectError("refused"), FeedState.OFFLINE),
        (errors.TimeoutError("slow"), FeedState.RECONNECTING),
    ],
)
def test_health_first_failure_state(exc: FluxError, state: FeedState) -> None:
    health = Health()
    health.failure(exc, now=5.0)
    assert health.trouble is state and health.backoff_until > 5.0


def test_health_reads_client_notices() -> None:
    health = Health()
    assert health.notice(Throttled(1.0)) and health.trouble is FeedState.THROTTLED
    assert health.notice(FeedProblem(errors.ConnectError("x"), 1.0))
    assert health.trouble is FeedState.RECONNECTING  # the client is still retrying
    assert not health.notice("something else")


def test_positions_compare_sequence_numbers_as_integers() -> None:
    track = ShardTrack("a", status=R, opened=True, start_kind="LATEST", last_seq=995)
    records = [{"SequenceNumber": str(n)} for n in (990, 995, 1000, 1005)]
    kept, skipped = undelivered(track, records)
    assert [r["SequenceNumber"] for r in kept] == ["1000", "1005"] and skipped == 2
    note_delivered(track, kept)
    assert track.last_seq == 1005
    plan = open_plan(track, latest=True, refused={"AFTER_SEQUENCE_NUMBER"}.__contains__)
    assert plan == OpenPlan("TRIM_HORIZON", fallback=True) and track.check_gap and track.skipping
    assert trim_gap(track, [{"SequenceNumber": "1010"}], 0) == (None, None)
    assert not track.check_gap


def never(_: str) -> bool:
    return False


def always(_: str) -> bool:
    return True


def test_open_plan_for_new_and_empty_latest_shards() -> None:
    assert open_plan(ShardTrack("a", initial=True), True, never) == OpenPlan("LATEST")
    assert open_plan(ShardTrack("b", initial=False), True, never) == OpenPlan("TRIM_HORIZON")
    empty_tail = ShardTrack("c", opened=True, start_kind="LATEST")
    assert open_plan(empty_tail, True, never) == OpenPlan("LATEST", gap=True)


def test_open_plan_resumes_after_the_last_record_and_at_a_partly_delivered_one() -> None:
    track = ShardTrack("a", opened=True, start_kind="LATEST", last_seq=10**40)
    assert open_plan(track, True, never) == OpenPlan("AFTER_SEQUENCE_NUMBER", sequence=10**40)
    assert track.check_retention and not track.skipping
    track.last_sub = 2
    assert open_plan(track, True, never) == OpenPlan("AT_SEQUENCE_NUMBER", sequence=10**40)


def test_open_plan_starts_at_a_time_or_falls_back_to_skipping_by_arrival() -> None:
    track = ShardTrack("a", initial=True, since_ms=1_700_000_000_500)
    assert open_plan(track, False, never) == OpenPlan("AT_TIMESTAMP", timestamp=1_700_000_000.5)
    assert open_plan(track, False, always) == OpenPlan("TRIM_HORIZON", fallback=True)
    assert track.skipping and track.fallback and not track.check_gap
    records = [
        {"SequenceNumber": str(n), "ApproximateArrivalTimestamp": t}
        for n, t in ((1, 1_700_000_000.0), (2, 1_700_000_000.499), (3, 1_700_000_000.5), (4, 1.8e9))
    ]
    kept, skipped = undelivered(track, records)
    assert [r["SequenceNumber"] for r in kept] == ["3", "4"] and skipped == 2
    note_delivered(track, kept)
    assert track.since_ms is None and track.last_seq == 4  # by sequence from now on


def test_a_partly_delivered_record_gives_only_its_remaining_sub_records() -> None:
    track = ShardTrack("a", last_seq=7, last_sub=1)
    records = [{"SequenceNumber": n} for n in ("6", "7", "8")]
    kept, skipped = undelivered(track, records)
    assert [r["SequenceNumber"] for r in kept] == ["7", "8"] and skipped == 1

    class R:
        def __init__(self, seq: str, sub: int) -> None:
            self.seq, self.sub = seq, sub

    readings = [R("7", 0), R("7", 1), R("7", 2), R("8", 0)]
    left = drop_delivered_subs(track, readings)
    assert [(r.seq, r.sub) for r in left] == [("7", 2), ("8", 0)] and track.last_sub is None


def test_retention_gap_only_when_the_last_record_is_older_than_retention() -> None:
    track = ShardTrack("a", last_seq=5, last_arrival_ms=1_000, check_retention=True)
    assert retention_gap(track, [], 0, 10_000, 5_000) is None and not track.check_retention
    track.check_retention = True
    first = [{"SequenceNumber": "9", "ApproximateArrivalTimestamp": 30.0}]
    assert retention_gap(track, first, 0, 10_000, 2_000) == (1_000, 30_000)  # server's now
    track.check_retention = True
    first = [{"SequenceNumber": "9", "ApproximateArrivalTimestamp": 3.0}]
    assert retention_gap(track, first, 0, 10_000, 90_000) is None  # our clock is off


def test_while_others_drain_a_caught_up_shard_waits_for_about_a_full_page() -> None:
    behind = ShardTrack("a", status=R, iterator="i", behind=True, last_call=10.0)
    live = ShardTrack("b", status=R, iterator="i", behind=False, last_call=10.0, fill_seconds=8.0)
    assert live.due_at(1.0, draining=False) == 11.0
    assert live.due_at(1.0, draining=True) == 18.0
    live.fill_seconds = math.inf
    assert live.due_at(1.0, draining=True) == 10.0 + MAX_DRAIN_IDLE
    best, due = pick_next([behind, live], idle=1.0)
    assert best is behind and due == 10.0 + SHARD_CALL_GAP
    records = [{"ApproximateArrivalTimestamp": t} for t in (100.0, 100.5, 101.0)]
    assert fill_seconds(records, 10_000) == 5000.0 and fill_seconds(records[:1], 10) == math.inf
