"""``flux-tui alarms``: alarm transitions on stdout, one JSON object (or table line) each.

The readings come from the feed (the ``tail`` loop, same options and exit codes) or from a
recorded session (``--session FILE``); either way they pass through one
:class:`~flux_tui.alarms.AlarmEngine`, whose clock is the readings' own time, so a replay
prints what the live run printed. Rules come from ``--rule``, else the config file's
``[[alarms]]``, else (on the simulator) the demo's built-in rules.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import IO, Any

import orjson

from flux_tui.alarms import AlarmEngine, AlarmRule, RuleError, Transition, rule_from_text
from flux_tui.base.errors import ConfigError
from flux_tui.cli.output import EXIT_FAILURE, EXIT_OK, Progress
from flux_tui.cli.tail import (
    NAMES_WAIT,
    add_format_options,
    add_stream_options,
    compile_filter,
    finish,
    headless_view,
    stream_profile,
)
from flux_tui.config import Profile
from flux_tui.data.formats import format_time, safe_text
from flux_tui.data.presentation import Presentation
from flux_tui.feed.types import Reading
from flux_tui.view.live import LiveView, RunSummary, StopRun, StopWhen, install_stop_signals
from flux_tui.view.source import ViewEvent

__all__ = ["TransitionWriter", "add_parser", "choose_rules", "configured_rules", "record_journal",
           "run_alarms"]


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``alarms``."""
    parser = commands.add_parser(
        "alarms",
        parents=parents,
        help="print alarm transitions (active, cleared, stale, reporting)",
        description="Evaluate alarm rules on the feed (or a recorded session) and print each "
        "transition: one JSON object a line, or a table. Rules: --rule, else the config "
        "file's [[alarms]], else the demo's built-in rules on the simulator.",
    )
    add_stream_options(parser)
    for action in parser._actions:  # tail's options, in this command's words
        if action.dest == "count":
            action.help = "stop after N alarm transitions"
        elif action.dest == "filter":
            action.help = "watch only readings matching QUERY (e.g. 'site:\"Pad 7\"')"
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="'NAME: QUERY [for 30s] [deadband 1]'",
        help="an alarm rule (repeatable); also 'severity critical', 'latch', 'bell'",
    )
    parser.add_argument(
        "--session",
        metavar="FILE",
        help="replay a recorded session file instead of reading the feed",
    )
    parser.add_argument(
        "--no-stale", action="store_true", help="do not report stale (silent) units"
    )
    add_format_options(
        parser, ("jsonl", "table"), "jsonl (default): one object a transition; table: one human line"
    )
    parser.set_defaults(run=run_alarms)


def choose_rules(args: argparse.Namespace, profile: Profile) -> tuple[list[AlarmRule], str]:
    """The rules in force and where they came from (for the first stderr line)."""
    if args.rule:
        rules = []
        for text in args.rule:
            try:
                rules.append(rule_from_text(text))
            except RuleError as exc:
                raise ConfigError(
                    f"alarm rule {exc.rule!r}: {exc.problem}", key=f"--rule {exc.key}"
                ) from None
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ConfigError("two rules have the same name", key="--rule")
        return rules, "--rule"
    return configured_rules(args, profile)


def configured_rules(args: argparse.Namespace, profile: Profile) -> tuple[list[AlarmRule], str]:
    """The config file's ``[[alarms]]``, else (on the simulator) the demo's built-in rules:
    the rules the viewer uses. With where they came from."""
    from flux_tui.config.field import alarm_rules

    config = args.loaded_config
    rules = alarm_rules(config.data, str(config.path) if config.exists else None)
    if rules:
        return rules, str(config.path)
    if profile.simulator:
        from flux_tui.alarms.demo import DEMO_RULES

        return list(DEMO_RULES), "the demo's built-in rules"
    return [], "no rules"


