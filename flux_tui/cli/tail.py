"""``flux-tui tail`` and the streaming loop it shares with ``record``.

The loop reads the feed, filters, hands readings to a sink (stdout or a session file),
reports states on stderr and stops on ``--count``, ``--duration``, ``--until-caught-up``, a
signal or a failure, always closing the feed and printing a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from flux_tui.api import errors
from flux_tui.cli.output import (
    EXIT_OK,
    EXIT_SIGNAL_BASE,
    FORMATS,
    Progress,
    ReadingSink,
    report_error,
)
from flux_tui.config import Profile
from flux_tui.feed.types import Batch, CaughtUp, FeedProblem, FeedState, Gap, Reading, StateChanged

# Failures that mean "the API was never reached": before the first answer they end the
# command (a script wants exit 4 now, not retries forever); later they are waited out.
_UNREACHABLE = (errors.AuthUnreachableError, errors.ConnectError, errors.TimeoutError)


def ends_run(problem: FeedProblem, reached: bool) -> bool:
    """Whether a reader problem ends ``tail``/``record``, or is waited out while the reader
    retries. ``reached``: the API has answered at least once in this run."""
    if problem.retry_in is None:
        return True
    error = problem.error
    if isinstance(error, errors.AuthError) and not isinstance(
        error, errors.AuthThrottledError | errors.AuthUnreachableError
    ):
        return True
    if reached:
        return False
    # A page that is not JSON and not a server error (a web page at a wrong base_url, a
    # captive portal, a CDN refusing GET with a body) is not the API: retrying cannot help.
    not_the_api = isinstance(error, errors.NonJSONResponse) and error.status < 500
    return not_the_api or isinstance(error, _UNREACHABLE)


TICK_EVERY = 1.0  # seconds between ``tick`` calls while streaming


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
        choices=("latest", "trim-horizon"),
        help="where to start: new readings only (latest) or the oldest retained "
        "(trim-horizon); default: the profile's start",
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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):  # nan would stop at once, inf never
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


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
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl (default): payload fields plus _shard, _seq, _arrival; "
        "csv: with a header row; table: one human line a reading",
    )
    parser.add_argument("--utc", action="store_true", help="table times in UTC")
    parser.set_defaults(run=run_tail)


@dataclass
class StreamSummary:
    """What one run did, for the closing line."""

    readings: int = 0  # written (after the filter)
    seen: int = 0  # decoded, before the filter
    filtered: bool = False  # a --filter was given (--count alone also leaves readings unseen)
    decode_errors: int = 0
    gaps: int = 0
    requests: int = 0
    throttled: int = 0
    stopped_by: str = "end"
    signal: int | None = None
    error: BaseException | None = field(default=None, repr=False)

    def line(self, noun: str = "readings") -> str:
        shown = self.filtered and self.seen != self.readings
        filtered = f" ({self.seen:,} before the filter)" if shown else ""
        return (
            f"{self.readings:,} {noun}{filtered}, {self.decode_errors:,} decode errors, "
            f"{self.requests:,} requests, {self.throttled:,} throttled (429), "
            f"{self.gaps:,} gaps"
        )


def stream_profile(args: argparse.Namespace, profile: Profile) -> Profile:
    """The profile with this command's ``--page-limit``/``--rate-limit``/``--from`` applied."""
    return profile.with_overrides(
        page_limit=args.page_limit, rate_limit=args.rate_limit, start=args.start
    )


def compile_filter(text: str | None) -> Callable[[Reading], bool] | None:
    """The ``--filter`` predicate (None: everything); a syntax error is a ConfigError."""
    if not text:
        return None
    from flux_tui.data.query import QuerySyntaxError, compile_query

    try:
        query = compile_query(text)
    except QuerySyntaxError as exc:
        raise errors.ConfigError(
            f"expected {exc.expected} at position {exc.position}\n"
            f"    {text}\n    {' ' * exc.position}^",
            key="--filter",
        ) from None
    return None if query.is_empty else query.matches


