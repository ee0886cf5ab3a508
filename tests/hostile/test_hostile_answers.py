"""Hostile answers from the gateway, the token endpoint and Enterprise Objects, served by a
real `flux-tui sim` on loopback (its /_sim/answers control), read by real commands.

- a GetRecords answer that drips a byte a second: the per-call deadline ends the call,
  the state line says so, the run goes on and ends (exit 0);
- a gzip-encoded answer that inflates to 256 MiB: dropped at the body limit, memory stays
  bounded, the run goes on;
- an absurd token lifetime (1e300): accepted as one hour, `auth status` does not crash;
- server texts with escapes (Kinesis message, stream name, scope): no ESC/BEL on the
  terminal.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from conftest import Run, Sim, run_flux

from flux_tui.base.errors import ConfigError
from flux_tui.config.values import SECRET_KEYS, validate

RECORDS = "/realtime/demo/records"
PEAK_MB = 400
ESC = "\x1b]2;owned\x07\x1b[2J"


def put_plain(sim: Sim, count: int, tag: str) -> None:
    now = int(time.time() * 1000)
    sim.put_raw([
        (f"pk-{i}", orjson.dumps({"epochMs": now, "assetId": 5, "tagId": i, "label": f"{tag} {i}",
                                  "tagName": tag, "val": i}))
        for i in range(count)
    ])  # fmt: skip


def tail(sim: Sim, folder: Path, *more: str, extra: str = "") -> Run:
    config = sim.config(extra=extra)
    return run_flux(folder, "--config", str(config), "--profile", "local", "tail",
                    "--from", "trim-horizon", "--until-caught-up", *more)  # fmt: skip


def no_escapes(run: Run) -> None:
    for data in (run.out, run.err):
        assert b"\x1b" not in data and b"\x07" not in data


def test_a_dripping_answer_fails_the_call_at_the_deadline(quiet_sim: Sim, tmp_path: Path) -> None:
    put_plain(quiet_sim, 30, "drip")
    quiet_sim.arm(RECORDS, "drip", count=1, interval=1.0, chunk=1)
    started = time.monotonic()
    run = tail(quiet_sim, tmp_path, extra="call_deadline = 1\n")
    err = run.err.decode()
    assert run.code == 0, err
    assert "per-call deadline" in err  # the state line says why the call failed
    labels = {line for line in run.out.decode().splitlines() if '"drip ' in line}
    assert len(labels) == 30  # nothing lost: the call was retried
    assert time.monotonic() - started < 45
    no_escapes(run)


def test_a_gzip_encoded_bomb_is_dropped_at_the_body_limit(quiet_sim: Sim, tmp_path: Path) -> None:
    put_plain(quiet_sim, 20, "bomb")
    quiet_sim.arm(RECORDS, "oversize", count=1, size=256 * 1024 * 1024, gzip=True)
    run = tail(quiet_sim, tmp_path)
    err = run.err.decode()
    assert run.code == 0, err
    assert "body limit" in err
    assert run.peak_mb <= PEAK_MB, f"peak {run.peak_mb:.0f} MB"
    assert sum('"bomb ' in line for line in run.out.decode().splitlines()) == 20


def test_kinesis_and_gateway_texts_reach_stderr_literally(quiet_sim: Sim, tmp_path: Path) -> None:
    put_plain(quiet_sim, 5, "texts")
    body = {"__type": "InternalFailure", "message": f"boom {ESC}"}
    quiet_sim.arm(RECORDS, "body", count=1, status=500, json=body)
    run = tail(quiet_sim, tmp_path)
    assert run.code == 0, run.err
    assert "boom \u241b]2;owned\u2407\u241b[2J" in run.err.decode()  # shown, never acted on
    no_escapes(run)


def test_info_shows_a_hostile_stream_name_literally(quiet_sim: Sim, tmp_path: Path) -> None:
    description = {"StreamDescription": {
        "StreamName": f"evil{ESC}", "StreamStatus": "ACTIVE", "StreamARN": "arn:x",
        "RetentionPeriodHours": 24, "HasMoreShards": False,
        "Shards": [{"ShardId": f"shardId-{ESC}", "HashKeyRange": {"StartingHashKey": "0",
                    "EndingHashKey": "1"}, "SequenceNumberRange": {"StartingSequenceNumber": "1"}}],
    }}  # fmt: skip
    quiet_sim.arm("/realtime/demo", "body", count=1, json=description)
    config = quiet_sim.config()
    run = run_flux(tmp_path, "--config", str(config), "--profile", "local", "info")
    assert run.code == 0, run.err
    assert "evil\u241b]2;owned" in run.out.decode()
    no_escapes(run)


def test_an_absurd_token_lifetime_counts_as_an_hour(quiet_sim: Sim, tmp_path: Path) -> None:
    token = {"access_token": "x" * 20, "token_type": "Bearer", "expires_in": 1e300,
             "scope": f"read {ESC}"}  # fmt: skip
    quiet_sim.arm("/oauth/token", "body", count=1, json=token)
    config = quiet_sim.config()
    common = ("--config", str(config), "--profile", "local")
    run = run_flux(tmp_path, *common, "tail", "--from", "trim-horizon", "--until-caught-up")
    # The sim refuses the made-up token (401, one renewal): what matters is that the
    # lifetime was taken as an hour, with one warning, and nothing crashed.
    err = run.err.decode()
    assert run.code == 0, err
    assert err.count("absurd lifetime") == 1 and "Traceback" not in err
    no_escapes(run)


def test_auth_status_survives_a_stored_absurd_expiry(quiet_sim: Sim, tmp_path: Path) -> None:
    """A token stored with expires_at 1e300 (by an older version, or tampered with)."""
    store = tmp_path / "cache" / "flux-tui" / "tokens"
    store.mkdir(parents=True)
    (store / "local.json").write_bytes(orjson.dumps({
        "access_token": "x" * 20, "expires_at": 1e300, "token_type": "Bearer",
        "scope": f"read {ESC}", "audience": "https://api.axil.ai",
        "grant": "client_credentials", "client_id": "flux-demo",
    }))  # fmt: skip
    config = quiet_sim.config()
    status = run_flux(tmp_path, "--config", str(config), "--profile", "local", "auth", "status")
    text = status.out.decode()
    assert status.code == 0, status.err
    assert "in 0h59m" in text or "in 1h00m" in text  # held to one hour from now
    assert "read \u241b]2;owned" in text  # the granted scope, literally
    no_escapes(status)


def test_config_errors_never_show_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.x]\ncompany = "demo"\nclient_secret = 987654321987\n')
    run = run_flux(tmp_path, "--config", str(config), "--profile", "x", "info")
    assert run.code == 2
    assert b"client_secret" in run.err and b"987654321987" not in run.err


@pytest.mark.parametrize("key", SECRET_KEYS)
@pytest.mark.parametrize("value", [987654321987, 1.5e300, True, ["s3cr3t"], {"k": "s3cr3t"}])
def test_no_secret_key_echoes_its_value(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        validate({key: value}, origin="file", file="f.toml", profile="x")
    assert repr(value) not in str(caught.value) and "s3cr3t" not in str(caught.value)
    assert key in str(caught.value)


EO_ALL = "/axil/enterprise-objects/all"


def test_enterprise_names_with_escapes_are_shown_literally(quiet_sim: Sim, tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    quiet_sim.put_raw([("pk-eo", orjson.dumps({"epochMs": now, "assetId": 4242, "tagId": 1,
                                               "label": "eo label", "tagName": "eo", "val": 1}))])
    asset = {"assetId": 4242, "name": f"Unit{ESC}X",
             "organization": {"name": f"Org{ESC}", "orgId": 333}}  # fmt: skip
    quiet_sim.arm(EO_ALL, "body", count=3, json={"totalCount": 1, "assets": [asset]})
    run = tail(quiet_sim, tmp_path, "--format", "table")
    assert run.code == 0, run.err
    line = next(x for x in run.out.decode().splitlines() if "eo label" in x)
    assert "Unit\u241b]2;owned" in line  # the name from Enterprise Objects, literally
    no_escapes(run)
    assert quiet_sim.pending() < 3  # the hostile answer was served
    quiet_sim.control("DELETE", "answers")


def test_an_oversize_enterprise_answer_leaves_ids(quiet_sim: Sim, tmp_path: Path) -> None:
    put_plain(quiet_sim, 3, "eo-big")
    quiet_sim.arm(EO_ALL, "oversize", count=3, size=64 * 1024 * 1024, gzip=True)
    run = tail(quiet_sim, tmp_path, "--format", "table")
    assert run.code == 0, run.err
    assert sum("eo-big" in x for x in run.out.decode().splitlines()) == 3
    assert run.peak_mb <= PEAK_MB, f"peak {run.peak_mb:.0f} MB"
    assert quiet_sim.pending() < 3  # the oversize answer was served (and dropped)
    quiet_sim.control("DELETE", "answers")


def test_login_shows_a_hostile_code_and_address_literally(quiet_sim: Sim, tmp_path: Path) -> None:
    code = {"device_code": "d", "user_code": f"AB{ESC}", "verification_uri": f"http://x/{ESC}",
            "verification_uri_complete": f"http://x/?c={ESC}", "expires_in": 5, "interval": 1}
    quiet_sim.arm("/oauth/device/code", "body", json=code)
    config = quiet_sim.config(extra='device_client_id = "flux-tui-cli"\n')
    run = run_flux(tmp_path, "--config", str(config), "--profile", "local", "login", "--no-qr")
    # The made-up device code is refused at the first poll; what it showed is the point.
    assert run.code == 3, run.err
    assert "http://x/\u241b]2;owned\u2407" in run.out.decode()
    assert "AB\u241b]2;owned" in run.out.decode()
    no_escapes(run)