class TransitionWriter:
    """Writes transitions as JSONL or table lines; a closed pipe sets :attr:`closed`."""

    def __init__(
        self,
        fmt: str,
        present: Presentation,
        names: Any = None,
        out: IO[bytes] | None = None,
        *,
        utc: bool = False,
    ) -> None:
        self.fmt, self.present, self.names, self.utc = fmt, present, names, utc
        self.out = out if out is not None else sys.stdout.buffer
        self.closed = False
        self.count = 0

    def line(self, x: Transition) -> bytes:
        """One transition, newline-terminated."""
        if self.fmt == "jsonl":
            obj = x.as_json(self.names)
            if x.tag_id is not None or x.label is not None:
                unit = self.present.unit(x.label)
                named = self.present.name(x.label, x.val)
                if unit and isinstance(x.val, (int, float)) and not isinstance(x.val, bool):
                    obj["unit"] = unit
                if named is not None:
                    obj["valName"] = named
            return orjson.dumps(obj, default=str) + b"\n"
        unit_name = self.names.asset_name(x.asset_id) if self.names is not None else None
        who = safe_text(unit_name or f"Unit {x.asset_id}")
        what = safe_text(x.label or ("(whole unit)" if x.tag_id is None else f"tag {x.tag_id}"))
        value = self.present.show(x.label, x.val) if x.tag_id is not None or x.label else ""
        if x.tag_id is None and x.state in ("stale", "reporting"):
            what, value = "(whole unit)", ""
        return (
            f"{format_time(x.time_ms, utc=self.utc, date=True)}  {x.severity:<8}  "
            f"{x.state:<9}  {safe_text(x.rule):<24.32}  {who:<12.24}  {what:<28.40}  "
            f"{value}".rstrip()
            + "\n"
        ).encode()

    def write(self, transitions: list[Transition]) -> None:
        if self.closed or not transitions:
            return
        try:
            self.out.write(b"".join(self.line(x) for x in transitions))
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
        self.count += len(transitions)


class AlarmTap:
    """The headless view's tap for ``alarms``: readings go into the engine, transitions out
    to the writer, states to stderr; ``--count`` counts transitions."""

    def __init__(
        self,
        engine: AlarmEngine,
        writer: TransitionWriter,
        count: int | None,
        progress: Progress | None = None,
    ) -> None:
        self.engine, self.writer, self.count, self.progress = engine, writer, count, progress
        self.readings = 0
        self.stop_reason: str | None = None

    def feed(self, readings: list[Reading]) -> None:
        """Evaluate readings and print what changed; :attr:`stop_reason` says when to stop."""
        self.readings += len(readings)
        out = self.engine.observe(readings)
        if self.count is not None:
            out = out[: max(0, self.count - self.writer.count)]
        self.writer.write(out)
        if self.writer.closed:
            self.stop_reason = "output closed"
        elif self.count is not None and self.writer.count >= self.count:
            self.stop_reason = "count"

    def take(self, readings: list[Reading]) -> None:
        self.feed(readings)
        if self.stop_reason is not None:
            raise StopRun(self.stop_reason)

    def note(self, event: ViewEvent) -> None:
        if self.progress is not None:
            self.progress.event(event)

    def tick(self) -> None:
        """Transitions are written as they come."""


def _presentation(args: argparse.Namespace, profile: Profile) -> Presentation:
    from flux_tui.config.field import presentation

    config = args.loaded_config
    return presentation(
        config.data, str(config.path) if config.exists else None, demo=profile.simulator
    )


def _engine(args: argparse.Namespace, profile: Profile, names: Any) -> tuple[AlarmEngine, str]:
    rules, source = choose_rules(args, profile)
    engine = _with_rules(args, rules, names, no_stale=args.no_stale)
    watch_stale = engine.stale is not None
    stale = "stale units" if watch_stale else "no stale units"
    noun = "alarm rule" if len(rules) == 1 else "alarm rules"
    return engine, f"watching {len(rules)} {noun} ({source}) and {stale}"


def _with_rules(args: argparse.Namespace, rules: list[AlarmRule], names: Any, *,
                no_stale: bool = False) -> AlarmEngine:
    """An engine of ``rules`` with the config's ``[stale]`` policy (as the viewer builds it)."""
    from flux_tui.config.field import stale_policy

    config = args.loaded_config
    policy = stale_policy(config.data, str(config.path) if config.exists else None)
    return AlarmEngine(rules, names=names, stale=policy, watch_stale=policy is not None
                       and not no_stale)  # fmt: skip


