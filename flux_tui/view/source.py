"""What :class:`~flux_tui.view.live.LiveView` reads: the typed seam between a feed source
(the live :class:`~flux_tui.connect.FeedSession`, a :class:`~flux_tui.data.session.replay.SessionReplay`)
and everything above it. Sources satisfy these protocols structurally: they import nothing
from here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from flux_tui.base.events import ReaderEvent
from flux_tui.data.session.replay import ReplaySeeked
from flux_tui.feed.types import FeedItem, SourceFacts

if TYPE_CHECKING:
    from flux_tui.api.device import DeviceFlow
    from flux_tui.api.enterprise import Asset
    from flux_tui.api.user_auth import UserTokenProvider

__all__ = ["FeedSource", "NameDirectory", "PersonLogin", "SourceFacts", "SourceItem",
           "SourceOpener", "ViewEvent"]

SourceItem = FeedItem | ReplaySeeked
"""What a source yields: the reader's batches and events, and a replay's jumps."""
ViewEvent = ReaderEvent | ReplaySeeked
"""Every item but a batch (what taps are told besides readings)."""

NamesState = Literal["loading", "fresh", "stale-cache", "unavailable"]


class NameDirectory(Protocol):
    """Enterprise Objects names of a source (:class:`~flux_tui.api.names.AssetDirectory`):
    lookups read memory only; ``run()`` keeps them current (the view runs it as a task)."""

    @property
    def version(self) -> int: ...  # grows with every change

    @property
    def state(self) -> NamesState: ...

    def asset_name(self, asset_id: Any) -> str | None: ...

    def site_name(self, site_id: Any) -> str | None: ...

    def org_name(self, org_id: Any) -> str | None: ...

    def details(self, asset_id: Any) -> Asset | None: ...

    def lookup_missing(self, asset_id: Any) -> bool: ...

    async def run(self) -> None: ...


@dataclass(frozen=True)
class PersonLogin:
    """What the re-login dialog needs from a live source on a person's login."""

    tokens: UserTokenProvider  # state, problem, on_state, adopt(token), give_up()
    device_flow: Callable[..., DeviceFlow]
    profile: str


class FeedSource(Protocol):
    """A stream of feed items: ``async for item in source``; ``await source.aclose()``."""

    @property
    def names(self) -> NameDirectory | None: ...  # None: the source has no names

    def __aiter__(self) -> AsyncIterator[SourceItem]: ...

    async def aclose(self) -> None: ...

    def facts(self) -> SourceFacts: ...

    def person_login(self) -> PersonLogin | None: ...  # None: no person's login to renew


SourceOpener = Callable[[], Awaitable[FeedSource]]
"""Opens the view's source (again after a failure: each call gives a fresh one)."""
