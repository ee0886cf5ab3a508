"""A real ``flux-tui sim`` process on a free loopback port, for the tests that run commands
as real processes (tests/cli, tests/hostile): one launcher, one way to wait for it to listen
and one way to stop it. Importable as ``simproc`` (``tests/`` is on the path through its
conftest)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["clean_env", "free_port", "running_sim", "start_sim", "stop_process",
           "wait_listening"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment without the developer's FLUX_* settings, with private folders (and
    without COLUMNS/LINES, which a pytest-xdist worker sets to 80×24)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLUX_") and k not in ("COLUMNS", "LINES")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it: no clash between workers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen, deadline: float = 20.0,  # type: ignore[type-arg]
                   log: Path | None = None) -> None:  # fmt: skip
    """Poll until the port accepts connections (or the process died, or the deadline)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise AssertionError(f"the simulator exited with {process.returncode}: {said}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)  # polling a socket with a deadline, not waiting a fixed time
    raise AssertionError(f"the simulator did not listen on {port}")


def start_sim(folder: Path, *options: str) -> tuple[int, subprocess.Popen[bytes]]:
    """Start ``flux-tui sim OPTIONS`` on a free port and wait until it listens. Its stderr
    goes to a file in ``folder`` (a pipe nobody reads could fill and stall it)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / f"sim-{port}.log"
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "flux_tui", "sim", "--port", str(port), *options],
            stdout=subprocess.DEVNULL, stderr=err, env=clean_env(folder),
        )  # fmt: skip
    try:
        wait_listening(port, process, log=log)
    except BaseException:
        stop_process(process)
        raise
    return port, process


def stop_process(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Ctrl-C, then kill after 10 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_sim(folder: Path, *options: str) -> Iterator[int]:
    """A ``flux-tui sim OPTIONS`` process for the ``with`` block; yields its port."""
    port, process = start_sim(folder, *options)
    try:
        yield port
    finally:
        stop_process(process)
