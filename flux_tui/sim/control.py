"""Steering the simulator: put records, reshard, inject faults, move the clock, read counters.

:class:`SimControl` is the Python API used by in-process tests; :func:`control_routes`
serves the same under ``/_sim/...`` (no token, loopback clients only unless allowed).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flux_tui.sim.faults import BadRecord, Fault, bad_record, check_count
from flux_tui.sim.hostile import HostileAnswers, armed_from
from flux_tui.sim.kinesis import KinesisFault, Produced
from flux_tui.sim.parts import SimParts

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


class SimControl:
    """The simulator's steering wheel."""

    def __init__(self, sim: SimParts) -> None:
        self._sim = sim
        self.hostile = HostileAnswers()  # the app is wrapped by it (Simulator._build_app)

    @property
    def simulator(self) -> SimParts:
        """The simulator this controls."""
        return self._sim

    # --- records ---------------------------------------------------------------------------

    def put_record(
        self,
        partition_key: str,
        data: bytes | dict[str, Any] | list[Any],
        *,
        data_b64: str | None = None,
    ) -> tuple[str, str]:
        """Put one record now (after generated telemetry up to now); returns (shard id, seq).

        ``data`` may be raw bytes or a JSON-able object; ``data_b64`` overrides the wire text.
        """
        self._sim.advance()
        raw = data if isinstance(data, bytes) else orjson.dumps(data)
        shard_id, seq = self._sim.stream.put(
            partition_key, raw, self._sim.clock.now_ms(), data_b64=data_b64
        )
        return shard_id, str(seq)

    def put_records(
        self, records: list[tuple[str, bytes | dict[str, Any] | list[Any]]]
    ) -> list[tuple[str, str]]:
        """Put several (partition key, data) records in order."""
        return [self.put_record(pk, data) for pk, data in records]

    def put_bad_records(
        self, kind: BadRecord | str, count: int = 1, partition_key: str = "bad-record"
    ) -> list[tuple[str, str]]:
        """Put ``count`` malformed records of ``kind`` (see :class:`BadRecord`)."""
        check_count(count)
        out = []
        for _ in range(count):
            data, override = bad_record(kind)
            out.append(self.put_record(partition_key, data, data_b64=override))
            self._sim.counters.bad_records += 1
        return out

    def produced(self) -> list[tuple[str, str, str, bytes]]:
        """Every record the stream holds: (shard id, sequence number, partition key, data)."""
        self._sim.advance()
        return [(p.shard_id, p.seq, p.partition_key, p.data) for p in self._sim.stream.produced()]

    def produced_records(self) -> list[Produced]:
        """Like :meth:`produced`, as named tuples."""
        self._sim.advance()
        return self._sim.stream.produced()

    # --- resharding --------------------------------------------------------------------------

    def split(self, shard_id: str | None = None) -> tuple[str, str]:
        """Split a shard (default: the widest open one) in halves; returns the two children."""
        low, high = self.reshard("split", shard_id)
        return low, high

    def merge(self, shard_id: str | None = None, adjacent_id: str | None = None) -> str:
        """Merge two adjacent open shards (default: the first adjacent pair); returns the child."""
        return self.reshard("merge", shard_id, adjacent_id)[0]

    def reshard(
        self,
        action: str,
        shard: str | None = None,
        adjacent: str | None = None,
        *,
        at_ms: int | None = None,
    ) -> list[str]:
        """``split`` or ``merge``; returns the new shard ids. ``at_ms`` is for the schedule."""
        stream = self._sim.stream
        now_ms = at_ms if at_ms is not None else self._sim.clock.now_ms()
        if at_ms is None:
            self._sim.advance()
        if action == "split":
            if shard is None:
                shard = max(stream.open_shards(), key=lambda s: s.end_hash - s.start_hash).shard_id
            return list(stream.split(shard, now_ms))
        if action == "merge":
            if shard is None or adjacent is None:
                opened = stream.open_shards()
                if len(opened) < 2:
                    raise KinesisFault("InvalidArgumentException", "no two open shards to merge")
                shard, adjacent = opened[0].shard_id, opened[1].shard_id
            return [stream.merge(shard, adjacent, now_ms)]
        raise ValueError(f"reshard action must be 'split' or 'merge', not {action!r}")

    # --- faults, stream, clock -----------------------------------------------------------------

    def inject_fault(
        self, fault: Fault | str, *, endpoint: str = "any", count: int = 1, delay: float = 1.0
    ) -> None:
        """The next ``count`` calls to ``endpoint`` (describe, shard-iterator, records, any) fail."""
        self._sim.faults.script(fault, endpoint=endpoint, count=count, delay=delay)

    def random_faults(
        self,
        probability: float,
        kinds: list[str] | None = None,
        *,
        seed: int | None = None,
        delay: float = 1.0,
    ) -> None:
        """Fail each realtime call with ``probability`` (seeded, so runs repeat)."""
        self._sim.faults.set_random(
            probability, tuple(Fault(k) for k in kinds) if kinds else None, seed=seed, delay=delay
        )

    def clear_faults(self) -> None:
        self._sim.faults.clear()

    def strict_iterators(self, strict: bool = True) -> bool:
        """Refuse (True) or allow (False) every iterator type but TRIM_HORIZON and LATEST."""
        self._sim.settings.strict_iterators = bool(strict)
        return self._sim.settings.strict_iterators

    def delete_stream(self) -> None:
        """The stream disappears: every call answers ResourceNotFoundException."""
        self._sim.stream.exists = False

    def restore_stream(self) -> None:
        self._sim.stream.exists = True

    def advance_clock(self, seconds: float) -> float:
        """Move simulated time forward (works on real clocks too, as an offset)."""
        now = self._sim.clock.advance(seconds)
        self._sim.advance()
        return now

    def set_clock(self, t: float) -> float:
        now = self._sim.clock.set(t)
        self._sim.advance()
        return now

    # --- hostile answers -------------------------------------------------------------------

    def arm_answer(self, spec: dict[str, Any], count: int = 1) -> int:
        """The next ``count`` answers to ``spec["path"]...`` drip, swell or are replaced
        (see :mod:`flux_tui.sim.hostile`); returns how many armed answers wait."""
        return self.hostile.arm(armed_from(spec), count)

    # --- counters ----------------------------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """Requests per token, per-endpoint calls, 429s sent, faults served, records."""
        out = self._sim.counters.as_dict()
        out["records_produced"] = self._sim.stream.records_put
        out["records_trimmed"] = self._sim.stream.records_trimmed
        out["now"] = self._sim.clock.now()
        out["open_shards"] = [s.shard_id for s in self._sim.stream.open_shards()]
        return out


