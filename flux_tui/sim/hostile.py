"""Hostile answers on demand: the next N answers to a path drip, swell or say something else.

:class:`HostileAnswers` wraps the simulator's ASGI app. Armed through the control API
(``POST /_sim/answers``), it replaces the next ``count`` answers whose path starts with
``path``:

- ``drip``: the real answer, sent ``chunk`` bytes every ``interval`` seconds (a read
  timeout that restarts with every byte never fires);
- ``oversize``: a 200 JSON body of ``size`` bytes, optionally ``gzip`` Content-Encoding
  (a few KB on the wire that inflate to ``size``), generated a step at a time;
- ``body``: a fixed status, headers and body (a token answer with an absurd lifetime, an
  Enterprise Objects answer full of escapes...).
"""

from __future__ import annotations

import asyncio
import base64
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from flux_tui.sim.faults import MAX_DELAY, check_count

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = ("drip", "oversize", "body")
MAX_OVERSIZE = 8 * 1024 * 1024 * 1024  # 8 GiB inflated: far past any client's limit
_STEP = 1024 * 1024


@dataclass(slots=True)
class Armed:
    """One armed answer: the path prefix it catches and what it does."""

    path: str
    kind: str
    interval: float = 1.0
    chunk: int = 1
    size: int = 0
    gzip: bool = False
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def armed_from(spec: dict[str, Any]) -> Armed:
    """An :class:`Armed` from a control-API body (ValueError/KeyError/TypeError if bad)."""
    kind = spec["kind"]
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    path = spec["path"]
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"path must start with '/', not {path!r}")
    interval = float(spec.get("interval", 1.0))
    if not 0.0 <= interval <= MAX_DELAY:
        raise ValueError(f"interval must be 0 to {MAX_DELAY:g} seconds")
    size = int(spec.get("size", 0))
    if not 0 <= size <= MAX_OVERSIZE:
        raise ValueError(f"size must be 0 to {MAX_OVERSIZE}")
    if "body_b64" in spec:
        body = base64.b64decode(spec["body_b64"])
    elif "json" in spec:
        body = orjson.dumps(spec["json"])
    else:
        body = b""
    headers = {str(k): str(v) for k, v in dict(spec.get("headers") or {}).items()}
    if kind == "body" and "json" in spec:
        headers.setdefault("content-type", "application/json")
    return Armed(
        path,
        kind,
        interval,
        max(1, int(spec.get("chunk", 1))),
        size,
        bool(spec.get("gzip", False)),
        int(spec.get("status", 200)),
        headers,
        body,
    )


class HostileAnswers:
    """The armed answers, and the ASGI wrapper that serves them."""

    def __init__(self) -> None:
        self._armed: deque[Armed] = deque()
        self.served = 0

    def arm(self, armed: Armed, count: int = 1) -> int:
        """The next ``count`` answers to ``armed.path...`` are hostile; returns how many wait."""
        check_count(count)
        self._armed.extend(armed for _ in range(count))
        return len(self._armed)

    def clear(self) -> None:
        self._armed.clear()

    @property
    def pending(self) -> int:
        return len(self._armed)

    def _take(self, path: str) -> Armed | None:
        for armed in self._armed:
            if path.startswith(armed.path):
                self._armed.remove(armed)
                self.served += 1
                return armed
        return None

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` with the armed answers served in place of its own."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            armed = None
            if scope["type"] == "http" and not scope["path"].startswith("/_sim/"):
                armed = self._take(scope["path"])
            if armed is None:
                await app(scope, receive, send)
            elif armed.kind == "drip":
                await _drip(app, armed, scope, receive, send)
            elif armed.kind == "oversize":
                await _oversize(armed, receive, send)
            else:
                await _start(send, armed.status, armed.headers, len(armed.body))
                await send({"type": "http.response.body", "body": armed.body})

        return wrapped


async def _start(send: Send, status: int, headers: dict[str, str], length: int | None) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})


async def _drip(app: ASGIApp, armed: Armed, scope: Scope, receive: Receive, send: Send) -> None:
    """The app's own answer, trickled."""
    start: Message = {}
    parts: list[bytes] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, capture)
    await send(start)
    body = b"".join(parts)
    gone = asyncio.create_task(_disconnect(receive))
    try:
        for at in range(0, len(body), armed.chunk):
            if gone.done():
                return  # the client gave up: stop dripping into a closed connection
            await send(
                {
                    "type": "http.response.body",
                    "body": body[at : at + armed.chunk],
                    "more_body": True,
                }
            )
            await asyncio.sleep(armed.interval)
        await send({"type": "http.response.body", "body": b""})
    finally:
        gone.cancel()


async def _disconnect(receive: Receive) -> None:
    """Returns when the client has gone (the request body was read by then)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _oversize(armed: Armed, receive: Receive, send: Send) -> None:
    """``{"Records": [] <spaces> }`` of ``size`` bytes, made a step at a time."""
    head, tail = b'{"Records": [], "MillisBehindLatest": 0 ', b"}"
    fill = max(0, armed.size - len(head) - len(tail))
    headers = {"content-type": "application/json"}
    if armed.gzip:
        headers["content-encoding"] = "gzip"
    await _start(send, 200, headers, None if armed.gzip else armed.size)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31) if armed.gzip else None

    async def out(data: bytes, more: bool = True) -> None:
        if packer is not None:
            data = packer.compress(data) + (b"" if more else packer.flush())
        await send({"type": "http.response.body", "body": data, "more_body": more})

    gone = asyncio.create_task(_disconnect(receive))
    try:
        await out(head)
        while fill > 0:
            if gone.done():
                return  # the client dropped the answer at its limit
            step = min(fill, _STEP)
            fill -= step
            await out(b" " * step)
            await asyncio.sleep(0)  # let the disconnect be seen
        await out(tail, more=False)
    finally:
        gone.cancel()
