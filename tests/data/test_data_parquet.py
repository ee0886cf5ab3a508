"""Parquet sessions: our schema written and read back exactly, a recording that stays
readable while it runs and after a kill, and the Spark capture's partitioned folders."""

from __future__ import annotations

import builtins
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.query import compile_query
from flux_tui.data.session import open_session
from flux_tui.data.session.parquet_format import ParquetUnavailable, arrow
from flux_tui.data.session.parquet_read import NotASession, ParquetSession
from flux_tui.data.session.parquet_write import ROW_GROUP_SECONDS, ParquetSessionWriter
from flux_tui.data.session.recorder import Recorder, open_writer, save_snapshot
from flux_tui.data.session.replay import SessionReplay
from flux_tui.feed.types import Batch
from tests.data.test_data_session import FakeClock, make_readings

T0 = 1_764_424_800_000
DOCUMENTED = {
    "time_utc": pa.timestamp("ms", tz="UTC"), "epochMs": pa.int64(), "rtms": pa.int64(),
    "orgId": pa.int64(), "siteId": pa.int64(), "assetId": pa.int64(), "tagId": pa.int64(),
    "registerId": pa.int64(), "tagName": pa.string(), "label": pa.string(),
    "val": pa.float64(), "pk": pa.string(), "_shard": pa.string(), "_seq": pa.string(),
    "_sub": pa.int64(), "_arrival": pa.float64(), "extra": pa.string(),
}  # fmt: skip


def by_time(readings: list[Any]) -> list[Any]:
    return sorted(readings, key=lambda r: (r.epoch_ms is None, r.epoch_ms or 0))


def test_written_readings_come_back_exactly_in_time_order(tmp_path: Path) -> None:
    readings = make_readings(500)
    shuffled = readings[250:] + readings[:250]  # file order is not time order
    path = tmp_path / "pad7.parquet"
    with ParquetSessionWriter(path, metadata={"profile": "demo"}) as writer:
        writer.write(shuffled[:200])
        writer._write_group()  # two row groups
        writer.write(shuffled[200:])
    session = open_session(path)
    assert list(session.iter_readings()) == by_time(readings)  # payloads included
    assert session.problems == []
    assert session.metadata["count"] == 500 and session.metadata["profile"] == "demo"
    assert session.metadata["data_format"] == "parquet"


