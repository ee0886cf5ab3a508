"""Open the feed a profile describes: HTTP client, tokens, rate budget, client and reader,
plus the Enterprise Objects client and the asset-name directory.

The one place that wires the layers together, used by ``tail``, ``record``, ``info`` and the
TUI alike. A simulator profile (``demo``) runs the simulator in this process behind
``httpx.ASGITransport``: no socket, no credentials of the user's.

Tokens: a person's login (``flux-tui login``) when the profile has one stored, else the
client-credentials grant (client id + secret). See :func:`choose_grant`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx

from flux_tui.api.auth import ClientCredentialsProvider, TokenProvider
from flux_tui.api.budget import RateBudget
from flux_tui.api.budget_ledger import BudgetLedger
from flux_tui.api.client import RealtimeClient
from flux_tui.api.device import DeviceFlow
from flux_tui.api.enterprise import EnterpriseClient
from flux_tui.api.iterator_refusals import IteratorRefusals
from flux_tui.api.names import AssetDirectory
from flux_tui.api.token_cache import CachedToken, TokenCache, login_token_cache
from flux_tui.api.user_auth import DEVICE_GRANT, UserTokenProvider
from flux_tui.base.errors import ConfigError, FluxError
from flux_tui.config import Config, Profile
from flux_tui.feed.reader import ShardReader
from flux_tui.feed.start import StartAt, StartFormError, parse_start
from flux_tui.feed.types import FeedItem, SourceFacts
from flux_tui.view.source import FeedSource, PersonLogin, SourceItem

if TYPE_CHECKING:
    from flux_tui.data.session.replay import SessionReplay
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
#: The demo's Auth0 approves every device login by itself after a moment, so
#: `flux-tui login --profile demo` (and the viewer's re-login dialog) can be tried alone.
DEMO_AUTH0_OPTIONS: dict[str, Any] = {"auto_approve_after": 3.0, "device_interval": 1}

#: The demo's history before its 2-minute backlog, so `flux-tui demo --from 10m` has
#: something to show; generated only when a reader reaches into it.
DEMO_HISTORY_SECONDS = 1800.0

Grant = Literal["auto", "device_code", "client_credentials"]


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
    #: Enterprise Objects client (None without an enterprise_url), same token as the feed.
    enterprise: EnterpriseClient | None = None
    #: Asset names and details; run ``names.run()`` as a task of your own to fill it.
    names: AssetDirectory = field(default_factory=AssetDirectory.empty)
    token_url: str | None = None  # where ``tokens`` come from (for a new device login)
    _closed: bool = field(default=False, repr=False)

    def device_flow(self, **options: Any) -> DeviceFlow:
        """A device login for this session's profile on the session's HTTP client (the
        re-login dialog: show the code, ``await flow.wait(code)``, then
        ``session.tokens.adopt(token)`` when ``tokens`` is a :class:`UserTokenProvider`).
        The in-process simulator's clock paces the polls of a simulator profile."""
        if self.simulator is not None:
            options.setdefault("sleep", self.simulator.clock.sleep)
            options.setdefault("clock", self.simulator.clock.now)
            options.setdefault("wall_clock", self.simulator.clock.now)
        return DeviceFlow(
            self.token_url or self.profile.token_url,
            self.profile.login_client_id(),
            self.profile.audience,
            http=self.http,
            **options,
        )

    # --- the FeedSource shape (flux_tui.view.source) ------------------------------------

    def __aiter__(self) -> AsyncIterator[FeedItem]:
        return self.reader.__aiter__()

    def facts(self) -> SourceFacts:
        """The figures the status bar and the run summary show."""
        budget, stats, progress = self.budget, self.client.stats, self.reader.progress
        return SourceFacts(
            profile=self.profile.name,
            company=self.profile.company,
            budget_left=int(budget.remaining),
            budget_total=int(budget.calls) or None,
            budget_resets_in=float(budget.resets_in),
            token_expires_at=self.tokens.expires_at,
            requests=stats.requests,
            throttled=stats.throttled,
            millis_behind=self.reader.millis_behind,
            drain_rate=progress.readings_per_second,
            eta_seconds=progress.eta_seconds,
        )

    def person_login(self) -> PersonLogin | None:
        """The re-login dialog's hook when the feed runs on a person's login that waits for a
        new one (``wait_for_login=True``); None with client credentials."""
        tokens = self.tokens
        if not isinstance(tokens, UserTokenProvider):
            return None
        return PersonLogin(tokens, self.device_flow, self.profile.name)

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
        settings = SimSettings(
            company=profile.company or "demo",
            auth0_options=dict(DEMO_AUTH0_OPTIONS),
            scenario=True,  # the demo shows a silent unit and a low-suction trip at once
            history_seconds=DEMO_HISTORY_SECONDS,
        )
    return Simulator(settings)


