"""Open the feed a profile describes: HTTP client, tokens, rate budget, client and reader.

The one place that wires the layers together, used by ``tail``, ``record``, ``info`` and the
TUI alike. A simulator profile (``demo``) runs the simulator in this process behind
``httpx.ASGITransport``: no socket, no credentials of the user's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import httpx

from flux_tui.api.auth import ClientCredentialsProvider, TokenProvider
from flux_tui.api.budget import RateBudget
from flux_tui.api.client import RealtimeClient
from flux_tui.api.errors import ConfigError
from flux_tui.api.token_cache import TokenCache
from flux_tui.config import Profile
from flux_tui.feed.reader import ShardReader, Start

if TYPE_CHECKING:
    from flux_tui.sim.app import Simulator
    from flux_tui.sim.settings import SimSettings

#: The made-up origin the in-process simulator answers on (never resolved: ASGITransport).
SIM_ORIGIN = "http://flux-sim"
SIM_BASE_URL = f"{SIM_ORIGIN}/realtime"
SIM_TOKEN_URL = f"{SIM_ORIGIN}/oauth/token"
SIM_ENTERPRISE_URL = f"{SIM_ORIGIN}/axil/enterprise-objects"

# Connect fails fast (an unreachable host should say so quickly); reads wait out the
# gateway's own 29 s limit.
HTTP_TIMEOUT = httpx.Timeout(35.0, connect=10.0)
HTTP_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)
STARTS: dict[str, Start] = {"latest": "latest", "trim-horizon": "trim-horizon"}


@dataclass
class FeedSession:
    """Everything an open feed holds; close it with :meth:`aclose` (or ``async with``)."""

    profile: Profile
    http: httpx.AsyncClient
    tokens: TokenProvider  # .expires_at for the status bar
    budget: RateBudget  # .remaining, .resets_in, .calls, .paused_until
    client: RealtimeClient  # .stats
    reader: ShardReader  # async for item in reader; .state; .stats
    simulator: Simulator | None = None  # set for a simulator profile (in-process)
    enterprise_url: str | None = None  # Enterprise Objects base, on the same ``http``
    _closed: bool = field(default=False, repr=False)

    async def aclose(self) -> None:
        """Stop the reader and close the HTTP client (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.reader.aclose()
        finally:
            await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def build_simulator(profile: Profile, settings: SimSettings | None = None) -> Simulator:
    """The in-process simulator for a simulator profile (its company, default settings)."""
    from flux_tui.sim.app import Simulator  # the simulator is only loaded when used
    from flux_tui.sim.settings import SimSettings

    if settings is None:
        settings = SimSettings(company=profile.company or "demo")
    return Simulator(settings)


async def open_feed(
    profile: Profile,
    *,
    start: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    page_limit: int | None = None,
    simulator: Simulator | None = None,
    **reader_options: Any,
) -> FeedSession:
    """Build the feed session for ``profile``; no request is sent until the reader runs.

    ``start`` (``latest``/``trim-horizon``) and ``page_limit`` default to the profile's.
    ``transport`` replaces the network (tests). ``simulator`` supplies the in-process
    simulator of a simulator profile (else one is built with default settings).
    Raises ConfigError when the profile lacks what the connection needs.
    """
    start = start or profile.start
    if start not in STARTS:
        raise profile.error(f"{start!r} is not allowed: latest or trim-horizon", "start")
    limit = profile.page_limit if page_limit is None else page_limit
    try:
        budget = RateBudget.parse(profile.rate_limit)
    except ValueError as exc:
        raise profile.error(str(exc), "rate_limit") from None
    company = profile.require_company()
    client_id, secret = profile.require_credentials()
    base_url, token_url, enterprise_url = (
        profile.base_url,
        profile.token_url,
        profile.enterprise_url,
    )
    cache: TokenCache | None
    if profile.simulator:
        simulator = simulator or build_simulator(profile)
        transport = transport or httpx.ASGITransport(app=simulator.app)
        base_url, token_url, enterprise_url = SIM_BASE_URL, SIM_TOKEN_URL, SIM_ENTERPRISE_URL
        cache = None  # tokens of a throwaway in-process simulator are worth nothing on disk
    else:
        if simulator is not None:
            raise ConfigError(
                "a simulator was given for a profile that is not a simulator", profile=profile.name
            )
        cache = TokenCache(profile.name)
    # TLS verification stays on: there is no option to turn it off.
    http = httpx.AsyncClient(
        transport=transport,
        timeout=HTTP_TIMEOUT,
        limits=HTTP_LIMITS,
        verify=True,
        follow_redirects=False,
    )
    try:
        tokens = ClientCredentialsProvider(
            token_url, profile.audience, client_id, secret, http=http, cache=cache
        )
        client = RealtimeClient(base_url, company, tokens=tokens, budget=budget, http=http)
        reader = ShardReader(client, start=STARTS[start], page_limit=limit, **reader_options)
    except BaseException:
        await http.aclose()
        raise
    return FeedSession(
        profile=profile,
        http=http,
        tokens=tokens,
        budget=budget,
        client=client,
        reader=reader,
        simulator=simulator,
        enterprise_url=enterprise_url,
    )
