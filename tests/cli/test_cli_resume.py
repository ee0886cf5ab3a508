"""`record --resume` in real processes against a `flux-tui sim` process, with a gateway that
forwards every iterator type and with one that refuses all but TRIM_HORIZON/LATEST."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from simproc import running_sim
from test_cli_process import flux, sim_profile

from flux_tui.data.session import open_session


@pytest.fixture(params=[False, True], ids=["passthrough", "strict"])
def sim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A `flux-tui sim` process; strict refuses AT_TIMESTAMP and AT/AFTER_SEQUENCE_NUMBER.
    Retention is an hour, so a clock jump can make a resumed session lose records."""
    options = ["--backlog", "5", "--rate", "40", "--retention", "1"]
    if request.param:
        options.append("--strict-iterators")
    with running_sim(tmp_path_factory.mktemp("sim"), *options) as port:
        yield port


def record(tmp_path: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(sim_profile(port))
    return flux(tmp_path, "--config", str(config), "record", "--profile", "local", *args)


def produced(port: int) -> dict[str, list[int]]:
    answer = httpx.get(f"http://127.0.0.1:{port}/_sim/produced", timeout=30).json()
    out: dict[str, list[int]] = {}
    for rec in answer["records"]:
        base64.b64decode(rec["data_b64"])
        out.setdefault(rec["shard_id"], []).append(int(rec["seq"]))
    return out


def check_contiguous(path: Path, port: int) -> int:
    """Every record the sim holds between the file's first and last on a shard is in the
    file, none twice."""
    readings = list(open_session(path).iter_readings())
    keys = [(r.shard, int(r.seq), r.sub) for r in readings]
    assert len(keys) == len(set(keys)), "a reading written twice"
    got: dict[str, set[int]] = {}
    for shard, seq, _ in keys:
        got.setdefault(shard, set()).add(seq)
    for shard, seqs in produced(port).items():
        mine = got.get(shard, set())
        if mine:
            assert mine == {s for s in seqs if min(mine) <= s <= max(mine)}, shard
    return len(readings)


def test_resume_continues_exactly_after_the_last_reading(tmp_path: Path, sim: int) -> None:
    out = tmp_path / "pad7.jsonl.gz"
    first = record(tmp_path, sim, "--out", str(out), "--from", "trim-horizon", "--duration", "2")
    assert first.returncode == 0, first.stderr
    before = len(list(open_session(out).iter_readings()))
    assert before > 0
    second = record(tmp_path, sim, "--resume", str(out), "--until-caught-up")
    assert second.returncode == 0, second.stderr
    assert "resuming" in second.stderr and "Traceback" not in second.stderr
    total = check_contiguous(out, sim)
    assert total > before
    meta = json.loads((tmp_path / "pad7.jsonl.gz.meta.json").read_text())
    assert meta["count"] == total and len(meta["resumed"]) == 1 and not meta["gaps"]


def test_resume_after_retention_passed_records_the_gap(tmp_path: Path, sim: int) -> None:
    out = tmp_path / "late.jsonl"
    first = record(tmp_path, sim, "--out", str(out), "--from", "latest", "--duration", "2")
    assert first.returncode == 0, first.stderr
    httpx.post(f"http://127.0.0.1:{sim}/_sim/clock", json={"advance": 3700}, timeout=30)
    second = record(tmp_path, sim, "--resume", str(out), "--until-caught-up")
    assert second.returncode == 0, second.stderr
    assert "gap on shard" in second.stderr and "gap(s) recorded" in second.stderr
    meta = json.loads((tmp_path / "late.jsonl.meta.json").read_text())
    assert meta["gaps"] and "retention" in meta["gaps"][0]["reason"]


def test_resume_refuses_from_and_a_missing_file(tmp_path: Path) -> None:
    both = flux(tmp_path, "record", "--profile", "demo", "--resume", "x.jsonl", "--from", "5m")
    assert both.returncode == 2 and "--resume" in both.stderr
    missing = flux(tmp_path, "record", "--profile", "demo", "--resume", "nope.jsonl")
    assert missing.returncode == 1 and "cannot resume" in missing.stderr
