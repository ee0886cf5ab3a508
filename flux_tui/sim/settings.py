"""Every knob of the simulator, in one dataclass with a sensible demo default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class ReshardStep:
    """One scheduled resharding, ``at`` seconds after the simulator started.

    ``shard`` None picks a shard: the widest open shard for a split, the first adjacent
    open pair for a merge.
    """

    at: float
    action: Literal["split", "merge"]
    shard: str | None = None
    adjacent: str | None = None


@dataclass(slots=True)
class SimSettings:
    """How the simulated Flux deployment behaves."""

    seed: int = 1
    """Seed for telemetry, sequence-number layout and iterator signing: same seed, same run."""
    company: str = "demo"
    """The one company whose stream exists (``/realtime/{company}``)."""
    shards: int = 2
    """Open shards at start; hash ranges split evenly."""
    rate: float | None = None
    """Readings a second overall; None lets the fleet pick a realistic rate."""
    orgs: int = 2
    sites: int = 5
    units: int = 24
    scenario: bool = False
    """Start the demo's story at once: a unit falls silent a minute in, another trips on low
    suction pressure five minutes in (otherwise they happen at seed-given times)."""
    backlog_seconds: float = 120.0
    """History preloaded at start so a TRIM_HORIZON read has something to catch up on."""
    history_seconds: float = 0.0
    """Older history before the backlog, generated only when an iterator reaches into it
    (TRIM_HORIZON, AT_TIMESTAMP, a sequence number): the demo's 30 minutes cost nothing
    until someone asks for them."""
    strict_iterators: bool = False
    """Refuse every iterator type but TRIM_HORIZON and LATEST (400 InvalidArgumentException),
    like a gateway that forwards only the documented types. The control API can switch it."""
    retention_hours: float = 24.0
    """Records (and closed shards) older than this are trimmed."""
    iterator_ttl: float = 300.0
    """Seconds after issue that a shard iterator expires (ExpiredIteratorException)."""
    throttle: str | None = "100/60s"
    """Per-token gateway budget ``CALLS/WINDOWs``; None disables the 429 throttle."""
    shard_reads_per_second: int = 5
    """GetRecords calls a shard allows in any one second (ProvisionedThroughputExceeded)."""
    shard_read_bytes_per_second: int | None = 2 * 1024 * 1024
    """Read bandwidth of a shard; a bigger read blocks the shard's next calls. None: unlimited."""
    describe_page_size: int = 100
    """Shards per DescribeStream page (HasMoreShards / ExclusiveStartShardId)."""
    forward_exclusive_start: bool = True
    """False: the gateway drops ExclusiveStartShardId, so every DescribeStream page repeats."""
    reshard_schedule: tuple[ReshardStep, ...] = ()
    gateway_max_response_bytes: int = 10 * 1024 * 1024
    """API Gateway's answer cap; a bigger answer becomes 502 Internal server error."""
    errors_as_200: bool = False
    """Answer every Kinesis error as HTTP 200 with its ``__type`` body, like some gateways."""
    require_auth: bool = True
    """Check the bearer token on realtime calls (401 otherwise)."""
    token_expires_in: int = 86400
    clients: dict[str, str] = field(default_factory=lambda: {"flux-demo": "demo-secret"})
    """Auth0 client id -> secret accepted by the token endpoint."""
    auth0_options: dict[str, Any] = field(default_factory=dict)
    """More keyword arguments for ``auth0.Auth0Sim`` (device flow auto-approval, rate limit...)."""
    fault_seed: int = 7
    fault_probability: float = 0.0
    """Chance that a realtime call is answered with a random fault (see faults.py)."""
    bad_record_probability: float = 0.0
    """Chance that a generated reading is replaced by a malformed record."""
    max_generate_per_request: int = 200_000
    """Most readings generated while serving one request; the rest follow on later requests."""
    max_catch_up_seconds: float = 900.0
    """A clock jump longer than this generates only its last part (a quiet gap before it)."""
    max_records_per_shard: int = 200_000
    """Memory bound (a record costs ~1 KB): the oldest go early when a shard holds more."""
    allow_remote_control: bool = False
    """Serve ``/_sim/...`` to non-loopback clients too."""
    region: str = "us-east-1"
    account: str = "123456789012"

    @property
    def stream_name(self) -> str:
        """Kinesis stream name of the company's feed."""
        return f"flux-realtime-{self.company}"

    @property
    def retention_ms(self) -> int:
        return int(self.retention_hours * 3600 * 1000)
