"""The re-login dialog: when renewing a person's token needs the person again, show the user
code, the verification URL and a QR code of the complete URL, run the device flow in a
worker and hand the new token over (the paused feed then carries on where it stopped).

Dismissed with True after a login was adopted, False when the person cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from flux_tui.data.formats import safe_text
from flux_tui.ui.status_bar import human_duration

__all__ = ["LoginDialog", "qr_lines"]

_FRAME_COLS = 8  # borders and padding beside the QR code


def qr_lines(url: str) -> list[str]:
    """``url`` as a QR code in half blocks (two modules a character row), dark on light;
    empty when segno is missing (the URL is shown anyway)."""
    try:
        import segno
    except ImportError:
        return []
    rows = [list(r) for r in segno.make(url, error="l").matrix_iter(border=2)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    glyph = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
    return ["".join(glyph[(bool(a), bool(b))] for a, b in zip(top, bottom))  # type: ignore[index]
            for top, bottom in zip(rows[::2], rows[1::2])]


class LoginDialog(ModalScreen[bool]):
    """Code, URL and QR of a device login; polls in a worker until approval, denial or
    expiry. ``flow()`` makes a :class:`~flux_tui.api.device.DeviceFlow`; ``adopt(token)``
    gives the approved token to the feed's token provider."""

    DEFAULT_CSS = """
    LoginDialog { align: center middle; }
    LoginDialog > Vertical {
        width: auto;
        min-width: 50;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $warning;
        background: $surface;
        padding: 0 2;
    }
    LoginDialog #login-qr { color: black; background: white; width: auto; margin: 1 0 0 0; }
    LoginDialog #login-code { text-style: bold; color: $accent; }
    LoginDialog #login-status { color: $text-muted; margin: 1 0 0 0; }
    LoginDialog.-failed #login-status { color: $error; text-style: bold; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="login-cancel"),
        Binding("r", "retry", "New code", id="login-retry"),
    ]

    def __init__(self, flow: Callable[[], Any], adopt: Callable[[Any], None], *,
                 reason: str = "", profile: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._flow_factory = flow
        self._adopt = adopt
        self._reason = reason
        self._profile = profile
        self._clock = clock
        self.code: Any = None  # the DeviceCode on show
        self._expires_at = 0.0
        self.failed = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Log in again" + (f" · {safe_text(self._profile)}"
                                                 if self._profile else "")
            box.border_subtitle = "esc cancel"
            reason = safe_text(self._reason) or "the login has ended"
            yield Static(Text(f"The feed is paused: {reason}. The log, filter, pins and "
                              "recording are kept.", overflow="fold"), id="login-reason")
            yield Static("", id="login-url")
            yield Static("", id="login-code")
            yield Static("", id="login-qr")
            yield Static("Asking for a login code…", id="login-status")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._countdown, name="login-countdown")
        self._start()

    def _start(self) -> None:
        self.failed = False
        self.remove_class("-failed")
        self.query_one("#login-qr", Static).display = False
        self.run_worker(self._login(), name="login", group="login", exclusive=True,
                        exit_on_error=False)

    async def _login(self) -> Any:
        flow = self._flow_factory()
        code = await flow.start()
        self._show_code(code)
        token = await flow.wait(code)
        self._adopt(token)
        return token

    def _show_code(self, code: Any) -> None:
        self.code = code
        self._expires_at = self._clock() + float(code.expires_in)
        self.query_one("#login-url", Static).update(Text.assemble(
            "On any phone or computer open\n  ", (safe_text(code.verification_uri), "bold"),
            "\nand enter the code:"))
        self.query_one("#login-code", Static).update(Text(f"    {safe_text(code.user_code)}"))
        self.query_one("#login-qr", Static).display = False
        self._countdown()
        # the QR only where it fits below everything else, measured once that is laid out
        # (an estimate let a wrapped reason push the address off the top at 80×24)
        self.call_after_refresh(self._place_qr, code)

    def _place_qr(self, code: Any) -> None:
        """Show the QR of the complete URL, else the smaller one of the bare URL, else none:
        the address and the code always stay on screen."""
        if code is not self.code:
            return
        box = self.query_one(Vertical)
        used = box.outer_size.height
        qr = self.query_one("#login-qr", Static)
        for url in (code.verification_uri_complete, code.verification_uri):
            lines = qr_lines(url) if url else []
            # + the QR's top margin and a status line that may wrap once more
            if (lines and used + 1 + len(lines) + 1 <= self.size.height
                    and len(lines[0]) + _FRAME_COLS <= self.size.width):
                qr.update(Text("\n".join(lines), no_wrap=True))
                qr.display = True
                break
        self._countdown()

    def _countdown(self) -> None:
        if self.code is None or self.failed:
            return
        left = self._expires_at - self._clock()
        extra = " (or scan the QR code)" if self.query_one("#login-qr").display else ""
        self._status(f"Waiting for approval{extra}… the code expires in "
                     f"{human_duration(left)}")

    def _status(self, text: str) -> None:
        self.query_one("#login-status", Static).update(Text(text, overflow="fold"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Approval closes the dialog; denial, expiry or an unreachable Auth0 say so."""
        if event.worker.name != "login":
            return
        event.stop()  # the app's handler is for the feed
        if event.state == WorkerState.SUCCESS:
            self.dismiss(True)
        elif event.state == WorkerState.ERROR:
            from flux_tui.api.errors import LoginDeniedError, LoginExpiredError

            error = event.worker.error
            if isinstance(error, LoginDeniedError):
                why = "The login was denied on the activation page."
            elif isinstance(error, LoginExpiredError):
                why = "The code expired before the login was approved."
            else:
                why = f"The login failed: {safe_text(str(error))[:200]}"
            self.failed = True
            self.add_class("-failed")
            self._status(f"{why}  Press r for a new code, esc to cancel.")

    def action_retry(self) -> None:
        """Ask for a new code (after a denial, an expiry or a failure; or any time)."""
        self.code = None
        self._status("Asking for a new login code…")
        self._start()

    def action_cancel(self) -> None:
        """Stop waiting: the feed reports "auth needed" and ctrl+r tries again."""
        self.workers.cancel_group(self, "login")
        self.dismiss(False)
