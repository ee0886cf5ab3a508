"""Untrusted text stays literal; feed faults become a state, a notification and a retry;
theme files that are broken fall back with a message naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakefeed import T0_MS, FakeReader, FakeSession, fleet_batch, make_reading, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.base.events import FeedProblem, FeedState
from flux_tui.feed.types import Batch
from flux_tui.ui.app import FluxApp
from flux_tui.ui.detail import ReadingDetail

EVIL = ["[bold red]x[/]", "\x1b[2J\x1b]0;pwned\x07", "\x9b31m", "[link=http://e]y[/link]"]


def evil_batch() -> Batch:
    rows = [make_reading(i, tag=i, label=label, val=label) for i, label in enumerate(EVIL)]
    return Batch("shardId-000000000000", rows, [], 0, T0_MS / 1000)


async def test_markup_and_escape_sequences_from_the_stream_are_shown_literally() -> None:
    app = FluxApp(opener_for([evil_batch()]), clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == len(EVIL))
        await settle(pilot)
        text = screen_text(app)
        assert "[bold red]x[/]" in text  # markup is not interpreted...
        assert "[link=http://e]y[/link]" in text
        assert "\u241b[2J\u241b]0;pwned\u2407" in text  # ...and control characters are neutralised
        for strip in app.screen._compositor.render_strips():
            for segment in strip:
                assert not any(ch in segment.text for ch in "\x1b\x07\x9b")
        await pilot.press("up", "up", "up", "up", "enter")  # the detail of the ESC reading
        await wait_until(pilot, lambda: isinstance(app.screen, ReadingDetail))
        await pilot.pause()
        detail = screen_text(app)
        assert "\u241b[2J\u241b]0;pwned\u2407" in detail
        assert "\x1b" not in detail


async def test_worker_failure_becomes_a_state_and_retries() -> None:
    calls: list[int] = []

    async def opener() -> FakeSession:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("network unreachable")
        return FakeSession(FakeReader([fleet_batch(0, 10)]))

    app = FluxApp(opener, clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.state is FeedState.RECONNECTING)
        await settle(pilot)
        assert "reconnecting" in screen_text(app)
        assert any("network unreachable" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+r")  # retry now instead of waiting
        await wait_until(pilot, lambda: app.store.total == 10)
        assert app.store.state is FeedState.LIVE and len(calls) == 2


async def test_auth_failure_says_auth_needed_and_waits_for_the_user() -> None:
    from flux_tui.api.errors import InvalidClientError

    async def opener() -> FakeSession:
        raise InvalidClientError("wrong client id or secret")

    app = FluxApp(opener, clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.state is FeedState.AUTH_NEEDED)
        await settle(pilot)
        assert "auth needed" in screen_text(app)
        assert any("ctrl+r" in str(n.message) for n in app._notifications)


async def test_feed_problems_notify_once_per_kind() -> None:
    problem = FeedProblem(TimeoutError("gateway timed out"), retry_in=4.0)
    app = FluxApp(opener_for([problem, problem, fleet_batch(0, 5)]),
                  clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 5)
        messages = [str(n.message) for n in app._notifications]
        assert sum("gateway timed out" in m for m in messages) == 1
        assert any("retrying in 4 s" in m for m in messages)


async def test_broken_theme_file_falls_back_and_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('name = "mine"\nprimary = "not-a-colour"\n')
    (tmp_path / "ok.toml").write_text('name = "ok"\nprimary = "#112233"\n')
    app = FluxApp(opener_for([]), theme="mine", user_theme_dir=tmp_path,
                  clock=lambda: T0_MS / 1000)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("mine.toml" in m and "not a colour" in m for m in messages)
        assert app.theme == "flux-dark"
        assert "ok" in app.available_themes


async def test_start_up_writes_no_config_and_a_change_of_theme_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The initial theme is not a choice of the user's: no file appears for it (Textual
    publishes theme_changed_signal for it after mount); a change made in the app is saved."""
    from flux_tui.config import load_config

    monkeypatch.delenv("FLUX_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = load_config()
    path = tmp_path / "flux-tui" / "config.toml"
    assert config.path == path and not path.exists()
    app = FluxApp(opener_for([fleet_batch(0, 8)]), config=config, clock=lambda: T0_MS / 1000)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await settle(pilot)
        await settle(pilot)
        assert app.theme == "flux-dark"
        await pilot.press("q")
    assert not path.exists()
    assert not (tmp_path / "flux-tui").exists()

    app = FluxApp(opener_for([]), config=config, clock=lambda: T0_MS / 1000)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.theme = "flux-light"  # what ctrl+p → "Theme" does
        await wait_until(pilot, path.exists)
        assert 'theme = "flux-light"' in path.read_text()
        app.theme = "flux-dark"  # back to the start-up theme: a choice too
        await wait_until(pilot, lambda: 'theme = "flux-dark"' in path.read_text())


async def test_theme_choice_is_saved_to_the_config(tmp_path: Path) -> None:
    from flux_tui.config import Config, load_config

    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "flux-dark"\n')
    config = load_config(path, env={})
    assert isinstance(config, Config)
    app = FluxApp(opener_for([]), config=config, clock=lambda: T0_MS / 1000)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.theme = "flux-light"
        await wait_until(pilot, lambda: 'theme = "flux-light"' in path.read_text())


async def test_decode_errors_and_unit_details_dialogs() -> None:
    from flux_tui.feed.types import DecodeError
    from flux_tui.ui.info_screens import InfoScreen

    bad = DecodeError("shardId-000000000000", "4900", "not JSON", b"\x1b]0;pwned\x07{oops")
    batch = fleet_batch(0, 8)
    batch.errors.append(bad)
    app = FluxApp(opener_for([batch]), clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 8)
        await settle(pilot)
        assert "1 decode errors" in screen_text(app)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, InfoScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "not JSON" in text and "\\x1b]0;pwned\\x07{oops" in text
        # shard and sequence each on a line of their own, not joined by a visible ␊
        assert "␊" not in text
        lines = text.splitlines()
        row = next(i for i, line in enumerate(lines) if "shardId-000000000000" in line)
        column = lines[row].index("shardId-000000000000")
        assert lines[row + 1][column:].startswith("4900")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, InfoScreen))
        await pilot.press("i")  # the newest line's unit (no names in a fake feed)
        await wait_until(pilot, lambda: isinstance(app.screen, InfoScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "Unit 1112" in text and "tags seen" in text and "4" in text



async def test_notifications_show_server_text_literally() -> None:
    """notify() parses markup by default: a server error such as '[/]' would crash the
    toast and '[link=…]' would take effect. Every notification is literal."""
    problem = FeedProblem(TimeoutError("bad [/] gateway [link=http://e]y[/link] [b]z"),
                          retry_in=4.0)
    app = FluxApp(opener_for([problem, fleet_batch(0, 5)]),
                  clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 5)
        await settle(pilot)
        notes = [n for n in app._notifications if "gateway" in str(n.message)]
        assert notes and all(not n.markup for n in notes)
        from dataclasses import replace

        from textual.widgets._toast import Toast

        shown = Toast(replace(notes[0], title="")).render().plain  # what the toast draws
        assert "bad [/] gateway [link=http://e]y[/link] [b]z" in shown


async def test_palette_shows_unit_and_tag_names_literally() -> None:
    """Textual's palette parses a str prompt (and Matcher.highlight) as markup: a tag
    called '[/]' crashed it and '[link=…]' took effect."""
    rows = [make_reading(0, tag=0, label="[b]hot[/b] [/] [link=http://e]y[/link]")]
    app = FluxApp(opener_for([Batch("shardId-000000000000", rows, [], 0, T0_MS / 1000)]),
                  clock=lambda: T0_MS / 1000, utc=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 1)
        await settle(pilot)
        await pilot.press("ctrl+p", *"hot")
        await wait_until(pilot, lambda: "Go to tag: [b]hot[/b] [/] [link=http://e]y[/link]"
                         in screen_text(app))