def stored_login(profile: Profile) -> CachedToken | None:
    """The profile's stored ``flux-tui login`` tokens, if any fit its audience."""
    stored = login_token_cache(profile.name).load()
    if stored is None or stored.grant != DEVICE_GRANT or stored.audience != profile.audience:
        return None
    return stored


def choose_grant(
    profile: Profile, grant: Grant = "auto"
) -> Literal["device_code", "client_credentials"]:
    """Which tokens the feed uses: ``auto`` picks the stored login of ``flux-tui login``
    when there is one, else client credentials. A simulator profile uses its built-in
    client (a login stored by another process's simulator means nothing to this one).
    Raises ConfigError when the choice cannot work (no secret and no login)."""
    if grant == "device_code":
        profile.login_client_id()
        return "device_code"
    if grant == "client_credentials" or profile.simulator:
        return "client_credentials"
    if stored_login(profile) is not None:
        return "device_code"
    if not profile.has_secret and (profile.client_id or profile.device_client_id):
        raise profile.error(
            "no client secret and not logged in: set one of client_secret, client_secret_env, "
            f"client_secret_command (or FLUX_CLIENT_SECRET), or run `flux-tui login --profile "
            f"{profile.name}`",
            "client_secret",
        )
    profile.check_complete()  # names the missing key
    return "client_credentials"


def check_can_connect(profile: Profile, grant: Grant = "auto") -> None:
    """Cheap check before opening a screen: company set and some way to get a token
    (``grant`` as for :func:`choose_grant`)."""
    profile.require_company()
    if choose_grant(profile, grant) == "client_credentials":
        profile.check_complete()


def resolve_start(
    profile: Profile, start: str | StartAt | None, simulator: Simulator | None
) -> StartAt:
    """``start`` (else the profile's) parsed; a duration counts back from the in-process
    simulator's own clock when there is one (tests run it manually)."""
    try:
        now = simulator.clock.now() if simulator is not None else None
        return parse_start(start or profile.start, now=now)
    except StartFormError as exc:
        raise profile.error(str(exc), "start") from None


def refusals_for(profile: Profile) -> IteratorRefusals:
    """The profile's memory of refused iterator types; the in-process simulator is new each
    run, so what it refused means nothing later (memory only)."""
    return IteratorRefusals() if profile.simulator else IteratorRefusals.for_profile(profile.name)


def profile_budget(profile: Profile) -> RateBudget:
    """The profile's rate budget. The gateway counts per token and every process of a
    profile shares its cached token, so they share one budget through the profile's ledger.
    The in-process simulator's gateway lives and dies with this process: nothing to share."""
    ledger = None if profile.simulator else BudgetLedger.for_profile(profile.name)
    try:
        return RateBudget.parse(profile.rate_limit, ledger=ledger)
    except ValueError as exc:
        raise profile.error(str(exc), "rate_limit") from None


