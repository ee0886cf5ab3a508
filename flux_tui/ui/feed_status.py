"""What the feed's condition means for the viewer: the status bar's figures from the store
and the session, and how a failed feed worker is classified (state, retry or not)."""

from __future__ import annotations

import time
from typing import Any

from flux_tui.data.store import LiveStore
from flux_tui.feed.types import FeedState
from flux_tui.ui.status_bar import StatusInfo


def status_from(store: LiveStore, session: Any, now: float, *, paused: bool = False,
                recording: str | None = None, names: Any = None) -> StatusInfo:
    """The status bar's figures. ``session`` may lack any of budget/tokens (then hidden);
    ``names`` is the asset-name directory (None before the feed has one)."""
    rate = store.rate(now)
    info = StatusInfo(state=store.state, rate=round(rate, -1 if rate > 100 else 0),
                      lag_ms=store.lag_ms if store.total else None,
                      delay_ms=store.delay_ms, decode_errors=store.error_total,
                      paused=paused, detail=store.state_detail, recording=recording,
                      names_unavailable=getattr(names, "state", None) == "unavailable")
    # throttling is a wall-clock matter (the API's window), never the injected clock
    if store.state is FeedState.LIVE and store.throttled_until > time.time():
        info.state = FeedState.THROTTLED
    budget = getattr(session, "budget", None)
    if budget is not None:
        info.budget_left = int(budget.remaining)
        info.budget_total = int(getattr(budget, "calls", 0)) or None
        resets = float(budget.resets_in)
        info.budget_resets_in = round(resets) if resets > 0 else None
    tokens = getattr(session, "tokens", None)
    expires = getattr(tokens, "expires_at", None)
    if expires:
        info.token_expires_in = round(expires - time.time())
    return info


def classify_failure(error: BaseException | None) -> tuple[FeedState, bool]:
    """(state, retry automatically?) for the exception that ended the feed worker.

    Configuration and fatal API errors wait for the user (ctrl+r); authentication problems
    show "auth needed" (retried only when Auth0 itself was unreachable or throttling);
    anything else (network, gateway) is retried with backoff.
    """
    from flux_tui.api.errors import Action, AuthError, ConfigError, FluxError

    if isinstance(error, ConfigError):
        return FeedState.OFFLINE, False
    if isinstance(error, AuthError):
        return FeedState.AUTH_NEEDED, getattr(error, "action", None) == Action.RETRY
    if isinstance(error, FluxError) and getattr(error, "action", None) == Action.FATAL:
        return FeedState.OFFLINE, False
    return FeedState.RECONNECTING, True
