"""Decoder: every Data format, both payload spellings, every bad-record kind."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.feed.decoder import arrival_seconds, decode_data, decode_records, timestamp_ms
from flux_tui.feed.kpl import KPL_MAGIC, KplError, build_aggregate, parse_aggregate
from flux_tui.feed.types import Reading

CURRENT = {
    "epochMs": 1652128223000,
    "registerId": 416,
    "val": 2,
    "rtms": 1652128223567,
    "pk": "1_333_2222_1111_1754_889_21_108",
    "tagId": 889,
    "label": "Valve Loaded Position",
    "tagName": "register_tag__loading_valve_#4_status",
    "orgId": 333,
    "siteId": 2222,
    "assetId": 1111,
}
OLDER = {
    "@timestamp": "2022-05-09T20:30:23.000Z",
    "register_id": 416,
    "asset_id": 1111,
    "tag_id": "889",
    "tag_name": "register_tag__loading_valve_#4_status",
    "neptune_id": "n-17",
    "val": 2.5,
}
SEQ = "49590338271490256608559692538361571095921575989136588898"


def rec(raw: bytes, seq: str = SEQ, arrival: object = 1.441215410867e9) -> dict:
    return {
        "Data": base64.b64encode(raw).decode(),
        "SequenceNumber": seq,
        "ApproximateArrivalTimestamp": arrival,
        "PartitionKey": "pk",
    }


def one(raw: bytes) -> tuple[list[Reading], list]:
    return decode_records("shardId-000000000000", [rec(raw)])


def test_current_spelling_object_fast_path() -> None:
    readings, errors = one(orjson.dumps(CURRENT))
    assert errors == []
    (r,) = readings
    assert isinstance(r, Reading)
    assert r.shard == "shardId-000000000000" and r.seq == SEQ and r.sub == 0
    assert r.arrival == pytest.approx(1441215410.867)
    assert (r.epoch_ms, r.rtms) == (1652128223000, 1652128223567)
    assert (r.org_id, r.site_id, r.asset_id, r.tag_id, r.register_id) == (333, 2222, 1111, 889, 416)
    assert r.tag_name == "register_tag__loading_valve_#4_status"
    assert r.label == "Valve Loaded Position"
    assert r.val == 2
    assert r.payload == CURRENT


def test_older_spelling_maps_to_the_same_fields_and_keeps_unknown_ones() -> None:
    readings, errors = one(orjson.dumps(OLDER))
    assert errors == []
    (r,) = readings
    assert r.epoch_ms == 1652128223000
    assert r.asset_id == 1111 and r.tag_id == 889 and r.register_id == 416
    assert r.tag_name == "register_tag__loading_valve_#4_status"
    assert r.label == "" and r.rtms is None and r.val == 2.5
    assert r.payload["neptune_id"] == "n-17" and r.payload["tag_id"] == "889"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2022-05-09T20:30:23.000Z", 1652128223000),
        ("2022-05-09T20:30:23+00:00", 1652128223000),
        ("2022-05-09T22:30:23.250+02:00", 1652128223250),
        ("2022-05-09T20:30:23", 1652128223000),  # naive: UTC
        (1652128223, 1652128223000),  # epoch seconds
        (1652128223.5, 1652128223500),
        (1652128223000, 1652128223000),  # epoch milliseconds
        ("1652128223000", 1652128223000),
        ("yesterday", None),
        (None, None),
    ],
)
def test_older_timestamp_forms(stamp: object, expected: int | None) -> None:
    assert timestamp_ms(stamp) == expected
    readings, _ = one(orjson.dumps({"@timestamp": stamp, "tag_id": "1", "val": 1}))
    assert readings[0].epoch_ms == expected


def test_unknown_fields_and_odd_values_are_kept() -> None:
    payload = dict(CURRENT, extra={"nested": [1, 2]}, val=None, label="<b>[red]x</b>")
    (r,), _ = one(orjson.dumps(payload))
    assert r.payload["extra"] == {"nested": [1, 2]}
    assert r.val is None
    assert r.label == "<b>[red]x</b>"  # kept as given; escaping is the UI's job


def test_non_canonical_types_take_the_careful_path() -> None:
    payload = dict(CURRENT, epochMs="1652128223000", label=None, tagName=7, rtms=1.5e12)
    (r,), errors = one(orjson.dumps(payload))
    assert errors == []
    assert r.epoch_ms == 1652128223000 and r.rtms == 1500000000000
    assert r.label == "" and r.tag_name == "7"


def test_array_of_objects_numbers_subs_and_rejects_non_objects() -> None:
    raw = orjson.dumps([CURRENT, dict(CURRENT, val=3), 5])
    readings, errors = one(raw)
    assert [(r.sub, r.val) for r in readings] == [(0, 2), (1, 3)]
    assert len(errors) == 1 and "element 2" in errors[0].reason and errors[0].raw == b"5"
    assert errors[0].seq == SEQ


def test_ndjson() -> None:
    raw = orjson.dumps(CURRENT) + b"\n\n" + orjson.dumps(OLDER) + b"\r\n" + b"{oops\n"
    readings, errors = one(raw)
    assert [r.sub for r in readings] == [0, 1]
    assert readings[1].tag_id == 889
    assert (
        len(errors) == 1 and errors[0].raw == b"{oops" and errors[0].reason.startswith("not JSON")
    )


@pytest.mark.parametrize(
    "inner",
    [
        orjson.dumps(CURRENT),
        orjson.dumps([CURRENT, CURRENT]),
        orjson.dumps(CURRENT) + b"\n" + orjson.dumps(CURRENT) + b"\n",
    ],
    ids=["object", "array", "ndjson"],
)
def test_gzip_of_each_json_form(inner: bytes) -> None:
    plain, _ = one(inner)
    readings, errors = one(gzip.compress(inner))
    assert errors == []
    assert readings == plain and len(readings) >= 1


def test_kpl_aggregate_sub_records_share_the_sequence_number() -> None:
    subs = [("pk-a", orjson.dumps(dict(CURRENT, val=i))) for i in range(3)]
    subs.append(("pk-b", gzip.compress(orjson.dumps(OLDER))))
    readings, errors = one(build_aggregate(subs))
    assert errors == []
    assert [(r.seq, r.sub) for r in readings] == [(SEQ, 0), (SEQ, 1), (SEQ, 2), (SEQ, 3)]
    assert [r.val for r in readings] == [0, 1, 2, 2.5]


def test_kpl_parser_reads_keys_and_skips_unknown_fields() -> None:
    agg = build_aggregate([("a", b"1"), ("b", b"2"), ("a", b"3")])
    parts = parse_aggregate(agg)
    assert [(p.partition_key, p.data) for p in parts] == [("a", b"1"), ("b", b"2"), ("a", b"3")]
    # an unknown varint field (number 9) in the aggregate is ignored, as protobuf readers do
    body = agg[4:-16] + bytes([9 << 3, 1])
    assert len(parse_aggregate(KPL_MAGIC + body + hashlib.md5(body).digest())) == 3


def test_kpl_bad_md5_is_a_decode_error_with_raw_kept() -> None:
    agg = bytearray(build_aggregate([("a", orjson.dumps(CURRENT))]))
    agg[-1] ^= 0xFF
    readings, errors = one(bytes(agg))
    assert readings == []
    assert len(errors) == 1 and "MD5" in errors[0].reason and errors[0].raw == bytes(agg)


@pytest.mark.parametrize(
    "body",
    [
        b"\x1a\x05\x1a\x03ab",  # record entry runs past its end
        b"\x1a\x02\x08\x05",  # partition key index 5 with an empty table
        b"\x1a\x02\x08\x00",  # no data field
        b"\x0b",  # wire type 3 (group)
        b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",  # varint too long
    ],
)
def test_kpl_malformed_protobuf(body: bytes) -> None:
    agg = KPL_MAGIC + body + hashlib.md5(body).digest()
    with pytest.raises(KplError):
        parse_aggregate(agg)
    readings, errors = one(agg)
    assert readings == [] and errors[0].reason.startswith("bad KPL aggregate")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json at all", "not JSON"),
        (b'{"a": 1', "not JSON"),
        (b"42", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'{"label": "\xff\xfe"}', "invalid UTF-8"),
        (b"\x1f\x8b\x08\x00garbage", "bad gzip"),
        (gzip.compress(b'{"a": 1}', mtime=0)[:-6], "bad gzip"),
        (b"", "empty record"),
        (b"   \n ", "empty record"),
        (KPL_MAGIC + b"\x00", "bad KPL aggregate"),
    ],
)
def test_bad_records_become_decode_errors_with_raw_bytes(raw: bytes, reason: str) -> None:
    readings, errors = one(raw)
    assert readings == []
    assert len(errors) == 1
    err = errors[0]
    assert err.reason.startswith(reason), err.reason
    assert (err.shard, err.seq, err.raw) == ("shardId-000000000000", SEQ, raw)
    assert err.arrival == pytest.approx(1441215410.867)


def test_bad_base64_and_malformed_records() -> None:
    records = [
        {"Data": "!!!not base64!!!", "SequenceNumber": "1", "ApproximateArrivalTimestamp": 1.0},
        {"Data": "eyJ", "SequenceNumber": "2", "ApproximateArrivalTimestamp": 1.0},  # bad padding
        {"SequenceNumber": "3", "ApproximateArrivalTimestamp": 1.0},
        {"Data": 12, "SequenceNumber": "4"},
        {"Data": base64.b64encode(orjson.dumps(CURRENT)).decode()},
        "not a record",
    ]
    readings, errors = decode_records("s", records)
    assert readings == []
    reasons = [(e.seq, e.reason.split(":")[0]) for e in errors]
    assert reasons == [
        ("1", "bad base64"),
        ("2", "bad base64"),
        ("3", "missing Data"),
        ("4", "Data is not a string"),
        ("", "missing SequenceNumber"),
        ("", "record is not an object"),
    ]
    assert errors[0].raw == b"!!!not base64!!!"


def test_a_bad_record_does_not_disturb_its_neighbours() -> None:
    good = rec(orjson.dumps(CURRENT), seq="10")
    bad = rec(b"\xff", seq="11")
    readings, errors = decode_records("s", [good, bad, dict(good, SequenceNumber="12")])
    assert [r.seq for r in readings] == ["10", "12"]
    assert [e.seq for e in errors] == ["11"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1.441215410867e9, 1441215410.867),
        (1441215410, 1441215410.0),
        ("1.441215410867E9", 1441215410.867),
        ("1441215410867", 1441215410.867),  # milliseconds by mistake
        (1441215410867, 1441215410.867),
        ("2015-09-02T17:36:50.867Z", 1441215410.867),
        (None, 0.0),
        ("garbage", 0.0),
        ({"x": 1}, 0.0),
    ],
)
def test_arrival_formats(value: object, seconds: float) -> None:
    assert arrival_seconds(value) == pytest.approx(seconds)
    readings, _ = decode_records("s", [rec(orjson.dumps(CURRENT), arrival=value)])
    assert readings[0].arrival == pytest.approx(seconds)


def test_decode_data_on_plain_bytes() -> None:
    readings, errors = decode_data("s", "7", 2.0, orjson.dumps([CURRENT, OLDER]))
    assert [r.sub for r in readings] == [0, 1] and errors == []


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from flux_tui.feed import decoder

    monkeypatch.setattr(decoder, "MAX_INFLATED", 1000)
    readings, errors = one(gzip.compress(b"[" + b" " * 5000 + b"]"))
    assert readings == [] and "inflates past" in errors[0].reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=64).map(lambda b: rec(b)),
            st.binary(max_size=64).map(lambda b: rec(gzip.compress(b))),
            json_values.map(lambda v: rec(json.dumps(v).encode())),
            st.lists(st.tuples(st.text(max_size=3), st.binary(max_size=16)), max_size=3).map(
                lambda subs: rec(build_aggregate(subs))
            ),
            st.dictionaries(st.text(max_size=30), json_values, max_size=4),
            json_values,
        ),
        max_size=6,
    )
)
def test_decode_records_never_raises(records: list) -> None:
    readings, errors = decode_records("s", records)
    assert all(isinstance(r, Reading) and isinstance(r.tag_name, str) for r in readings)
    assert all(isinstance(e.raw, bytes) for e in errors)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_kpl_magic_followed_by_anything_never_raises(tail: bytes) -> None:
    decode_records("s", [rec(KPL_MAGIC + tail), rec(KPL_MAGIC + tail + hashlib.md5(tail).digest())])
