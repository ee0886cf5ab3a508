"""``flux-tui record --out FILE``: the ``tail`` loop writing a session file instead of stdout.

The format follows the file's extension (``.jsonl``, ``.csv``, either with ``.gz``), chosen
by :class:`flux_tui.data.session.SessionWriter`. SIGHUP (a dropped SSH link) and SIGTERM
end the recording like Ctrl-C: the file is flushed and closed, and the summary printed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

from flux_tui.cli.output import EXIT_FAILURE, EXIT_USAGE, Progress
from flux_tui.cli.tail import (
    SinkTap,
    add_stream_options,
    finish,
    headless_view,
    stop_rule,
    stream,
    stream_profile,
)
from flux_tui.config import Profile
from flux_tui.feed.types import Reading
from flux_tui.view.live import RunSummary

PROGRESS_EVERY = 5.0  # seconds between "N readings" lines on stderr


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``record``."""
    parser = commands.add_parser(
        "record",
        parents=parents,
        help="save readings to a session file",
        description="Save readings to a session file (JSONL or CSV by extension, optionally "
        ".gz, or Parquet); progress on stderr. SIGHUP, SIGTERM and Ctrl-C close the file "
        "cleanly.",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        type=Path,
        help="the session file (.jsonl, .csv, .jsonl.gz, .csv.gz, .parquet)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    add_stream_options(parser)
    parser.set_defaults(run=run_record)


class SessionSink:
    """Adapts a :class:`SessionWriter` to the streaming loop (the writer flushes itself)."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.closed = False

    def write_many(self, readings: list[Reading]) -> None:
        self.writer.write(readings)

    def flush(self) -> None:
        self.writer.tick()  # on disk at least once a second, not once a page


def run_record(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui record``."""
    from flux_tui.data.recorder import open_writer

    profile = stream_profile(args, profile)
    progress = Progress(verbose=args.verbose, every=PROGRESS_EVERY)
    view = headless_view(profile, args.filter)  # a bad filter: no file is created
    metadata = {
        "profile": profile.name,
        "company": profile.company,
        "filter": args.filter or "",
        "start": args.start or profile.start,
    }
    try:
        writer = open_writer(
            args.out, metadata=metadata, overwrite=args.force, csv_guard=not args.csv_raw
        )
    except FileExistsError as exc:
        progress.say(f"error: {exc.strerror} (use --force to replace it)")
        return EXIT_USAGE
    except OSError as exc:
        progress.say(f"error: {exc}")
        return EXIT_FAILURE
    tap = SinkTap(SessionSink(writer), progress, RunSummary(), on_gap=writer.note_gap,
                  tick=writer.tick)
    progress.say(f"recording to {args.out}")
    try:
        summary = asyncio.run(
            stream(view, tap, stop_rule(args),
                   stop_signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
        )
    finally:
        try:
            writer.close()
        except OSError as exc:  # the disk filled at the very end: say so, keep the summary
            progress.say(f"error: {exc}")
    code = finish(summary, progress, noun="readings saved")
    if writer.count or args.out.exists():
        progress.say(f"saved {writer.count:,} readings to {args.out}")
    return code
