"""Recording and saving from the viewer, without Textual: :class:`Recorder` (start/stop,
everything that passes the filter from now on), :func:`save_snapshot` (what the log holds
now) and :func:`default_session_name` (the name the path dialog proposes).

Both write through :func:`open_writer` (a :class:`SessionWriter`, or its Parquet
subclass for a ``.parquet`` name), so dedupe, the flushes, the sidecar and the "never
overwrite unless asked" rule are the same as for ``flux-tui record``.
"""

from __future__ import annotations

import enum
import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from flux_tui.base.events import Gap
from flux_tui.data.session.write import SessionWriteError, SessionWriter
from flux_tui.feed.types import Reading

__all__ = ["Recorder", "RecorderState", "default_session_name", "filter_summary",
           "open_writer", "save_snapshot"]

_SUMMARY_MAX = 32  # characters of filter in a file name: enough to tell files apart
_ID_FIELDS = ("asset", "site", "org", "tag", "register")  # kept with their value: "asset-1111"
_SAVE_CHUNK = 5000  # readings per write call when saving a snapshot


def open_writer(path: str | os.PathLike[str], **options: Any) -> SessionWriter:
    """The writer for ``path``'s format: Parquet for a ``.parquet`` name (raises
    ``ParquetUnavailable``, an ``OSError`` naming the install command, without pyarrow),
    else JSONL/CSV (optionally .gz). ``options`` are :class:`SessionWriter`'s."""
    from flux_tui.data.session.parquet_write import ParquetSessionWriter, is_parquet_name

    if is_parquet_name(path):
        return ParquetSessionWriter(path, **options)
    return SessionWriter(path, **options)


class RecorderState(enum.Enum):
    """Where a :class:`Recorder` is."""

    IDLE = "idle"  # never started
    RECORDING = "recording"
    STOPPED = "stopped"  # stopped by the user; the file is complete
    FAILED = "failed"  # a write error stopped it; ``error`` says why


def filter_summary(filter_text: str) -> str:
    """A short, filesystem-safe summary of a filter: ``asset:1111 label:pressure`` ->
    ``asset-1111-pressure`` (id fields keep their name, other fields only their value)."""
    words: list[str] = []
    for token in re.findall(r'[^\s"]+(?:"[^"]*")?|"[^"]*"', filter_text):
        field, sep, value = token.partition(":")
        if sep and field.lower() in _ID_FIELDS:
            words.extend((field, value))
        elif sep and re.fullmatch(r"[A-Za-z]+", field):
            words.append(value)
        else:
            words.append(token)
    text = re.sub(r"[^a-z0-9]+", "-", " ".join(words).lower()).strip("-")
    return text[:_SUMMARY_MAX].rstrip("-")


def default_session_name(company: str | None, filter_text: str, now: datetime,
                         extension: str = ".jsonl") -> str:
    """``demo_asset-1111-pressure_2026-11-29T0612.jsonl``: company, filter summary and the
    local time to the minute, with only characters every filesystem accepts."""
    company_part = re.sub(r"[^a-z0-9]+", "-", (company or "").lower()).strip("-")[:24]
    parts = [p for p in (company_part, filter_summary(filter_text) or "all") if p]
    return "_".join([*parts, now.strftime("%Y-%m-%dT%H%M")]) + extension


def distinct_path(path: Path, busy: Iterable[Path] = ()) -> Path:
    """``path``, or the first of ``name-2.jsonl``, ``name-3.jsonl``… that neither exists nor
    is in ``busy`` (the recording in progress: ``s`` right after ``r`` proposed its name,
    both named to the minute)."""
    taken = {p.resolve() for p in busy}
    stem, dot, ext = path.name.partition(".")
    candidate = path
    n = 1
    while candidate.exists() or candidate.resolve() in taken:
        n += 1
        candidate = path.with_name(f"{stem}-{n}{dot}{ext}")
    return candidate


