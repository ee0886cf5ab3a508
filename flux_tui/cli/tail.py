"""``flux-tui tail``, and what it shares with ``record``: the options, and running the
headless :class:`~flux_tui.view.live.LiveView` into a sink (stdout or a session file).

The view reads the feed, filters (names resolved as in the viewer), hands readings to the
sink tap, reports states on stderr and stops on ``--count``, ``--duration``,
``--until-caught-up``, a signal or a failure, always closing the feed; then a one-line
summary.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
from collections.abc import Callable
from typing import Any, Protocol

from flux_tui.base.errors import ConfigError
from flux_tui.base.events import Gap
from flux_tui.cli.output import (
    EXIT_OK,
    EXIT_SIGNAL_BASE,
    FORMATS,
    Progress,
    ReadingSink,
    report_error,
)
from flux_tui.config import Profile
from flux_tui.data.formats import NameLookup
from flux_tui.feed.types import Reading
from flux_tui.view.live import (
    LiveView,
    Predicate,
    RunSummary,
    StopRun,
    StopWhen,
    ends_run,
    install_stop_signals,
)
from flux_tui.view.source import FeedSource, ViewEvent

__all__ = ["SinkTap", "add_format_options", "add_parser", "add_stream_options", "compile_filter",
           "ends_run", "finish", "headless_view", "run_tail", "stop_rule", "stream",
           "stream_profile"]

#: Seconds ``tail``/``record`` wait for the Enterprise Objects names before reading, when a
#: filter or the table needs them (a filter by a site's name must not miss the first pages).
NAMES_WAIT = 10.0


class Sink(Protocol):
    """Where readings go: stdout (:class:`ReadingSink`) or a session file (record)."""

    closed: bool

    def write_many(self, readings: list[Reading]) -> None: ...

    def flush(self) -> None: ...


def add_stream_options(parser: argparse.ArgumentParser) -> None:
    """The options ``tail`` and ``record`` share."""
    parser.add_argument(
        "--from",
        dest="start",
        type=start_form,
        metavar="WHEN",
        help="where to start: latest (new readings only), trim-horizon (the oldest "
        "retained), a time (2026-11-29T06:00:00Z, 2026-11-29T06:00:00-06:00, no zone = "
        "local) or a duration back from now (90s, 15m, 2h, 1d); default: the profile's start",
    )
    parser.add_argument(
        "--duration", type=_positive_float, metavar="SECONDS", help="stop after this many seconds"
    )
    parser.add_argument(
        "--count", type=_positive_int, metavar="N", help="stop after N readings (after the filter)"
    )
    parser.add_argument(
        "--until-caught-up",
        action="store_true",
        help="stop once every shard has been read up to now",
    )
    parser.add_argument(
        "--filter", metavar="QUERY", help="only readings matching QUERY (e.g. 'asset:1111 val>100')"
    )
    parser.add_argument(
        "--page-limit",
        type=_ascii_int,
        metavar="N",
        help="most records asked for in one call (1..10000)",
    )
    parser.add_argument(
        "--rate-limit", metavar="CALLS/WINDOW", help="API calls allowed per window, e.g. 100/60s"
    )
    parser.add_argument(
        "--csv-raw",
        action="store_true",
        help="CSV: write text cells exactly, without the leading ' that stops a spreadsheet "
        "from running a cell starting with = + - @ as a formula",
    )


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):  # nan would stop at once, inf never
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def start_form(text: str) -> str:
    """``--from``: one of the start forms (a usage error, exit 2, lists them); a time in
    the future is an error too."""
    from flux_tui.feed.start import StartFormError, check_start

    try:
        return check_start(text)
    except StartFormError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ascii_int(text: str) -> int:
    # int() also reads '١٠' and ' 1_0'; the range is checked with the profile's values
    body = text.removeprefix("-")
    if not (body.isascii() and body.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def _positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``tail``."""
    parser = commands.add_parser(
        "tail",
        parents=parents,
        help="print readings to stdout (JSONL, CSV or a table)",
        description="Print readings to standard output; states and progress go to stderr.",
    )
    add_stream_options(parser)
    add_format_options(
        parser,
        FORMATS,
        "jsonl (default): payload fields plus _shard, _seq, _arrival; "
        "csv: with a header row; table: one human line a reading",
    )
    parser.set_defaults(run=run_tail)


def add_format_options(
    parser: argparse.ArgumentParser, formats: tuple[str, ...], help_text: str
) -> None:
    """``--format`` (one of ``formats``, jsonl by default) and ``--utc`` for the table:
    the output options ``tail`` and ``alarms`` share."""
    parser.add_argument("--format", choices=formats, default="jsonl", help=help_text)
    parser.add_argument("--utc", action="store_true", help="table times in UTC")


