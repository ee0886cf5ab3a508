"""The viewer against hostile readings, and its exit status: a reading nested 300 deep opens
in the detail view (limited in depth) and copies whole; escapes never reach the screen's
text raw; a crash exits 1 with a crash report; SIGHUP exits 129, like `tail`."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import orjson
import pytest
from conftest import clean_env
from textual.app import App

from flux_tui.data.session import open_session
from flux_tui.data.session.recorder import save_snapshot
from flux_tui.feed.decoder import decode_data
from flux_tui.feed.types import Batch
from flux_tui.ui.detail import ReadingDetail
from flux_tui.ui.exit_status import viewer_exit_code

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import wait_until
from screen_text import screen_text

from flux_tui.ui.app import FluxApp

DEPTH = 300


def hostile_batch() -> Batch:
    deep = (
        b'{"epochMs":%d,"assetId":1111,"tagId":1,"label":"Deep","tagName":"deep","val":'
        % (T0_MS + 30_000)
        + b"[" * DEPTH
        + b"]" * DEPTH
        + b"}"
    )
    escapes = orjson.dumps({"epochMs": T0_MS + 31_000, "assetId": "\x1b]52;c;aGk=\x07",
                            "tagId": 2, "label": "\x1b]2;title\x07Esc", "tagName": "e",
                            "val": "\x1b[2J"})  # fmt: skip
    readings = []
    for n, raw in enumerate((deep, escapes)):
        got, errors = decode_data("shardId-000000000000", str(49_100_000_000 + n), 1.0, raw)
        assert not errors
        readings += got
    return Batch("shardId-000000000000", readings, [], 0, T0_MS / 1000 + 40)


async def test_detail_of_a_deep_reading_and_escapes_on_screen() -> None:
    app = FluxApp(opener_for([fleet_batch(0, 5), hostile_batch()]),
                  clock=lambda: T0_MS / 1000 + 60, utc=True)  # fmt: skip
    copied: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        await wait_until(pilot, lambda: app.store.total == 7)  # fed (the log may still mount)
        await wait_until(pilot, lambda: app.log_view._shown == 7)
        await pilot.pause()
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown
        assert "\u241b]2;title\u2407Esc" in shown  # the label, literally, with ␛ and ␇
        await pilot.press("up", "up")  # the newest line is the escapes; the one before: deep
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReadingDetail))
        await pilot.pause()
        detail = screen_text(app)
        assert "Deep" in detail and "[…]" in detail  # shown limited in depth, no crash
        await pilot.press("y")
        value, depth = json.loads(copied[-1])["val"], 0
        while value:
            value, depth = value[0], depth + 1
        assert depth == DEPTH - 1  # the copy is the whole reading
    assert app.return_code in (0, None)


def test_save_writes_every_reading_and_a_true_count(tmp_path: Path) -> None:
    readings = fleet_batch(0, 4).readings + hostile_batch().readings
    for name in ("snap.jsonl", "snap.csv"):
        path = tmp_path / name
        assert save_snapshot(readings, path, {"filter": ""}) == len(readings)
        meta = json.loads((tmp_path / f"{name}.meta.json").read_text())
        assert meta["count"] == len(readings) and meta["complete"] is True
        back = [r.payload for r in open_session(path).iter_readings()]
        assert back == [r.payload for r in readings]  # deep and escaped, exactly


class _Crashes(App[None]):
    def on_mount(self) -> None:
        raise RuntimeError("boom in the viewer")


def test_a_crash_exits_1_with_a_crash_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = _Crashes()
    app.run(headless=True)
    assert viewer_exit_code(app) == 1
    err = capsys.readouterr().err
    assert "the viewer crashed; crash report: " in err
    report = Path(err.split("crash report: ", 1)[1].strip())
    assert "boom in the viewer" in report.read_text()
    assert report.stat().st_mode & 0o077 == 0  # private: it may name files and hosts


def test_sighup_ends_the_viewer_with_129(tmp_path: Path) -> None:
    """`flux-tui demo` in a real pseudo-terminal; the SSH link drops (SIGHUP)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "flux_tui", "demo"],
        stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
        env=clean_env(tmp_path, TERM="xterm-256color"), start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    screen = bytearray()

    def drain() -> None:  # the app blocks if nobody reads its terminal
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.extend(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        end = time.monotonic() + 60
        while b"Tag log" not in screen and b"LIVE" not in screen:
            assert time.monotonic() < end, "the viewer did not draw"
            assert process.poll() is None, bytes(screen[-2000:])
            time.sleep(0.1)  # polling the screen with a deadline
        process.send_signal(signal.SIGHUP)
        assert process.wait(timeout=30) == 128 + signal.SIGHUP
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
        reader.join(timeout=5)
