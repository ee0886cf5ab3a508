"""Pilot tests: filter bar, asset tree scoping, sparkline pins, help, palette, keymap."""

from __future__ import annotations

from fakefeed import T0_MS, fleet_batch, opener_for
from helpers import settle, wait_until
from screen_text import screen_text

from flux_tui.ui.app import FluxApp
from flux_tui.ui.asset_tree import COMPACT_WIDTH, Scope
from flux_tui.ui.help import HelpScreen
from flux_tui.ui.sparklines import SparkPanel


def make_app(items: list, sessions: list | None = None, **kw) -> FluxApp:  # type: ignore[type-arg]
    # the clock sits at the newest reading of a 400-reading fleet batch (4 a second)
    return FluxApp(opener_for(items, sessions=sessions), clock=lambda: T0_MS / 1000 + 100,
                   utc=True, **kw)


async def test_filter_applies_as_you_type_to_held_and_new_lines() -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 400)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await pilot.press("slash")
        assert app.focused is app.filter_bar.input
        await pilot.press(*"engine")
        await settle(pilot)
        assert app.store.view_len() == 100  # one tag in four
        assert "100 of 400" in screen_text(app)
        log_lines = [ln for ln in screen_text(app).splitlines() if "22:1" in ln]
        assert log_lines and all("Engine Speed" in ln for ln in log_lines)
        sessions[0].reader.push(fleet_batch(400, 40))  # new lines are filtered too
        await wait_until(pilot, lambda: app.store.total == 440)
        await settle(pilot)
        assert "110 of 440" in screen_text(app)
        await pilot.press("escape")
        assert app.focused is app.log_view
        assert app.store.view_len() == 110  # leaving keeps the filter
        await pilot.press("slash", "ctrl+u", *"a/b")  # `/` inside the filter is text
        assert app.filter_bar.input.value == "a/b"


async def test_syntax_error_shows_in_place_and_keeps_last_good_filter() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await pilot.press("slash", *"val>200")
        await settle(pilot)
        assert app.store.view_len() == 100  # Engine Speed (232..) only
        await pilot.press("space", "(")
        await settle(pilot)
        text = screen_text(app)
        assert "✗ col" in text and "expected" in text
        assert app.store.view_len() == 100  # the last good filter is still in force
        await pilot.press("backspace", "backspace")
        await settle(pilot)
        assert "100 of 400" in screen_text(app)


async def test_filter_history_and_suggestions() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        bar = app.filter_bar
        await pilot.press("slash", *"suction", "enter")
        await pilot.press("slash", "ctrl+u", *"run", "enter")
        assert bar.history == ["suction", "run"]
        await pilot.press("slash", "ctrl+u", "up")
        assert bar.input.value == "run"
        await pilot.press("up")
        assert bar.input.value == "suction"
        await pilot.press("down", "down")
        assert bar.input.value == ""
        await pilot.press(*"disch")
        # a suggestion with a space is quoted, as the query language wants it
        await wait_until(pilot, lambda: bar.input.full_suggestion == '"Discharge Pressure"')
        await pilot.press("right")  # accept the suggestion
        assert bar.input.value == '"Discharge Pressure"'
        await settle(pilot)
        assert app.store.view_len() == 100


async def test_tree_selection_scopes_log_and_sparklines() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        tree = app.asset_tree
        tree.focus()
        await pilot.pause()
        # rows: Org, Site, Unit 1111, its 4 tags, Unit 1112
        await wait_until(pilot, lambda: tree.get_node_at_line(7) is not None)
        node = tree.get_node_at_line(2)
        assert node is not None and node.data is not None and node.data.asset_id == 1111
        tree.cursor_line = 2
        await pilot.press("enter")
        await settle(pilot)
        assert app.store.view_len() == 200
        assert "Unit 1111 · 200 of 400" in screen_text(app)
        tree.cursor_line = 3  # the first tag of unit 1111
        await pilot.press("enter")
        await settle(pilot)
        assert app.store.view_len() == 50
        assert app.sparks.selected == (1111, 900)
        await wait_until(pilot, lambda: "1111 Suction" in screen_text(app))
        await pilot.press("x")  # clear the scope
        await settle(pilot)
        assert app.store.view_len() == 400


async def test_tree_does_not_jump_while_data_streams() -> None:
    sessions: list = []  # type: ignore[type-arg]
    app = make_app([fleet_batch(0, 400)], sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        tree = app.asset_tree
        await wait_until(pilot, lambda: tree.get_node_at_line(7) is not None)
        tree.cursor_line = 4
        expanded = [n.is_expanded for n in (tree.get_node_at_line(i) for i in range(8)) if n]
        sessions[0].reader.push(fleet_batch(400, 400, units=(1111, 1112, 1113)))
        await wait_until(pilot, lambda: "Unit 1113" in screen_text(app))
        assert tree.cursor_line == 4
        assert [n.is_expanded for n in (tree.get_node_at_line(i) for i in range(8)) if n] == \
            expanded


async def test_pin_tags_and_cycle_window() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await pilot.press("p")  # nothing selected yet: told what to do
        assert app.sparks.pinned == []
        await pilot.press("up", "p")  # newest line: unit 1112, Run Status (a state tag)
        await pilot.press("up", "p")  # unit 1111, Run Status
        assert app.sparks.pinned == [(1112, 903), (1111, 903)]
        await pilot.press("up", "p", "up", "up", "up", "up", "p")
        assert app.sparks.pinned[2:] == [(1112, 902), (1112, 900)]
        await wait_until(pilot, lambda: "1112 Engine Speed" in screen_text(app))
        panel = app.query_one(SparkPanel)
        text = screen_text(app)
        assert "1112 Run Status" in text and "1112 Engine Speed" in text
        assert "p pin (4/8)" in text
        assert any(ch in text for ch in "▁▂▃▄▅▆▇█")  # a numeric sparkline
        assert "▓" in text or "█" in text  # a state strip
        await pilot.press("w")
        assert panel.window[0] == "5m"
        await pilot.press("p")  # pressed again on the same line: unpinned
        assert app.sparks.pinned == [(1112, 903), (1111, 903), (1112, 902)]


async def test_help_lists_keys_and_closes() -> None:
    app = make_app([])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        text = screen_text(app)
        for words in ("Filter", "Pause", "Copy", "Pin", "ctrl+p"):
            assert words in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_palette_jumps_to_a_unit() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"go to unit 1112")
        await wait_until(pilot, lambda: "Go to unit: 1112" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.store.view_len() == 200)
        assert all(r.asset_id == 1112 for _, r, _ in app.store.view_slice(0, 200))


