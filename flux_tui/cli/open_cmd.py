"""``flux-tui open FILE [--speed 1|10|max]``: the viewer on a saved session, replayed.

The replay feeds the same store the live feed does, so the tree, log, filter, sparklines
and reading detail all work; the header shows the session's metadata. Textual is imported
only when the viewer starts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flux_tui.cli.output import EXIT_FAILURE, EXIT_USAGE
from flux_tui.config import load_config
from flux_tui.data.label_fit import configure_abbreviations
from flux_tui.data.session.replay import SessionReplay, Speed
from flux_tui.data.terminal import terminal_safe

if TYPE_CHECKING:
    from flux_tui.config import Config
    from flux_tui.ui.app import FluxApp

SPEED_CHOICES: dict[str, Speed] = {"1": 1.0, "10": 10.0, "max": None}


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``open``."""
    parser = commands.add_parser(
        "open",
        parents=parents,
        help="open a saved session in the viewer and replay it",
        description="Open a session file (from record, or r/s in the viewer) and replay it "
        "in the viewer. Keys: k pause, > speed, j/l back/on 1 min, [/] back/on 10 %%.",
    )
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="the session file (.jsonl, .csv, .gz, .parquet), or a folder of "
                        "Parquet files such as a Spark capture")
    parser.add_argument("--speed", choices=tuple(SPEED_CHOICES), default="1",
                        help="replay speed: 1x, 10x or as fast as possible (default 1)")
    parser.add_argument("--low-bandwidth", action="store_true",
                        help="redraw less, for slow links (also [ui] low_bandwidth)")
    parser.set_defaults(run=run_open, needs_profile=False)


def open_app(replay: SessionReplay, *, config: Config | None = None,
             low_bandwidth: bool = False, **options: Any) -> FluxApp:
    """The viewer with ``replay`` as its source, its clock and its header."""
    from flux_tui.ui.app import FluxApp, alarm_setup

    async def opener() -> SessionReplay:
        return replay

    # the rules the recording was made with: a demo session replays the demo's rules
    demo = replay.metadata.get("profile") == "demo"
    options.setdefault("alarms", alarm_setup(config, demo))

    app = FluxApp(opener, title=replay.describe(), config=config, low_bandwidth=low_bandwidth,
                  clock=replay.now, **options)
    app.view.use_replay(replay, app.replay_opener(replay))
    return app


def run_open(args: argparse.Namespace) -> int:
    """``flux-tui open``."""
    try:
        replay = SessionReplay(args.file, speed=SPEED_CHOICES[args.speed], hold_at_end=True)
    except OSError as exc:
        print(terminal_safe(f"flux-tui: cannot open {args.file}: {exc.strerror or exc}"),
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILURE
    config = load_config(args.config)
    configure_abbreviations(config.abbreviations())
    try:
        from flux_tui.ui.app import run_app

        app = open_app(replay, config=config, low_bandwidth=args.low_bandwidth)
    except ModuleNotFoundError as exc:
        if exc.name not in ("flux_tui.ui.app", "textual"):
            raise
        print("flux-tui: the terminal viewer is not available in this build", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(run_app(app))
