"""The ``flux-tui`` command line."""

from __future__ import annotations

import argparse
import sys

from flux_tui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flux-tui", description=__doc__)
    parser.add_argument("--version", action="version", version=f"flux-tui {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help(sys.stdout)
    return 0
