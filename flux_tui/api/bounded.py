"""Reading an HTTP answer under a size limit and a total deadline.

httpx reads a body whole and inflates ``Content-Encoding: gzip`` with no limit (a ~1 MB
gzip-encoded answer cost 5.3 GB), and its read timeout restarts with every byte (a server
dripping a byte every 20 s never times out). :func:`bounded_request` streams the body,
inflates it itself a bounded step at a time, stops past ``limit`` decoded bytes, and gives
the whole exchange one deadline. Its two failures are ``httpx`` exceptions, so every caller
that already classifies ``httpx.HTTPError`` handles them unchanged.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import httpx

__all__ = [
    "DEFAULT_DEADLINE",
    "RECORDS_BODY_LIMIT",
    "SMALL_BODY_LIMIT",
    "AnswerTooLarge",
    "DeadlinePassed",
    "bounded_request",
]

MiB = 1024 * 1024
# API Gateway caps an answer at 10 MB; GetRecords bodies are base64 (x 4/3) of at most
# 10 MiB of data: 32 MiB leaves room for a gateway that does not cap, and no more.
RECORDS_BODY_LIMIT = 32 * MiB
# Tokens, iterators, stream descriptions and single Enterprise Objects answers are a few KB.
SMALL_BODY_LIMIT = 1 * MiB
DEFAULT_DEADLINE = 60.0  # seconds for a whole call: connect, headers and every byte
_STEP = 64 * 1024  # most bytes inflated at once


class AnswerTooLarge(httpx.DecodingError):
    """The body (after Content-Encoding) passed the limit; it was not read further."""


class DeadlinePassed(httpx.ReadTimeout):
    """The whole answer did not arrive within the call's deadline."""


class _Inflater:
    """Decodes one Content-Encoding, never holding more than the limit."""

    def __init__(self, encoding: str, limit: int, request: httpx.Request) -> None:
        self.limit = limit
        self.request = request
        self.size = 0
        self.parts: list[bytes] = []
        names = [e.strip().lower() for e in encoding.split(",") if e.strip()]
        names = [e for e in names if e != "identity"]
        if len(names) > 1 or (names and names[0] not in ("gzip", "x-gzip", "deflate")):
            raise httpx.DecodingError(f"unsupported Content-Encoding {encoding!r}", request=request)
        self.kind = names[0] if names else None
        # gzip; deflate is zlib-wrapped per RFC 9110 but some servers send it raw.
        wbits = 16 + zlib.MAX_WBITS if self.kind in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._z = zlib.decompressobj(wbits) if self.kind else None
        self._raw_deflate_tried = False

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self._z.decompress(data, _STEP)
            except zlib.error as exc:
                if self.kind == "deflate" and not self._raw_deflate_tried and not self.size:
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise httpx.DecodingError(
                    f"bad {self.kind} body: {exc}", request=self.request
                ) from None
            self._keep(out)
            data = self._z.unconsumed_tail

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise AnswerTooLarge(
                f"the answer passed {self.limit // MiB} MiB (the body limit) and was dropped",
                request=self.request,
            )
        if data:
            self.parts.append(data)

    def body(self) -> bytes:
        return b"".join(self.parts)


async def bounded_request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    limit: int,
    deadline: float = DEFAULT_DEADLINE,
    **options: Any,
) -> httpx.Response:
    """``http.request(method, url, **options)`` with its body read under ``limit`` decoded
    bytes and the whole exchange within ``deadline`` seconds.

    Returns a response whose ``content`` is the decoded body. Raises
    :class:`AnswerTooLarge` or :class:`DeadlinePassed` (both ``httpx.HTTPError``), or what
    ``httpx`` raises for the connection itself.
    """
    headers = dict(options.pop("headers", None) or {})
    headers["Accept-Encoding"] = "gzip, deflate"  # only what _Inflater decodes
    request = http.build_request(method, url, headers=headers, **options)
    try:
        async with asyncio.timeout(deadline):
            response = await http.send(request, stream=True)
            try:
                body = await _read_body(response, limit, request)
            finally:
                await response.aclose()
    except TimeoutError:
        raise DeadlinePassed(
            f"no complete answer within {deadline:g} s (the per-call deadline)", request=request
        ) from None
    dropped = (b"content-encoding", b"content-length", b"transfer-encoding")
    plain = [(k, v) for k, v in response.headers.raw if k.lower() not in dropped]
    return httpx.Response(response.status_code, headers=plain, content=body, request=request)


async def _read_body(response: httpx.Response, limit: int, request: httpx.Request) -> bytes:
    if response.is_stream_consumed:
        # A transport that built the answer in memory (httpx.MockTransport in tests): it is
        # decoded already; the limit still holds for what callers get.
        body = response.content
        if len(body) > limit:
            raise AnswerTooLarge(
                f"the answer passed {limit // MiB} MiB (the body limit) and was dropped",
                request=request,
            )
        return body
    inflater = _Inflater(response.headers.get("content-encoding", ""), limit, request)
    async for chunk in response.aiter_raw():
        inflater.feed(chunk)
    return inflater.body()
