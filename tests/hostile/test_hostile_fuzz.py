"""Hypothesis fuzzing of the two parsers that take bytes from outside: the record decoder
and the session reader. Whatever the bytes, they never raise; every reading they produce
can be written (JSONL and CSV) and read back to the same payload; nothing reaches a
terminal line with a control character left in it."""

from __future__ import annotations

import base64
import gzip
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flux_tui.data.formats import (
    META_FIELDS,
    csv_row,
    jsonl_line,
    reading_from_csv,
    reading_from_json,
    table_line,
)
from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.terminal import has_control
from flux_tui.feed.decoder import decode_data, decode_records
from flux_tui.feed.kpl import build_aggregate
from flux_tui.feed.types import Reading

FAST = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)

finite = st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    finite, st.text(max_size=30),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.text(max_size=8).filter(lambda k: k not in META_FIELDS)  # _seq... are the file's
payloads = st.fixed_dictionaries(
    {},
    optional={
        "epochMs": st.one_of(st.integers(-(2**63), 2**63), finite, st.text(max_size=12)),
        "rtms": st.one_of(st.integers(-(2**63), 2**63), st.none(), st.text(max_size=5)),
        "assetId": st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=20)),
        "tagId": st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=6)),
        "label": st.text(max_size=40),
        "tagName": st.text(max_size=20),
        "val": json_values,
        "@timestamp": st.one_of(st.text(max_size=25), finite),
        "pk": st.text(max_size=10),
    },
).flatmap(lambda d: st.dictionaries(keys, json_values, max_size=3)
          .map(lambda extra: {**extra, **d}))  # fmt: skip


def wrap(kind: int, raw: bytes) -> bytes:
    """Record data in one of the shapes producers use."""
    if kind == 1:
        return gzip.compress(raw)
    if kind == 2:
        return build_aggregate([("pk", raw), ("pk2", raw)])
    if kind == 3:
        return b"[" + raw + b"," + raw + b"]"
    if kind == 4:
        return raw + b"\n" + raw
    return raw


def nested(depth: int) -> bytes:
    return b'{"label":"deep","val":' + b"[" * depth + b"]" * depth + b"}"


def check_writable(reading: Reading) -> None:
    assert reading_from_json(orjson.loads(jsonl_line(reading))).payload == reading.payload
    row = csv_row(reading)
    assert not any(c[:1] in ("=", "+", "@", "\t", "\r") for c in row if c)
    assert reading_from_csv(row).payload == reading.payload
    assert not has_control(table_line(reading))


@FAST
@given(payload=payloads, kind=st.integers(0, 4))
def test_any_payload_decodes_and_writes_back(payload: dict[str, Any], kind: int) -> None:
    raw = wrap(kind, orjson.dumps(payload))
    readings, errors = decode_data("shardId-0", "1", 1.0, raw)
    assert readings and not errors
    for reading in readings:
        assert reading.payload == payload
        check_writable(reading)


@FAST
@given(data=st.binary(max_size=300), kind=st.integers(0, 4), depth=st.integers(0, 400))
def test_any_bytes_never_raise(data: bytes, kind: int, depth: int) -> None:
    raw = wrap(kind, nested(depth) if depth > 250 else data)
    readings, errors = decode_data("shardId-0", "1", 1.0, raw)
    for reading in readings:
        check_writable(reading)
    for error in errors:
        assert error.reason and isinstance(error.raw, bytes)
    records = [{"SequenceNumber": "1", "ApproximateArrivalTimestamp": 1.0,
                "Data": base64.b64encode(raw).decode()}, {"Data": data.hex()}, data]  # fmt: skip
    decode_records("shardId-0", records)  # never raises, whatever the record shape


_DIR = Path(tempfile.mkdtemp(prefix="flux-fuzz-"))


@FAST
@given(
    body=st.binary(max_size=2000),
    name=st.sampled_from(["f.jsonl", "f.csv", "f.jsonl.gz", "f.csv.gz"]),
    sidecar=st.one_of(st.none(), st.binary(max_size=200)),
)
def test_any_session_file_opens(body: bytes, name: str, sidecar: bytes | None) -> None:
    path = _DIR / name
    path.write_bytes(gzip.compress(body)[: len(body) + 20] if name.endswith(".gz") else body)
    meta = path.with_name(path.name + ".meta.json")
    meta.unlink(missing_ok=True)
    if sidecar is not None:
        meta.write_bytes(sidecar)
    session = open_session(path)
    for reading in session.iter_readings():
        check_writable(reading)
    index = session.index()
    try:
        assert len(index) == sum(1 for _ in open_session(path).iter_readings())
    finally:
        index.close()


@settings(FAST, max_examples=40)  # each example fsyncs a file and its sidecar
@given(rows=st.lists(payloads, min_size=1, max_size=6), name=st.sampled_from(
    ["r.jsonl", "r.csv", "r.csv.gz"]), raw=st.booleans(), cut=st.integers(0, 400))  # fmt: skip
def test_written_sessions_read_back_and_a_cut_loses_only_the_tail(
    rows: list[dict[str, Any]], name: str, raw: bool, cut: int
) -> None:
    readings = []
    for n, payload in enumerate(rows):
        got, _ = decode_data("shardId-0", str(10 + n), 1.0, orjson.dumps(payload))
        readings += got
    path = _DIR / name
    for old in (path, path.with_name(path.name + ".meta.json")):
        old.unlink(missing_ok=True)
    with SessionWriter(path, metadata={}, csv_guard=not raw) as writer:
        writer.write(readings)
    back = [r.payload for r in open_session(path).iter_readings()]
    assert back == [r.payload for r in readings]
    data = path.read_bytes()
    path.write_bytes(data[: max(0, len(data) - cut)])  # a recording killed mid-write
    kept = [r.payload for r in open_session(path).iter_readings()]
    assert kept == back[: len(kept)]  # a prefix: nothing invented, nothing reordered
