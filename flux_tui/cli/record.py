"""``flux-tui record --out FILE``: the ``tail`` loop writing a session file instead of stdout;
``record --resume FILE`` continues one exactly after its last reading on every shard.

The format follows the file's extension (``.jsonl``, ``.csv``, either with ``.gz``), chosen
by :class:`flux_tui.data.session.SessionWriter`. SIGHUP (a dropped SSH link) and SIGTERM
end the recording like Ctrl-C: the file is flushed and closed, and the summary printed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from datetime import UTC, datetime
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
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="the session file (.jsonl, .csv, .jsonl.gz, .csv.gz, .parquet)",
    )
    target.add_argument(
        "--resume",
        metavar="FILE",
        type=Path,
        help="continue this session exactly after its last reading on every shard, "
        "appending to it (after a dropped SSH link); its filter unless --filter is given",
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
    from flux_tui.data.session.recorder import open_writer

    progress = Progress(verbose=args.verbose, every=PROGRESS_EVERY)
    append = args.resume is not None
    feed_options: dict[str, Any] = {}
    if append:
        resumed = prepare_resume(args, progress)
        if isinstance(resumed, int):
            return resumed
        profile = resumed.with_profile(profile)
        feed_options["positions"] = resumed.positions
    path: Path = args.resume if append else args.out
    profile = stream_profile(args, profile)
    view = headless_view(profile, args.filter, **feed_options)  # a bad filter: no file made
    metadata = {
        "profile": profile.name,
        "company": profile.company,
        "filter": args.filter or "",
        "start": args.start or profile.start,
    }
    if append:
        del metadata["start"]  # the session's own start stays
    try:
        extra = {"append": True} if append else {}
        writer = open_writer(
            path, metadata=metadata, overwrite=args.force, csv_guard=not args.csv_raw, **extra
        )
    except FileExistsError as exc:
        progress.say(f"error: {exc.strerror} (use --force to replace it, or --resume)")
        return EXIT_USAGE
    except OSError as exc:
        progress.say(f"error: {exc}")
        return EXIT_FAILURE
    tap = SinkTap(SessionSink(writer), progress, RunSummary(), on_gap=writer.note_gap,
                  tick=writer.tick)  # fmt: skip
    watch_alarms(args, profile, view, writer)
    progress.say(f"{'appending' if append else 'recording'} to {path}")
    try:
        summary = asyncio.run(
            stream(view, tap, stop_rule(args),
                   stop_signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
        )  # fmt: skip
    finally:
        try:
            writer.close()
        except OSError as exc:  # the disk filled at the very end: say so, keep the summary
            progress.say(f"error: {exc}")
    code = finish(summary, progress, noun="readings saved")
    if summary.gaps and append:
        progress.say(f"{summary.gaps} gap(s) recorded in {writer.sidecar.name}")
    if writer.count or path.exists():
        progress.say(f"saved {writer.count:,} readings to {path}")
    return code


def watch_alarms(args: argparse.Namespace, profile: Profile, view: Any, writer: Any) -> None:
    """With alarm rules (the config's, the demo's on the simulator), keep the alarm journal
    in the session's sidecar as the viewer does; a resumed session's journal goes on."""
    from flux_tui.cli.alarms_cmd import record_journal

    journal = record_journal(args, profile, view.names, writer.annotate)
    if journal is None:
        return
    earlier = writer.metadata.get("alarms")
    if isinstance(earlier, list):
        journal.events.alarms = [item for item in earlier if isinstance(item, dict)]
    view.watchers.append(journal)


class Resumed:
    """Where ``record --resume`` continues: the start for shards with no reading yet."""

    def __init__(self, since: float, positions: dict[str, Any]) -> None:
        self.since = since
        self.positions = positions

    def with_profile(self, profile: Profile) -> Profile:
        stamp = datetime.fromtimestamp(self.since, UTC).isoformat(timespec="milliseconds")
        return profile.with_overrides(start=stamp)


def prepare_resume(args: argparse.Namespace, progress: Progress) -> Resumed | int:
    """Check ``--resume FILE``, make its end appendable and read where it stopped: the
    positions go to the reader, the start to the profile. An int is the exit status of a
    refusal."""
    from flux_tui.data.session.parquet_write import is_parquet_name
    from flux_tui.data.session.resume import make_appendable, resume_point

    path: Path = args.resume
    if args.start is not None or args.force:
        progress.say("error: --resume continues where the file stopped: no --from or --force")
        return EXIT_USAGE
    if is_parquet_name(path):
        progress.say("error: --resume continues JSONL and CSV sessions (not Parquet)")
        return EXIT_USAGE
    try:
        repaired = make_appendable(path)
        point = resume_point(path)
    except OSError as exc:
        progress.say(f"error: cannot resume {path}: {exc.strerror or exc}")
        return EXIT_FAILURE
    if repaired:
        progress.say(repaired)
    if point.since is None:
        progress.say(f"error: {path} holds no reading and no start time to continue from")
        return EXIT_FAILURE
    recorded_filter = point.metadata.get("filter") or ""
    if args.filter is None and recorded_filter:
        args.filter = str(recorded_filter)
        progress.say(f"filter of the session: {args.filter}")
    elif args.filter is not None and args.filter != recorded_filter:
        progress.say(f"note: the session was recorded with filter {recorded_filter!r}")
    shards = len(point.positions)
    progress.say(
        f"resuming {path}: {point.readings:,} readings; continuing after the last one of "
        f"{shards} shard{'s' if shards != 1 else ''}"
    )
    return Resumed(min(point.since, time.time()), point.positions)
