"""Hostile files: symlinks planted beside a recording, an existing sidecar, a line of
64 MiB, a .gz that inflates to 128 MiB, CSV cells a spreadsheet would run, huge cells.
Memory is measured in a subprocess (its own ru_maxrss from wait4)."""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
import textwrap
from pathlib import Path

import orjson
from conftest import Sim, run_flux, run_measured

from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.session.read import MAX_LINE
from flux_tui.feed.decoder import decode_data

PEAK_MB = 200


def readings(count: int, **fields: object) -> list:  # type: ignore[type-arg]
    out = []
    for i in range(count):
        payload = {"epochMs": 1_700_000_000_000 + i, "assetId": 7, "tagId": i,
                   "label": f"label {i}", "tagName": "t", "val": i, **fields}  # fmt: skip
        got, _ = decode_data("shardId-000000000000", str(100 + i), 1.0, orjson.dumps(payload))
        out += got
    return out


def test_a_planted_symlink_never_redirects_the_sidecar(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    data = tmp_path / "rec.jsonl"
    sidecar = tmp_path / "rec.jsonl.meta.json"
    # The old temporary name was predictable: plant it, and the sidecar itself, as links.
    (tmp_path / f".{sidecar.name}.{os.getpid()}.tmp").symlink_to(victim)
    sidecar.symlink_to(victim)
    try:
        SessionWriter(data, metadata={})
        raise AssertionError("an existing sidecar (even a link) must be refused")
    except FileExistsError as exc:
        assert "rec.jsonl.meta.json already exists" in str(exc)
    assert not data.exists()  # refused before the data file was made
    with SessionWriter(data, metadata={}, overwrite=True) as writer:
        writer.write(readings(3))
    assert victim.read_text() == "precious"
    assert not sidecar.is_symlink()  # the link was replaced, not written through
    assert orjson.loads(sidecar.read_bytes())["count"] == 3
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [f".{sidecar.name}.{os.getpid()}.tmp"]  # only the planted link


def test_record_refuses_an_existing_sidecar_without_force(quiet_sim: Sim, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    (tmp_path / "x.jsonl.meta.json").write_text('{"someone": "else"}')
    common = ["--config", str(quiet_sim.config()), "--profile", "local", "record"]
    refused = run_flux(tmp_path, *common, "--out", str(out), "--until-caught-up")
    assert refused.code == 2
    assert b"x.jsonl.meta.json already exists (use --force" in refused.err
    assert (tmp_path / "x.jsonl.meta.json").read_text() == '{"someone": "else"}'
    forced = run_flux(tmp_path, *common, "--out", str(out), "--from", "latest",
                      "--until-caught-up", "--force")  # fmt: skip
    assert forced.code == 0, forced.err
    assert orjson.loads((tmp_path / "x.jsonl.meta.json").read_bytes())["complete"] is True


_READER = textwrap.dedent("""
    import sys
    from flux_tui.data.session import open_session
    session = open_session(sys.argv[1])
    print(sum(1 for _ in session.iter_readings()))
    for line_no, reason in session.problems:
        print(line_no, reason)
""")


def read_in_subprocess(tmp_path: Path, path: Path) -> tuple[list[str], float]:
    """Read ``path`` with ``open_session`` in a fresh interpreter: readings, problems and
    that process's peak memory (MB)."""
    script = tmp_path / "read.py"
    script.write_text(_READER)
    run = run_measured(tmp_path, [sys.executable, str(script), str(path)])
    assert run.code == 0, run.err
    return run.out.decode().splitlines(), run.peak_mb


def test_a_64_mib_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    good = [orjson.dumps({"_shard": "s", "_seq": str(i), "label": f"ok {i}"}) for i in range(3)]
    with open(path, "wb") as handle:
        handle.write(good[0] + b"\n")
        handle.write(b'{"_shard":"s","_seq":"9","label":"' + b"x" * (64 << 20) + b'"}\n')
        handle.write(good[1] + b"\n" + good[2] + b"\n")
    lines, peak = read_in_subprocess(tmp_path, path)
    assert lines[0] == "3"  # every other reading kept
    assert lines[1].startswith("2 line of 67,108,") and "16 MiB" in lines[1]
    assert peak <= PEAK_MB, f"peak {peak:.0f} MB"
    assert MAX_LINE == 16 << 20


def test_a_gzip_that_inflates_to_128_mib_reads_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    x_member = gzip.compress(b"x" * (1 << 20))  # members concatenate (as `cat a.gz b.gz`)
    with open(path, "wb") as handle:
        handle.write(gzip.compress(orjson.dumps({"_shard": "s", "_seq": "1"}) + b"\n"))
        handle.write(x_member * 128)  # one line of 128 MiB
        handle.write(gzip.compress(b"\n" + orjson.dumps({"_shard": "s", "_seq": "2"}) + b"\n"))
    assert path.stat().st_size < 1 << 20
    lines, peak = read_in_subprocess(tmp_path, path)
    assert lines[0] == "2"
    assert "longer than the 16 MiB bound" in lines[1]
    assert peak <= PEAK_MB, f"peak {peak:.0f} MB"


def test_csv_guard_round_trips_and_csv_raw_is_remembered(tmp_path: Path) -> None:
    hostile = ["=1+1", "+cmd|' /C calc'!A0", "-x", "@SUM(1)", "\tTAB", "\rCR", "'=quoted", "-5"]
    rows = []
    for i, label in enumerate(hostile):
        rows += readings(1, label=label, tagName=label, val=label if i % 2 else i)
    for raw in (False, True):
        path = tmp_path / f"guard-{raw}.csv.gz"
        with SessionWriter(path, metadata={}, csv_guard=not raw) as writer:
            writer.write([r._replace(seq=str(200 + n)) for n, r in enumerate(rows)])
        text = gzip.decompress(path.read_bytes()).decode()
        cells = [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
        live = [c for c in cells if c[:1] and c[:1] in "=+-@\t\r" and c != "-5"]
        assert bool(live) is raw  # guarded: none; raw: exactly what the stream held
        back = [r.payload for r in open_session(path).iter_readings()]
        assert back == [r.payload for r in rows]


def test_a_cell_over_128_kib_reopens(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    big = readings(2, label="y" * 300_000)
    with SessionWriter(path, metadata={}) as writer:
        writer.write(big)
    session = open_session(path)
    assert [r.label for r in session.iter_readings()] == [r.label for r in big]
    assert not session.problems



_BOMBS = textwrap.dedent("""
    import gzip, sys
    from flux_tui.feed.decoder import MAX_INFLATED, MAX_VALUES_PER_RECORD, decode_data
    from flux_tui.feed.kpl import build_aggregate
    element = b'{"label":"' + b"x" * 1000 + b'"},'
    quarter = gzip.compress(b"[" + element * (MAX_INFLATED // 4 // len(element)) + b"{}]")
    bombs = {
        # just under the value cap: parsed, then refused by the reading cap
        "values": gzip.compress(b"[" + b"{}," * (MAX_VALUES_PER_RECORD - 2) + b"{}]"),
        # over the value cap: refused before parsing
        "commas": gzip.compress(b"[" + b"0," * (MAX_INFLATED // 2 - 2) + b"0]"),
        # a KPL aggregate of gzip blobs: the inflate cap is the record's, not each blob's
        "kpl": build_aggregate([("pk", quarter)] * 5),
        "audit": gzip.compress(b"[" + b"{}," * 11_000_000 + b"{}]"),
    }
    for name, raw in bombs.items():
        readings, errors = decode_data("s", "1", 1.0, raw)
        print(name, len(raw), len(readings), errors[0].reason if errors else "-")
""")


def test_records_under_and_over_the_caps_cost_bounded_memory(tmp_path: Path) -> None:
    script = tmp_path / "bombs.py"
    script.write_text(_BOMBS)
    run = run_measured(tmp_path, [sys.executable, str(script)])
    assert run.code == 0, run.err
    lines = dict(line.split(" ", 1) for line in run.out.decode().splitlines())
    assert lines["values"].endswith("0 record holds more than 100,000 readings (the per-record "
                                    "cap; a 1 MiB Kinesis record cannot carry more real readings)")
    assert "1,200,000 JSON values (the per-record cap" in lines["commas"]
    assert "inflates past 8 MiB (the per-record cap" in lines["kpl"]
    assert "inflates past 8 MiB" in lines["audit"]
    assert all(" 0 record " in text for text in lines.values())  # no reading of them kept
    assert run.peak_mb <= PEAK_MB, f"peak {run.peak_mb:.0f} MB"