async def pump(
    args: argparse.Namespace,
    profile: Profile,
    sink: Sink,
    progress: Progress,
    *,
    on_gap: Callable[[Gap], None] | None = None,
    tick: Callable[[], None] | None = None,
    stop_signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> StreamSummary:
    """Stream readings from ``profile`` into ``sink`` until a stop condition; never raises
    for foreseeable failures (they end up in ``summary.error``). ``tick`` is called about
    once a second even when no readings arrive (a recording flushes with it)."""
    from flux_tui.connect import open_feed  # the feed layers load only for commands that stream

    summary = StreamSummary()
    matches = compile_filter(args.filter)
    summary.filtered = matches is not None
    session = await open_feed(profile)
    loop = asyncio.get_running_loop()

    async def consume() -> None:
        reached = False
        async for item in session.reader:
            if isinstance(item, Batch):
                reached = True
                summary.seen += len(item.readings)
                summary.decode_errors += len(item.errors)
                readings = item.readings
                if matches is not None:
                    readings = [r for r in readings if matches(r)]
                if args.count is not None:
                    readings = readings[: args.count - summary.readings]
                if readings:
                    sink.write_many(readings)
                    sink.flush()
                    summary.readings += len(readings)
                    progress.tick(summary.readings)
                if sink.closed:
                    summary.stopped_by = "output closed"
                    return
                if args.count is not None and summary.readings >= args.count:
                    summary.stopped_by = "count"
                    return
                continue
            progress.event(item)
            if isinstance(item, Gap):
                summary.gaps += 1
                if on_gap is not None:
                    on_gap(item)
            elif isinstance(item, CaughtUp):
                reached = True
                if args.until_caught_up:
                    summary.stopped_by = "caught up"
                    return
            elif isinstance(item, StateChanged):
                reached = reached or item.state in (FeedState.LIVE, FeedState.CATCHING_UP)
            elif isinstance(item, FeedProblem) and ends_run(item, reached):
                raise item.error

    async def ticker(call: Callable[[], None]) -> None:
        while True:
            await asyncio.sleep(TICK_EVERY)
            try:
                call()
            except OSError as exc:  # the recording's disk failed: stop like any error
                summary.error, summary.stopped_by = exc, "error"
                consumer.cancel()
                return

    consumer = asyncio.create_task(consume())
    timer = asyncio.create_task(ticker(tick)) if tick is not None else None

    def on_signal(signum: int) -> None:
        summary.signal = signum
        consumer.cancel()

    installed = []
    for signum in stop_signals:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or no signals here: Ctrl-C still interrupts
    try:
        done, _ = await asyncio.wait({consumer}, timeout=args.duration)
        if not done:
            summary.stopped_by = "duration"
            consumer.cancel()
        try:
            await consumer
        except asyncio.CancelledError:
            if summary.signal is not None:
                summary.stopped_by = signal.Signals(summary.signal).name
            elif summary.error is not None:
                pass  # the ticker stopped the run and kept the reason
            elif done:  # cancelled by neither a signal nor --duration: not ours to swallow
                raise
        except (errors.FluxError, OSError) as exc:
            summary.error = exc
            summary.stopped_by = "error"
    finally:
        if timer is not None:
            timer.cancel()
        for signum in installed:
            loop.remove_signal_handler(signum)
        stats = session.client.stats
        summary.requests, summary.throttled = stats.requests, stats.throttled
        try:
            await session.aclose()
        except (errors.FluxError, OSError):
            pass  # closing a feed that already failed must not hide the first error
    return summary


def finish(summary: StreamSummary, progress: Progress, noun: str = "readings") -> int:
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
    sink = ReadingSink(args.format, utc=args.utc)
    summary = asyncio.run(pump(args, profile, sink, progress))
    return finish(summary, progress)
