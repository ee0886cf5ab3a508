"""flux_tui.api: talking to the Flux Realtime API (tokens, rate budget, the three calls).

Library use::

    async with httpx.AsyncClient() as http:
        tokens = ClientCredentialsProvider(token_url, audience, client_id, secret, http=http,
                                           cache=TokenCache("prd"))
        client = RealtimeClient(base_url, "acme", tokens=tokens,
                                budget=RateBudget.parse("100/60s"), http=http)
        stream = await client.describe_all()

The names below load with their module on first use (:mod:`flux_tui.base.lazy`): a command
that needs only :mod:`flux_tui.api.errors` does not pay for httpx and pydantic.
"""

from typing import TYPE_CHECKING

from flux_tui.base.lazy import lazy_exports

if TYPE_CHECKING:
    from flux_tui.api.auth import (
        ClientCredentialsProvider,
        StaticTokenProvider,
        TokenProvider,
    )
    from flux_tui.api.budget import RateBudget
    from flux_tui.api.client import ClientStats, RealtimeClient
    from flux_tui.api.models import (
        ChildShard,
        GetRecordsResponse,
        Shard,
        StreamDescription,
    )
    from flux_tui.api.token_cache import CachedToken, TokenCache

__getattr__ = lazy_exports(__name__, {
    "CachedToken": "flux_tui.api.token_cache",
    "ChildShard": "flux_tui.api.models",
    "ClientCredentialsProvider": "flux_tui.api.auth",
    "ClientStats": "flux_tui.api.client",
    "GetRecordsResponse": "flux_tui.api.models",
    "RateBudget": "flux_tui.api.budget",
    "RealtimeClient": "flux_tui.api.client",
    "Shard": "flux_tui.api.models",
    "StaticTokenProvider": "flux_tui.api.auth",
    "StreamDescription": "flux_tui.api.models",
    "TokenCache": "flux_tui.api.token_cache",
    "TokenProvider": "flux_tui.api.auth",
})

__all__ = [
    "CachedToken",
    "ChildShard",
    "ClientCredentialsProvider",
    "ClientStats",
    "GetRecordsResponse",
    "RateBudget",
    "RealtimeClient",
    "Shard",
    "StaticTokenProvider",
    "StreamDescription",
    "TokenCache",
    "TokenProvider",
]
