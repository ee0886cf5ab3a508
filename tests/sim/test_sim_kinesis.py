"""Conformance of the in-memory Kinesis stream model (no HTTP): one test per behaviour."""

from __future__ import annotations

import base64
import hashlib
import itertools

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.sim.kinesis import MAX_HASH, KinesisFault, Stream, hash_key

T0 = 1_700_000_000_000  # ms


def make_stream(shards: int = 2, **kw: int) -> Stream:
    args = {"now_ms": T0, "seed": 3, "iterator_ttl_ms": 300_000, "retention_ms": 24 * 3600 * 1000}
    args.update(kw)
    return Stream("flux-realtime-demo", shards=shards, **args)  # type: ignore[arg-type]


def read_all(stream: Stream, shard_id: str, now_ms: int, kind: str = "TRIM_HORIZON") -> list[dict]:
    it = stream.iterator_for(shard_id, kind, now_ms)
    out: list[dict] = []
    while it:
        page = stream.get_records(it, 10_000, now_ms)
        out += page["Records"]
        if not page["Records"]:
            break
        it = page.get("NextShardIterator")
        now_ms += 1000  # stay under 5 reads a second
    return out


def test_hash_ranges_cover_the_key_space_without_gaps() -> None:
    stream = make_stream(shards=3)
    shards = sorted(stream.open_shards(), key=lambda s: s.start_hash)
    assert shards[0].start_hash == 0 and shards[-1].end_hash == MAX_HASH
    for a, b in itertools.pairwise(shards):
        assert a.end_hash + 1 == b.start_hash


def test_partition_key_goes_to_the_shard_owning_its_md5() -> None:
    stream = make_stream(shards=4)
    for key in ("1111", "2222", "abc", "1_333_2222_1111_1754_889_21_108"):
        shard_id, _ = stream.put(key, b"{}", T0)
        h = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
        assert h == hash_key(key)
        shard = stream.shards[shard_id]
        assert shard.start_hash <= h <= shard.end_hash


def test_sequence_numbers_are_long_decimals_growing_across_shards() -> None:
    stream = make_stream(shards=4)
    seqs = [stream.put(f"key-{i}", b"{}", T0 + i)[1] for i in range(50)]
    assert all(len(str(s)) == 56 for s in seqs)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_records_have_the_documented_shape() -> None:
    stream = make_stream(shards=1)
    stream.put("pk-1", b'{"val": 1}', T0 + 1234)
    rec = read_all(stream, "shardId-000000000000", T0 + 2000)[0]
    assert set(rec) == {
        "ApproximateArrivalTimestamp",
        "Data",
        "EncryptionType",
        "PartitionKey",
        "SequenceNumber",
    }
    assert rec["ApproximateArrivalTimestamp"] == pytest.approx((T0 + 1234) / 1000)
    assert base64.b64decode(rec["Data"]) == b'{"val": 1}'
    assert rec["PartitionKey"] == "pk-1" and rec["EncryptionType"] == "KMS"


def test_trim_horizon_reads_everything_latest_only_new_records() -> None:
    stream = make_stream(shards=1)
    sid = "shardId-000000000000"
    for i in range(5):
        stream.put("k", b"%d" % i, T0 + i)
    latest = stream.iterator_for(sid, "LATEST", T0 + 10)
    stream.put("k", b"new", T0 + 11)
    assert [base64.b64decode(r["Data"]) for r in read_all(stream, sid, T0 + 20)] == [
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
        b"new",
    ]
    page = stream.get_records(latest, 100, T0 + 20)
    assert [base64.b64decode(r["Data"]) for r in page["Records"]] == [b"new"]


def test_at_and_after_sequence_number() -> None:
    stream = make_stream(shards=1)
    sid = "shardId-000000000000"
    seqs = [stream.put("k", b"%d" % i, T0 + i)[1] for i in range(3)]
    at = stream.get_records(
        stream.iterator_for(sid, "AT_SEQUENCE_NUMBER", T0, str(seqs[1])), 10, T0
    )
    after = stream.get_records(
        stream.iterator_for(sid, "AFTER_SEQUENCE_NUMBER", T0, str(seqs[1])), 10, T0
    )
    assert [r["SequenceNumber"] for r in at["Records"]] == [str(seqs[1]), str(seqs[2])]
    assert [r["SequenceNumber"] for r in after["Records"]] == [str(seqs[2])]


@pytest.mark.parametrize("text", ["", " 12", "1_2", "\u0663", "\u00b2", "-1", "1e3"])
def test_a_starting_sequence_number_is_ascii_digits_only(text: str) -> None:
    stream = make_stream(shards=1)
    stream.put("k", b"x", T0)
    with pytest.raises(KinesisFault) as err:
        stream.iterator_for("shardId-000000000000", "AT_SEQUENCE_NUMBER", T0, text)
    assert err.value.type == "InvalidArgumentException"


