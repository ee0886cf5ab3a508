"""The Enterprise Objects API: asset documents (unit, site and organisation names, details).

Same Auth0 token as the Realtime API; not counted against its throttle, so calls do not pass
the rate budget. Errors are the :mod:`flux_tui.api.errors` classes; a 401 renews the token
once and retries once.

    eo = EnterpriseClient(profile.enterprise_url, tokens, http)
    assets = await eo.all_assets()          # every asset of the company
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flux_tui.api import errors
from flux_tui.api.auth import TokenProvider
from flux_tui.api.bounded import SMALL_BODY_LIMIT, bounded_request

__all__ = [
    "Asset",
    "AssetPage",
    "Connectivity",
    "EnterpriseClient",
    "Mechanic",
    "NamedRef",
]

log = logging.getLogger(__name__)


class _Model(BaseModel):
    # Unknown fields are kept (the API grows); names arrive in camelCase.
    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


class NamedRef(_Model):
    """An organisation, site or operating area: a name and (for the first two) an id."""

    name: str | None = None
    org_id: int | str | None = Field(default=None, alias="orgId")
    site_id: int | str | None = Field(default=None, alias="siteId")
    netsuite_id: int | str | None = Field(default=None, alias="netsuiteId")


class Mechanic(_Model):
    """The field mechanic responsible for the unit."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


class Connectivity(_Model):
    """The unit's connectivity check: ``status`` (e.g. Online) and when it was last checked."""

    status: str | None = None
    last_update_time: int | float | str | None = Field(default=None, alias="lastUpdateTime")
    last_updated_by: str | None = Field(default=None, alias="lastUpdatedBy")


class Asset(_Model):
    """One asset document. ``asset_id`` is the id the realtime feed uses (``assetId``)."""

    asset_id: int | str = Field(alias="assetId")
    name: str | None = None
    organization: NamedRef | None = None
    site: NamedRef | None = None
    operating_area: NamedRef | None = Field(default=None, alias="operatingArea")
    mechanic: Mechanic | None = None
    asset_type: str | None = Field(default=None, alias="assetType")
    device_id: int | str | None = Field(default=None, alias="deviceId")
    ip_address: str | None = Field(default=None, alias="ipAddress")
    connectivity: Connectivity | None = Field(default=None, alias="connectivityInfo")
    flux_id: str | None = Field(default=None, alias="fluxId")
    netsuite_id: int | str | None = Field(default=None, alias="netsuiteId")

    @property
    def key(self) -> str:
        """The asset id as text: the feed sends it as a number or a string."""
        return str(self.asset_id)

    def raw(self) -> dict[str, Any]:
        """The document as the API spells it (for the on-disk cache)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


_M = TypeVar("_M", bound=_Model)

# One asset or a search page is a few KB (1 MiB bounds it). /all is the whole company's
# fleet at ~1 KB an asset: 16 MiB holds some 16,000 units, far past a real company.
ALL_ASSETS_BODY_LIMIT = 16 * 1024 * 1024


class AssetPage(_Model):
    """One answer of ``/assets`` or ``/all``: ``total_count`` tells how many exist in all."""

    total_count: int = Field(alias="totalCount")
    assets: list[Asset]
    execution_time: str | None = Field(default=None, alias="executionTime")


class EnterpriseClient:
    """Read-only client of the Enterprise Objects API of one company (the token decides which)."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider,
        http: httpx.AsyncClient,
        *,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.timeout = timeout
        self.host = urlsplit(self.base_url).netloc or self.base_url
        self.requests = 0

    def __repr__(self) -> str:
        return f"EnterpriseClient(base_url={self.base_url!r})"

    async def get_asset(self, asset_id: int | str) -> Asset | None:
        """The asset with this ``assetId`` (or NetSuite id); None when the API does not know it."""
        try:
            data = await self._get(f"/assets/{quote(str(asset_id), safe='')}")
        except errors.GatewayError as exc:
            if exc.status == 404:
                return None
            raise
        return self._parse(Asset, data, "asset")

    async def search(self, text: str, page: int = 0) -> AssetPage:
        """Assets whose unit, site or organisation name contains ``text``; pages of 20 from 0."""
        data = await self._get("/assets", {"search": text, "page": str(page)})
        return self._parse(AssetPage, data, "asset search")

    async def all_assets(self) -> list[Asset]:
        """Every asset of the company.

        ``/all`` without ``size`` may answer with only the first page; when ``totalCount``
        says there are more, ask once more for exactly that many.
        """
        page = self._parse(AssetPage, await self._get("/all"), "asset list")
        if len(page.assets) < page.total_count:
            data = await self._get("/all", {"size": str(page.total_count)})
            page = self._parse(AssetPage, data, "asset list")
            if len(page.assets) < page.total_count:
                log.info("the asset list stopped at %d of %d", len(page.assets), page.total_count)
        return list(page.assets)

    # --- internals -----------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        token = await self.tokens.token()
        for attempt in (1, 2):
            self.requests += 1
            try:
                response = await bounded_request(
                    self.http,
                    "GET",
                    self.base_url + path,
                    limit=ALL_ASSETS_BODY_LIMIT if path == "/all" else SMALL_BODY_LIMIT,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                raise errors.error_from_exception(exc, self.host) from None
            error, data = errors.error_from_response(response.status_code, response.content)
            if error is None:
                return data
            if isinstance(error, errors.UnauthorizedError) and attempt == 1:
                token = await self.tokens.refresh(token)
                continue
            raise error
        raise AssertionError("unreachable")  # the loop returns or raises

    def _parse(self, model: type[_M], data: Any, what: str) -> _M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problems = exc.errors()
            where = ".".join(str(p) for p in problems[0]["loc"]) if problems else ""
            detail = f" ({where}: {problems[0]['msg']})" if where else ""
            raise errors.UnexpectedResponseError(
                f"the {what} from {self.host} is not the documented shape{detail}", 200
            ) from None
