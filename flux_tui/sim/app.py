"""The simulator: one Starlette app serving Auth0, Realtime, Enterprise Objects and control.

Telemetry is generated lazily: every realtime request first brings the stream up to the
clock's now (:meth:`Simulator.advance`). No lifespan and no background task is needed, so
the same app works behind ``httpx.ASGITransport`` and behind uvicorn.
"""

from __future__ import annotations

import heapq
import random
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from flux_tui.sim.clock import SimClock
from flux_tui.sim.control import SimControl, control_routes
from flux_tui.sim.faults import FaultPlan, bad_record, random_bad_kind
from flux_tui.sim.hostile import ASGIApp
from flux_tui.sim.kinesis import Stream
from flux_tui.sim.parts import BearerCheck, Counters, TelemetrySource
from flux_tui.sim.realtime import RealtimeApi, missing_auth_token
from flux_tui.sim.settings import ReshardStep, SimSettings

# History is generated in steps of at least a minute, so reading back in small steps
# (AT_SEQUENCE_NUMBER re-opens walking backwards) does not regenerate a slice per call.
HISTORY_STEP_MS = 60_000


class Simulator:
    """A seeded, clock-driven stand-in for the whole Flux deployment.

    ``fleet`` and ``auth`` default to :class:`flux_tui.sim.telemetry.Fleet` and
    :class:`flux_tui.sim.auth0.Auth0Sim` built from the settings; tests may pass their own.
    """

    def __init__(
        self,
        settings: SimSettings | None = None,
        clock: SimClock | None = None,
        *,
        fleet: TelemetrySource | None = None,
        auth: BearerCheck | None = None,
    ) -> None:
        self.settings = s = settings or SimSettings()
        self.clock = clock or SimClock()
        if fleet is None:
            from flux_tui.sim.telemetry import Fleet

            anchor = self.clock.now_ms() if s.scenario else None
            fleet = Fleet(seed=s.seed, orgs=s.orgs, sites=s.sites, units=s.units, rate=s.rate,
                          anchor_ms=anchor)
        self.fleet = fleet
        if auth is None:
            from flux_tui.sim.auth0 import Auth0Sim

            auth = Auth0Sim(
                self.clock,
                clients=dict(s.clients),
                expires_in=s.token_expires_in,
                **s.auth0_options,
            )
        self.auth = auth
        self.started_ms = self.clock.now_ms()
        backlog_ms = int(s.backlog_seconds * 1000)
        # Older history (if any) is generated on demand, before the backlog's first record.
        self.history_floor_ms = self.started_ms - backlog_ms
        self.history_start_ms = self.history_floor_ms - int(max(0.0, s.history_seconds) * 1000)
        self.stream = Stream(
            s.stream_name,
            shards=s.shards,
            now_ms=self.history_start_ms,
            seed=s.seed,
            iterator_ttl_ms=int(s.iterator_ttl * 1000),
            retention_ms=s.retention_ms,
            reads_per_second=s.shard_reads_per_second,
            read_bytes_per_second=s.shard_read_bytes_per_second,
            max_records_per_shard=s.max_records_per_shard,
            arn=f"arn:aws:kinesis:{s.region}:{s.account}:stream/{s.stream_name}",
        )
        self.faults = FaultPlan(seed=s.fault_seed, probability=s.fault_probability)
        self.counters = Counters()
        self._generated_ms = self.started_ms - backlog_ms
        self._schedule: list[ReshardStep] = sorted(s.reshard_schedule, key=lambda step: step.at)
        self._bad_rng = random.Random(s.fault_seed)
        # readings generated but not yet arrived: (arrival ms, order, partition key, payload)
        self._pending: list[tuple[int, int, str, dict[str, Any]]] = []
        self._queued = 0
        self._last_trim_ms = 0
        self.realtime = RealtimeApi(self)
        self.control = SimControl(self)
        self.app = self._build_app()

    # --- the stream follows the clock ------------------------------------------------------

    def advance(self) -> None:
        """Bring the stream up to now: scheduled reshards, generated telemetry, retention."""
        now_ms = self.clock.now_ms()
        while self._schedule and self.started_ms + self._schedule[0].at * 1000 <= now_ms:
            step = self._schedule.pop(0)
            at_ms = self.started_ms + int(step.at * 1000)
            self._generate_until(at_ms)  # records before the reshard belong to the parents
            self.control.reshard(step.action, step.shard, step.adjacent, at_ms=at_ms)
        self._generate_until(now_ms)
        if now_ms - self._last_trim_ms >= 1000:
            self.stream.trim(now_ms)
            self._last_trim_ms = now_ms

    def ensure_history(self, kind: str, body: dict[str, Any]) -> None:
        """Generate the older history an iterator of ``kind`` reaches into, if not done yet."""
        if self.history_floor_ms <= self.history_start_ms:
            return
        reach: int | None = None
        if kind == "TRIM_HORIZON":
            reach = self.history_start_ms
        elif kind == "AT_TIMESTAMP" and isinstance(body.get("Timestamp"), int | float):
            reach = int(body["Timestamp"] * 1000)
        elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            seq = body.get("StartingSequenceNumber")
            if isinstance(seq, str) and seq.isascii() and seq.isdigit():
                reach = self.stream.seq_ms(int(seq))
        if reach is not None and reach < self.history_floor_ms:
            self._prepend_history(max(reach - HISTORY_STEP_MS, self.history_start_ms))

    def _prepend_history(self, t0: int) -> None:
        """Readings taken in [t0, floor) that also arrived before the floor go before
        everything held (later arrivals would break the shards' arrival order: dropped)."""
        floor = self.history_floor_ms
        rows = []
        dumps = orjson.dumps
        for order, (pk, payload) in enumerate(self.fleet.generate(t0, floor)):
            arrival = int(payload.get("rtms") or payload.get("epochMs") or t0)
            if t0 <= arrival < floor:
                rows.append((arrival, order, pk, payload))
        rows.sort(key=lambda row: (row[0], row[1]))
        self.stream.prepend([(a, pk, dumps(p)) for a, _, pk, p in rows])
        self.history_floor_ms = t0

    def _generate_until(self, t1: int) -> None:
        t0 = self._generated_ms
        if t1 > t0:
            # After a long clock jump only the last stretch is generated: hours of telemetry
            # nobody can read before retention would only cost memory and time.
            t0 = max(t0, t1 - int(self.settings.max_catch_up_seconds * 1000))
            self._generated_ms = self._generate(t0, t1)
        self._deliver(min(t1, self._generated_ms))

    def _generate(self, t0: int, t1: int) -> int:
        """Queue the readings taken in [t0, t1) by their arrival (``rtms``); returns the end."""
        cap = self.settings.max_generate_per_request
        pending = self._pending
        push = heapq.heappush
        last_epoch = None
        for count, (pk, payload) in enumerate(self.fleet.generate(t0, t1)):
            epoch = payload.get("epochMs", t0)
            if count >= cap and epoch != last_epoch:
                # Stop between two milliseconds so the next request resumes exactly here.
                return int(epoch)
            self._queued += 1
            push(pending, (payload.get("rtms") or epoch, self._queued, pk, payload))
            last_epoch = epoch
        return t1

    def _deliver(self, until_ms: int) -> None:
        """Put every queued reading that has reached the cloud by ``until_ms``.

        Kinesis orders records by arrival, so a store-and-forward reading sent late lands
        after fresher ones, as it would in production.
        """
        pending = self._pending
        pop = heapq.heappop
        put = self.stream.put
        dumps = orjson.dumps
        bad_p = self.settings.bad_record_probability
        while pending and pending[0][0] <= until_ms:
            arrival, _, pk, payload = pop(pending)
            if bad_p and self._bad_rng.random() < bad_p:
                data, override = bad_record(random_bad_kind(self._bad_rng), payload)
                put(pk, data, arrival, data_b64=override)
                self.counters.bad_records += 1
            else:
                put(pk, dumps(payload), arrival)

    # --- the ASGI app ----------------------------------------------------------------------

    def _build_app(self) -> ASGIApp:
        from flux_tui.sim.enterprise import enterprise_routes

        routes: list[BaseRoute] = list(self.realtime.routes())
        auth_routes = getattr(self.auth, "routes", None)
        if callable(auth_routes):
            routes.extend(auth_routes())
        eo_routes = enterprise_routes(self.fleet, self.auth)
        routes.append(Mount("/axil/enterprise-objects", routes=eo_routes))
        routes.extend(control_routes(self.control))

        async def unknown(request: Request, exc: Exception) -> Response:
            # API Gateway answers every unknown path or method this way, never 404/405.
            if isinstance(exc, HTTPException) and exc.status_code in (404, 405):
                return missing_auth_token()
            raise exc

        app = Starlette(routes=routes, exception_handlers={404: unknown, 405: unknown})
        return self.control.hostile.wrap(app)