async def test_keys_are_remappable_from_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flux_tui.config import Config

    config = Config(path=tmp_path / "config.toml", exists=False,
                    data={"ui": {"keys": {"pause": "z", "filter": "f"}}}, env={})
    app = FluxApp(opener_for([fleet_batch(0, 10)]), config=config, utc=True,
                  clock=lambda: T0_MS / 1000)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 10)
        await pilot.press("z")
        assert app.log_view.paused
        await pilot.press("f")
        assert app.focused is app.filter_bar.input
        sections = dict(app.key_sections())
        assert ("z", "Pause") in sections["Everywhere"]


async def test_jump_to_reveals_hidden_tree() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        assert not app.asset_tree.display
        app.jump_to(Scope("unit", 333, 2222, 1111, title="unit 1111"))
        await wait_until(pilot, lambda: app.store.view_len() == 200)
        assert app.asset_tree.display


def test_a_close_word_is_suggested_for_a_word_that_occurs_nowhere() -> None:
    from flux_tui.ui.filter_bar import suggest_query

    words = ["Suction Pressure", "Suction", "Pressure", "1111", "WHC-1131"]
    assert suggest_query("asset:1111 label:presure", words) == "asset:1111 label:pressure"
    assert suggest_query('"suction presure"', words) == '"suction pressure"'
    assert suggest_query("label:pressure val>100", words) is None  # every word occurs
    assert suggest_query("label:xyzzy", words) is None  # nothing close


async def test_long_query_errors_and_empty_results_are_shown_whole_at_80_columns() -> None:
    app = make_app([fleet_batch(0, 400)])
    query = "asset:1111 (label:suction OR label:discharge) label:pressure -tag:*status"
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await pilot.press("a")  # the (compact) tree takes 23 columns: the query has 57
        await pilot.press("slash", *query)
        await settle(pilot)
        left = COMPACT_WIDTH + 1
        shown = " ".join(line[left:].strip(" │/") for line in screen_text(app).splitlines()[:4])
        assert " ".join(query.split()) in " ".join(shown.split()), shown
        assert "100 of 400" in screen_text(app)  # the count is kept (below the query)
        await pilot.press("ctrl+u", *"asset:1111 labl:x")
        await settle(pilot)
        text = " ".join(line[left:].strip(" │") for line in screen_text(app).splitlines()[:6])
        assert "found 'labl:x' — did you mean label:?" in " ".join(text.split()), text
        await pilot.press("ctrl+u", *"label:presure")
        await settle(pilot)
        text = " ".join(line[left:].strip(" │") for line in screen_text(app).splitlines()[:6])
        assert ("no reading matches label:presure (0 of 400) — try label:pressure"
                in " ".join(text.split())), text


def test_palette_words_match_in_any_order_exact_first() -> None:
    from flux_tui.ui.commands import word_score

    unit = "Go to unit: WHC-1131 (1131)"
    other = "Go to unit: GLC-1168 (1168)"
    temp = "Go to tag: Suction Temperature @ WHC-1131 (1131)"
    press = "Go to tag: Suction Pressure @ WHC-1131 (1131)"
    assert word_score("1111", other) == 0  # no scattered-letter matches
    assert word_score("WHC-1131 suction", press) == 1.0
    assert word_score("suction whc-1131", temp) == 1.0  # any order
    assert word_score("whc", unit) == 1.0 and word_score("1131", unit) == 1.0
    assert 0 < word_score("press 1131", press) < word_score("pressure 1131", press)


async def test_palette_lists_the_exact_unit_first_then_its_tags_by_name() -> None:
    app = make_app([fleet_batch(0, 400)])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.store.total == 400)
        await settle(pilot)
        await pilot.press("ctrl+p", *"1111")
        await wait_until(pilot, lambda: "Go to unit: 1111" in screen_text(app))
        lines = [ln for ln in screen_text(app).splitlines() if "Go to" in ln]
        assert "Go to unit: 1111" in lines[0]
        assert not any("1112" in ln for ln in lines)
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"pressure 1111")
        await wait_until(pilot, lambda: "Go to tag" in screen_text(app))
        lines = [ln for ln in screen_text(app).splitlines() if "Go to" in ln]
        assert "Discharge Pressure" in lines[0] and "Suction Pressure" in lines[1], lines