def http_client(transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    """The one HTTP client of a feed session. TLS verification stays on: there is no option
    to turn it off."""
    return httpx.AsyncClient(
        transport=transport,
        timeout=HTTP_TIMEOUT,
        limits=HTTP_LIMITS,
        verify=True,
        follow_redirects=False,
    )


def token_provider(
    profile: Profile,
    chosen: Literal["device_code", "client_credentials"],
    token_url: str,
    *,
    http: httpx.AsyncClient,
    cache: TokenCache | None,
    wait_for_login: bool,
) -> ClientCredentialsProvider | UserTokenProvider:
    """Tokens of the grant :func:`choose_grant` chose: a person's login, or the client's."""
    if chosen == "device_code":
        return UserTokenProvider(
            token_url,
            profile.audience,
            profile.login_client_id(),
            http=http,
            cache=cache,
            login_hint=f"flux-tui login --profile {profile.name}",
            wait_for_login=wait_for_login,
        )
    client_id, secret = profile.require_credentials()
    return ClientCredentialsProvider(
        token_url, profile.audience, client_id, secret, http=http, cache=cache
    )


def asset_directory(profile: Profile, enterprise: EnterpriseClient | None) -> AssetDirectory:
    """The profile's asset names, cached on disk between runs; not for a simulator profile
    (the demo's fleet is rebuilt from its seed each time)."""
    if profile.simulator:
        return AssetDirectory(enterprise, ttl=profile.asset_cache_ttl)
    return AssetDirectory.for_profile(profile.name, enterprise, ttl=profile.asset_cache_ttl)


async def open_feed(
    profile: Profile,
    *,
    start: str | StartAt | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    page_limit: int | None = None,
    simulator: Simulator | None = None,
    grant: Grant = "auto",
    wait_for_login: bool = False,
    **reader_options: Any,
) -> FeedSession:
    """Build the feed session for ``profile``; no request is sent until the reader runs.

    ``start`` (any ``--from`` form: ``latest``, ``trim-horizon``, an ISO time, ``15m``; or
    a :class:`StartAt`) and ``page_limit`` (a ceiling) default to the profile's.
    ``positions=`` (a reader option) continues a resumed session after its last readings.
    ``transport`` replaces the network (tests). ``simulator`` supplies the in-process
    simulator of a simulator profile (else one is built with default settings).
    ``grant`` forces the kind of token (see :func:`choose_grant`); ``device_code`` on a
    simulator profile starts with no token at all, so the first call raises
    LoginRequiredError (a way to try the re-login dialog). ``wait_for_login`` (the viewer):
    with a person's login, calls that need a new login wait for ``tokens.adopt(token)``
    instead of failing, so the reader pauses and resumes where it was.
    Raises ConfigError when the profile lacks what the connection needs.
    """
    limit = profile.page_limit if page_limit is None else page_limit
    budget = profile_budget(profile)
    company = profile.require_company()
    chosen = choose_grant(profile, grant)
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
        cache = (
            login_token_cache(profile.name) if chosen == "device_code" else TokenCache(profile.name)
        )
    start_at = resolve_start(profile, start, simulator)
    http = http_client(transport)
    try:
        tokens = token_provider(
            profile, chosen, token_url, http=http, cache=cache, wait_for_login=wait_for_login
        )
        client = RealtimeClient(
            base_url, company, tokens=tokens, budget=budget, http=http,
            deadline=profile.call_deadline,
        )
        reader_options.setdefault("refusals", refusals_for(profile))
        reader = ShardReader(client, start=start_at, page_limit=limit, **reader_options)
        enterprise = EnterpriseClient(enterprise_url, tokens, http) if enterprise_url else None
        names = asset_directory(profile, enterprise)
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
        enterprise=enterprise,
        names=names,
        token_url=token_url,
    )


class NamedReplay:
    """A replayed session with the Enterprise Objects names of the profile it was recorded
    with (a :class:`~flux_tui.view.source.FeedSource`): ``open`` then shows and filters by
    the names the live viewer and ``tail`` use. The feed session only lends its names; its
    reader is never read."""

    def __init__(self, replay: SessionReplay, lender: FeedSession) -> None:
        self.replay = replay
        self.lender = lender

    @property
    def names(self) -> AssetDirectory:
        return self.lender.names

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self.replay.__aiter__()

    def facts(self) -> SourceFacts:
        return self.replay.facts()

    def person_login(self) -> None:
        return None

    async def aclose(self) -> None:
        try:
            await self.replay.aclose()
        finally:
            await self.lender.aclose()


async def replay_source(replay: SessionReplay, config: Config | None) -> FeedSource:
    """``replay`` as the viewer's source, with the names of the profile named in its
    metadata when ``config`` knows that profile and it can connect; else without names."""
    name = replay.metadata.get("profile")
    if config is None or not isinstance(name, str):
        return replay
    try:
        lender = await open_feed(config.profile(name))
    except FluxError:
        return replay  # not configured here, or no credentials: ids, as the file has them
    return NamedReplay(replay, lender)
