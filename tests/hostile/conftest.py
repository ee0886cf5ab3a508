"""Fixtures of the hostile suite: a real `flux-tui sim` process on a loopback port, a way to
put crafted records on its stream through the control API, and a runner that executes the
real command in a subprocess and measures its peak memory (``os.wait4`` in a tiny launcher
gives the command's own ``ru_maxrss``, see :data:`_LAUNCHER`)."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

RUN_TIMEOUT = 60.0


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment without the developer's FLUX_* settings, with private folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUX_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], deadline: float = 20.0) -> None:
    """Poll until the port accepts connections (or the process died, or the deadline)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise AssertionError(f"the simulator exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a socket with a deadline, not waiting a fixed time
    raise AssertionError(f"the simulator did not listen on {port}")


@dataclass
class Sim:
    """A running simulator process and its control API."""

    port: int
    folder: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(method, f"{self.base}/_sim/{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def put_raw(self, records: list[tuple[str, bytes]]) -> None:
        """Put records whose data are these exact bytes (the control API's data_b64)."""
        body = [
            {"partition_key": pk, "data_b64": base64.b64encode(data).decode()}
            for pk, data in records
        ]
        for start in range(0, len(body), 200):
            self.control("POST", "records", {"records": body[start : start + 200]})

    def config(self, secret: str = "demo-secret", extra: str = "") -> Path:
        """A config file with a profile `local` pointing at this simulator (``extra``:
        more TOML lines for the profile)."""
        path = self.folder / f"config-{self.port}-{abs(hash(extra))}.toml"
        path.write_text(
            f'[profiles.local]\nbase_url = "{self.base}/realtime"\n'
            f'token_url = "{self.base}/oauth/token"\ncompany = "demo"\n'
            f'client_id = "flux-demo"\nclient_secret = "{secret}"\n'
            f'enterprise_url = "{self.base}/axil/enterprise-objects"\n{extra}'
        )
        return path

    def pending(self) -> int:
        """Armed answers not served yet."""
        return int(self.control("POST", "answers", {"path": "/", "kind": "body", "count": 0})
                   ["pending"])  # fmt: skip

    def arm(self, path: str, kind: str, count: int = 1, **spec: Any) -> None:
        """The next ``count`` answers to ``path...`` drip, swell or are replaced."""
        self.control("POST", "answers", {"path": path, "kind": kind, "count": count, **spec})


def start_sim(folder: Path, *options: str) -> tuple[Sim, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flux_tui", "sim", "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean_env(folder),
    )
    try:
        wait_listening(port, process)
    except BaseException:
        stop_process(process)
        raise
    return Sim(port, folder), process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def quiet_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    """A simulator with no backlog, a trickle of telemetry and no throttle: what a test
    puts on its stream is (nearly) all there is."""
    folder = tmp_path_factory.mktemp("sim")
    sim, process = start_sim(
        folder, "--backlog", "0", "--rate", "0.2", "--throttle", "off", "--shards", "2"
    )
    try:
        yield sim
    finally:
        stop_process(process)


@dataclass
class Run:
    """One finished command: exit code, output bytes and peak memory (MB)."""

    code: int
    out: bytes
    err: bytes
    peak_mb: float


def run_flux(folder: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = RUN_TIMEOUT) -> Run:
    """Run ``python -m flux_tui ARGS`` to the end, measured (see :func:`run_measured`)."""
    return run_measured(folder, [sys.executable, "-m", "flux_tui", *args], env=env,
                        timeout=timeout)  # fmt: skip


# Linux keeps the larger of a process's peak RSS before and after exec, so a command
# forked straight from this (large) test process would report the test's own memory. A
# tiny launcher forks the command instead and hands back wait4's figure for it alone.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status) % 256)\n"
)


def run_measured(folder: Path, argv: list[str], *, env: dict[str, str] | None = None,
                 timeout: float = RUN_TIMEOUT) -> Run:
    """Run ``argv`` to the end; its own peak RSS (kilobytes from wait4, in MB)."""
    out_path, err_path = folder / "stdout.bin", folder / "stderr.bin"
    peak_path = folder / "peak.kb"
    peak_path.unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(peak_path), *argv],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=folder,
            env=env or clean_env(folder), start_new_session=True,
        )  # fmt: skip
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise AssertionError(f"{' '.join(argv)} ran past {timeout} s") from None
    return Run(
        code,
        out_path.read_bytes(),
        err_path.read_bytes(),
        int(peak_path.read_text()) / 1024,  # Linux: kilobytes
    )