# --- HTTP ----------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _guarded(control: SimControl, handler: Callable[[dict[str, Any]], Any]) -> Handler:
    """An endpoint for ``handler``: loopback clients only (unless allowed), JSON in and out,
    a bad request answered 400 with what was wrong."""

    async def endpoint(request: Request) -> Response:
        host = request.client.host if request.client else "127.0.0.1"
        if host not in LOOPBACK and not control.simulator.settings.allow_remote_control:
            return _json({"message": "the control API answers loopback clients only"}, 403)
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else {}
            return _json(handler(body))
        except (ValueError, KeyError, TypeError) as exc:
            return _json({"message": f"{type(exc).__name__}: {exc}"}, 400)
        except KinesisFault as exc:
            return _json(exc.body(), 400)

    return endpoint


def control_routes(control: SimControl) -> list[Route]:
    """``/_sim/...``: the control API over HTTP. JSON in, JSON out."""
    handlers = _handlers(control)

    def guarded(handler: Callable[[dict[str, Any]], Any]) -> Handler:
        return _guarded(control, handler)

    return [
        Route("/_sim/iterators", guarded(handlers.iterators), methods=["POST"]),
        Route("/_sim/counters", guarded(lambda _: control.counters()), methods=["GET"]),
        Route("/_sim/produced", guarded(handlers.produced), methods=["GET"]),
        Route("/_sim/records", guarded(handlers.put), methods=["POST"]),
        Route("/_sim/bad-records", guarded(handlers.bad), methods=["POST"]),
        Route("/_sim/reshard", guarded(handlers.reshard), methods=["POST"]),
        Route("/_sim/faults", guarded(handlers.fault), methods=["POST"]),
        Route("/_sim/faults", guarded(handlers.clear), methods=["DELETE"]),
        Route("/_sim/clock", guarded(handlers.clock), methods=["POST"]),
        Route("/_sim/stream", guarded(handlers.stream), methods=["POST"]),
        *[Route("/_sim/answers", guarded(h), methods=[m]) for m, h in _answers(control)],
    ]


