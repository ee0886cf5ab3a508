"""flux_tui.api: talking to the Flux Realtime API (tokens, rate budget, the three calls).

Library use::

    async with httpx.AsyncClient() as http:
        tokens = ClientCredentialsProvider(token_url, audience, client_id, secret, http=http,
                                           cache=TokenCache("prd"))
        client = RealtimeClient(base_url, "acme", tokens=tokens,
                                budget=RateBudget.parse("100/60s"), http=http)
        stream = await client.describe_all()
"""

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
