"""What the commands print: exit codes, error messages, readings on stdout, states on stderr.

Readings are formatted only by :mod:`flux_tui.data.formats`; this module decides where the
bytes go and how a closed pipe (``| head``) or a failure is reported. Every text that
reaches a terminal passes :func:`~flux_tui.data.terminal.terminal_safe`: stderr lines
always, CSV when stdout is a terminal (JSONL stays exact JSON; escapes in it are JSON
escapes, never raw bytes).
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from flux_tui.api import errors
from flux_tui.base.errors import ConfigError
from flux_tui.base.events import (
    CaughtUp,
    FeedProblem,
    Gap,
    ShardClosed,
    ShardOpened,
    StateChanged,
    Throttled,
)
from flux_tui.data.terminal import terminal_safe
from flux_tui.feed.types import Reading

if TYPE_CHECKING:
    from flux_tui.data.formats import NameLookup

EXIT_OK = 0
EXIT_FAILURE = 1  # a local failure: the output file cannot be written
EXIT_USAGE = 2  # bad command line or configuration
EXIT_AUTH = 3  # the credentials were refused
EXIT_UNREACHABLE = 4  # the API (or its token endpoint) could not be reached
EXIT_API = 5  # the API answered with an error that retrying cannot fix
EXIT_SIGNAL_BASE = 128  # ended by a signal: 128 + its number (Ctrl-C: 130)

FORMATS = ("jsonl", "csv", "table")


def exit_code_for(error: BaseException) -> int:
    """The exit code that tells a script what kind of failure ``error`` is."""
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    if isinstance(error, errors.AuthUnreachableError | errors.ConnectError | errors.TimeoutError):
        return EXIT_UNREACHABLE
    if isinstance(
        error, errors.AuthError | errors.UnauthorizedError | errors.AccessDeniedKinesisError
    ):
        return EXIT_AUTH
    if (
        isinstance(error, errors.ForbiddenError)
        and "missing authentication token" not in str(error).lower()
    ):
        return EXIT_AUTH
    if isinstance(error, OSError):
        return EXIT_FAILURE
    return EXIT_API


_HINTS = {
    EXIT_AUTH: "check the profile's client_id and client secret (`flux-tui config show`)",
    EXIT_UNREACHABLE: "check the network and the profile's base_url and token_url",
}


def report_error(error: BaseException, stream: IO[str] | None = None) -> int:
    """Print ``flux-tui: error: ...`` (and a hint) to stderr; return the exit code."""
    stream = stream or sys.stderr
    code = exit_code_for(error)
    message = terminal_safe(str(error) or type(error).__name__, newlines=True)
    print(f"flux-tui: error: {message}", file=stream)
    hint = _HINTS.get(code)
    if isinstance(
        error, errors.LoginRequiredError | errors.LoginDeniedError | errors.LoginExpiredError
    ):
        hint = "log in with `flux-tui login --profile NAME` (or configure a client secret)"
    if hint:
        print(f"flux-tui: hint: {hint}", file=stream)
    return code


class ReadingSink:
    """Writes readings to a binary stream in one of :data:`FORMATS`.

    A closed reader end (``| head``) sets :attr:`closed` instead of raising, and points the
    process's stdout at /dev/null so the interpreter's final flush stays quiet.
    """

    def __init__(
        self,
        fmt: str,
        out: IO[bytes] | None = None,
        *,
        utc: bool = False,
        names: NameLookup | None = None,
        present: Any = None,
        csv_raw: bool = False,
        terminal: bool | None = None,
    ) -> None:
        from flux_tui.data import formats  # loaded with the first command that prints readings

        self._formats = formats
        self.fmt = fmt
        self.out = out if out is not None else sys.stdout.buffer
        self.utc = utc
        self.names = names  # the table shows unit names as the viewer does
        self.present = present  # units and state names for the table (JSONL/CSV stay raw)
        self.csv_guard = not csv_raw  # a leading ' on cells a spreadsheet would run
        # CSV on a terminal is for eyes: control characters are made visible. Into a pipe
        # or a file it stays exact (the formula guard still applies).
        self.terminal = _is_terminal(self.out) if terminal is None else terminal
        self.closed = False
        self._text = io.StringIO()
        self._csv = formats.CsvRows(self._text)
        if fmt == "csv":
            self._csv.writerow(formats.CSV_COLUMNS)
            self._write(self._drain())

    def _drain(self) -> bytes:
        data = self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate()
        return data

    def _write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        try:
            self.out.write(data)
        except BrokenPipeError:
            self._pipe_closed()

    def write_many(self, readings: list[Reading]) -> None:
        """Format and write a batch of readings (one write call for the whole batch)."""
        fmt = self._formats
        if self.fmt == "jsonl":
            data = b"".join(fmt.jsonl_line(r) for r in readings)
        elif self.fmt == "csv":
            rows = (fmt.csv_row(r, guard=self.csv_guard) for r in readings)
            if self.terminal:
                rows = ([terminal_safe(cell) for cell in row] for row in rows)
            self._csv.writerows(rows)
            data = self._drain()
        else:
            names, present = self.names, self.present
            data = "".join(fmt.table_line(r, utc=self.utc, names=names, present=present) + "\n"
                           for r in readings).encode()
        self._write(data)

    def flush(self) -> None:
        """Push what was written to the reader (after each batch, so a pipe sees it live)."""
        if self.closed:
            return
        try:
            self.out.flush()
        except BrokenPipeError:
            self._pipe_closed()

    def _pipe_closed(self) -> None:
        self.closed = True
        if self.out is getattr(sys.stdout, "buffer", None):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass


def _is_terminal(out: IO[bytes]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def local_time(seconds: float, fmt: str) -> str:
    """``seconds`` (epoch) as local time in ``fmt``; ``?`` for a time no calendar holds
    (a server's absurd expiry must not end a command with OverflowError)."""
    try:
        return time.strftime(fmt, time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return "?"


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


class Progress:
    """States and progress on stderr: one line per change, never one per batch."""

    def __init__(
        self, stream: IO[str] | None = None, *, verbose: int = 0, every: float | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.every = every  # seconds between "N readings" lines (record), None: never
        self._last_state: Any = None
        self._last_progress = time.monotonic()
        self._throttled_until = 0.0

    def say(self, text: str) -> None:
        """One line to stderr, prefixed so it never reads as data. Server messages, names and
        paths in ``text`` are shown literally (control characters made visible)."""
        print(f"flux-tui: {terminal_safe(text)}", file=self.stream, flush=True)

    def event(self, item: object) -> None:
        """Report a reader event if it changes what the user should know."""
        if isinstance(item, StateChanged):
            # The same state again carries news in its detail (the reader's fallback notice).
            if item.state != self._last_state or item.detail:
                self._last_state = item.state
                self.say(
                    f"state: {item.state.value}" + (f" ({item.detail})" if item.detail else "")
                )
        elif isinstance(item, Throttled):
            if item.until > self._throttled_until + 1:  # a 429 storm is one line, not many
                self.say(f"throttled by the API (429): calls paused until {_clock(item.until)}")
            self._throttled_until = max(self._throttled_until, item.until)
        elif isinstance(item, Gap):
            span = ""
            if item.start_ms is not None and item.end_ms is not None:
                span = f" {_clock(item.start_ms / 1000)}–{_clock(item.end_ms / 1000)}"
            self.say(f"gap on shard {item.shard}{span}: {item.reason}")
        elif isinstance(item, FeedProblem):
            when = "giving up" if item.retry_in is None else f"retrying in {item.retry_in:.1f}s"
            self.say(f"problem: {item.error} ({when})")
        elif isinstance(item, CaughtUp):
            if self._last_state != "caught-up":
                self._last_state = "caught-up"
                self.say("caught up with the stream")
        elif isinstance(item, ShardOpened) and self.verbose:
            parents = f" (after {', '.join(item.parents)})" if item.parents else ""
            self.say(f"reading shard {item.shard}{parents}")
        elif isinstance(item, ShardClosed) and self.verbose:
            children = f" (continues in {', '.join(item.children)})" if item.children else ""
            self.say(f"shard {item.shard} closed{children}")

    def tick(self, count: int, noun: str = "readings") -> None:
        """A periodic progress line, at most every :attr:`every` seconds."""
        if self.every is None:
            return
        now = time.monotonic()
        if now - self._last_progress >= self.every:
            self._last_progress = now
            self.say(f"{count:,} {noun}")