def _handlers(control: SimControl) -> SimpleNamespace:
    """The control API's handlers: a JSON body in, a JSON-able answer out."""

    def put(body: dict[str, Any]) -> Any:
        out = []
        for rec in body["records"]:
            if "data_b64" in rec:
                data = base64.b64decode(rec["data_b64"])
            else:
                data = rec["data"] if not isinstance(rec["data"], str) else rec["data"].encode()
            out.append(control.put_record(rec["partition_key"], data))
        return {"records": [{"shard_id": s, "seq": q} for s, q in out]}

    def produced(_: dict[str, Any]) -> Any:
        return {
            "records": [
                {
                    "shard_id": s,
                    "seq": q,
                    "partition_key": k,
                    "data_b64": base64.b64encode(d).decode(),
                }
                for s, q, k, d in control.produced()
            ]
        }

    def fault(body: dict[str, Any]) -> Any:
        if "probability" in body:
            control.random_faults(
                float(body["probability"]),
                body.get("kinds"),
                seed=body.get("seed"),
                delay=float(body.get("delay", 1.0)),
            )
        else:
            control.inject_fault(
                body["fault"],
                endpoint=body.get("endpoint", "any"),
                count=int(body.get("count", 1)),
                delay=float(body.get("delay", 1.0)),
            )
        return {"pending": control.simulator.faults.pending}

    def clear(_: dict[str, Any]) -> Any:
        control.clear_faults()
        return {"pending": 0}

    def reshard(body: dict[str, Any]) -> Any:
        return {"shards": control.reshard(body["action"], body.get("shard"), body.get("adjacent"))}

    def bad(body: dict[str, Any]) -> Any:
        made = control.put_bad_records(body["kind"], int(body.get("count", 1)))
        return {"records": [{"shard_id": s, "seq": q} for s, q in made]}

    def clock(body: dict[str, Any]) -> Any:
        if "set" in body:
            return {"now": control.set_clock(float(body["set"]))}
        return {"now": control.advance_clock(float(body.get("advance", 0)))}

    def stream(body: dict[str, Any]) -> Any:
        (control.restore_stream if body.get("exists", True) else control.delete_stream)()
        return {"exists": control.simulator.stream.exists}

    def iterators(body: dict[str, Any]) -> Any:
        return {"strict": control.strict_iterators(bool(body.get("strict", True)))}

    return SimpleNamespace(
        put=put,
        produced=produced,
        fault=fault,
        clear=clear,
        reshard=reshard,
        bad=bad,
        clock=clock,
        stream=stream,
        iterators=iterators,
    )


def _answers(control: SimControl) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    """``/_sim/answers``: POST arms hostile answers, DELETE disarms them all."""

    def arm(body: dict[str, Any]) -> Any:
        return {"pending": control.arm_answer(body, int(body.get("count", 1)))}

    def clear(_: dict[str, Any]) -> Any:
        control.hostile.clear()
        return {"pending": 0}

    return [("POST", arm), ("DELETE", clear)]
