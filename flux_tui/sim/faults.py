"""Faults on demand: broken answers for the realtime routes and malformed records.

A :class:`FaultPlan` holds scripted faults ("the next N calls to an endpoint") and an
optional seeded random rate. :func:`bad_record` builds the malformed record bodies (gzip, KPL
aggregates, hostile labels...) that the simulator puts into the stream between good ones.
"""

from __future__ import annotations

import enum
import gzip
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from flux_tui.feed.kpl import build_aggregate

ENDPOINTS = ("describe", "shard-iterator", "records")
# Bounds for what the control API is asked: a typo of count=1e9 must not fill the memory
# of a simulator serving a shift, nor a delay of 'inf' hold a connection forever.
MAX_SCRIPTED = 100_000
MAX_DELAY = 600.0


def check_count(count: int) -> int:
    """``count`` as given, when 0..MAX_SCRIPTED; else a ValueError naming the range."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_SCRIPTED:
        raise ValueError(f"count must be a whole number from 0 to {MAX_SCRIPTED}, not {count!r}")
    return count


def check_delay(delay: float) -> float:
    """``delay`` as given, when 0..MAX_DELAY seconds (nan and inf are not); else ValueError."""
    if not 0.0 <= delay <= MAX_DELAY:  # also false for nan
        raise ValueError(f"delay must be 0 to {MAX_DELAY:g} seconds, not {delay!r}")
    return float(delay)


class Fault(str, enum.Enum):
    """What a faulty call answers."""

    HTTP_500 = "http-500"
    HTTP_502 = "http-502"
    HTTP_503 = "http-503"
    TIMEOUT_504 = "timeout-504"  # waits ``delay`` then 504 Endpoint request timed out
    SLOW = "slow"  # waits ``delay`` then answers normally
    DROP = "drop"  # the connection closes mid-answer
    HTML_403 = "html-403"  # a CDN's HTML page
    NON_JSON = "non-json"  # 502 with a plain-text body
    TRUNCATED_JSON = "truncated-json"  # the good answer cut in half
    THROTTLE_429 = "throttle-429"  # a throttling storm: 429 Too Many Requests
    QUOTA_429 = "quota-429"  # the usage plan's quota: 429 Limit Exceeded
    EXPIRED_ITERATOR = "expired-iterator"
    INVALID_ITERATOR = "invalid-iterator"
    STREAM_GONE = "stream-gone"  # ResourceNotFoundException
    INTERNAL_FAILURE = "internal-failure"  # Kinesis InternalFailure, 500
    THROUGHPUT_EXCEEDED = "throughput-exceeded"  # ProvisionedThroughputExceededException


class BadRecord(str, enum.Enum):
    """Kinds of malformed or awkward records put into the stream between good ones."""

    INVALID_BASE64 = "invalid-base64"
    NON_JSON = "non-json"
    GZIP = "gzip"  # a valid reading, gzip-compressed
    KPL = "kpl"  # a KPL aggregate of several valid readings
    JSON_ARRAY = "json-array"  # several readings in one JSON array
    NDJSON = "ndjson"  # several readings, one JSON object a line
    OLD_SCHEMA = "old-schema"  # @timestamp / register_id / tag_id spelling
    MISSING_FIELDS = "missing-fields"
    EXTRA_FIELDS = "extra-fields"
    HUGE_LABEL = "huge-label"
    RICH_MARKUP = "rich-markup"
    TERMINAL_ESCAPES = "terminal-escapes"
    INVALID_UTF8 = "invalid-utf8"


@dataclass(frozen=True, slots=True)
class ScriptedFault:
    fault: Fault
    endpoint: str  # one of ENDPOINTS or "any"
    delay: float


class FaultPlan:
    """Which realtime calls fail, and how. Deterministic for a given seed."""

    def __init__(
        self,
        seed: int = 7,
        probability: float = 0.0,
        kinds: tuple[Fault, ...] | None = None,
        delay: float = 1.0,
    ) -> None:
        self._scripted: deque[ScriptedFault] = deque()
        self.set_random(probability, kinds, seed=seed, delay=delay)

    def script(
        self, fault: Fault | str, *, endpoint: str = "any", count: int = 1, delay: float = 1.0
    ) -> None:
        """The next ``count`` calls to ``endpoint`` answer with ``fault``."""
        if endpoint != "any" and endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS} or 'any', not {endpoint!r}")
        check_count(count)
        check_delay(delay)
        self._scripted.extend(ScriptedFault(Fault(fault), endpoint, delay) for _ in range(count))

    def set_random(
        self,
        probability: float,
        kinds: tuple[Fault, ...] | None = None,
        *,
        seed: int | None = None,
        delay: float = 1.0,
    ) -> None:
        """Fail each call with ``probability``, picking among ``kinds`` (default: all but DROP)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        check_delay(delay)
        self.probability = probability
        self.kinds = (
            tuple(Fault(k) for k in kinds)
            if kinds
            else tuple(f for f in Fault if f is not Fault.DROP)
        )
        self.delay = delay
        if seed is not None:
            self._rng = random.Random(seed)

    def clear(self) -> None:
        """No more faults: scripted ones dropped, random rate zero."""
        self._scripted.clear()
        self.probability = 0.0

    @property
    def pending(self) -> int:
        return len(self._scripted)

    def take(self, endpoint: str) -> ScriptedFault | None:
        """The fault for this call, if any (consumes a scripted one)."""
        for item in self._scripted:
            if item.endpoint in ("any", endpoint):
                self._scripted.remove(item)
                return item
        if self.probability and self._rng.random() < self.probability:
            return ScriptedFault(self._rng.choice(self.kinds), endpoint, self.delay)
        return None


