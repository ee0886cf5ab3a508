"""Output formats: JSONL and CSV round trips, the human table line, value formatting."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.data.formats import (
    CSV_COLUMNS,
    csv_row,
    format_time,
    format_value,
    jsonl_line,
    reading_from_csv,
    reading_from_json,
    reading_from_payload,
    safe_text,
    table_line,
)
from flux_tui.feed.types import Reading

PAYLOAD = {
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

OLD_PAYLOAD = {
    "@timestamp": 1652128223000,
    "register_id": 416,
    "asset_id": 1111,
    "tag_id": "889",
    "tag_name": "suction_pressure",
    "neptune_id": "n-7",
    "val": 38.25,
}


def make(payload: dict[str, Any], *, seq: str = "4960" + "1" * 52, sub: int = 0) -> Reading:
    return reading_from_payload("shardId-000000000001", seq, sub, 1652128224.123, dict(payload))


def csv_roundtrip(reading: Reading) -> Reading:
    buf = io.StringIO()
    csv.writer(buf).writerow(csv_row(reading))
    (row,) = list(csv.reader(io.StringIO(buf.getvalue())))
    return reading_from_csv(row)


def test_jsonl_line_holds_every_payload_field_and_the_meta_fields() -> None:
    reading = make({**PAYLOAD, "firmware": "2.1"})
    line = jsonl_line(reading)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    obj = orjson.loads(line)
    assert obj == {
        **PAYLOAD,
        "firmware": "2.1",
        "_shard": "shardId-000000000001",
        "_seq": reading.seq,
        "_arrival": 1652128224.123,
    }


def test_jsonl_writes_sub_only_for_aggregate_sub_records() -> None:
    assert "_sub" not in orjson.loads(jsonl_line(make(PAYLOAD)))
    line = jsonl_line(make(PAYLOAD, sub=3))
    assert orjson.loads(line)["_sub"] == 3
    assert reading_from_json(orjson.loads(line)).sub == 3


@pytest.mark.parametrize("payload", [PAYLOAD, OLD_PAYLOAD, {"val": None}, {}])
def test_jsonl_round_trip(payload: dict[str, Any]) -> None:
    reading = make(payload)
    assert reading_from_json(orjson.loads(jsonl_line(reading))) == reading


def test_old_spelling_gives_the_same_canonical_fields() -> None:
    reading = make(OLD_PAYLOAD)
    assert (reading.epoch_ms, reading.asset_id, reading.tag_id, reading.register_id) == (
        1652128223000,
        1111,
        889,  # the older spelling's string ids read as the same tag as the current one's
        416,
    )
    assert reading.tag_name == "suction_pressure"


def test_iso_timestamp_in_old_spelling() -> None:
    assert make({"@timestamp": "2022-05-09T20:30:23.000Z"}).epoch_ms == 1652128223000


def test_reading_from_json_rejects_a_line_without_identity() -> None:
    with pytest.raises(ValueError, match="_shard"):
        reading_from_json({"val": 1})
    with pytest.raises(ValueError):
        reading_from_json({"_shard": "s", "_seq": "1", "_arrival": "soon"})


def test_csv_columns_are_fixed() -> None:
    assert CSV_COLUMNS[:3] == ("time_utc", "epochMs", "rtms")
    assert CSV_COLUMNS[-1] == "extra"
    assert {"_shard", "_seq", "_arrival", "val", "label", "pk"} <= set(CSV_COLUMNS)
    assert len(csv_row(make(PAYLOAD))) == len(CSV_COLUMNS)


def test_csv_row_is_plain_for_a_typical_payload() -> None:
    row = dict(zip(CSV_COLUMNS, csv_row(make(PAYLOAD))))
    assert row["time_utc"] == "2022-05-09T20:30:23.000Z"
    assert row["assetId"] == "1111" and row["val"] == "2" and row["extra"] == ""


@pytest.mark.parametrize(
    "payload",
    [
        PAYLOAD,
        OLD_PAYLOAD,
        {**PAYLOAD, "val": "2"},  # a string that looks like a number stays a string
        {**PAYLOAD, "val": None},
        {**PAYLOAD, "val": True},
        {**PAYLOAD, "val": 0.1},
        {**PAYLOAD, "val": 1e300},
        {**PAYLOAD, "val": ""},
        {**PAYLOAD, "val": 'Running, "hot"\nline two'},
        {**PAYLOAD, "assetId": "007"},
        {**PAYLOAD, "nested": {"a": [1, 2]}},
        {"val": "true"},
        {},
    ],
)
def test_csv_round_trip(payload: dict[str, Any]) -> None:
    reading = make(payload, sub=2)
    assert csv_roundtrip(reading) == reading


def test_csv_old_spelling_still_fills_the_columns() -> None:
    row = dict(zip(CSV_COLUMNS, csv_row(make(OLD_PAYLOAD))))
    assert row["assetId"] == "1111" and row["tagName"] == "suction_pressure"


def test_reading_from_csv_rejects_a_short_row() -> None:
    with pytest.raises(ValueError, match="columns"):
        reading_from_csv(["a", "b"])


json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
json_values = json_scalars | st.floats(allow_nan=False, allow_infinity=False)
payloads = st.dictionaries(
    st.sampled_from([*PAYLOAD.keys(), *OLD_PAYLOAD.keys(), "x", "_other"]) | st.text(max_size=5),
    json_values | st.lists(json_scalars, max_size=3),
    max_size=8,
).filter(lambda d: not {"_shard", "_seq", "_sub", "_arrival", "_derived"} & d.keys())


@settings(max_examples=300, deadline=None)
@given(payloads, st.integers(0, 5))
def test_round_trips_for_any_payload(payload: dict[str, Any], sub: int) -> None:
    reading = make(payload, sub=sub)
    assert reading_from_json(orjson.loads(jsonl_line(reading))) == reading
    assert csv_roundtrip(reading) == reading


@pytest.mark.parametrize(
    ("val", "text"),
    [
        (None, "—"),
        (True, "true"),
        (False, "false"),
        (2, "2"),
        (38.2, "38.2"),
        (612.0, "612.0"),
        (0.12345, "0.123"),
        (-1.5, "-1.5"),
        (1e-6, "1e-06"),
        (2.5e13, "2.5e+13"),
        (float("nan"), "NaN"),
        (float("-inf"), "-∞"),
        ("Running", "Running"),
        ("bad\x1b[2Jtext", "bad\u241b[2Jtext"),
        ([1, 2], "[1,2]"),
    ],
)
def test_format_value(val: Any, text: str) -> None:
    assert format_value(val) == text


def test_format_time_utc_and_missing() -> None:
    assert format_time(1652128223045, utc=True) == "20:30:23.045Z"
    assert format_time(1652128223045, utc=True, date=True) == "2022-05-09T20:30:23.045Z"
    assert format_time(None) == "--:--:--.---"


class Names:
    def asset_name(self, asset_id: Any) -> str | None:
        return "Pad 7 Unit" if asset_id == 1111 else None

    def site_name(self, site_id: Any) -> str | None:
        return None

    def org_name(self, org_id: Any) -> str | None:
        return None


def test_table_line_is_one_safe_line() -> None:
    reading = make({**PAYLOAD, "label": "Evil\nlabel\x1b]0;x\x07", "val": 38.25})
    line = table_line(reading, utc=True)
    assert "\n" not in line and "\x1b" not in line
    assert line.startswith("20:30:23.000Z  Unit 1111")
    assert line.rstrip().endswith("38.25")
    assert "Pad 7 Unit" in table_line(reading, names=Names())


def test_table_line_falls_back_to_tag_name() -> None:
    assert "register_tag__loading" in table_line(make({**PAYLOAD, "label": ""}))


def test_safe_text_removes_bidi_overrides() -> None:
    assert safe_text("a\u202eb") == "a\ufffdb"


def test_table_columns_stay_aligned_after_long_labels() -> None:
    """Labels and unit names of any length: the value column does not move (the tail table
    shifted by 1–2 characters after a long label), and a long label loses whole words."""
    labels = ["Run Hours", "Stage 1 Discharge Temperature", "Exhaust Temperature Right Bank",
              "A Very Long Label Made Of Many Words That Never Fits"]
    lines = [table_line(make({**PAYLOAD, "label": label, "val": 38.25}), utc=True)
             for label in labels]
    assert len({len(line) for line in lines}) == 1, lines
    assert "Stage 1 Discharge Temp " in lines[1]
    kept = lines[3][len("20:30:23.000Z") + 2 + 14 + 2:][:28].strip()
    assert "…" in kept and set(re.split("[ …]+", kept)) <= set(labels[3].split()), kept
