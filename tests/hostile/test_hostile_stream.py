"""Issue 11's "done when": one stream with 400 plain readings and every hostile record at
once, read by `tail --format jsonl`, `tail --format table` and `record --out x.csv` (each
`--from trim-horizon --until-caught-up`) as real processes against `flux-tui sim` over
loopback. Each must exit 0 with all 400 plain readings, peak at most 400 MB, put no ESC or
BEL on the terminal and write no CSV cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
from pathlib import Path

import orjson
import pytest
from conftest import Run, Sim, run_flux

from flux_tui.data.session import open_session

PLAIN = 400
PEAK_MB = 400
DEPTH = 300
OSC52 = "\x1b]52;c;aGVsbG8=\x07"  # sets the clipboard
OSC2 = "\x1b]2;owned\x07"  # sets the window title
CLEAR = "\x1b[2J"
FORMULA = '=HYPERLINK("http://evil.example/","click")'
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


def reading(label: str, **fields: object) -> dict[str, object]:
    now = int(time.time() * 1000)
    body: dict[str, object] = {
        "epochMs": now - 5000, "rtms": now - 4000, "orgId": 333, "siteId": 2222,
        "assetId": 1111, "tagId": 889, "registerId": 416, "tagName": "hostile_tag",
        "label": label, "val": 1.5, "pk": f"pk-{label}",
    }  # fmt: skip
    body.update(fields)
    return body


def hostile_records() -> list[tuple[str, bytes]]:
    deep = reading("deep", val=None)
    deep_text = orjson.dumps(deep).replace(b'"val":null', b'"val":' + b"[" * DEPTH + b"]" * DEPTH)
    escapes = reading(OSC2 + CLEAR + "label", assetId=OSC52, tagName=CLEAR + "tag")
    formula = reading(FORMULA, tagName="+cmd|' /C calc'!A0", val="@SUM(1+1)")
    bomb = gzip.compress(b"[" + b"{}," * 11_000_000 + b"{}]", compresslevel=9)
    assert len(bomb) < 40_000  # the audit's 32 KB record
    return [
        ("hostile-deep", deep_text),
        ("hostile-escapes", orjson.dumps(escapes)),
        ("hostile-formula", orjson.dumps(formula)),
        ("hostile-bomb", bomb),
    ]


@pytest.fixture(scope="module")
def stream(quiet_sim: Sim) -> Sim:
    plain = [
        (f"plain-{i % 7}", orjson.dumps(reading(f"plain {i:03d}", val=i, tagId=10_000 + i)))
        for i in range(PLAIN)
    ]
    hostile = hostile_records()
    # Hostile records between plain ones, on every shard's way: nothing after them may be lost.
    quiet_sim.put_raw(plain[:150] + hostile[:2] + plain[150:300] + hostile[2:] + plain[300:])
    return quiet_sim


def assert_clean_run(run: Run) -> None:
    err = run.err.decode("utf-8", "replace")
    assert run.code == 0, err
    assert run.peak_mb <= PEAK_MB, f"peak {run.peak_mb:.0f} MB"
    for stream_bytes in (run.out, run.err):
        assert b"\x1b" not in stream_bytes and b"\x07" not in stream_bytes
    assert "Traceback" not in err
    assert "1 decode errors" in err  # the bomb, refused with the cap named
    # The flux-tui command lines (stderr) say what stopped the run; the bomb is named.


def plain_labels(texts: list[str]) -> set[str]:
    return {t for t in texts if t.startswith("plain ")}


def args(sim: Sim, *more: str) -> list[str]:
    return ["--config", str(sim.config()), "--profile", "local", *more,
            "--from", "trim-horizon", "--until-caught-up"]  # fmt: skip


def test_tail_jsonl_keeps_everything_exactly(stream: Sim, tmp_path: Path) -> None:
    run = run_flux(tmp_path, *args(stream, "tail", "--format", "jsonl"))
    assert_clean_run(run)
    rows = [json.loads(line) for line in run.out.splitlines()]
    labels = [row.get("label", "") for row in rows]
    assert len(plain_labels(labels)) == PLAIN
    deep = next(row for row in rows if row.get("label") == "deep")
    value, depth = deep["val"], 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == DEPTH - 1  # the innermost list is empty: all 300 levels written
    escaped = next(row for row in rows if row.get("assetId") == OSC52)
    assert escaped["label"] == OSC2 + CLEAR + "label"  # exact JSON, escapes as \u001b
    assert any(row.get("label") == FORMULA for row in rows)  # JSONL is data, not a sheet


def test_tail_table_shows_escapes_as_placeholders(stream: Sim, tmp_path: Path) -> None:
    run = run_flux(tmp_path, *args(stream, "tail", "--format", "table", "--utc"))
    assert_clean_run(run)
    text = run.out.decode()
    found = {m.group(0) for m in re.finditer(r"plain \d{3}", text)}
    assert len(found) == PLAIN
    assert "\u241b]2;owned\u2407" in text  # ESC and BEL shown as ␛ and ␇, literally
    assert "deep" in text and "[…]" in text  # the deep value, shown limited in depth


def test_record_csv_writes_no_live_formula(stream: Sim, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    run = run_flux(tmp_path, *args(stream, "record", "--out", str(out)))
    assert_clean_run(run)
    rows = list(csv.reader(io.StringIO(out.read_text())))
    header, body = rows[0], rows[1:]
    label = header.index("label")
    assert len(plain_labels([row[label] for row in body])) == PLAIN
    for row in body:
        for cell in row:
            live = cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(cell)
            assert not live, cell
    assert any(row[label] == "'" + FORMULA for row in body)
    meta = json.loads((tmp_path / "x.csv.meta.json").read_text())
    assert meta["complete"] is True and meta["count"] == len(body)
    # Opened again, the guard comes off: the payloads are exactly what the stream held.
    session = open_session(out)
    payloads = [r.payload for r in session.iter_readings()]
    assert not session.problems
    assert len(payloads) == len(body)
    assert any(p["label"] == FORMULA and p["val"] == "@SUM(1+1)" for p in payloads)
    assert any(p["assetId"] == OSC52 for p in payloads)


def test_csv_on_a_terminal_shows_escapes_as_placeholders() -> None:
    """CSV into a pipe stays exact (the guard aside); on a terminal it is for eyes."""
    import os
    import select

    from flux_tui.cli.output import ReadingSink
    from flux_tui.feed.decoder import decode_data

    payload = reading(OSC2 + "x", assetId=OSC52)
    got, _ = decode_data("shardId-0", "1", 1.0, orjson.dumps(payload))
    master, slave = os.openpty()
    with os.fdopen(slave, "wb", buffering=0) as tty, io.BytesIO() as pipe:
        sinks = [ReadingSink("csv", out) for out in (tty, pipe)]
        assert [sink.terminal for sink in sinks] == [True, False]
        for sink in sinks:
            sink.write_many(got)
        seen = b""
        while select.select([master], [], [], 5)[0]:  # the pty hands writes over in pieces
            seen += os.read(master, 65536)
            if b"\n" in seen.split(b"\n", 1)[-1]:
                break  # the header and the row are both here
        assert b"\x1b" not in seen and b"\x07" not in seen and "\u241b".encode() in seen
        assert OSC52.encode() in pipe.getvalue()  # exact in a pipe
    os.close(master)
