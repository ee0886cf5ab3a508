"""Enterprise Objects API stand-in: asset documents of the simulated fleet, by id, search,
property filter and in bulk, shaped as in Flux's published client documentation.

Pages are zero based and 20 long; ``/all`` without ``size`` returns only the first 20 too, with
``totalCount`` telling the client there is more (as the documentation hints).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PAGE_SIZE = 20
_MAX_SIZE = 10_000
# What ?search= looks at: the names a person would type.
_SEARCHED = (("name",), ("site", "name"), ("organization", "name"))


class AssetSource(Protocol):
    """What the routes need from the fleet (``telemetry.Fleet``, whose ``assets`` also takes
    ``now_ms`` to date connectivity checks; used when present)."""

    def assets(self) -> list[dict[str, Any]]: ...


class BearerCheck(Protocol):
    """What the routes need from the Auth0 stand-in (``auth0.Auth0Sim``); its ``clock``, when it
    has one, dates the assets' connectivity checks."""

    def check_bearer(self, authorization_header: str | None) -> str | None: ...


def enterprise_routes(fleet: AssetSource, auth: BearerCheck, *,
                      all_default_size: int = PAGE_SIZE) -> list[Route]:
    """Routes to mount under ``/axil/enterprise-objects``."""

    clock: Callable[[], float] = getattr(auth, "clock", time.time)
    assets: Callable[..., list[dict[str, Any]]] = fleet.assets
    dated = "now_ms" in inspect.signature(assets).parameters

    def documents() -> list[dict[str, Any]]:
        # Built per call so connectivity status follows the simulated clock.
        return assets(now_ms=int(clock() * 1000)) if dated else assets()

    def refuse(request: Request) -> JSONResponse | None:
        if auth.check_bearer(request.headers.get("authorization")) is None:
            return _message(401, "Unauthorized")
        return None

    async def one_asset(request: Request) -> JSONResponse:
        if (denied := refuse(request)) is not None:
            return denied
        wanted = request.path_params["asset_id"]
        # The docs address assets by NetSuite id, the realtime README by assetId: take both.
        for doc in documents():
            if wanted in (str(doc["assetId"]), str(doc["netsuiteId"])):
                return JSONResponse(doc)
        return _message(404, f"Asset {wanted} not found")

    async def search_assets(request: Request) -> JSONResponse:
        if (denied := refuse(request)) is not None:
            return denied
        started = time.perf_counter()
        params = request.query_params
        page = _non_negative(params.get("page", "0"))
        if page is None:
            return _message(400, "page must be a whole number, starting at 0")
        found = documents()
        text = params.get("search")
        if text:
            needle = text.casefold()
            found = [d for d in found
                     if any(needle in str(_lookup(d, path) or "").casefold() for path in _SEARCHED)]
        for key, value in params.multi_items():
            if key in ("search", "page"):
                continue
            path = tuple(key.split("."))
            found = [d for d in found if _matches(_lookup(d, path), value)]
        chunk = found[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        return _envelope(found, chunk, started)

    async def all_assets(request: Request) -> JSONResponse:
        if (denied := refuse(request)) is not None:
            return denied
        started = time.perf_counter()
        size = _non_negative(request.query_params.get("size", str(all_default_size)))
        if size is None or size > _MAX_SIZE:
            return _message(400, f"size must be a whole number up to {_MAX_SIZE}")
        found = documents()
        return _envelope(found, found[:size], started)

    return [
        Route("/assets/{asset_id}", one_asset, methods=["GET"]),
        Route("/assets", search_assets, methods=["GET"]),
        Route("/all", all_assets, methods=["GET"]),
    ]


def _lookup(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    """``doc["a"]["b"]`` for path ("a", "b"); None when any step is missing."""
    cur: Any = doc
    for step in path:
        if not isinstance(cur, dict) or step not in cur:
            return None
        cur = cur[step]
    return cur


def _matches(actual: Any, wanted: str) -> bool:
    """Query strings are text: compare as text, ignoring case (``?assetId=1131`` matches 1131)."""
    if actual is None or isinstance(actual, dict | list):
        return False
    if isinstance(actual, bool):
        actual = "true" if actual else "false"
    return str(actual).casefold() == wanted.casefold()


def _non_negative(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _envelope(found: list[dict[str, Any]], chunk: list[dict[str, Any]],
              started: float) -> JSONResponse:
    took = (time.perf_counter() - started) * 1000
    return JSONResponse({"totalCount": len(found), "assets": chunk,
                         "executionTime": f"{max(1, round(took))}ms"})


def _message(status: int, text: str) -> JSONResponse:
    """The gateway's and the service's error shape: ``{"message": ...}``."""
    return JSONResponse({"message": text}, status_code=status)
