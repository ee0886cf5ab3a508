"""``flux-tui sim``: serve the Flux simulator on a loopback port for other clients and tests."""

from __future__ import annotations

import argparse
import math
import sys

from flux_tui.cli.output import EXIT_FAILURE, EXIT_OK, EXIT_USAGE


def _whole(text: str) -> int:
    # int() also reads '١٠' and '1_0'
    if not (text.isascii() and text.removeprefix("-").isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def _finite(text: str) -> float:
    # float() also reads 'nan' and 'inf', which end in a traceback or a server that hangs
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0..65535)")
    return int(text)


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``sim``."""
    parser = commands.add_parser(
        "sim",
        parents=parents,
        help="serve the Flux simulator on a loopback port",
        description="Serve the simulated Flux deployment (Auth0 token endpoint, Realtime API, "
        "Enterprise Objects) until Ctrl-C. It prints the profile and environment variables "
        "that point a client at it.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (loopback only; default 127.0.0.1)"
    )
    parser.add_argument("--port", type=_port, default=8750, help="port (default 8750; 0: any free)")
    parser.add_argument(
        "--seed", type=_whole, default=1, help="telemetry seed (same seed, same run)"
    )
    parser.add_argument(
        "--rate",
        type=_finite,
        default=None,
        help="readings a second overall (default: a realistic fleet rate)",
    )
    parser.add_argument("--shards", type=_whole, default=2, help="open shards at start")
    parser.add_argument(
        "--backlog",
        type=_finite,
        default=120.0,
        metavar="SECONDS",
        help="history preloaded for trim-horizon reads (default 120)",
    )
    parser.add_argument(
        "--throttle",
        default="100/60s",
        help="the gateway's per-token budget, CALLS/WINDOW, or 'off'",
    )
    parser.add_argument(
        "--retention",
        type=_finite,
        default=24.0,
        metavar="HOURS",
        help="how long records stay readable (default 24)",
    )
    parser.add_argument(
        "--strict-iterators",
        action="store_true",
        help="refuse every iterator type but TRIM_HORIZON and LATEST (400 InvalidArgument"
        "Exception), like a gateway forwarding only the documented ones; the control API "
        'switches it with POST /_sim/iterators {"strict": false}',
    )
    parser.add_argument(
        "--history",
        type=_finite,
        default=0.0,
        metavar="SECONDS",
        help="older history before the backlog, generated only when a reader reaches into it",
    )
    parser.set_defaults(run=run_sim, needs_profile=False)


def run_sim(args: argparse.Namespace) -> int:
    """Serve until interrupted (uvicorn handles Ctrl-C and SIGTERM itself)."""
    from flux_tui.sim.server import serve
    from flux_tui.sim.settings import SimSettings

    if (
        args.shards < 1
        or (args.rate is not None and args.rate <= 0)
        or args.backlog < 0
        or args.history < 0
        or args.retention <= 0
    ):
        print(
            "flux-tui: error: --shards must be >= 1, --rate and --retention > 0, --backlog and "
            "--history >= 0",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings = SimSettings(
        seed=args.seed,
        rate=args.rate,
        shards=args.shards,
        backlog_seconds=args.backlog,
        history_seconds=args.history,
        retention_hours=args.retention,
        strict_iterators=args.strict_iterators,
        throttle=None if args.throttle == "off" else args.throttle,
    )
    try:
        serve(settings, host=args.host, port=args.port)
    except ValueError as exc:  # a host that is not loopback
        print(f"flux-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the port is taken, or the address is not this machine's
        reason = exc.strerror or str(exc)
        print(
            f"flux-tui: error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr
        )
        return EXIT_FAILURE
    return EXIT_OK
