"""Envelope models: Kinesis names in, snake_case out, unknown fields kept, wrong shapes explained."""

from __future__ import annotations

import pytest

from flux_tui.api.errors import UnexpectedResponseError
from flux_tui.api.models import (
    DescribeStreamResponse,
    GetRecordsResponse,
    Shard,
    ShardIteratorResponse,
    parse_answer,
)
from flux_tui.base.errors import FluxError

DESCRIBE = {
    "StreamDescription": {
        "EncryptionType": "KMS",
        "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
        "HasMoreShards": False,
        "KeyId": "alias/aws/kinesis",
        "RetentionPeriodHours": 24,
        "Shards": [
            {
                "HashKeyRange": {
                    "EndingHashKey": "170141183460469231731687303715884105727",
                    "StartingHashKey": "0",
                },
                "SequenceNumberRange": {"StartingSequenceNumber": "4959" + "0" * 52},
                "ShardId": "shardId-000000000000",
            },
            {
                "ShardId": "shardId-000000000001",
                "ParentShardId": "shardId-000000000000",
                "AdjacentParentShardId": "shardId-000000000002",
                "HashKeyRange": {"EndingHashKey": "9", "StartingHashKey": "0"},
                "SequenceNumberRange": {"StartingSequenceNumber": "1", "EndingSequenceNumber": "9"},
            },
        ],
        "StreamARN": "arn:aws:kinesis:us-east-1:1:stream/flux-realtime-demo",
        "StreamCreationTimestamp": 1.652128223e9,
        "StreamModeDetails": {"StreamMode": "PROVISIONED"},
        "StreamName": "flux-realtime-demo",
        "StreamStatus": "ACTIVE",
    }
}


def test_describe_stream_reads_the_documented_answer() -> None:
    d = parse_answer(DescribeStreamResponse, DESCRIBE, what="describe").stream_description
    assert d.stream_name == "flux-realtime-demo" and d.stream_status == "ACTIVE"
    assert d.retention_period_hours == 24 and d.encryption_type == "KMS"
    assert d.stream_arn and d.stream_arn.endswith("flux-realtime-demo")
    assert d.stream_creation_timestamp == 1652128223.0 and d.has_more_shards is False
    first, second = d.shards
    assert not first.is_closed and second.is_closed
    assert first.hash_key_range and first.hash_key_range.starting_hash_key == "0"
    assert second.parents == ("shardId-000000000000", "shardId-000000000002")
    assert second.sequence_number_range and second.sequence_number_range.ending == "9"
    assert [s.shard_id for s in d.open_shards] == ["shardId-000000000000"]
    # Unknown fields are kept, not dropped.
    assert d.model_extra and d.model_extra["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


def test_snake_case_names_work_too() -> None:
    s = Shard(shard_id="a", parent_shard_id="p")
    assert s.shard_id == "a" and s.parents == ("p",) and not s.is_closed
    assert ShardIteratorResponse(shard_iterator="it").shard_iterator == "it"


def test_get_records_leaves_records_raw() -> None:
    rec = {
        "Data": "e30=",
        "SequenceNumber": "1",
        "PartitionKey": "k",
        "ApproximateArrivalTimestamp": 1.441215410867e9,
        "Extra": 1,
    }
    r = parse_answer(
        GetRecordsResponse,
        {"Records": [rec], "NextShardIterator": "n", "MillisBehindLatest": 5},
        what="records",
    )
    assert r.records[0] is not None and r.records == [rec]
    assert isinstance(r.records[0], dict)
    assert r.next_shard_iterator == "n" and r.millis_behind_latest == 5 and not r.shard_closed


def test_end_of_a_closed_shard() -> None:
    r = parse_answer(
        GetRecordsResponse,
        {
            "Records": [],
            "MillisBehindLatest": None,
            "ChildShards": [{"ShardId": "c", "ParentShards": ["p"]}],
        },
        what="records",
    )
    assert r.shard_closed and r.next_shard_iterator is None and r.millis_behind_latest == 0
    assert r.child_shards and r.child_shards[0].parent_shards == ["p"]


@pytest.mark.parametrize(
    ("model", "data", "where"),
    [
        (DescribeStreamResponse, {"Shards": []}, "StreamDescription"),
        (DescribeStreamResponse, {"StreamDescription": {"Shards": [{"NoId": 1}]}}, "ShardId"),
        (ShardIteratorResponse, {}, "ShardIterator"),
        (ShardIteratorResponse, [1, 2], "(top)"),
        (GetRecordsResponse, {"Records": "nope"}, "Records"),
        # Without "Records" an empty object would look like the end of a closed shard.
        (GetRecordsResponse, None, "Records"),
        (GetRecordsResponse, {"NextShardIterator": None}, "Records"),
    ],
)
def test_wrong_shapes_become_a_clear_flux_error(model: type, data: object, where: str) -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        parse_answer(model, data, what="get shard iterator", status=200)
    err = info.value
    assert isinstance(err, FluxError) and err.status == 200 and not err.retryable
    assert "get shard iterator" in str(err) and where in str(err)
    assert "pydantic" not in str(err).lower()
