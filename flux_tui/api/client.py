"""The Realtime API client: the three calls, behind the shared budget, with retries.

One request path (:meth:`RealtimeClient._call`) does the budget, the token, the error
classification and the retry policy for every call; the reader above decides what to do
about errors that retrying cannot fix (new iterator, describe again, stop).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from flux_tui.api import errors
from flux_tui.api.auth import TokenProvider
from flux_tui.api.bounded import (
    DEFAULT_DEADLINE,
    RECORDS_BODY_LIMIT,
    SMALL_BODY_LIMIT,
    AnswerTooLarge,
    DeadlinePassed,
    bounded_request,
)
from flux_tui.api.budget import RateBudget
from flux_tui.api.models import (
    DescribeStreamResponse,
    GetRecordsResponse,
    Shard,
    ShardIteratorResponse,
    StreamDescription,
    parse_answer,
)
from flux_tui.base.errors import Action, FluxError
from flux_tui.base.events import FeedProblem, Throttled

Listener = Callable[[object], None]
M = TypeVar("M", bound=BaseModel)

MAX_LIMIT = 10_000
#: Iterator types that start at a sequence number (``StartingSequenceNumber``).
SEQUENCE_TYPES = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
# A 429 storm must end eventually even though throttles do not use up normal retries.
MAX_THROTTLES = 20
# DescribeStream pages hold 100 shards; a stream with 100,000 shards is far beyond Flux.
MAX_DESCRIBE_PAGES = 1000
# A shard serves 5 GetRecords a second, and a failed call counts as one of them: a retry
# sooner than the reader's own spacing makes a sixth call in the second, which fails with
# ProvisionedThroughputExceeded and spends another budget slot. After that error itself
# (or KMS/limit throttling, also per second) the second must pass before a retry can work.
RECORDS_RETRY_FLOOR = 0.25
THROUGHPUT_RETRY_FLOOR = 1.0


@dataclass(slots=True)
class ClientStats:
    """Counters for the status bar and the end-of-run summary."""

    requests: int = 0  # HTTP attempts sent (each passed the budget)
    throttled: int = 0  # 429 answers
    retries: int = 0  # backoff sleeps taken for retryable errors
    reauths: int = 0  # token refreshes after a 401
    errors: int = 0  # attempts that ended in any error
    last_latency: float = 0.0  # seconds, last attempt (good or bad)
    page_bytes: int = 0  # body size of the last answer


class RealtimeClient:
    """Client of one company's Flux Realtime stream.

    ``http`` belongs to the caller (who closes it); ``listener`` (if set) receives
    :class:`~flux_tui.base.events.Throttled` on every 429 and
    :class:`~flux_tui.base.events.FeedProblem` before every backoff sleep.
    """

    def __init__(
        self,
        base_url: str,
        company: str,
        *,
        tokens: TokenProvider,
        budget: RateBudget,
        http: httpx.AsyncClient,
        timeout: float = 35.0,
        deadline: float = DEFAULT_DEADLINE,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_throttles: int = MAX_THROTTLES,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not company.strip():
            raise ValueError("company must not be empty")
        self.stream_url = f"{base_url.rstrip('/')}/{company.strip().lower()}"
        self.host = urlsplit(self.stream_url).netloc or self.stream_url
        self.tokens = tokens
        self.budget = budget
        self.http = http
        self.timeout = timeout  # per read: restarts with every byte
        self.deadline = deadline  # per call: the whole answer, however it trickles
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_throttles = max_throttles
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.listener: Listener | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"RealtimeClient({self.stream_url!r})"

    @property
    def page_bytes(self) -> int:
        """Body size of the last answer (the reader adapts its page limit with it)."""
        return self.stats.page_bytes

    @property
    def last_latency(self) -> float:
        """Seconds the last attempt took."""
        return self.stats.last_latency

    async def aclose(self) -> None:
        """Nothing to release: ``http`` is closed by whoever created it."""

    # --- the three calls -----------------------------------------------------------------

    async def describe_stream(
        self, exclusive_start_shard_id: str | None = None
    ) -> StreamDescription:
        """One DescribeStream page (up to 100 shards)."""
        body = None
        if exclusive_start_shard_id is not None:
            body = {"ExclusiveStartShardId": exclusive_start_shard_id}
        data, status = await self._call(self.stream_url, body, what="describe stream")
        answer = self._parse(DescribeStreamResponse, data, what="describe stream", status=status)
        return answer.stream_description

    async def describe_all(self) -> StreamDescription:
        """Every shard: follows ``HasMoreShards``, stopping when a page brings nothing new.

        Whether the gateway forwards ``ExclusiveStartShardId`` is unknown; if it does not,
        the second page repeats the first and we stop instead of looping forever.
        """
        first = await self.describe_stream()
        shards: dict[str, Shard] = {s.shard_id: s for s in first.shards}
        page = first
        for _ in range(MAX_DESCRIBE_PAGES):
            if not page.has_more_shards or not page.shards:
                break
            page = await self.describe_stream(page.shards[-1].shard_id)
            new = [s for s in page.shards if s.shard_id not in shards]
            if not new:
                break
            for shard in new:
                shards[shard.shard_id] = shard
        return first.model_copy(update={"shards": list(shards.values()), "has_more_shards": False})

    async def get_shard_iterator(
        self,
        shard_id: str,
        iterator_type: str = "LATEST",
        *,
        sequence: str | int | None = None,
        timestamp: float | None = None,
    ) -> str:
        """A new iterator for ``shard_id``.

        ``iterator_type``: ``TRIM_HORIZON``, ``LATEST``, ``AT_TIMESTAMP`` (``timestamp``: epoch
        seconds, sent as a JSON number), ``AT_SEQUENCE_NUMBER`` or ``AFTER_SEQUENCE_NUMBER``
        (``sequence``). A gateway that refuses one of the last three (InvalidArgument or
        Validation, as a 400 or as a 200 with ``__type``) raises
        :class:`~flux_tui.api.errors.IteratorTypeRefusedError`.
        """
        body: dict[str, Any] = {"ShardId": shard_id, "ShardIteratorType": iterator_type}
        if iterator_type in SEQUENCE_TYPES:
            if sequence is None:
                raise ValueError(f"{iterator_type} needs a sequence number")
            body["StartingSequenceNumber"] = str(sequence)
        elif iterator_type == "AT_TIMESTAMP":
            if timestamp is None:
                raise ValueError("AT_TIMESTAMP needs a timestamp")
            body["Timestamp"] = round(float(timestamp), 3)
        try:
            data, status = await self._call(
                f"{self.stream_url}/shard-iterator", body, what=f"shard iterator for {shard_id}"
            )
        except (errors.InvalidArgumentError, errors.ValidationError) as exc:
            if iterator_type in ("TRIM_HORIZON", "LATEST"):
                raise
            raise errors.IteratorTypeRefusedError(iterator_type, exc) from exc
        answer = self._parse(ShardIteratorResponse, data, what="shard iterator", status=status)
        return answer.shard_iterator

    async def get_records(
        self, iterator: str, limit: int, *, retry_slow: bool = True
    ) -> GetRecordsResponse:
        """One GetRecords page of at most ``limit`` (1..10000) records.

        With ``retry_slow=False`` a 502/504 or a timeout is raised at once instead of being
        retried with the same limit, so the caller can shrink the page first.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, not {limit}")
        body = {"ShardIterator": iterator, "Limit": limit}
        data, status = await self._call(
            f"{self.stream_url}/records",
            body,
            what="get records",
            retry_slow=retry_slow,
            retry_floor=RECORDS_RETRY_FLOOR,
            limit=RECORDS_BODY_LIMIT,
        )
        return self._parse(GetRecordsResponse, data, what="get records", status=status)

    # --- the one request path ------------------------------------------------------------

    async def _call(
        self,
        url: str,
        body: dict[str, Any] | None,
        *,
        what: str,
        retry_slow: bool = True,
        retry_floor: float = 0.0,
        limit: int = SMALL_BODY_LIMIT,
    ) -> tuple[Any, int]:
        """Send one logical call; returns ``(parsed_json, status)`` or raises a FluxError.
        ``retry_floor``: the shortest wait before a retry (a shard's own call spacing);
        ``limit``: the most body bytes (after Content-Encoding) an answer may have."""
        token = await self.tokens.token()
        retries = throttles = 0
        reauthed = False
        while True:
            await self.budget.acquire()
            error, data, status = await self._attempt(url, body, token, limit)
            if error is None:
                return data, status
            self.stats.errors += 1
            action = error.action
            if action is Action.THROTTLED:
                self.stats.throttled += 1
                throttles += 1
                if throttles > self.max_throttles:
                    raise error
                # The pause is enforced by budget.acquire() at the top of the loop.
                self._notify(Throttled(self.budget.note_throttled()))
                continue
            if action is Action.REAUTH:
                if reauthed:
                    raise errors.UnauthorizedError(
                        f"{what}: the API refused a freshly issued token (HTTP 401): the client "
                        "may lack access to this company's stream",
                        status,
                    ) from error
                reauthed = True
                self.stats.reauths += 1
                token = await self.tokens.refresh(token)
                continue
            if action is Action.RETRY and (retry_slow or not _slow(error)):
                if retries >= self.max_retries:
                    raise error
                delay = self._rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**retries))
                if isinstance(error, errors.ThroughputExceededError):
                    delay = max(delay, THROUGHPUT_RETRY_FLOOR)
                delay = max(delay, retry_floor)
                retries += 1
                self.stats.retries += 1
                self._notify(FeedProblem(error, delay))
                await self._sleep(delay)
                continue
            raise error

    async def _attempt(
        self, url: str, body: dict[str, Any] | None, token: str, limit: int
    ) -> tuple[FluxError | None, Any, int]:
        """One HTTP exchange, classified; never raises for network or API failures. The
        body is read under ``limit`` and the whole exchange within :attr:`deadline`."""
        self.stats.requests += 1
        started = time.perf_counter()
        try:
            response = await bounded_request(
                self.http,
                "GET",
                url,
                limit=limit,
                deadline=self.deadline,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            self.stats.last_latency = time.perf_counter() - started
            self.stats.page_bytes = 0
            return self._transport_error(exc), None, 0
        self.stats.last_latency = time.perf_counter() - started
        content = response.content
        self.stats.page_bytes = len(content)
        error, data = errors.error_from_response(response.status_code, content)
        return error, data, response.status_code

    def _transport_error(self, exc: httpx.HTTPError) -> FluxError:
        if isinstance(exc, DeadlinePassed):
            # A server dripping bytes resets the read timeout forever: the deadline ends
            # the call, which is retried (with a smaller page) and reported as a problem.
            return errors.TimeoutError(f"{self.host}: {exc}")
        if isinstance(exc, AnswerTooLarge):
            # What a 413 means too: a smaller page is the cure (the reader shrinks it).
            return errors.PayloadTooLargeError(f"{self.host}: {exc}", 200)
        return errors.error_from_exception(exc, self.host)

    def _parse(self, model: type[M], data: Any, *, what: str, status: int) -> M:
        try:
            return parse_answer(model, data, what=what, status=status)
        except errors.UnexpectedResponseError:
            self.stats.errors += 1
            raise

    def _notify(self, event: object) -> None:
        if self.listener is not None:
            self.listener(event)


def _slow(error: FluxError) -> bool:
    """Errors that a smaller page may cure: gateway timeouts/bad gateway and our timeouts."""
    if isinstance(error, errors.TimeoutError):
        return True
    return isinstance(error, errors.GatewayServerError) and error.status in (502, 504)
