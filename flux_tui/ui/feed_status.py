"""What the feed's condition means for the viewer: the status bar's figures from the store
and the source's facts, and how a failed feed worker is classified (state, retry or not)."""

from __future__ import annotations

import time

from flux_tui.base.events import FeedState
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import SourceFacts
from flux_tui.ui.status_bar import StatusInfo

#: Below this a feed catching up is as good as live: the bar shows the usual lag instead.
BEHIND_SHOWN_MS = 5_000


def status_from(store: LiveStore, facts: SourceFacts, now: float, *, paused: bool = False,
                recording: str | None = None, names_state: str | None = None) -> StatusInfo:
    """The status bar's figures. A figure the source does not have (a replay's budget) stays
    hidden; ``names_state`` is the name directory's state (None: the source has none)."""
    rate = store.rate(now)
    info = StatusInfo(state=store.state, rate=round(rate, -1 if rate > 100 else 0),
                      lag_ms=store.lag_ms if store.total else None,
                      delay_ms=store.delay_ms, decode_errors=store.error_total,
                      paused=paused, detail=store.state_detail, recording=recording,
                      names_unavailable=names_state == "unavailable")
    # throttling is a wall-clock matter (the API's window), never the injected clock
    if store.state is FeedState.LIVE and store.throttled_until > time.time():
        info.state = FeedState.THROTTLED
    if facts.budget_left is not None:
        info.budget_left = facts.budget_left
        info.budget_total = facts.budget_total
        resets = facts.budget_resets_in or 0.0
        info.budget_resets_in = round(resets) if resets > 0 else None
    if store.state is FeedState.CATCHING_UP and (facts.millis_behind or 0) >= BEHIND_SHOWN_MS:
        info.behind_ms = facts.millis_behind
        eta = facts.eta_seconds
        info.eta_s = round(eta) if eta is not None else None
    if facts.token_expires_at:
        info.token_expires_in = round(facts.token_expires_at - time.time())
    return info


def classify_failure(error: BaseException | None) -> tuple[FeedState, bool]:
    """(state, retry automatically?) for the exception that ended the feed worker.

    Configuration and fatal API errors wait for the user (ctrl+r); authentication problems
    show "auth needed" (retried only when Auth0 itself was unreachable or throttling);
    anything else (network, gateway) is retried with backoff.
    """
    from flux_tui.api.errors import AuthError
    from flux_tui.base.errors import Action, ConfigError, FluxError

    if isinstance(error, ConfigError):
        return FeedState.OFFLINE, False
    if isinstance(error, AuthError):
        return FeedState.AUTH_NEEDED, error.action == Action.RETRY
    if isinstance(error, FluxError) and error.action == Action.FATAL:
        return FeedState.OFFLINE, False
    return FeedState.RECONNECTING, True