def stream_profile(args: argparse.Namespace, profile: Profile) -> Profile:
    """The profile with this command's ``--page-limit``/``--rate-limit``/``--from`` applied."""
    return profile.with_overrides(
        page_limit=args.page_limit, rate_limit=args.rate_limit, start=args.start
    )


def compile_filter(text: str | None, names: NameLookup | None = None) -> Predicate | None:
    """The ``--filter`` predicate (None: everything), names resolved by ``names`` as in the
    viewer; a syntax error is a ConfigError."""
    if not text:
        return None
    from flux_tui.data.query import QuerySyntaxError, compile_query

    try:
        query = compile_query(text, names)
    except QuerySyntaxError as exc:
        raise ConfigError(
            f"expected {exc.expected} at position {exc.position}\n"
            f"    {text}\n    {' ' * exc.position}^",
            key="--filter",
        ) from None
    return None if query.is_empty else query.matches


def stop_rule(args: argparse.Namespace, *, names: bool = False) -> StopWhen:
    """When a ``tail``/``record`` run ends, from its options. ``names``: wait for the
    Enterprise Objects names first (a filter or the table shows them)."""
    wait = NAMES_WAIT if names or args.filter else 0.0
    return StopWhen(count=args.count, duration=args.duration, caught_up=args.until_caught_up,
                    headless=True, names_wait=wait)


def headless_view(profile: Profile, filter_text: str | None, **feed_options: Any) -> LiveView:
    """The view ``tail`` and ``record`` run: the profile's feed, no store, the filter (a
    syntax error raises ConfigError here, before anything is opened). ``feed_options`` go
    to ``open_feed`` (``record --resume`` passes the reader its positions)."""

    async def opener() -> FeedSource:
        from flux_tui.connect import open_feed  # the feed layers load only when streaming

        return await open_feed(profile, **feed_options)

    view = LiveView(opener)
    view.set_filter(compile_filter(filter_text, view.names))
    return view


class SinkTap:
    """The output of ``tail``/``record`` as a tap of the view: readings to the sink, states
    on stderr, gaps and the once-a-second flush to ``on_gap``/``tick``."""

    def __init__(self, sink: Sink, progress: Progress, summary: RunSummary, *,
                 on_gap: Callable[[Gap], None] | None = None,
                 tick: Callable[[], None] | None = None) -> None:
        self.sink, self.progress, self.summary = sink, progress, summary
        self._on_gap, self._tick = on_gap, tick

    def take(self, readings: list[Reading]) -> None:
        self.sink.write_many(readings)
        self.sink.flush()
        self.progress.tick(self.summary.readings)
        if self.sink.closed:
            raise StopRun("output closed")

    def note(self, event: ViewEvent) -> None:
        self.progress.event(event)
        if isinstance(event, Gap) and self._on_gap is not None:
            self._on_gap(event)

    def tick(self) -> None:
        if self._tick is not None:
            self._tick()


async def stream(
    view: LiveView,
    tap: SinkTap,
    until: StopWhen,
    stop_signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> RunSummary:
    """Run ``view`` headless into ``tap`` until ``until`` or one of ``stop_signals``; never
    raises for foreseeable failures (they end up in ``summary.error``)."""
    view.taps.append(tap)
    undo = install_stop_signals(view, tap.summary, stop_signals)
    try:
        return await view.run(until, summary=tap.summary)
    finally:
        undo()


def finish(summary: RunSummary, progress: Progress, noun: str = "readings") -> int:
    """Print the error (if any) and the summary line; return the exit code."""
    code = EXIT_OK
    if summary.error is not None:
        code = report_error(summary.error, progress.stream)
    elif summary.signal is not None:
        code = EXIT_SIGNAL_BASE + summary.signal
    progress.say(f"stopped ({summary.stopped_by}): {summary.line(noun)}")
    return code


def run_tail(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui tail``: readings to stdout."""
    profile = stream_profile(args, profile)
    progress = Progress(verbose=args.verbose, every=5.0 if args.verbose else None)
    view = headless_view(profile, args.filter)
    present = None
    if args.format == "table":  # units and state names are for people; JSONL/CSV stay raw
        from flux_tui.config.field import presentation

        config = args.loaded_config
        file = str(config.path) if config.exists else None
        present = presentation(config.data, file, demo=profile.simulator)
    sink = ReadingSink(args.format, utc=args.utc, names=view.names, present=present,
                       csv_raw=args.csv_raw)
    tap = SinkTap(sink, progress, RunSummary())
    until = stop_rule(args, names=args.format == "table")
    summary = asyncio.run(stream(view, tap, until))
    return finish(summary, progress)
