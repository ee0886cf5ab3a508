"""The simulator's parts and what they see of the :class:`~flux_tui.sim.app.Simulator` that
builds them. The Realtime API routes and the control API are given the simulator as a
:class:`SimParts` (a protocol), so they never import the module that imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from flux_tui.sim.clock import SimClock
from flux_tui.sim.faults import FaultPlan
from flux_tui.sim.kinesis import Stream
from flux_tui.sim.settings import SimSettings


class TelemetrySource(Protocol):
    """What the simulator needs from a fleet (``telemetry.Fleet``)."""

    def generate(self, t0_ms: int, t1_ms: int) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def assets(self) -> list[dict[str, Any]]: ...


class BearerCheck(Protocol):
    """What the realtime routes need from the Auth0 stand-in (``auth0.Auth0Sim``)."""

    def check_bearer(self, authorization_header: str | None) -> str | None: ...


@dataclass
class Counters:
    """What the simulator has seen and done, for tests and the control API."""

    requests_by_token: dict[str, int] = field(default_factory=dict)
    endpoint_calls: dict[str, int] = field(default_factory=dict)
    throttled: int = 0  # 429s sent, by the throttle or by a fault
    unauthorized: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    kinesis_errors: dict[str, int] = field(default_factory=dict)
    records_served: int = 0
    oversized: int = 0  # answers over the gateway's size cap, sent as 502
    bad_records: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_by_token": dict(self.requests_by_token),
            "endpoint_calls": dict(self.endpoint_calls),
            "throttled": self.throttled,
            "unauthorized": self.unauthorized,
            "faults": dict(self.faults),
            "kinesis_errors": dict(self.kinesis_errors),
            "records_served": self.records_served,
            "oversized": self.oversized,
            "bad_records": self.bad_records,
        }


class SimParts(Protocol):
    """What the routes and the control API use of the simulator."""

    settings: SimSettings
    clock: SimClock
    stream: Stream
    faults: FaultPlan
    counters: Counters
    auth: BearerCheck

    def advance(self) -> None: ...

    def ensure_history(self, kind: str, body: dict[str, Any]) -> None: ...
