"""The Parquet index built column-wise from Arrow (``index_arrow``) against the rows read
the existing way: every row's time, key and value equal what ``SessionIndex._add`` keeps
of the reading ``iter_readings`` gives, ``reading(row)`` is that reading exactly (payload,
field order, types), filters keep the same rows and damaged rows are reported alike.
Both schemas: ours (written by the recorder's writer, and by hand with damaged rows) and
the Spark capture's, with the column types other Spark jobs write."""

from __future__ import annotations

import io
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.data.query import compile_query
from flux_tui.data.session import index_arrow, open_session
from flux_tui.data.session.index import SessionIndex
from flux_tui.data.session.parquet_format import schema
from flux_tui.data.session.parquet_write import ParquetSessionWriter
from flux_tui.feed.types import Reading
from tests.data.test_data_session import make_readings
from tests.data.test_data_store_props import _same, readings

QUERIES = ['label:"Suction Pressure"', "val>0", "asset:1111 val<100", "-tag:tag_1", "speed",
           'val:"Running"', "asset:1113"]  # fmt: skip


def reference(path: Path) -> tuple[list[Reading], SessionIndex, list[tuple[int, str]]]:
    """The readings in time order, the index the per-reading way builds of them (``_add``,
    as the Parquet index was built before) and the problems reading them reported."""
    session = open_session(path)
    rows = list(session.iter_readings())
    index = SessionIndex(session, io.BytesIO(), owns_source=False)  # type: ignore[arg-type]
    for place, reading in enumerate(rows):
        index._add(reading, place, 0)
    return rows, index, session.problems


def check_index(path: Path, batch_rows: int) -> None:
    rows, ref, problems = reference(path)
    old = index_arrow.BATCH_ROWS
    index_arrow.BATCH_ROWS = batch_rows  # batch edges anywhere: keys and extras span them
    try:
        index = open_session(path).index()
    finally:
        index_arrow.BATCH_ROWS = old
    assert len(index) == len(ref) == len(rows)
    assert sorted(index.problems) == sorted(problems)
    assert list(index.epoch_ms) == list(ref.epoch_ms)
    for row in range(len(rows)):
        key, expected = index.keys[index.key_of[row]], ref.keys[ref.key_of[row]]
        # Equal keys are one key (as in a dict: 2222 == 2222.0), whichever came first.
        assert key == expected and [type(k) is str for k in key] == [
            type(k) is str for k in expected]  # 889 is not "889"
        assert repr(index.value(row)) == repr(ref.value(row))
        assert type(index.value(row)) is type(ref.value(row))
        _same(index.reading(row), rows[row])
    assert dict(index._others) == ref._others  # a Mapping like the JSONL index's dict
    assert list(index._others.values()) == list(ref._others.values())
    assert len(index._others) == len(ref._others)
    for text in QUERIES:
        query = compile_query(text)
        assert list(index.filter(query)) == list(ref.filter(query)), text
    assert list(index.filter(lambda r: r[13] is None)) == list(ref.filter(lambda r: r[13] is None))
    index.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(readings(), min_size=1, max_size=80), st.data(), st.integers(1, 30))
def test_our_schema_index_equals_the_readings(tmp_path_factory: Any, rows: list[Reading],
                                              data: Any, batch_rows: int) -> None:
    path = tmp_path_factory.mktemp("pq") / "s.parquet"
    cuts = sorted(data.draw(st.lists(st.integers(1, len(rows)), max_size=3)))
    # Sequence numbers as a shard gives them (the writer drops repeats), times as drawn:
    # the file's order is not the time order, and its row groups overlap in time.
    rows = [r._replace(seq=f"{n:06d}" if r.seq else "") for n, r in enumerate(rows)]
    with ParquetSessionWriter(path, metadata={}) as writer:
        start = 0
        for cut in [*cuts, len(rows)]:
            writer.write(rows[start:cut])
            writer._write_group()
            start = cut
    check_index(path, batch_rows)


def test_rows_already_in_time_order_index_as_they_are(tmp_path: Path) -> None:
    rng = random.Random(7)
    rows = make_readings(300)  # both spellings, every value type, unknown fields
    path = tmp_path / "ordered.parquet"
    with ParquetSessionWriter(path, metadata={}) as writer:
        for start in range(0, len(rows), 64):
            writer.write(rows[start : start + 64])
            writer._write_group()
    check_index(path, rng.randint(5, 50))
    assert open_session(path).time_order() is None  # nothing to keep: rows are in order
    assert isinstance(open_session(path).index().offsets, range)