# --- malformed records -------------------------------------------------------------------

SAMPLE_PAYLOAD: dict[str, Any] = {
    "epochMs": 1652128223000,
    "registerId": 416,
    "val": 2,
    "rtms": 1652128223567,
    "pk": "1_333_2222_1111_1754_889_21_108",
    "tagId": 889,
    "label": "Valve Loaded Position",
    "tagName": "register_tag__loading_valve_#4_status",
    "orgId": 333,
    "siteId": 2222,
    "assetId": 1111,
}


def _dumps(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)


def bad_record(
    kind: BadRecord | str, payload: dict[str, Any] | None = None
) -> tuple[bytes, str | None]:
    """The body of a malformed record built around ``payload``.

    Returns (data bytes, wire Data override); the override is set only for invalid base64,
    which cannot be expressed as bytes.
    """
    kind = BadRecord(kind)
    p = dict(payload or SAMPLE_PAYLOAD)
    if kind is BadRecord.INVALID_BASE64:
        return b"", "%%not*base64!!"
    if kind is BadRecord.NON_JSON:
        return b"reading=42 this is not JSON", None
    if kind is BadRecord.GZIP:
        return gzip.compress(_dumps(p), mtime=0), None
    if kind is BadRecord.KPL:
        subs = [dict(p, registerId=p.get("registerId", 0), val=i) for i in range(3)]
        return build_aggregate([(str(s.get("pk", "k")), _dumps(s)) for s in subs]), None
    if kind is BadRecord.JSON_ARRAY:
        return orjson.dumps([dict(p, val=i) for i in range(3)]), None
    if kind is BadRecord.NDJSON:
        return b"\n".join(_dumps(dict(p, val=i)) for i in range(3)) + b"\n", None
    if kind is BadRecord.OLD_SCHEMA:
        old = {
            "@timestamp": p.get("epochMs"),
            "register_id": p.get("registerId"),
            "asset_id": p.get("assetId"),
            "tag_id": str(p.get("tagId")),
            "tag_name": p.get("tagName"),
            "neptune_id": "nep-0001",
            "val": p.get("val"),
            "label": p.get("label"),
        }
        return _dumps(old), None
    if kind is BadRecord.MISSING_FIELDS:
        return _dumps({"val": p.get("val")}), None
    if kind is BadRecord.EXTRA_FIELDS:
        return _dumps(dict(p, firmware="4.2.1", extra={"nested": [1, 2, 3]}, flags=None)), None
    if kind is BadRecord.HUGE_LABEL:
        return _dumps(dict(p, label="Suction Pressure " * 6000)), None
    if kind is BadRecord.RICH_MARKUP:
        return _dumps(dict(p, label="[bold red]x[/]", tagName="[link=http://evil]tag[/link]")), None
    if kind is BadRecord.TERMINAL_ESCAPES:
        return _dumps(dict(p, label="\x1b[2J\x1b]0;pwned\x07", tagName="tag\x1b[31m\r")), None
    # INVALID_UTF8: raw bytes that are not UTF-8 inside an otherwise JSON-looking object
    return b'{"epochMs": 1652128223000, "label": "\xff\xfe bad \xc3\x28", "val": 1}', None


def random_bad_kind(rng: random.Random) -> BadRecord:
    return rng.choice(list(BadRecord))
