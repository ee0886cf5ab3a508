"""Serving the simulator over a real socket (``flux-tui sim``), in the foreground or a thread."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from types import TracebackType
from typing import Self, TextIO

import uvicorn

from flux_tui.config.values import is_loopback  # the one loopback rule (http:// too)
from flux_tui.sim.app import Simulator
from flux_tui.sim.realtime import ConnectionDropped
from flux_tui.sim.settings import SimSettings


def client_snippet(base: str, settings: SimSettings) -> str:
    """The profile and environment variables that point a client at a simulator at ``base``."""
    client_id, secret = next(iter(settings.clients.items()))
    return (
        "# ~/.config/flux-tui/config.toml\n"
        "[profiles.sim]\n"
        f'base_url = "{base}/realtime"\n'
        f'company = "{settings.company}"\n'
        f'token_url = "{base}/oauth/token"\n'
        'audience = "https://api.axil.ai"\n'
        f'client_id = "{client_id}"\n'
        f'client_secret = "{secret}"\n'
        f'enterprise_url = "{base}/axil/enterprise-objects"\n'
        f'rate_limit = "{settings.throttle or "100/60s"}"\n'
        "\n# or, in the environment:\n"
        f"export FLUX_BASE_URL={base}/realtime\n"
        f"export FLUX_COMPANY={settings.company}\n"
        f"export FLUX_TOKEN_URL={base}/oauth/token\n"
        "export FLUX_AUDIENCE=https://api.axil.ai\n"
        f"export FLUX_CLIENT_ID={client_id}\n"
        f"export FLUX_CLIENT_SECRET={secret}\n"
        f"export FLUX_ENTERPRISE_URL={base}/axil/enterprise-objects\n"
        f"export FLUX_RATE_LIMIT={settings.throttle or '100/60s'}\n"
    )


class _QuietDrops(logging.Filter):
    """uvicorn logs every exception of the app with a traceback; a connection dropped on
    request (the ``drop`` fault) is not an error of the simulator, and a traceback per
    injected fault in the ``flux-tui sim`` terminal reads like a crash."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_QUIET_DROPS = _QuietDrops()


def quiet_dropped_connections() -> None:
    """Keep deliberate drops out of uvicorn's error log (idempotent)."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)


def _check_host(host: str, allow_remote: bool) -> None:
    if not allow_remote and not is_loopback(host):
        raise ValueError(
            f"refusing to serve the simulator on {host}: it hands out tokens to anyone; "
            "use a loopback address or allow_remote=True"
        )


def serve(
    settings: SimSettings | None = None,
    host: str = "127.0.0.1",
    port: int = 8750,
    *,
    allow_remote: bool = False,
    out: TextIO | None = None,
    log_level: str = "warning",
) -> None:
    """Serve a new simulator until interrupted, after printing how to point a client at it.

    ``port`` 0 picks a free port; the printed snippet names the real one. Raises ValueError
    for a host that is not loopback unless ``allow_remote``, and OSError when the port is taken.
    """
    _check_host(host, allow_remote)
    settings = settings or SimSettings()
    # Bind first, so port 0 is resolved before printing and a busy port fails before output.
    sock = bind_socket(host, port)
    port = sock.getsockname()[1]
    sim = Simulator(settings)
    stream = out or sys.stdout
    shown = f"[{host}]" if ":" in host else host
    print(
        f"flux-tui simulator on http://{shown}:{port} (company {settings.company!r}, Ctrl-C stops)\n",
        file=stream,
    )
    print(client_snippet(f"http://{shown}:{port}", settings), file=stream, flush=True)
    config = uvicorn.Config(sim.app, log_level=log_level, lifespan="off")
    quiet_dropped_connections()  # after Config: it sets up uvicorn's loggers
    run_server(uvicorn.Server(config), sock)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (IPv6 when the host is)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def run_server(server: uvicorn.Server, sock: socket.socket) -> None:
    """Run uvicorn on an already bound socket until it is told to stop (Ctrl-C, SIGTERM)."""
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


class BackgroundServer:
    """A simulator served by uvicorn in a thread, on a free loopback port (tests, benchmarks).

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:PORT``.
    """

    def __init__(
        self, sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False
    ) -> None:
        _check_host(host, allow_remote)
        self.sim = sim
        config = uvicorn.Config(sim.app, host=host, port=port, log_level="error", lifespan="off")
        quiet_dropped_connections()
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="flux-sim", daemon=True)
        self.base_url = ""

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; returns once the socket is listening."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        # uvicorn exposes no start event; poll its flag (startup takes milliseconds).
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator's server did not start")
            time.sleep(0.01)
        sock = self._server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        self.base_url = f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
