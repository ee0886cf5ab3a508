"""Recording readings to a session file (JSONL or CSV, optionally gzip) with a metadata sidecar.

Durability is the point: data reaches the disk (flush + fsync) at least once a second while
readings arrive, a gzip stream is sync-flushed so a killed process leaves a readable prefix,
and a disk or permission error stops the recording with :class:`SessionWriteError` while
everything flushed before stays readable. See ``docs/session-files.md``.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import orjson

from flux_tui import __version__
from flux_tui.base.errors import FluxError
from flux_tui.base.events import Gap
from flux_tui.data.formats import CSV_COLUMNS, CsvRows, csv_row, jsonl_line
from flux_tui.feed.types import Reading

__all__ = [
    "FLUSH_INTERVAL",
    "SessionWriteError",
    "SessionWriter",
    "session_format",
    "sidecar_path",
    "write_sidecar",
]

FLUSH_INTERVAL = 1.0  # seconds: the most data a crash can lose
SIDECAR_SUFFIX = ".meta.json"
_RECENT = 4096  # per-shard identities remembered for out-of-order duplicates


class SessionWriteError(FluxError, OSError):
    """Recording stopped: the disk is full, the folder is not writable, ... The writer is
    closed; what was flushed before stays in the file. Also an ``OSError``, so code that
    guards file writes with ``except OSError`` catches it too."""


def session_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """``("jsonl" | "csv", compressed)`` from the file name; anything unknown is JSONL."""
    name = Path(path).name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    return ("csv" if name.endswith(".csv") else "jsonl"), compressed


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """``pad7.jsonl.gz`` -> ``pad7.jsonl.gz.meta.json`` (beside it, whole name kept so a
    ``.csv`` and a ``.jsonl`` of the same stem do not share one)."""
    data = Path(path)
    return data.with_name(data.name + SIDECAR_SUFFIX)


def write_sidecar(path: Path, metadata: dict[str, Any]) -> None:
    """Write the metadata atomically: a temporary file, fsynced, renamed over the old one.

    The temporary file comes from ``mkstemp`` in the same folder (O_CREAT|O_EXCL, a random
    name): in a shared folder nobody can plant a symlink there that makes us overwrite
    another file, and the rename replaces a link at ``path`` rather than following it.
    """
    body = orjson.dumps(metadata, option=orjson.OPT_INDENT_2, default=str) + b"\n"
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _data_file_mode(path))
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass  # already renamed, or the folder went away: nothing left to clean
        raise


def _data_file_mode(sidecar: Path) -> int:
    """The sidecar is as readable as its data file (mkstemp alone would make it 0600)."""
    data = sidecar.with_name(sidecar.name.removesuffix(SIDECAR_SUFFIX))
    try:
        return os.stat(data).st_mode & 0o666
    except OSError:
        return 0o600


def _fsync(fd: int) -> None:
    """fsync, tolerating files that cannot be synced (a pipe, /dev/stdout, a character
    device): there is no disk to reach, and refusing would stop a valid recording."""
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EROFS):
            raise


def _utc_iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _describe(error: OSError, path: Path) -> str:
    if error.errno == errno.ENOSPC:
        return f"the disk is full: cannot write {path}"
    if error.errno == errno.EDQUOT:
        return f"disk quota exceeded: cannot write {path}"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied: cannot write {path} (choose another folder)"
    if error.errno == errno.ENOENT:
        return f"the folder does not exist: {path.parent}"
    return f"cannot write {path}: {error.strerror or error}"


class _ShardSeen:
    """What one shard has delivered: the highest identity, a window of recent ones, and the
    highest identity that fell out of the window."""

    __slots__ = ("floor", "high", "order", "recent")

    def __init__(self, key: tuple[int, int]) -> None:
        self.high = key
        self.order: deque[tuple[int, int]] = deque([key])
        self.recent: set[tuple[int, int]] = {key}
        self.floor: tuple[int, int] | None = None


class _Dedupe:
    """Remembers which (shard, seq, sub) were written, in bounded memory.

    A shard delivers in sequence order, so the highest identity per shard plus a window of
    recent ones catches replays and small reorderings. Anything at or below an identity that
    left the window is treated as written: a duplicate in a saved file is worse than a
    skipped replay of something that old.
    """

    def __init__(self) -> None:
        self.shards: dict[str, _ShardSeen] = {}

    def is_new(self, shard: str, seq: str, sub: int) -> bool:
        try:
            key = (int(seq), sub)  # sequence numbers compare as integers, never as text
        except ValueError:
            key = (hash(seq), sub)  # not a Kinesis sequence number: identity only
        seen = self.shards.get(shard)
        if seen is None:
            self.shards[shard] = _ShardSeen(key)
            return True
        if key in seen.recent:
            return False
        if key > seen.high:
            seen.high = key
        elif seen.floor is not None and key <= seen.floor:
            return False
        seen.order.append(key)
        seen.recent.add(key)
        if len(seen.order) > _RECENT:
            old = seen.order.popleft()
            seen.recent.discard(old)
            if seen.floor is None or old > seen.floor:
                seen.floor = old
        return True


class SessionWriter:
    """Writes readings to ``path`` (format from the extension) and keeps the sidecar
    ``<path>.meta.json`` current. Use as a context manager, or call :meth:`close`.

    ``write`` flushes by itself once :data:`FLUSH_INTERVAL` has passed; a caller whose
    readings may pause should also call :meth:`tick` from a timer, so the last readings
    reach the disk even when no more arrive.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        metadata: dict[str, Any],
        overwrite: bool = False,
        csv_guard: bool = True,
        append: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """``append``: continue an existing session (``record --resume``): the readings go
        after the file's (a ``.gz`` gets a new gzip member, a CSV no second header) and the
        sidecar keeps its count, times and gaps, with the resumption noted."""
        self.path = Path(path)
        self.format, self.compressed = session_format(self.path)
        self.sidecar = sidecar_path(self.path)
        self._clock, self._wall = clock, wall_clock
        self.count = 0
        self.duplicates = 0
        self.closed = False
        self._dirty = False
        self._dedupe = _Dedupe()
        self._first_ms: int | None = None
        self._last_ms: int | None = None
        self._gaps: list[dict[str, Any]] = []
        self._user_meta = dict(metadata)
        self.csv_guard = csv_guard  # a leading ' on CSV cells a spreadsheet would run
        self._started = wall_clock()
        self._ended: float | None = None
        self._error: str | None = None  # why the recording stopped early, if it did
        self._csv_buffer = io.StringIO()
        self._csv = CsvRows(self._csv_buffer)
        self._appending = append
        if not overwrite and not append and os.path.lexists(self.sidecar):
            # Another recording's metadata (or anything at that name) is not ours to replace.
            raise FileExistsError(errno.EEXIST, f"{self.sidecar} already exists", str(self.sidecar))
        if append:
            self._carry_over(wall_clock())
        mode = "ab" if append else "wb" if overwrite else "xb"
        try:
            # "x" refuses an existing file atomically (no check-then-create race).
            self._raw: IO[bytes] = open(self.path, mode)  # noqa: SIM115
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, f"{self.path} already exists", str(self.path)
                                  ) from None
        except OSError as error:
            raise SessionWriteError(_describe(error, self.path)) from error
        self._stream: IO[bytes] | gzip.GzipFile = self._raw
        if self.compressed:
            # mtime=0: the same readings give the same bytes (reproducible files).
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        self._last_flush = clock()
        self._guard(self._start)

    # --- public API ----------------------------------------------------------------------

    def write(self, readings: Iterable[Reading] | Reading) -> int:
        """Write the readings not written before (a page, or a single reading); returns how
        many were written."""
        self._check_open()
        if isinstance(readings, Reading):  # one reading (a tuple, so iterable) is welcome too
            readings = (readings,)
        dedupe = self._dedupe
        chunk: list[Reading] = []
        for reading in readings:
            if dedupe.is_new(reading.shard, reading.seq, reading.sub):
                chunk.append(reading)
            else:
                self.duplicates += 1
        if chunk:
            self._guard(self._write_chunk, chunk)
        if self._dirty and self._clock() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()
        return len(chunk)

    def note_gap(self, gap: Gap) -> None:
        """Record a gap the reader reported; it goes into the metadata at the next flush."""
        self._gaps.append(
            {"shard": gap.shard, "start_ms": gap.start_ms, "end_ms": gap.end_ms,
             "reason": gap.reason}
        )  # fmt: skip
        self._dirty = True

    def annotate(self, key: str, value: Any) -> None:
        """Keep ``key: value`` (JSON-able) in the sidecar from the next flush on: the
        viewer's alarm journal and marks travel with the session this way."""
        self._user_meta[key] = value
        self._dirty = True

    def tick(self) -> None:
        """Flush if a second has passed and something is waiting (call it from a timer)."""
        if not self.closed and self._dirty and self._clock() - self._last_flush >= FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        """Put everything written so far on the disk (fsync) and update the sidecar."""
        self._check_open()
        self._guard(self._flush)

    def close(self) -> None:
        """Finish the file (gzip trailer), write the final metadata. Safe to call twice."""
        if self.closed:
            return
        try:
            self._guard(self._finish)
        finally:
            self.closed = True

    @property
    def metadata(self) -> dict[str, Any]:
        """The sidecar's content as it stands now."""
        return {
            **self._user_meta,
            "format": "flux-tui-session",
            "format_version": 1,
            "data_file": self.path.name,
            "data_format": self.format,
            "compressed": self.compressed,
            "csv_formula_guard": self.csv_guard,
            "app_version": __version__,
            "started_at": _utc_iso(self._started),
            "ended_at": _utc_iso(self._ended) if self._ended is not None else None,
            "complete": self._ended is not None,
            "error": self._error,
            "count": self.count,
            "duplicates_skipped": self.duplicates,
            "first_epoch_ms": self._first_ms,
            "last_epoch_ms": self._last_ms,
            "gaps": list(self._gaps),
        }

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise SessionWriteError(f"the recording to {self.path} is closed")

    def _guard(self, action: Callable[..., None], *args: Any) -> None:
        """Run a disk operation; an OSError closes the writer and becomes SessionWriteError."""
        try:
            action(*args)
        except OSError as error:
            self._abandon()
            message = _describe(error, self.path)
            self._error = message
            try:  # best effort: tell `open` why the file ends here (the disk may be full)
                write_sidecar(self.sidecar, self.metadata)
            except OSError:
                pass
            raise SessionWriteError(
                f"{message}; recording stopped, {self.count:,} readings written before"
            ) from error

    def _abandon(self) -> None:
        """Give up after an error without writing more (what is flushed stays readable)."""
        self.closed = True
        for handle in (self._stream, self._raw):
            try:
                handle.close()
            except (OSError, ValueError):
                pass  # the unflushed tail could not be written: the error is being reported

    def _carry_over(self, now: float) -> None:
        """Continue the sidecar of the session being resumed (when it has a readable one)."""
        try:
            old = orjson.loads(self.sidecar.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            old = None
        if not isinstance(old, dict):
            self._user_meta["resumed"] = [{"at": _utc_iso(now), "count_before": None}]
            return
        own = {"format", "format_version", "data_file", "data_format", "compressed",
               "app_version", "started_at", "ended_at", "complete", "error", "count",
               "duplicates_skipped", "first_epoch_ms", "last_epoch_ms", "gaps", "sidecar"}  # fmt: skip
        self._user_meta = {**{k: v for k, v in old.items() if k not in own}, **self._user_meta}
        count = old.get("count")
        self.count = count if isinstance(count, int) and count >= 0 else 0
        gaps = old.get("gaps")
        self._gaps = [g for g in gaps if isinstance(g, dict)] if isinstance(gaps, list) else []
        for key, attr in (("first_epoch_ms", "_first_ms"), ("last_epoch_ms", "_last_ms")):
            if isinstance(old.get(key), int):
                setattr(self, attr, old[key])
        started = old.get("started_at")
        if isinstance(started, str):
            try:
                self._started = datetime.fromisoformat(started).timestamp()
            except ValueError:
                pass
        earlier = old.get("resumed")
        resumed: list[Any] = earlier if isinstance(earlier, list) else []
        self._user_meta["resumed"] = [*resumed, {"at": _utc_iso(now), "count_before": self.count}]

    def _start(self) -> None:
        if self.format == "csv" and not self._appending:
            self._csv.writerow(CSV_COLUMNS)
            self._stream.write(self._take_csv())
        self._flush()

    def _take_csv(self) -> bytes:
        text = self._csv_buffer.getvalue()
        self._csv_buffer.seek(0)
        self._csv_buffer.truncate()
        return text.encode()

    def _write_chunk(self, chunk: list[Reading]) -> None:
        if self.format == "csv":
            guard = self.csv_guard
            self._csv.writerows(csv_row(r, guard=guard) for r in chunk)
            data = self._take_csv()
            self._stream.write(data)
        elif self._stream is self._raw:
            # One buffered write per line beats building a list and joining it (measured).
            write = self._raw.write
            for reading in chunk:
                write(jsonl_line(reading))
        else:
            # gzip: one compress call per page, not per line.
            self._stream.write(b"".join([jsonl_line(r) for r in chunk]))
        self.count += len(chunk)
        self._dirty = True
        times = [r.epoch_ms for r in chunk if r.epoch_ms is not None]
        if times:
            low, high = min(times), max(times)
            self._first_ms = low if self._first_ms is None else min(self._first_ms, low)
            self._last_ms = high if self._last_ms is None else max(self._last_ms, high)

    def _flush(self) -> None:
        if isinstance(self._stream, gzip.GzipFile):
            # A sync flush ends the deflate block on a byte boundary: everything so far can be
            # decompressed even if the process dies before the gzip trailer is written.
            self._stream.flush(zlib.Z_SYNC_FLUSH)
        self._raw.flush()
        _fsync(self._raw.fileno())
        write_sidecar(self.sidecar, self.metadata)
        self._last_flush = self._clock()
        self._dirty = False

    def _finish(self) -> None:
        if self._stream is not self._raw:
            self._stream.close()  # gzip: final block and trailer (the raw file stays open)
        self._raw.flush()
        _fsync(self._raw.fileno())
        self._raw.close()
        self.closed = True
        self._ended = self._wall()
        write_sidecar(self.sidecar, self.metadata)