def test_limit_pages_and_next_iterator_continues_exactly() -> None:
    stream = make_stream(shards=1)
    for i in range(25):
        stream.put("k", b"%d" % i, T0)
    it = stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0)
    seen = []
    for n in range(3):
        page = stream.get_records(it, 10, T0 + n * 1000)
        seen += [r["SequenceNumber"] for r in page["Records"]]
        it = page["NextShardIterator"]
    assert len(seen) == 25 == len(set(seen))


@pytest.mark.parametrize("limit", [0, 10_001, -1, "100", 1.5, True, None])
def test_limit_outside_1_to_10000_is_invalid_argument(limit: object) -> None:
    stream = make_stream(shards=1)
    it = stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0)
    with pytest.raises(KinesisFault) as err:
        stream.get_records(it, limit, T0)
    assert err.value.type == "InvalidArgumentException"
    assert "iterator" not in err.value.message.lower()  # it is about the limit, not the iterator


def test_millis_behind_latest_is_true_to_the_backlog() -> None:
    stream = make_stream(shards=1)
    for i in range(10):
        stream.put("k", b"x", T0 + i * 1000)
    now = T0 + 20_000
    it = stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", now)
    page = stream.get_records(it, 4, now)
    assert page["MillisBehindLatest"] == now - (T0 + 4000)  # the oldest unread record's age
    page = stream.get_records(page["NextShardIterator"], 100, now + 1000)
    assert page["MillisBehindLatest"] == 0
    assert stream.get_records(page["NextShardIterator"], 100, now + 2000)["Records"] == []


def test_iterators_expire_after_the_ttl() -> None:
    stream = make_stream(shards=1)
    it = stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0)
    stream.get_records(it, 1, T0 + 300_000)  # still valid at exactly 5 minutes
    with pytest.raises(KinesisFault) as err:
        stream.get_records(it, 1, T0 + 300_001)
    assert err.value.type == "ExpiredIteratorException"


@pytest.mark.parametrize("forge", ["garbage", "", 42, "tampered"])
def test_forged_iterators_are_invalid_argument_about_the_iterator(forge: object) -> None:
    stream = make_stream(shards=1)
    if forge == "tampered":
        raw = base64.b64decode(stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0))
        body = orjson.loads(raw[16:])
        body["a"] = "0"
        forge = base64.b64encode(raw[:16] + orjson.dumps(body)).decode()
    with pytest.raises(KinesisFault) as err:
        stream.get_records(forge, 1, T0)
    assert err.value.type == "InvalidArgumentException" and "iterator" in err.value.message.lower()


def test_iterators_of_another_seed_are_rejected() -> None:
    it = make_stream(seed=4).iterator_for("shardId-000000000000", "TRIM_HORIZON", T0)
    with pytest.raises(KinesisFault):
        make_stream(seed=3).get_records(it, 1, T0)


def test_five_reads_a_second_per_shard_then_throughput_exceeded() -> None:
    stream = make_stream(shards=2)
    it = stream.iterator_for("shardId-000000000000", "LATEST", T0)
    other = stream.iterator_for("shardId-000000000001", "LATEST", T0)
    for i in range(5):
        it = stream.get_records(it, 1, T0 + i * 10)["NextShardIterator"]
    with pytest.raises(KinesisFault) as err:
        stream.get_records(it, 1, T0 + 100)
    assert err.value.type == "ProvisionedThroughputExceededException"
    stream.get_records(other, 1, T0 + 100)  # another shard has its own budget
    stream.get_records(it, 1, T0 + 1001)  # a second later the shard reads again


def test_a_very_large_read_blocks_the_shard_for_the_next_seconds() -> None:
    stream = make_stream(shards=1)
    blob = b"x" * 800_000
    for _ in range(8):  # 6.4 MB: three seconds of a shard's 2 MiB/s
        stream.put("k", blob, T0)
    it = stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0)
    page = stream.get_records(it, 10_000, T0)
    with pytest.raises(KinesisFault):
        stream.get_records(page["NextShardIterator"], 1, T0 + 1500)
    stream.get_records(page["NextShardIterator"], 1, T0 + 3000)


def test_a_page_never_exceeds_10_mib() -> None:
    stream = make_stream(shards=1, read_bytes_per_second=0)
    for _ in range(20):
        stream.put("k", b"x" * 1_000_000, T0)
    page = stream.get_records(
        stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0), 10_000, T0
    )
    assert 0 < sum(len(base64.b64decode(r["Data"])) for r in page["Records"]) <= 10 * 1024 * 1024
    assert page["MillisBehindLatest"] >= 0 and page["NextShardIterator"]


