"""Unit, site and organisation names for the ids in the feed, from the Enterprise Objects API.

:class:`AssetDirectory` answers lookups from memory only (never blocks the feed). It starts
from a per-profile cache on disk (private, atomic, with an expiry) and is refreshed by
:meth:`AssetDirectory.run`, a coroutine the caller runs as its own task. Unknown ids are
queued with :meth:`AssetDirectory.lookup_missing` and fetched by the same task.

    names = AssetDirectory.for_profile("prd", client)   # reads the cache at once
    task = asyncio.create_task(names.run())             # refresh + on-demand lookups
    names.asset_name(1131)                              # "WHC-1131" or None
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from flux_tui.api.enterprise import Asset, EnterpriseClient
from flux_tui.base.errors import FluxError
from flux_tui.base.files import cache_folder, write_private

__all__ = ["DEFAULT_TTL", "AssetCache", "AssetDirectory", "NamesState"]

log = logging.getLogger(__name__)

#: How long a cached asset list counts as fresh: names change rarely, a day is plenty.
DEFAULT_TTL = 86400.0
# A failed refresh is tried again after this long (the API may come back).
RETRY_AFTER = 300.0
# Ids a lookup found unknown are not asked again before this long.
MISSING_TTL = 3600.0
MAX_PENDING = 64  # queued on-demand lookups; more are dropped (asked again later)

#: ``loading``: no names yet, the first fetch is under way; ``fresh``: fetched (now or into
#: the cache) less than the expiry ago; ``stale-cache``: older than that (the API failed or
#: is being asked); ``unavailable``: no names at all (no cache, the API failed): show ids.
NamesState = Literal["loading", "fresh", "stale-cache", "unavailable"]


class AssetCache:
    """One profile's asset list on disk: folder 0700, file 0600, replaced atomically."""

    def __init__(self, profile: str, directory: Path | None = None) -> None:
        if directory is None:
            directory = cache_folder("assets")
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", profile).lstrip(".")[:64] or "_"
        if safe != profile:  # keep 'a/b' and 'a_b' apart
            safe += "-" + hashlib.sha256(profile.encode()).hexdigest()[:8]
        self.path = Path(directory) / f"{safe}.json"

    def __repr__(self) -> str:
        return f"AssetCache(path={str(self.path)!r})"

    def load(self, source: str) -> tuple[float, list[Asset]] | None:
        """``(saved_at, assets)`` when a readable cache of ``source`` (the API's URL) exists."""
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict) or data.get("source") != source:
            return None  # another API (the profile was edited): not these names
        saved_at, raw = data.get("saved_at"), data.get("assets")
        if not isinstance(saved_at, int | float) or not isinstance(raw, list):
            return None
        assets = []
        for item in raw:
            try:
                assets.append(Asset.model_validate(item))
            except ValidationError:
                continue  # one damaged entry costs that name only
        return float(saved_at), assets

    def save(self, source: str, saved_at: float, assets: Iterable[Asset]) -> None:
        """Replace the cache with ``assets``."""
        doc = {"source": source, "saved_at": saved_at, "assets": [a.raw() for a in assets]}
        write_private(self.path, orjson.dumps(doc))

    def clear(self) -> None:
        """Forget the cached names."""
        self.path.unlink(missing_ok=True)