def test_pyarrow_reads_the_documented_columns_and_types(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    with ParquetSessionWriter(path, metadata={}) as writer:
        writer.write(make_readings(50))
    table = pq.read_table(path)
    assert {f.name: f.type for f in table.schema} == DOCUMENTED
    assert table.schema.names == list(DOCUMENTED)
    row = table.slice(1, 1).to_pylist()[0]
    assert row["epochMs"] == T0 + 1000 and row["val"] == 2.0  # an integer val as float64
    assert row["time_utc"] == datetime.fromtimestamp((T0 + 1000) / 1000, UTC)
    assert row["extra"] == '{"val":2}'  # ... and exactly in extra


def test_a_running_recording_is_a_readable_file_after_each_row_group(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "live.parquet"
    writer = ParquetSessionWriter(path, metadata={}, clock=clock)
    assert pq.read_table(path).num_rows == 0  # valid from the first moment
    writer.write(make_readings(30))
    clock.now += ROW_GROUP_SECONDS - 1
    writer.tick()
    assert pq.read_table(path).num_rows == 0  # the row group is still open
    clock.now += 1
    writer.tick()
    assert pq.read_table(path).num_rows == 30
    writer.write(make_readings(20, start=30))
    clock.now += ROW_GROUP_SECONDS
    writer.tick()
    killed = tmp_path / "killed.parquet"
    shutil.copy(path, killed)  # what a SIGKILL now would leave
    assert pq.read_table(killed).num_rows == 50
    assert pq.ParquetFile(killed).metadata.num_row_groups == 2
    writer.close()
    assert list(open_session(killed).iter_readings()) == make_readings(50)


def test_a_file_killed_while_appending_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    with ParquetSessionWriter(path, metadata={}) as writer:
        for start in (0, 40, 80):
            writer.write(make_readings(40, start=start))
            writer._write_group()
    data = path.read_bytes()
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(data[: len(data) - 25] + b"\0" * 300)  # the last footer torn
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's own error
        pq.read_table(damaged)
    session = open_session(damaged)
    assert list(session.iter_readings()) == make_readings(120)
    assert "footer is missing" in session.problems[0][1]


def spark_table(rows: list[tuple[int, str, int, float | None, str, str]]) -> pa.Table:
    """Rows (ms, label, asset, val, tag_id, tag_name) in the Spark capture's schema."""
    return pa.table({
        "@timestamp": pa.array([r[0] * 1000 for r in rows], pa.timestamp("us", tz="UTC")),
        "neptune_id": [f"neptune-{r[2]}" for r in rows],
        "pk": [f"1_333_2222_{r[2]}_{r[4]}" for r in rows],
        "register_id": pa.array([416] * len(rows), pa.int64()),
        "val": pa.array([r[3] for r in rows], pa.float32()),
        "label": [r[1] for r in rows],
        "asset_id": pa.array([r[2] for r in rows], pa.int64()),
        "tag_id": [r[4] for r in rows],
        "tag_name": [r[5] for r in rows],
    })  # fmt: skip


def write_spark_capture(folder: Path) -> list[tuple[int, str, int, float | None, str, str]]:
    """What the fleet's Spark job leaves: date= partitions, part files, _SUCCESS, and an
    unfinished _temporary folder that must be ignored. Returns every row written."""
    days = {
        "2025-11-28": [(T0 - 86_400_000 + i * 7_000, "Suction Pressure", 1111, 38.25 + i,
                        "889", "suction_psi") for i in range(40)],
        "2025-11-29": [(T0 + i * 5_000, "Discharge Temp", 1112, 180.5 + i, "890",
                        "discharge_f") for i in range(60)],
    }  # fmt: skip
    everything = []
    for day, rows in days.items():
        part_dir = folder / f"date={day}"
        part_dir.mkdir(parents=True)
        for part, chunk in enumerate((rows[1::2], rows[0::2])):  # interleaved in time
            name = f"part-{part:05d}-{uuid.uuid4()}.c000.snappy.parquet"
            pq.write_table(spark_table(chunk), part_dir / name, compression="snappy")
        everything += rows
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "_temporary" / "0").mkdir(parents=True)
    pq.write_table(spark_table([(T0, "half-written", 9, 0.0, "1", "x")]),
                   folder / "_temporary" / "0" / "part-00009.snappy.parquet")
    (folder / ".part-00000.snappy.parquet.crc").write_bytes(b"crc")
    return everything


def test_a_spark_capture_folder_opens_as_readings_sorted_by_time(tmp_path: Path) -> None:
    folder = tmp_path / "capture"
    rows = write_spark_capture(folder)
    session = open_session(folder)
    readings = list(session.iter_readings())
    assert [r.epoch_ms for r in readings] == sorted(r[0] for r in rows)
    first = readings[0]
    assert (first.label, first.asset_id, first.tag_id, first.tag_name, first.val) == (
        "Suction Pressure", 1111, 889, "suction_psi", 38.25)
    assert first.register_id == 416 and first.payload["neptune_id"] == "neptune-1111"
    assert first.payload["@timestamp"] == "2025-11-28T14:00:00.000Z"
    # The payload is the older spelling the live decoder reads: the same reading again.
    again = reading_from_payload(first.shard, first.seq, 0, first.arrival, first.payload)
    assert again == first
    assert "half-written" not in {r.label for r in readings}
    assert session.metadata["count"] == 100 and "Spark" in session.metadata["source"]


async def test_a_spark_capture_replays_filters_and_seeks(tmp_path: Path) -> None:
    folder = tmp_path / "capture"
    write_spark_capture(folder)
    replay = SessionReplay(folder, speed=None, hold_at_end=True)
    index = await replay.load_index()
    assert len(index) == 100
    kept = index.filter(compile_query("asset:1112 val>200"))
    assert [index.reading(row).val for row in kept] == [180.5 + i for i in range(20, 60)]
    assert replay.start_ms == T0 - 86_400_000 and replay.end_ms == T0 + 59 * 5_000
    played = []
    async for item in replay:
        if isinstance(item, Batch):
            played += item.readings
        if len(played) == 100:
            break
    assert [r.epoch_ms for r in played] == sorted(r.epoch_ms for r in played)
    replay.seek(T0)
    async for item in replay:
        if isinstance(item, Batch):
            assert item.readings[0].epoch_ms == T0 and item.readings[0].asset_id == 1112
            break
    await replay.aclose()


def test_a_folder_without_parquet_or_of_another_schema_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotASession, match="no .parquet files"):
        open_session(tmp_path / "empty")
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1]}), other)
    with pytest.raises(NotASession, match="neither a flux-tui session"):
        open_session(other)


def test_without_pyarrow_the_error_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ParquetUnavailable, match=r"pip install 'flux-tui\[parquet\]'"):
        arrow()
    with pytest.raises(OSError, match="flux-tui\\[parquet\\]"):
        open_writer(tmp_path / "x.parquet", metadata={})
    assert not (tmp_path / "x.parquet").exists()  # nothing created
    with pytest.raises(OSError, match="flux-tui\\[parquet\\]"):
        ParquetSession(tmp_path)


def test_the_viewer_records_and_saves_parquet(tmp_path: Path) -> None:
    recorder = Recorder()
    recorder.start(tmp_path / "rec.parquet", {"profile": "demo"})
    recorder.offer(make_readings(30))
    assert recorder.stop() == 30
    assert pq.read_table(tmp_path / "rec.parquet").num_rows == 30
    assert save_snapshot(make_readings(10), tmp_path / "snap.parquet", {}) == 10
    assert list(ParquetSession(tmp_path / "snap.parquet").iter_readings()) == make_readings(10)


def test_footer_codec_reencodes_pyarrows_footer_byte_for_byte() -> None:
    import struct

    from flux_tui.data.session.parquet_footer import _struct, split_file

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"a": [1, 2], "s": ["x", None]}), sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    _, footer = split_file(data)
    assert _struct(footer) == data[-8 - length:-8]


def test_many_row_groups_read_in_pyarrow_and_duckdb(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "many.parquet"
    with ParquetSessionWriter(path, metadata={}) as writer:
        for start in range(0, 400, 20):  # 20 row groups: a long list header in the footer
            writer.write(make_readings(20, start=start))
            writer._write_group()
    assert pq.ParquetFile(path).metadata.num_row_groups == 20
    assert pq.read_table(path).column("_seq").to_pylist() == [r.seq for r in make_readings(400)]
    assert duckdb.sql(f"select count(*), count(distinct _seq) from '{path}'").fetchall() == [
        (400, 400)]
