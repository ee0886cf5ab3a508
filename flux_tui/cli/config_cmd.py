"""``flux-tui config path|show|init``: find, inspect and start the config file."""

from __future__ import annotations

import argparse
from typing import Any

import tomli_w

from flux_tui.cli.output import EXIT_OK
from flux_tui.config import Config, config_path, load_config, write_starter


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``config`` and its three actions."""
    parser = commands.add_parser(
        "config",
        parents=parents,
        help="show or create the configuration file",
        description="Show or create the configuration file.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("path", help="print the config file's path")
    actions.add_parser(
        "show",
        parents=parents,
        help="print the resolved profiles (secrets as ***); --profile: only one",
    )
    init = actions.add_parser("init", help="write a commented starter file (mode 0600)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    parser.set_defaults(run=run_config, needs_profile=False)


def show_text(config: Config, only: str | None = None) -> str:
    """Every profile resolved (built-ins, file, environment) as TOML, secrets masked."""
    state = "" if config.exists else " (not found: built-in profiles only)"
    doc: dict[str, Any] = {"default_profile": config.selected_name()}
    names = [only] if only else config.profile_names()
    doc["profiles"] = {name: config.profile(name).masked() for name in names}
    if not only:
        for key, value in config.data.items():  # other tables ([ui], …) as the file has them
            if key not in ("profiles", "default_profile"):
                doc[key] = value
    return f"# {config.path}{state}\n" + tomli_w.dumps(doc)


def run_config(args: argparse.Namespace) -> int:
    """``flux-tui config ACTION``."""
    if args.action == "path":
        print(config_path(args.config))
        return EXIT_OK
    if args.action == "init":
        path = write_starter(config_path(args.config), force=args.force)
        print(f"wrote {path}")
        return EXIT_OK
    print(show_text(load_config(args.config), args.profile), end="")
    return EXIT_OK
