"""The status bar at 60, 80 and 120 columns: the least important figures leave first, the
token expiry stays while recording, and a long reason is clipped after a whole word."""

from __future__ import annotations

import pytest
from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.base.events import FeedState
from flux_tui.ui.app import FluxApp
from flux_tui.ui.status_bar import StatusInfo, clip_words

REASON = "cannot reach the token endpoint 127.0.0.1:8750 (connection refused)"


@pytest.mark.parametrize(("text", "width", "expected"), [
    (REASON, 80, REASON),
    (REASON, 40, "cannot reach the token endpoint…"),
    (REASON, 52, "cannot reach the token endpoint 127.0.0.1:8750…"),
    ("unreachable", 5, ""),
])
def test_clip_words_cuts_after_a_whole_word(text: str, width: int, expected: str) -> None:
    assert clip_words(text, width) == expected


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_token_expiry_and_recording_stay_at_any_width(width: int) -> None:
    app = FluxApp(opener_for([fleet_batch(0, 40)]), clock=lambda: T0_MS / 1000 + 10, utc=True)
    info = StatusInfo(state=FeedState.OFFLINE, rate=2400.0, lag_ms=0, delay_ms=1500,
                      budget_left=70, budget_total=100, budget_resets_in=41,
                      token_expires_in=23 * 3600 + 59 * 60,
                      recording="3,201 → demo_asset-1131-pressure_2026-12-01T1412.jsonl",
                      detail=REASON)
    app.main.status_info = lambda now, recording=None: info  # type: ignore[method-assign]
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 40)
        await settle(pilot)
        line = next(ln for ln in screen_text(app).splitlines() if "offline" in ln)
        assert "token 23h59m" in line and "● REC 3,201" in line, line
        assert "ctrl+r retry" in line
        assert "127.0.0." not in line or "127.0.0.1:8750" in line  # never mid-address
        if width >= 120:
            assert "cannot reach the token endpoint" in line
