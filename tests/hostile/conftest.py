"""Fixtures of the hostile suite: a real `flux-tui sim` process on a loopback port, a way to
put crafted records on its stream through the control API, and a runner that executes the
real command in a subprocess and measures its peak memory (``os.wait4`` in a tiny launcher
gives the command's own ``ru_maxrss``, see :data:`_LAUNCHER`)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import simproc
from simproc import clean_env, stop_process

__all__ = ["Run", "Sim", "clean_env", "quiet_sim", "run_flux", "run_measured", "start_sim",
           "stop_process"]

RUN_TIMEOUT = 60.0


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
    port, process = simproc.start_sim(folder, *options)
    return Sim(port, folder), process


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
