"""The re-login dialog against the demo simulator: a person's login (device flow) that starts
with no token, is denied, retried, approved, revoked mid-stream and approved again, with the
log, the filter and the pins kept throughout; and a cancelled login that ctrl+r retries."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.base.events import FeedState
from flux_tui.config import load_config
from flux_tui.connect import open_feed
from flux_tui.sim.app import Simulator
from flux_tui.sim.settings import SimSettings
from flux_tui.ui.app import FluxApp
from flux_tui.ui.login_dialog import LoginDialog, qr_lines


def login_app() -> tuple[FluxApp, Simulator]:
    profile = load_config(env={}).profile("demo")
    # the real clock (the device flow polls every second); nobody approves but the test
    simulator = Simulator(SimSettings(seed=3, company="demo", units=3, sites=1, orgs=1,
                                      auth0_options={"device_interval": 1}))

    async def opener() -> Any:
        return await open_feed(profile, start="trim-horizon", simulator=simulator,
                               grant="device_code", wait_for_login=True)

    return FluxApp(opener, utc=True), simulator


def dialog(app: FluxApp) -> LoginDialog | None:
    screen = app.screen
    return screen if isinstance(screen, LoginDialog) and screen.code is not None else None


async def approve(pilot: Any, app: FluxApp, simulator: Simulator) -> None:
    await wait_until(pilot, lambda: dialog(app) is not None)
    box = dialog(app)
    assert box is not None
    assert simulator.auth.approve(box.code.user_code)
    await wait_until(pilot, lambda: not isinstance(app.screen, LoginDialog))


async def test_login_denied_retried_approved_then_revoked_keeps_log_filter_and_pins() -> None:
    app, simulator = login_app()
    async with app.run_test(size=(120, 40)) as pilot:
        # no token at first: the dialog shows the code, the URL and the QR code
        await wait_until(pilot, lambda: dialog(app) is not None)
        await pilot.pause()
        box = dialog(app)
        assert box is not None
        text = screen_text(app)
        assert box.code.user_code in text and box.code.verification_uri in text
        assert "▀" in text or "▄" in text  # the QR code fits at 120×40
        assert app.store.state is FeedState.AUTH_NEEDED
        # denied on the activation page: said plainly, r asks for a new code
        assert simulator.auth.deny(box.code.user_code)
        await wait_until(pilot, lambda: box.failed)
        await pilot.pause()
        assert "denied" in screen_text(app)
        old_code = box.code.user_code
        await pilot.press("r")
        await wait_until(pilot, lambda: dialog(app) is not None and not box.failed
                         and box.code.user_code != old_code)
        await approve(pilot, app, simulator)
        await wait_until(pilot, lambda: app.store.total > 50)
        await settle(pilot)
        assert app.store.state is not FeedState.AUTH_NEEDED
        assert "token " in screen_text(app)  # the countdown of the person's token
        # the user's view: a filter and a pin
        first = app.store.reading_at(app.store.first)
        unit = first.asset_id
        await pilot.press("slash", *f"asset:{unit}", "enter")
        await settle(pilot)
        await pilot.press("up", "p")
        pins = list(app.sparks.pinned)
        assert pins
        # revoked mid-stream: the next renewal needs the person; the dialog comes back
        simulator.auth.revoke_refresh_tokens()
        simulator.auth.expire_all()
        await wait_until(pilot, lambda: dialog(app) is not None)
        total = app.store.total
        await approve(pilot, app, simulator)
        await wait_until(pilot, lambda: app.store.total > total)
        await settle(pilot)
        # resumed where it stopped: earlier lines, the filter and the pins are still there
        assert app.store.reading_at(app.store.first) == first
        assert app.filter_bar.input.value == f"asset:{unit}"
        assert 0 < app.store.view_len() < app.store.held
        assert app.sparks.pinned == pins
        assert app.store.state is not FeedState.AUTH_NEEDED


async def test_cancelled_login_says_auth_needed_and_ctrl_r_asks_again() -> None:
    app, _ = login_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: dialog(app) is not None)
        await pilot.pause()
        box = dialog(app)
        assert box is not None
        # at 80×24 the QR code does not fit: the URL and the code are enough
        assert not box.query_one("#login-qr").display
        assert box.code.user_code in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.store.state is FeedState.AUTH_NEEDED
                         and not isinstance(app.screen, LoginDialog)
                         and app.store.state_detail != "waiting for login")
        await settle(pilot)
        assert "auth needed" in screen_text(app) and "ctrl+r" in screen_text(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: dialog(app) is not None)


def test_qr_lines_are_half_blocks_of_one_width() -> None:
    lines = qr_lines("http://flux-sim/activate?user_code=ABCD-EFGH")
    assert len(lines) > 10 and len({len(line) for line in lines}) == 1
    assert set("".join(lines)) <= set(" ▀▄█")


@pytest.mark.parametrize("size", [(80, 24), (80, 30), (80, 40), (100, 34), (120, 40)])
async def test_the_address_and_the_code_always_fit(size: tuple[int, int]) -> None:
    """The QR code shows only where it fits below everything else (at 80×24 it pushed the
    address off the top); the address, the code and the dialog's frame are always on screen."""
    app, _ = login_app()
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: dialog(app) is not None)
        await settle(pilot)
        box = dialog(app)
        assert box is not None
        lines = screen_text(app).splitlines()
        assert any("Log in again" in line for line in lines)  # the top of the frame
        assert any(box.code.verification_uri in line for line in lines)
        assert any(box.code.user_code in line for line in lines)
        assert any("expires in" in line for line in lines)
        frame = box.query_one("Vertical")
        assert frame.region.y >= 0 and frame.region.bottom <= size[1]
        if size == (120, 40):
            assert box.query_one("#login-qr").display
