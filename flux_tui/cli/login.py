"""``flux-tui login``: log a person in with the device flow and keep their tokens.

Prints the verification URL and the user code (and the complete URL as a QR code on a
terminal), polls Auth0 at its interval until approval, denial or expiry, then stores the
tokens in the profile's login store (0700 folder, 0600 file, atomic). The device code and
the tokens are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import IO, TYPE_CHECKING, TextIO, cast

from flux_tui.api.token_cache import CachedToken, login_token_cache
from flux_tui.base.errors import FluxError
from flux_tui.cli.output import EXIT_OK, local_time, report_error
from flux_tui.config import Profile
from flux_tui.data.terminal import terminal_safe

if TYPE_CHECKING:  # httpx and the device flow load when a login runs, not with the CLI
    import httpx

    from flux_tui.api.device import DeviceCode


def add_parser(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    parents: list[argparse.ArgumentParser],
) -> None:
    """Register ``login``."""
    parser = commands.add_parser(
        "login",
        parents=parents,
        help="log in as a person with a code shown here (no client secret needed)",
        description="Log in with the device flow: open the URL on any device, enter the code, "
        "and the tokens are kept for this profile (renewed automatically).",
    )
    parser.add_argument(
        "--no-qr", action="store_true", help="do not draw the QR code of the login URL"
    )
    parser.set_defaults(run=run_login, needs_profile=True)


def run_login(args: argparse.Namespace, profile: Profile) -> int:
    """``flux-tui login``."""
    out = sys.stdout
    qr = not args.no_qr and out.isatty()
    try:
        asyncio.run(login(profile, out=out, qr=qr))
    except FluxError as exc:
        return report_error(exc)
    return EXIT_OK


async def login(
    profile: Profile,
    *,
    out: IO[str],
    qr: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CachedToken:
    """Run the whole device login for ``profile`` and store the tokens; returns them.

    A simulator profile logs in against an in-process simulator whose Auth0 approves by
    itself after a few seconds (see ``connect.DEMO_AUTH0_OPTIONS``).
    """
    import httpx

    from flux_tui import connect  # the simulator is loaded only for a simulator profile
    from flux_tui.api.device import DeviceFlow

    client_id = profile.login_client_id()
    token_url = profile.token_url
    options: dict[str, object] = {}
    if profile.simulator:
        simulator = connect.build_simulator(profile)
        transport = transport or httpx.ASGITransport(app=simulator.app)
        token_url = connect.SIM_TOKEN_URL
        options = {
            "sleep": simulator.clock.sleep,
            "clock": simulator.clock.now,
            "wall_clock": simulator.clock.now,
        }
    async with httpx.AsyncClient(
        transport=transport, timeout=connect.HTTP_TIMEOUT, verify=True, follow_redirects=False
    ) as http:
        flow = DeviceFlow(token_url, client_id, profile.audience, http=http, **options)  # type: ignore[arg-type]
        code = await flow.start()
        _show_code(profile, code, out, qr)
        shown = [code.interval]

        def on_poll(interval: float) -> None:
            if interval > shown[0]:  # say it once per slow_down, not on every poll
                shown[0] = interval
                print(
                    f"(the server asked to wait longer: checking every {interval:.0f} s)",
                    file=out,
                    flush=True,
                )

        token = await flow.wait(code, on_poll=on_poll)
    store = login_token_cache(profile.name)
    try:
        store.save(token)
    except OSError as exc:
        raise _StoreError(f"cannot write the login store {store.path}: {exc.strerror}") from None
    until = local_time(token.expires_at, "%Y-%m-%d %H:%M")
    renew = (
        "renewed automatically" if token.refresh_token else "no refresh token: log in again then"
    )
    print(
        terminal_safe(
            f"Logged in: profile {profile.name!r}, scopes {token.scope or '(none)'}; token "
            f"valid until {until} ({renew})."
        ),
        file=out,
        flush=True,
    )
    if profile.simulator:
        print(
            "Note: the embedded simulator lives only inside one command, so the demo feed "
            "keeps using its built-in client; this login shows the flow end to end "
            "(try `flux-tui auth status --profile demo`).",
            file=out,
        )
    return token


class _StoreError(FluxError, OSError):
    """The tokens arrived but could not be written (exit code 1, a local failure)."""


def _show_code(profile: Profile, code: DeviceCode, out: IO[str], qr: bool) -> None:
    minutes = max(1, round(code.expires_in / 60))
    lines = [
        f"To log in to profile {profile.name!r}, open this address on any device:",
        f"    {code.verification_uri}",
        "and enter the code:",
        f"    {code.user_code}",
    ]
    if code.verification_uri_complete:
        lines.append(f"(or open {code.verification_uri_complete}, which fills in the code)")
    # The address and the code come from the server: shown literally, never acted on.
    print(terminal_safe("\n".join(lines), newlines=True), file=out, flush=True)
    if qr and code.verification_uri_complete:
        _print_qr(code.verification_uri_complete, out)
    if profile.simulator:
        print("The embedded simulator approves this login by itself in a few seconds.", file=out)
    print(
        f"Waiting for approval (the code expires in {minutes} min; Ctrl-C to stop)…",
        file=out,
        flush=True,
    )


def _print_qr(url: str, out: IO[str]) -> None:
    try:
        import segno
    except ImportError:  # optional nicety: the URL above is enough
        return
    segno.make(url, error="l").terminal(out=cast(TextIO, out), compact=True)
    out.flush()