def test_damaged_rows_are_left_out_and_reported_as_when_read(tmp_path: Path) -> None:
    """Rows another tool wrote into our schema: no shard, an empty sequence, an extra that
    is not JSON or not an object, an extra that renames or adds fields."""
    good = {"time_utc": None, "epochMs": 1_764_590_000_000, "rtms": None, "orgId": 333,
            "siteId": 2222, "assetId": 1111, "tagId": 7, "registerId": 416, "tagName": "t",
            "label": "Speed", "val": 1.5, "pk": "p", "_shard": "s-0", "_seq": "1", "_sub": 0,
            "_arrival": 1.0, "extra": None}  # fmt: skip
    changes: list[dict[str, Any]] = [
        {}, {"_shard": None}, {"_seq": ""}, {"extra": "{"}, {"extra": "[1]"},
        {"extra": '{"val":"Running"}'}, {"extra": '{"val":7}'}, {"extra": '{"val":null}'},
        {"extra": '{"val":true}', "val": None}, {"extra": '{"val":[1,2]}'},
        {"extra": '{"tagId":"A7"}'}, {"extra": '{"unit":"psi"}'}, {"_shard": ""},
        {"extra": '{"_derived":["assetId"],"asset_id":"1111"}'}, {"epochMs": None},
        {"extra": '{"val":12345678901234567890}'}, {"label": None, "tagName": None},
    ]  # fmt: skip
    table = []
    for n, change in enumerate(changes * 3):
        row = {**good, **change, "epochMs": (good["epochMs"] + (n * 7919) % 1000)
               if change.get("epochMs", 1) is not None else None, "_seq": change.get("_seq", str(n))}
        table.append(row)
    path = tmp_path / "damaged.parquet"
    pq.write_table(pa.Table.from_pylist(table, schema=schema()), path, row_group_size=20)
    rows, _, problems = reference(path)
    assert len(problems) == 15 and len(rows) == len(table) - 15  # 5 kinds of damage x 3
    for batch_rows in (1, 4, 64):
        check_index(path, batch_rows)
    index = open_session(path).index()
    assert not isinstance(index.offsets, range)  # the damaged rows' places are skipped


def spark_part(rng: random.Random, count: int, kind: str) -> pa.Table:
    """A Spark capture part; ``kind`` picks the column types another job might write."""
    stamps = [1_764_590_000_000_000 + rng.randrange(10**9) if rng.random() > 0.05 else None
              for _ in range(count)]
    tags = [rng.choice(["889", "890", "A7", "0012", None]) for _ in range(count)]
    vals = [rng.choice([None, 1.5, -2.25, 3e5, 0.1]) for _ in range(count)]
    columns: dict[str, Any] = {
        "@timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
        "neptune_id": [f"n-{rng.randrange(3)}" for _ in range(count)],
        "pk": [f"pk-{rng.randrange(9)}" for _ in range(count)],
        "register_id": pa.array([rng.choice([416, 417, None]) for _ in range(count)], pa.int64()),
        "val": pa.array(vals, pa.float32()),
        "label": [rng.choice(["Suction Pressure", "Speed", None]) for _ in range(count)],
        "asset_id": pa.array([rng.choice([1111, 1112]) for _ in range(count)], pa.int64()),
        "tag_id": tags,
        "tag_name": [rng.choice(["suction_psi", "rpm", None]) for _ in range(count)],
    }
    if kind == "other types":  # text times, integer values, numeric tag ids, no tag_name
        columns["@timestamp"] = [None if s is None else datetime.fromtimestamp(
            s / 1e6, UTC).isoformat() for s in stamps]
        columns["val"] = pa.array([rng.choice([None, 5, -3, 2**60, 0]) for _ in range(count)],
                                  pa.int64())
        columns["tag_id"] = pa.array([rng.choice([889, 890, None]) for _ in range(count)],
                                     pa.int64())
        del columns["tag_name"]
    elif kind == "double":
        columns["val"] = pa.array(vals, pa.float64())
        columns["@timestamp"] = pa.array(stamps, pa.timestamp("ns", tz="UTC"))
    return pa.table(columns)


@pytest.mark.parametrize("kind", ["spark", "double", "other types"])
def test_spark_capture_index_equals_the_readings(tmp_path: Path, kind: str) -> None:
    rng = random.Random(kind)
    folder = tmp_path / "capture"
    for day in ("2026-11-28", "2026-11-29"):
        (folder / f"date={day}").mkdir(parents=True)
        for part in range(2):
            name = f"part-{part:05d}-{uuid.uuid4()}.c000.snappy.parquet"
            pq.write_table(spark_part(rng, 150, kind), folder / f"date={day}" / name,
                           row_group_size=60)
    (folder / "_SUCCESS").write_bytes(b"")
    for batch_rows in (1, 7, 1000):
        check_index(folder, batch_rows)