class AssetDirectory:
    """Names and details of a company's assets; implements ``formats.NameLookup``.

    ``client`` None (no Enterprise Objects URL) leaves the directory ``unavailable``.
    ``listener`` is called (no arguments) whenever names or the state change; :attr:`version`
    grows with every change, for callers that poll instead.
    """

    def __init__(
        self,
        client: EnterpriseClient | None,
        *,
        cache: AssetCache | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
        max_pending: int = MAX_PENDING,
        listener: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        self.ttl = ttl
        self.listener = listener
        self._clock = clock
        self._max_pending = max_pending
        self._assets: dict[str, Asset] = {}
        self._sites: dict[str, str] = {}
        self._orgs: dict[str, str] = {}
        self._loaded_at: float | None = None  # when the names in memory were fetched
        #: Where the names in memory came from: ``"api"``, ``"cache"`` or None (no names).
        self.source: Literal["api", "cache"] | None = None
        self._missing: dict[str, float] = {}  # unknown id -> when the API said so
        self._queued: set[str] = set()
        self._queue: asyncio.Queue[str] | None = None
        self._attempted = client is None  # nothing to wait for without a client
        self.last_error: str | None = None
        self.version = 0
        self._read_cache()

    @classmethod
    def for_profile(
        cls, profile: str, client: EnterpriseClient | None, *, ttl: float = DEFAULT_TTL, **kw: Any
    ) -> AssetDirectory:
        """A directory backed by the profile's cache in the user cache folder."""
        return cls(client, cache=AssetCache(profile), ttl=ttl, **kw)

    @classmethod
    def empty(cls) -> AssetDirectory:
        """A directory with no source: every lookup answers None, the state is unavailable."""
        return cls(None)

    # --- NameLookup ----------------------------------------------------------------------

    def asset_name(self, asset_id: Any) -> str | None:
        """The unit's name, or None when unknown."""
        asset = self._assets.get(str(asset_id))
        return asset.name if asset is not None else None

    def site_name(self, site_id: Any) -> str | None:
        """The site's name, or None when unknown."""
        return self._sites.get(str(site_id))

    def org_name(self, org_id: Any) -> str | None:
        """The organisation's name, or None when unknown."""
        return self._orgs.get(str(org_id))

    def details(self, asset_id: Any) -> Asset | None:
        """The whole asset document (site, operating area, mechanic, connectivity…)."""
        return self._assets.get(str(asset_id))

    def __len__(self) -> int:
        return len(self._assets)

    # --- state ---------------------------------------------------------------------------

    @property
    def state(self) -> NamesState:
        """What the status bar should say about names (see :data:`NamesState`)."""
        if self._loaded_at is None or not self._assets:
            return "unavailable" if self._attempted else "loading"
        if self._clock() - self._loaded_at < self.ttl:
            return "fresh"
        return "stale-cache"

    @property
    def age(self) -> float | None:
        """Seconds since the names in memory were fetched from the API."""
        return None if self._loaded_at is None else max(0.0, self._clock() - self._loaded_at)

    @property
    def pending(self) -> int:
        """On-demand lookups queued or under way."""
        return len(self._queued)

    def needs_refresh(self) -> bool:
        """True when the names are missing or older than the expiry."""
        if self.client is None:
            return False
        return self._loaded_at is None or self._clock() - self._loaded_at >= self.ttl

    # --- network (called from the caller's task) ------------------------------------------

    async def refresh(self) -> bool:
        """Fetch every asset and replace the names; True on success. Never raises a FluxError:
        a failure leaves the names as they were and sets :attr:`last_error`."""
        if self.client is None:
            return False
        try:
            assets = await self.client.all_assets()
        except FluxError as exc:
            self._attempted = True
            self.last_error = str(exc)
            log.info("asset names: refresh failed: %s", exc)
            self._changed()
            return False
        now = self._clock()
        self._attempted, self.last_error = True, None
        self._replace(assets, now, from_api=True)
        if self.cache is not None:
            try:
                self.cache.save(self.client.base_url, now, assets)
            except OSError as exc:
                log.warning("asset names: cannot write %s: %s", self.cache.path, exc.strerror)
        return True

    def lookup_missing(self, asset_id: Any) -> bool:
        """Queue an on-demand fetch of an id the directory does not know; True when queued.

        Deduplicated (an id is queued once, and an id the API did not know is not asked again
        for an hour) and bounded (when the queue is full the id is dropped, to be asked again
        on a later sighting). Served by :meth:`run`.
        """
        key = str(asset_id)
        if self.client is None or key in self._assets or key in self._queued:
            return False
        missing_since = self._missing.get(key)
        if missing_since is not None and self._clock() - missing_since < MISSING_TTL:
            return False
        queue = self._ensure_queue()
        if queue.qsize() >= self._max_pending:
            return False
        self._queued.add(key)
        queue.put_nowait(key)
        return True

    async def fetch_one(self, asset_id: Any) -> Asset | None:
        """Ask the API for one asset now and remember it (None when unknown or failing)."""
        key = str(asset_id)
        if self.client is None:
            return None
        try:
            asset = await self.client.get_asset(key)
        except FluxError as exc:
            self.last_error = str(exc)
            return None
        if asset is None:
            self._missing[key] = self._clock()
            return None
        self._add(asset)
        self._changed()
        return asset

    async def run(self, *, sleep: Callable[[float], Any] = asyncio.sleep) -> None:
        """Keep the names current until cancelled: refresh when due (retrying failures every
        5 minutes) and serve :meth:`lookup_missing`. Run it as a task you own and cancel."""
        if self.client is None:
            return
        queue = self._ensure_queue()
        while True:
            if self.needs_refresh():
                await self.refresh()
            wait = self._next_refresh_in()
            try:
                key = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                continue
            try:
                if key not in self._assets:
                    await self.fetch_one(key)
            finally:
                self._queued.discard(key)
            await sleep(0)  # let the feed run between lookups

    # --- internals -----------------------------------------------------------------------

    def _ensure_queue(self) -> asyncio.Queue[str]:
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue

    def _next_refresh_in(self) -> float:
        if self._loaded_at is None or self.last_error is not None:
            return RETRY_AFTER
        return max(1.0, self.ttl - (self._clock() - self._loaded_at))

    def _read_cache(self) -> None:
        if self.cache is None or self.client is None:
            return
        loaded = self.cache.load(self.client.base_url)
        if loaded is not None:
            saved_at, assets = loaded
            self._replace(assets, saved_at, from_api=False)

    def _replace(self, assets: list[Asset], loaded_at: float, *, from_api: bool) -> None:
        self._assets, self._sites, self._orgs = {}, {}, {}
        for asset in assets:
            self._add(asset)
        self._loaded_at = loaded_at
        self.source = "api" if from_api else "cache"
        self._changed()

    def _add(self, asset: Asset) -> None:
        self._assets[asset.key] = asset
        self._missing.pop(asset.key, None)
        site, org = asset.site, asset.organization
        if site is not None and site.site_id is not None and site.name:
            self._sites[str(site.site_id)] = site.name
        if org is not None and org.org_id is not None and org.name:
            self._orgs[str(org.org_id)] = org.name

    def _changed(self) -> None:
        self.version += 1
        if self.listener is not None:
            try:
                self.listener()
            except Exception:  # a broken listener must not stop the names
                log.exception("asset names: listener failed")