class Recorder:
    """Records every reading offered to it (the caller offers what passes its filter) into
    one session file at a time. Write errors never propagate from :meth:`offer`,
    :meth:`note_gap` or :meth:`tick`: they stop the recording, set :attr:`error` and
    :attr:`state` to FAILED, and the caller (the viewer) carries on."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._clock, self._wall = clock, wall_clock
        self._writer: SessionWriter | None = None
        self.state = RecorderState.IDLE
        self.path: Path | None = None
        self.error: str | None = None
        self._count = 0  # readings of the last recording, kept after it stops
        self._notes: dict[str, Any] = {}  # sidecar annotations, kept for the next recording

    @property
    def recording(self) -> bool:
        """True while a file is open for recording."""
        return self.state is RecorderState.RECORDING

    @property
    def count(self) -> int:
        """Readings written by the current (or last) recording."""
        return self._writer.count if self._writer is not None else self._count

    def start(self, path: str | os.PathLike[str], metadata: dict[str, Any], *,
              overwrite: bool = False) -> None:
        """Open ``path`` and record from now on. Raises ``FileExistsError`` (without
        ``overwrite``) or :class:`SessionWriteError` (folder missing, not writable...);
        the recorder then stays as it was."""
        if self.recording:
            raise RuntimeError("already recording; stop first")
        writer = open_writer(path, metadata=metadata, overwrite=overwrite,
                             clock=self._clock, wall_clock=self._wall)
        self._writer, self.path, self.error, self._count = writer, writer.path, None, 0
        self.state = RecorderState.RECORDING
        for key, value in self._notes.items():
            writer.annotate(key, value)

    def annotate(self, key: str, value: Any) -> None:
        """Put ``key: value`` in the sidecar of this and every later recording (the alarm
        journal, the marks); it reaches the disk with the next flush."""
        self._notes[key] = value
        if self.recording and self._writer is not None:
            self._writer.annotate(key, value)

    def offer(self, readings: Iterable[Reading]) -> int:
        """Write these readings (duplicates skipped); returns how many were new."""
        if not self.recording or self._writer is None:
            return 0
        try:
            return self._writer.write(readings)
        except SessionWriteError as error:
            self._fail(error)
            return 0

    def note_gap(self, gap: Gap) -> None:
        """Keep a reader's gap in the file's metadata."""
        if self.recording and self._writer is not None:
            self._writer.note_gap(gap)

    def tick(self) -> None:
        """Call once a second: data waiting in buffers reaches the disk."""
        if self.recording and self._writer is not None:
            try:
                self._writer.tick()
            except SessionWriteError as error:
                self._fail(error)

    def stop(self) -> int:
        """Close the file (flushed, sidecar complete); returns the readings written. A write
        error while closing leaves the recorder FAILED with :attr:`error` set."""
        writer = self._writer
        if writer is None or not self.recording:
            return self.count
        try:
            writer.close()
            self.state = RecorderState.STOPPED
        except SessionWriteError as error:
            self._fail(error)
        self._count = writer.count
        return self._count

    def status_text(self) -> str | None:
        """``3,201 → pad7.jsonl`` while recording (the status bar's slot), else None."""
        if not self.recording or self.path is None:
            return None
        return f"{self.count:,} → {self.path.name}"

    def _fail(self, error: SessionWriteError) -> None:
        self.state = RecorderState.FAILED
        self.error = str(error)
        if self._writer is not None:
            self._count = self._writer.count


def save_snapshot(readings: Iterable[Reading], path: str | os.PathLike[str],
                  metadata: dict[str, Any], *, overwrite: bool = False) -> int:
    """Write ``readings`` (e.g. the log's filtered view) to a new session file; returns
    how many were written (duplicates are skipped). Raises ``FileExistsError`` unless
    ``overwrite``, and :class:`SessionWriteError` on a disk or permission error (what was
    flushed stays readable)."""
    with open_writer(path, metadata=metadata, overwrite=overwrite) as writer:
        chunk: list[Reading] = []
        for reading in readings:
            chunk.append(reading)
            if len(chunk) >= _SAVE_CHUNK:
                writer.write(chunk)
                chunk = []
        if chunk:
            writer.write(chunk)
        return writer.count