def test_retention_trims_old_records_and_trim_horizon_moves() -> None:
    stream = make_stream(shards=1, retention_ms=3_600_000)
    stream.put("k", b"old", T0)
    stream.put("k", b"new", T0 + 3_000_000)
    stream.trim(T0 + 3_600_001)
    assert [
        base64.b64decode(r["Data"])
        for r in read_all(stream, "shardId-000000000000", T0 + 3_600_001)
    ] == [b"new"]


def test_split_closes_the_parent_and_children_halve_its_range() -> None:
    stream = make_stream(shards=1)
    low, high = stream.split("shardId-000000000000", T0 + 10)
    parent = stream.shards["shardId-000000000000"]
    a, b = stream.shards[low], stream.shards[high]
    assert not parent.is_open and parent.ending_seq is not None
    assert a.parent == b.parent == parent.shard_id and a.adjacent_parent is None
    assert (a.start_hash, a.end_hash + 1, b.end_hash) == (0, b.start_hash, MAX_HASH)
    assert b.start_hash == (MAX_HASH + 1) // 2
    desc = parent.describe()["SequenceNumberRange"]
    assert int(desc["EndingSequenceNumber"]) > int(desc["StartingSequenceNumber"])


def test_merge_gives_one_child_with_parent_and_adjacent_parent() -> None:
    stream = make_stream(shards=3)
    child = stream.merge("shardId-000000000000", "shardId-000000000001", T0)
    shard = stream.shards[child]
    assert (shard.parent, shard.adjacent_parent) == ("shardId-000000000000", "shardId-000000000001")
    assert shard.describe()["AdjacentParentShardId"] == "shardId-000000000001"
    assert (
        shard.start_hash == 0
        and shard.end_hash + 1 == stream.shards["shardId-000000000002"].start_hash
    )
    with pytest.raises(KinesisFault):
        stream.merge(child, "shardId-000000000000", T0)  # closed shards cannot merge
    with pytest.raises(KinesisFault):
        make_stream(shards=3).merge(
            "shardId-000000000000", "shardId-000000000002", T0
        )  # not adjacent


def test_closed_parent_read_to_its_end_gives_no_next_iterator_and_child_shards() -> None:
    stream = make_stream(shards=1)
    stream.put("k", b"before", T0)
    low, high = stream.split("shardId-000000000000", T0 + 1)
    shard_id, _ = stream.put("k", b"after", T0 + 2)
    assert shard_id in (low, high)  # new records only go to open shards
    page = stream.get_records(
        stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0 + 3), 100, T0 + 3
    )
    assert [base64.b64decode(r["Data"]) for r in page["Records"]] == [b"before"]
    assert "NextShardIterator" not in page
    assert {c["ShardId"] for c in page["ChildShards"]} == {low, high}
    assert all(c["ParentShards"] == ["shardId-000000000000"] for c in page["ChildShards"])


def test_closed_parent_paged_keeps_its_iterator_until_the_last_record() -> None:
    stream = make_stream(shards=1)
    for i in range(3):
        stream.put("k", b"%d" % i, T0)
    stream.split("shardId-000000000000", T0 + 1)
    first = stream.get_records(
        stream.iterator_for("shardId-000000000000", "TRIM_HORIZON", T0), 2, T0
    )
    assert first["NextShardIterator"] and "ChildShards" not in first
    last = stream.get_records(first["NextShardIterator"], 2, T0 + 1000)
    assert len(last["Records"]) == 1 and "NextShardIterator" not in last


def test_closed_shards_stay_listed_until_retention_ends() -> None:
    stream = make_stream(shards=1, retention_ms=3_600_000)
    stream.put("k", b"x", T0)
    stream.split("shardId-000000000000", T0 + 1)
    stream.trim(T0 + 1_000_000)
    assert "shardId-000000000000" in stream.shards
    stream.trim(T0 + 3_700_000)
    assert "shardId-000000000000" not in stream.shards
    assert stream.split("shardId-000000000001", T0 + 3_700_001) == (
        "shardId-000000000003",
        "shardId-000000000004",
    )


def test_describe_pages_by_page_size_with_has_more_shards() -> None:
    stream = make_stream(shards=5)
    first = stream.describe(2, None, 24)["StreamDescription"]
    assert [s["ShardId"] for s in first["Shards"]] == [
        "shardId-000000000000",
        "shardId-000000000001",
    ]
    assert first["HasMoreShards"] is True
    rest = stream.describe(10, "shardId-000000000001", 24)["StreamDescription"]
    assert len(rest["Shards"]) == 3 and rest["HasMoreShards"] is False


