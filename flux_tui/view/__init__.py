"""The viewer's core without a terminal: :class:`LiveView` reads one :class:`FeedSource`
(a live feed or a replayed session file) into the store and the taps. ``tail`` and ``record``
run it headless; the Textual app (``flux_tui.ui``) drives the same object."""

from flux_tui.view.live import LiveView, RunSummary, StopRun, StopWhen, Tap, ViewListener
from flux_tui.view.source import FeedSource, NameDirectory, PersonLogin, SourceItem, ViewEvent

__all__ = ["FeedSource", "LiveView", "NameDirectory", "PersonLogin", "RunSummary", "SourceItem",
           "StopRun", "StopWhen", "Tap", "ViewEvent", "ViewListener"]
