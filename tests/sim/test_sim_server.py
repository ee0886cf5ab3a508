"""The simulator over a real loopback socket, and the ``serve`` entry point's guard rails."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from flux_tui.sim import Fault, SimClock, SimSettings, Simulator
from flux_tui.sim import server as sim_server
from flux_tui.sim.server import BackgroundServer, client_snippet, is_loopback, serve


async def bearer_header(http: httpx.AsyncClient) -> dict[str, str]:
    """A token from the simulator's Auth0, as the documented client asks for it."""
    r = await http.post(
        "/oauth/token",
        json={
            "client_id": "flux-demo",
            "client_secret": "demo-secret",
            "audience": "https://api.axil.ai",
            "grant_type": "client_credentials",
        },
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_a_client_written_from_the_docs_works_over_a_real_socket() -> None:
    sim = Simulator(
        SimSettings(rate=50.0, backlog_seconds=10.0), SimClock.manual_at(1_700_000_000.0)
    )
    with BackgroundServer(sim) as running:
        assert running.base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as http:
            headers = await bearer_header(http)
            desc = (await http.get("/realtime/demo", headers=headers)).json()["StreamDescription"]
            records = []
            for shard in desc["Shards"]:
                body = {"ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}
                it = (
                    await http.request(
                        "GET", "/realtime/demo/shard-iterator", json=body, headers=headers
                    )
                ).json()
                page = await http.request(
                    "GET",
                    "/realtime/demo/records",
                    headers=headers,
                    json={"ShardIterator": it["ShardIterator"], "Limit": 10_000},
                )
                assert page.status_code == 200
                records += page.json()["Records"]
            assert len(records) == len(sim.control.produced()) > 100
            sim.control.inject_fault(Fault.DROP, endpoint="describe")
            with pytest.raises(httpx.TransportError):  # a real connection closed mid-answer
                await http.get("/realtime/demo", headers=headers)
            assert (await http.get("/realtime/demo", headers=headers)).status_code == 200
            assert (await http.get("/_sim/counters")).json()["faults"] == {"drop": 1}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("LOCALHOST.", True),  # the same rule the config applies to http:// URLs
        ("127.3.2.1", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_refuses_a_non_loopback_host_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    ports: list[int] = []
    monkeypatch.setattr(
        sim_server, "run_server", lambda server, sock: ports.append(sock.getsockname()[1])
    )
    with pytest.raises(ValueError, match="refusing"):
        serve(SimSettings(), host="0.0.0.0", out=io.StringIO())
    assert ports == []
    serve(
        SimSettings(backlog_seconds=0), host="0.0.0.0", port=0, allow_remote=True, out=io.StringIO()
    )
    assert ports and ports[0] > 0


def test_serve_prints_the_real_port_and_how_to_point_a_client_at_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(
        sim_server, "run_server", lambda server, sock: served.append(sock.getsockname()[1])
    )
    out = io.StringIO()
    serve(SimSettings(backlog_seconds=0), port=0, out=out)
    text, port = out.getvalue(), served[0]
    assert f'base_url = "http://127.0.0.1:{port}/realtime"' in text
    assert f'token_url = "http://127.0.0.1:{port}/oauth/token"' in text
    assert f"export FLUX_BASE_URL=http://127.0.0.1:{port}/realtime" in text
    assert "export FLUX_CLIENT_ID=flux-demo" in text and 'company = "demo"' in text


def test_serve_on_a_busy_port_fails_before_printing() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        out = io.StringIO()
        with pytest.raises(OSError):
            serve(SimSettings(backlog_seconds=0), port=taken.getsockname()[1], out=out)
        assert out.getvalue() == ""


def test_snippet_names_the_configured_company_and_client() -> None:
    text = client_snippet("http://[::1]:9000", SimSettings(company="acme", clients={"c1": "s1"}))
    assert 'company = "acme"' in text and "FLUX_CLIENT_SECRET=s1" in text
    assert "http://[::1]:9000/axil/enterprise-objects" in text


async def test_a_requested_drop_leaves_no_traceback_in_the_server_log() -> None:
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    sim = Simulator(SimSettings(rate=5.0, backlog_seconds=1.0), SimClock.manual_at(1.7e9))
    keep = Keep(level=logging.DEBUG)
    log = logging.getLogger("uvicorn.error")
    with BackgroundServer(sim) as running:
        log.addHandler(keep)  # after uvicorn configured its loggers
        try:
            async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as http:
                bearer = await bearer_header(http)
                sim.control.inject_fault(Fault.DROP, endpoint="describe")
                with pytest.raises(httpx.TransportError):
                    await http.get("/realtime/demo", headers=bearer)
                assert (await http.get("/realtime/demo", headers=bearer)).status_code == 200
                # a real failure of the app is still logged
                log.error("boom", exc_info=RuntimeError("a real bug"))
        finally:
            log.removeHandler(keep)
    assert [r.getMessage() for r in records] == ["boom"]


def test_the_printed_environment_alone_points_a_client_at_the_simulator(
        tmp_path: Path) -> None:
    """Every profile key of the printed [profiles.sim] is also printed as a variable, and
    the variables alone (no config file) give the same profile, Enterprise Objects included:
    without FLUX_ENTERPRISE_URL a client showed 'names unavailable'."""
    import tomllib

    from flux_tui.config import load_config

    text = client_snippet("http://127.0.0.1:9000", SimSettings())
    toml_part, _, env_part = text.partition("# or, in the environment:")
    table = tomllib.loads(toml_part)["profiles"]["sim"]
    env = dict(line.removeprefix("export ").split("=", 1)
               for line in env_part.splitlines() if line.startswith("export "))
    empty = tmp_path / "config.toml"
    empty.write_text("")
    profile = load_config(empty, env=env).profile()
    shown = {key: getattr(profile, key) for key in table}
    shown["client_secret"] = profile.resolve_secret()
    assert shown == table