def test_same_seed_same_iterators_and_sequence_numbers() -> None:
    a, b = make_stream(), make_stream()
    assert [a.put("k", b"x", T0)[1] for _ in range(3)] == [
        b.put("k", b"x", T0)[1] for _ in range(3)
    ]
    assert a.iterator_for("shardId-000000000000", "LATEST", T0) == b.iterator_for(
        "shardId-000000000000", "LATEST", T0
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("put"), st.integers(0, 30)),
            st.tuples(st.just("split"), st.integers(0, 10)),
            st.tuples(st.just("merge"), st.integers(0, 10)),
        ),
        max_size=60,
    )
)
def test_any_resharding_history_reads_back_exactly_once_in_key_order(
    ops: list[tuple[str, int]],
) -> None:
    """Reading every shard parents-first gives each record once, each key's records in order."""
    stream = make_stream(shards=2)
    now = T0
    written: dict[str, list[int]] = {}
    for op, n in ops:
        now += 10
        opened = stream.open_shards()
        if op == "put":
            key = f"key-{n}"
            written.setdefault(key, []).append(stream.put(key, key.encode(), now)[1])
        elif op == "split":
            stream.split(opened[n % len(opened)].shard_id, now)
        elif len(opened) > 1:
            i = n % (len(opened) - 1)
            stream.merge(opened[i].shard_id, opened[i + 1].shard_id, now)
    read: dict[str, list[int]] = {}
    done: set[str] = set()
    pending = sorted(stream.shards)
    while pending:  # parents before children, as a consumer keeping per-key order must
        ready = [
            s
            for s in pending
            if all(
                p in done for p in (stream.shards[s].parent, stream.shards[s].adjacent_parent) if p
            )
        ]
        for shard_id in ready:
            now += 1000
            for rec in read_all(stream, shard_id, now):
                read.setdefault(rec["PartitionKey"], []).append(int(rec["SequenceNumber"]))
            done.add(shard_id)
            pending.remove(shard_id)
    assert read == written


def test_at_timestamp_starts_at_the_first_record_that_arrived_at_or_after_it() -> None:
    stream = make_stream(shards=1)
    sid = "shardId-000000000000"
    for i in range(5):
        stream.put("k", b"%d" % i, T0 + 1000 * i)
    it = stream.iterator_for(sid, "AT_TIMESTAMP", T0 + 10_000, timestamp=(T0 + 2000) / 1000)
    page = stream.get_records(it, 10, T0 + 10_000)
    assert [base64.b64decode(r["Data"]) for r in page["Records"]] == [b"2", b"3", b"4"]
    it = stream.iterator_for(sid, "AT_TIMESTAMP", T0 + 10_000, timestamp=(T0 + 1500) / 1000)
    assert base64.b64decode(stream.get_records(it, 1, T0 + 10_000)["Records"][0]["Data"]) == b"2"


def test_at_timestamp_on_a_closed_shard_past_its_records_ends_it_at_once() -> None:
    stream = make_stream(shards=1)
    stream.put("k", b"old", T0)
    parent = "shardId-000000000000"
    stream.split(parent, T0 + 1000)
    it = stream.iterator_for(parent, "AT_TIMESTAMP", T0 + 5000, timestamp=(T0 + 2000) / 1000)
    page = stream.get_records(it, 10, T0 + 5000)
    assert page["Records"] == [] and "NextShardIterator" not in page and page["ChildShards"]


@pytest.mark.parametrize(
    ("timestamp", "kind"),
    [
        (None, "InvalidArgumentException"),  # no Timestamp
        ((T0 + 60_000) / 1000, "InvalidArgumentException"),  # in the future
        ("2023-11-14", "SerializationException"),  # not a number
        (True, "SerializationException"),
    ],
)
def test_at_timestamp_errors_are_kinesis_own(timestamp: object, kind: str) -> None:
    stream = make_stream(shards=1)
    with pytest.raises(KinesisFault) as err:
        stream.iterator_for("shardId-000000000000", "AT_TIMESTAMP", T0, timestamp=timestamp)
    assert err.value.type == kind


def test_a_sequence_number_of_another_shard_or_stream_is_invalid() -> None:
    stream = make_stream(shards=2)
    with pytest.raises(KinesisFault) as err:
        stream.iterator_for("shardId-000000000000", "AFTER_SEQUENCE_NUMBER", T0, "1" * 70)
    assert "did not come from this stream" in err.value.message


def test_prepended_history_goes_before_everything_in_arrival_order() -> None:
    stream = make_stream(shards=1, now_ms=T0 - 60_000)
    stream.put("k", b"now", T0)
    stream.prepend([(T0 - 30_000, "k", b"a"), (T0 - 20_000, "k", b"b")])
    records = read_all(stream, "shardId-000000000000", T0)
    assert [base64.b64decode(r["Data"]) for r in records] == [b"a", b"b", b"now"]
    seqs = [int(r["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and seqs[0] >= stream.shards["shardId-000000000000"].starting_seq
