"""Where a saved session left off, read from the file itself, and making its end appendable.

``record --resume FILE`` continues a recording exactly after its last reading on every
shard: the positions come from the readings' own ``_shard``/``_seq``/``_sub``/``_arrival``
(the sidecar may be stale or missing after a dropped SSH link). A file whose end was cut
(a partial last line, a gzip stream without its trailer) is first trimmed to its last
complete line, or appending would glue new lines onto a broken one.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flux_tui.data.session.read import Problem, iter_lines, open_session
from flux_tui.data.session.write import session_format

__all__ = ["ResumePoint", "make_appendable", "resume_point"]

#: (sequence number, sub-record index, arrival in epoch ms) of the last reading of a shard.
Position = tuple[int, int | None, int | None]
_TAIL = 1 << 16


@dataclass
class ResumePoint:
    """Where to continue a session."""

    positions: dict[str, Position] = field(default_factory=dict)
    #: Epoch seconds where shards without a reading in the file start: the earliest arrival
    #: in the file (else the recording's start). None: nothing to go by.
    since: float | None = None
    readings: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def resume_point(path: str | os.PathLike[str]) -> ResumePoint:
    """Scan the session at ``path`` for the last reading of every shard."""
    session = open_session(path)
    best: dict[str, tuple[int, int, int | None]] = {}
    earliest: float | None = None
    count = 0
    for reading in session.iter_readings():
        count += 1
        try:
            key = (int(reading.seq), reading.sub)
        except ValueError:
            continue  # not a Kinesis sequence number: nothing to continue after
        arrival = reading.arrival
        if arrival and (earliest is None or arrival < earliest):
            earliest = arrival
        arrival_ms = int(arrival * 1000) if arrival else None
        held = best.get(reading.shard)
        if held is None or key > held[:2]:
            best[reading.shard] = (key[0], key[1], arrival_ms)
    since = earliest
    if since is None:
        started = session.metadata.get("started_at")
        if isinstance(started, str):
            try:
                since = datetime.fromisoformat(started).timestamp()
            except ValueError:
                since = None
    return ResumePoint(
        positions={shard: (seq, sub, ms) for shard, (seq, sub, ms) in best.items()},
        since=since,
        readings=count,
        metadata=session.metadata,
        problems=list(session.problems),
    )


def make_appendable(path: str | os.PathLike[str]) -> str | None:
    """Cut a damaged end so new lines can follow; returns what was done, or None.

    Plain files lose a partial last line. A gzip file whose last member has no trailer
    (the writer was killed) is rewritten from its readable complete lines, since a new
    member appended after an unfinished one could not be read back.
    """
    data = Path(path)
    _, compressed = session_format(data)
    if not compressed:
        return _trim_partial_line(data)
    problems: list[Problem] = []
    partial = False
    for _, _, _, complete in iter_lines(data, True, problems):
        partial = not complete
    if not problems and not partial:
        return None
    temporary = data.with_name(f".{data.name}.{os.getpid()}.resume.tmp")
    kept = 0
    with open(temporary, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            for _, _, line, complete in iter_lines(data, True, []):
                if complete:
                    out.write(line + b"\n")
                    kept += 1
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(temporary, data)
    return f"{data.name} ended mid-write: rewritten with its {kept:,} complete lines"


def _trim_partial_line(path: Path) -> str | None:
    with open(path, "r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return None
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return None
        end = size
        while end > 0:
            start = max(0, end - _TAIL)
            handle.seek(start)
            block = handle.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                handle.truncate(start + cut + 1)
                return f"{path.name} ended with a partial line: it was cut off"
            end = start
        handle.truncate(0)
        return f"{path.name} held only a partial line: it was cut off"
