"""The ``flux-tui`` command line: profiles, then one command.

Commands that stream (``tail``, ``record``, ``info``) and the token commands (``login``,
``logout``, ``auth status``) resolve a profile from the config file,
the environment and the options (in that order of strength). Foreseeable failures end with a
one-line message and a distinct exit code (see :mod:`flux_tui.cli.output`), never a traceback.
The terminal UI (Textual) is imported only by the commands that open it.

A command's module is imported only when that command runs (or when the whole command line
is needed: ``--help``, a usage error before the command, ``completion``): the parser is
built with that one command (:func:`build_parser` ``only=``), so ``flux-tui open`` does not
load what ``tail``, ``record``, ``login`` or ``sim`` need (start-up time).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from flux_tui import __version__
from flux_tui.base.errors import FluxError
from flux_tui.cli.output import EXIT_OK, EXIT_SIGNAL_BASE, EXIT_USAGE, report_error
from flux_tui.config import Profile, load_config
from flux_tui.data.label_fit import configure_abbreviations

#: Each command and the module of ``flux_tui.cli`` that registers it (``add_parser``), in the
#: order ``--help`` lists them. ``demo`` is registered here.
COMMANDS: dict[str, str] = {
    "info": "info", "tail": "tail", "record": "record", "alarms": "alarms_cmd",
    "open": "open_cmd", "export": "export", "config": "config_cmd", "sim": "sim_cmd",
    "login": "login", "logout": "auth_cmd", "auth": "auth_cmd", "demo": "",
    "completion": "completion",
}
_TOP_VALUES = ("--config", "--profile", "--from")  # top-level options that take a value

EPILOG = """\
exit codes: 0 ok, 1 local failure (file), 2 usage or configuration, 3 credentials refused,
4 API unreachable, 5 other API failure, 128+N ended by signal N (130 for Ctrl-C)"""


def _common(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command (``flux-tui -v tail`` = ``tail -v``)."""
    # After the command the defaults are suppressed, so a value given before it survives.
    default = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $FLUX_TUI_CONFIG, then the per-user file)",
    )
    common.add_argument(
        "--profile",
        default=default,
        help="profile to use (default: $FLUX_PROFILE, then the file's default_profile, then prd)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="more detail on stderr (shard events, periodic progress)",
    )
    return common


def _viewer_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    """The viewer's options; after ``demo`` their defaults are suppressed, so a value given
    before it (``flux-tui --login demo``) survives."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    parser.add_argument(
        "--from",
        dest="start",
        **default,
        type=_start_form,
        metavar="WHEN",
        help="viewer: where to start reading: latest, trim-horizon, a time "
        "(2026-11-29T06:00:00Z) or a duration back from now (15m); default: the profile's",
    )
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        **default,
        help="viewer: redraw less, for slow links (also [ui] low_bandwidth)",
    )
    parser.add_argument(
        "--login",
        action="store_true",
        **default,
        help="viewer: use a person's login (device flow); with none stored, the login "
        "dialog shows at once (on the demo, its Auth0 approves by itself)",
    )


def _start_form(text: str) -> str:
    from flux_tui.cli.tail import start_form  # the check loads with the option's use

    return start_form(text)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the top-level options and that one command
    (what :func:`main` parses with once it knows the command)."""
    parser = argparse.ArgumentParser(
        prog="flux-tui",
        parents=[_common(False)],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Terminal live viewer for the Flux Realtime API. Without a command it "
        "opens the viewer on the selected profile.",
    )
    parser.add_argument("--version", action="version", version=f"flux-tui {__version__}")
    _viewer_options(parser)
    parser.set_defaults(run=run_viewer, needs_profile=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # A fresh parent for each command: argparse shares the parent's option objects, and
    # `demo` changes the default of its --profile.
    done: set[str] = set()
    for name, module_name in COMMANDS.items():
        if (only is not None and name != only) or module_name in done:
            continue
        if not module_name:
            _add_demo(commands)
            continue
        done.add(module_name)  # auth_cmd registers `logout` and `auth` at once
        module = importlib.import_module(f"flux_tui.cli.{module_name}")
        if module_name == "auth_cmd":
            module.add_parsers(commands, [_common(True)])
        elif module_name == "completion":
            module.add_parser(commands, [_common(True)], build_parser)
        else:
            module.add_parser(commands, [_common(True)])
    return parser


def _add_demo(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = commands.add_parser(
        "demo",
        parents=[_common(True)],
        help="open the viewer on the embedded simulator (no credentials)",
    )
    _viewer_options(demo, suppress=True)
    demo.set_defaults(run=run_viewer, needs_profile=True, profile="demo")


def command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, when it is sure to be the one argparse will choose:
    the first word that is not an option nor an option's value. None when there is none,
    or when ``-h``/``--help``/``--version`` comes first (then the whole parser answers)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-h", "--help", "--version", "--"):
            return None
        if arg.startswith("--") and "=" not in arg:
            # argparse accepts a prefix of a long option (--prof for --profile)
            skip = any(option.startswith(arg) for option in _TOP_VALUES)
            continue
        if arg.startswith("-"):
            continue
        return arg if arg in COMMANDS else None
    return None


def run_viewer(args: argparse.Namespace, profile: Profile) -> int:
    """Open the terminal UI on ``profile`` (Textual is imported only here)."""
    from flux_tui.connect import Grant, check_can_connect

    grant: Grant = "device_code" if args.login else "auto"
    # a missing company or credential should not open an empty screen
    check_can_connect(profile, grant)
    try:
        from flux_tui.ui.app import run_viewer as run_app
    except ModuleNotFoundError as exc:
        if exc.name not in ("flux_tui.ui.app", "textual"):
            raise
        print(
            "flux-tui: the terminal viewer is not available in this build; try\n"
            f"  flux-tui tail --profile {profile.name} --from trim-horizon --until-caught-up",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return run_app(
        profile,
        start=args.start,
        config=args.loaded_config,  # [ui] is read by the viewer, once
        low_bandwidth=args.low_bandwidth,
        grant=grant,
    )


def dispatch(args: argparse.Namespace) -> int:
    """Resolve the profile when the command needs one, then run it."""
    if not args.needs_profile:
        return int(args.run(args))
    args.loaded_config = config = load_config(args.config)
    configure_abbreviations(config.abbreviations())
    profile = config.profile(args.profile)
    return int(args.run(args, profile))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``flux-tui`` and ``python -m flux_tui``; returns the exit code."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=command_in(words))
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # argparse: --help/--version (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return dispatch(args)
    except FluxError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        print("flux-tui: interrupted", file=sys.stderr)
        return EXIT_SIGNAL_BASE + 2
    except BrokenPipeError:
        return EXIT_OK  # the reader of our stdout went away: nothing left to say


__all__ = ["COMMANDS", "build_parser", "command_in", "main"]