def record_journal(args: argparse.Namespace, profile: Profile, names: Any,
                   annotate: Any) -> Any:
    """``record``'s alarm journal: with the rules the viewer would use (the config's
    ``[[alarms]]``, the demo's on the simulator), a
    :class:`~flux_tui.alarms.journal.JournalWatcher` that keeps the transitions in the
    session's sidecar as the viewer does (``"alarms"``, through ``annotate(key, value)``);
    None without rules."""
    from flux_tui.alarms.journal import JournalWatcher

    rules, _ = configured_rules(args, profile)
    if not rules:
        return None
    return JournalWatcher(_with_rules(args, rules, names), annotate)


def run_alarms(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui alarms``: the headless view (as ``tail`` runs it) with the alarm tap."""
    progress = Progress(verbose=args.verbose)
    if args.session:
        return _replay(args, profile, progress)
    view = headless_view(stream_profile(args, profile), args.filter)
    engine, describe = _engine(args, profile, view.names)
    present = _presentation(args, profile)
    writer = TransitionWriter(args.format, present, view.names, utc=args.utc)
    progress.say(describe)
    tap = AlarmTap(engine, writer, args.count, progress)
    # --count counts transitions (the tap stops the run), not readings
    until = StopWhen(duration=args.duration, caught_up=args.until_caught_up, headless=True,
                     names_wait=NAMES_WAIT)  # fmt: skip
    summary = asyncio.run(_run(view, tap, until))
    progress.say(_tally(writer.count, tap.readings))
    return finish(summary, progress)


async def _run(view: LiveView, tap: AlarmTap, until: StopWhen) -> RunSummary:
    view.taps.append(tap)
    summary = RunSummary()
    undo = install_stop_signals(view, summary, (signal.SIGINT, signal.SIGTERM))
    try:
        return await view.run(until, summary=summary)
    finally:
        undo()


def _replay(args: argparse.Namespace, profile: Profile, progress: Progress) -> int:
    """Feed a recorded session through the engine, in file order, with the names of the
    profile that recorded it (as ``open`` shows them)."""
    from flux_tui.data.session import open_session

    try:
        session = open_session(args.session)
    except OSError as exc:
        progress.say(f"error: cannot open {args.session}: {exc.strerror or exc}")
        return EXIT_FAILURE
    names = session_names(args.loaded_config, session.metadata)
    matches = compile_filter(args.filter, names)
    engine, describe = _engine(args, profile, names)
    writer = TransitionWriter(args.format, _presentation(args, profile), names, utc=args.utc)
    progress.say(describe)
    tap = AlarmTap(engine, writer, args.count)
    batch: list[Reading] = []
    try:
        for reading in session.iter_readings():
            if matches is None or matches(reading):
                batch.append(reading)
            if len(batch) >= 1000:
                tap.feed(batch)
                batch = []
                if tap.stop_reason is not None:
                    break
        if batch and tap.stop_reason is None:
            tap.feed(batch)
    except OSError as exc:
        progress.say(f"error: reading {args.session}: {exc.strerror or exc}")
        return EXIT_FAILURE
    for line_no, reason in session.problems[:3]:
        progress.say(f"skipped line {line_no}: {reason}")
    progress.say(_tally(writer.count, tap.readings))
    return EXIT_OK


def session_names(config: Any, metadata: dict[str, Any], wait: float = NAMES_WAIT) -> Any:
    """The asset names of the profile a session was recorded with, as the viewer's ``open``
    finds them: the profile's names cache, refreshed from Enterprise Objects when due
    (within ``wait`` seconds). None when the config lacks that profile or it cannot connect:
    the ids are shown then, as the file has them."""
    from flux_tui.base.errors import FluxError

    name = metadata.get("profile")
    if not isinstance(name, str):
        return None
    try:
        profile = config.profile(name)
    except FluxError:
        return None
    return asyncio.run(_fetch_names(profile, wait))


async def _fetch_names(profile: Profile, wait: float) -> Any:
    from flux_tui.base.errors import FluxError
    from flux_tui.connect import open_feed

    try:
        feed = await open_feed(profile)
    except FluxError:
        return None
    try:
        names = feed.names
        if names.needs_refresh():  # a fresh cache answers at once; else ask, within `wait`
            try:
                await asyncio.wait_for(names.refresh(), wait)
            except TimeoutError:
                pass  # the cache (or ids) then
        return names
    finally:
        await feed.aclose()


def _tally(transitions: int, readings: int) -> str:
    noun = "alarm transition" if transitions == 1 else "alarm transitions"
    return f"{transitions:,} {noun} from {readings:,} readings"
