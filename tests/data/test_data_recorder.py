"""The viewer's recorder and snapshot save: filtered recording, dedupe, no overwrite,
write errors that stop the recording without raising, and default file names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from flux_tui.base.events import Gap
from flux_tui.data.session import open_session
from flux_tui.data.session.recorder import (
    Recorder,
    RecorderState,
    default_session_name,
    filter_summary,
    save_snapshot,
)
from tests.data.test_data_session import make_readings


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_records_what_is_offered_once_and_closes_complete(tmp_path: Path) -> None:
    readings = make_readings(50)
    path = tmp_path / "rec.jsonl"
    recorder = Recorder()
    assert recorder.state is RecorderState.IDLE and recorder.status_text() is None
    recorder.start(path, {"profile": "demo", "company": "acme", "filter": "asset:1111"})
    assert recorder.recording
    assert recorder.offer(readings[:30]) == 30
    assert recorder.offer(readings[20:]) == 20  # the overlap is not written twice
    recorder.note_gap(Gap("shardId-000000000000", 1, 2, "iterator expired"))
    assert recorder.status_text() == "50 → rec.jsonl"
    assert recorder.stop() == 50
    assert recorder.state is RecorderState.STOPPED and recorder.count == 50
    assert recorder.offer(readings) == 0  # stopped: nothing more is written
    session = open_session(path)
    assert list(session.iter_readings()) == readings
    assert session.metadata["filter"] == "asset:1111" and session.metadata["complete"]
    assert session.metadata["gaps"][0]["reason"] == "iterator expired"


def test_tick_puts_waiting_readings_on_disk(tmp_path: Path) -> None:
    clock = Ticker()
    path = tmp_path / "tick.jsonl"
    recorder = Recorder(clock=clock)
    recorder.start(path, {})
    recorder.offer(make_readings(5))
    assert path.read_bytes() == b""  # buffered: less than a second has passed
    clock.now = 1.5
    recorder.tick()
    assert len(list(open_session(path).iter_readings())) == 5
    recorder.stop()


def test_never_overwrites_without_being_told(tmp_path: Path) -> None:
    path = tmp_path / "exists.jsonl"
    path.write_text("keep me\n")
    recorder = Recorder()
    with pytest.raises(FileExistsError, match="already exists"):
        recorder.start(path, {})
    assert recorder.state is RecorderState.IDLE and path.read_text() == "keep me\n"
    with pytest.raises(FileExistsError):
        save_snapshot(make_readings(3), path, {})
    assert path.read_text() == "keep me\n"
    recorder.start(path, {}, overwrite=True)
    recorder.offer(make_readings(2))
    recorder.stop()
    assert len(list(open_session(path).iter_readings())) == 2


def test_a_full_disk_stops_the_recording_with_a_message(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full (Linux)")
    path = tmp_path / "full.jsonl"
    path.symlink_to("/dev/full")
    clock = Ticker()
    recorder = Recorder(clock=clock)
    recorder.start(path, {}, overwrite=True)
    recorder.offer(make_readings(100))
    clock.now = 2.0
    recorder.tick()  # the flush fails: no exception reaches the caller
    assert recorder.state is RecorderState.FAILED
    assert recorder.error is not None and "the disk is full" in recorder.error
    assert not recorder.recording and recorder.status_text() is None
    assert recorder.offer(make_readings(3)) == 0
    recorder.stop()  # harmless after a failure


def test_a_missing_folder_is_refused_at_start(tmp_path: Path) -> None:
    recorder = Recorder()
    with pytest.raises(OSError, match="does not exist"):
        recorder.start(tmp_path / "nope" / "x.jsonl", {})
    assert recorder.state is RecorderState.IDLE


@pytest.mark.parametrize("suffix", ["jsonl", "csv.gz"])
def test_save_snapshot_round_trips(tmp_path: Path, suffix: str) -> None:
    readings = make_readings(120)
    path = tmp_path / f"snap.{suffix}"
    assert save_snapshot(readings + readings[:10], path, {"filter": "pressure"}) == 120
    session = open_session(path)
    assert list(session.iter_readings()) == readings
    assert session.metadata["filter"] == "pressure" and session.metadata["count"] == 120


@pytest.mark.parametrize(("text", "summary"), [
    ("asset:1111 label:pressure", "asset-1111-pressure"),
    ("", ""),
    ('site:"Pad 7" NOT alarm', "site-pad-7-not-alarm"),
    ("val>100 -tag:*status*", "val-100-tag-status"),
    ("../../etc/passwd", "etc-passwd"),
    ("x" * 80, "x" * 32),
])
def test_filter_summary_is_short_and_safe(text: str, summary: str) -> None:
    assert filter_summary(text) == summary


def test_default_session_name() -> None:
    now = datetime(2026, 11, 29, 6, 12, 30)
    assert default_session_name("demo", "asset:1111 label:pressure", now) == \
        "demo_asset-1111-pressure_2026-11-29T0612.jsonl"
    assert default_session_name(None, "", now) == "all_2026-11-29T0612.jsonl"
    assert default_session_name("Acme / Energy", "", now, ".csv") == \
        "acme-energy_all_2026-11-29T0612.csv"
