"""``flux-tui export SESSION --to FILE [--filter QUERY]``: convert a session between JSONL,
CSV and Parquet (``.gz`` for the text ones), optionally keeping only what a filter matches.

The source is anything ``open`` reads (a session file, a Parquet file or folder, a Spark
capture); the target's format follows its name, written by the same writers as ``record``,
so the sidecar, the "never overwrite unless --force" rule and the readings themselves are
exactly what a recording would hold. Readings come out in the source's order (time order
for Parquet).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flux_tui.cli.output import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from flux_tui.data.terminal import terminal_safe
from flux_tui.feed.types import Reading

CHUNK = 5000  # readings per write call
_KEPT_META = ("profile", "company", "filter", "start", "gaps")


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``export``."""
    parser = commands.add_parser(
        "export",
        parents=parents,
        help="convert a session between .jsonl, .csv and .parquet (and .gz)",
        description="Convert a session (a file, a Parquet folder or a Spark capture) to "
        "another format, chosen by the target's name: .jsonl, .csv, .jsonl.gz, .csv.gz, "
        ".parquet. The readings survive exactly; --filter keeps only those that match.",
    )
    parser.add_argument("session", type=Path, metavar="SESSION",
                        help="the session to read (file, or a folder of Parquet files)")
    parser.add_argument("--to", required=True, type=Path, metavar="FILE",
                        help="the file to write (.jsonl, .csv, .jsonl.gz, .csv.gz, .parquet)")
    parser.add_argument("--filter", default="", metavar="QUERY",
                        help="keep only the readings that match (the viewer's filter, e.g. "
                        "'asset:1111 val>600')")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.set_defaults(run=run_export, needs_profile=False)


def _chunks(readings: Iterator[Reading], keep: Any) -> Iterator[list[Reading]]:
    chunk: list[Reading] = []
    for reading in readings:
        if keep is None or keep(reading):
            chunk.append(reading)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def run_export(args: argparse.Namespace) -> int:
    """``flux-tui export``."""
    from flux_tui.data.query import QuerySyntaxError, compile_query
    from flux_tui.data.session import open_session
    from flux_tui.data.session.recorder import open_writer

    keep = None
    if args.filter:
        try:
            keep = compile_query(args.filter).matches
        except QuerySyntaxError as exc:
            return _fail(f"--filter: {exc}", EXIT_USAGE)
    if args.to.resolve() == args.session.resolve():
        return _fail("--to names the session itself: choose another file", EXIT_USAGE)
    try:
        source = open_session(args.session)
    except OSError as exc:
        return _fail(f"cannot open {args.session}: {exc.strerror or exc}", EXIT_FAILURE)
    metadata = {key: source.metadata[key] for key in _KEPT_META if key in source.metadata}
    metadata["source"] = args.session.name
    if args.filter:
        metadata["export_filter"] = args.filter
    try:
        writer = open_writer(args.to, metadata=metadata, overwrite=args.force)
    except FileExistsError as exc:  # the data file or its sidecar
        return _fail(f"{exc.strerror} (use --force to replace it)", EXIT_USAGE)
    except OSError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    try:
        for chunk in _chunks(source.iter_readings(), keep):
            writer.write(chunk)
        writer.close()
    except OSError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    finally:
        writer.close()  # safe twice; after an error it keeps what was flushed
    for line_no, reason in source.problems[:5]:
        where = f"line {line_no}: " if line_no else ""
        print(terminal_safe(f"flux-tui: skipped {where}{reason}"), file=sys.stderr)
    if len(source.problems) > 5:
        print(f"flux-tui: ... {len(source.problems) - 5} more problems", file=sys.stderr)
    print(terminal_safe(f"exported {writer.count:,} readings to {args.to}"), file=sys.stderr)
    return EXIT_OK


def _fail(message: str, code: int) -> int:
    print(terminal_safe(f"flux-tui: {message}"), file=sys.stderr)  # names and reasons literally
    return code
