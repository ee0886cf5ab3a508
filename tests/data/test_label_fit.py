"""Names fitted to narrow columns: abbreviated by the word table, then whole words left out,
an ellipsis never inside a word, and the words that tell siblings apart kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flux_tui.data import label_fit
from flux_tui.data.label_fit import (
    DEFAULT_ABBREVIATIONS,
    configure_abbreviations,
    fit_apart,
    fit_label,
)

_SIM = Path(label_fit.__file__).resolve().parent.parent / "sim" / "telemetry.py"


def demo_tag_names() -> list[str]:
    """Every tag label of a demo unit, with the four same-label valves told apart as the
    store does ('#1'…'#4')."""
    labels = re.findall(r'TagSpec\("[^"]+", "([^"]+)"', _SIM.read_text())
    valves = "Valve Loaded Position"
    return [n for n in labels if n != valves] + [f"{valves} #{i}" for i in range(1, 5)]


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("Run Status", 12, "Run Status"),
    ("Stage 1 Discharge Pressure", 26, "Stage 1 Discharge Pressure"),
    # abbreviated from the end back, only as far as needed
    ("Stage 1 Discharge Pressure", 19, "Stage 1 Disch Press"),
    ("Stage 1 Discharge Temperature", 22, "Stage 1 Discharge Temp"),
    # then whole words leave, the ellipsis where they were
    ("Stage 1 Discharge Pressure", 13, "Stg 1…Press"),
    ("Valve Loaded Position #12", 14, "Valve…Pos #12"),
    ("Exhaust Temperature Left Bank", 18, "Exh Temp Left Bank"),
    # one word: its start, no ellipsis inside it
    ("Pressure", 3, "Pre"),
    ("abc", 0, ""),
])
def test_fit_label(text: str, width: int, expected: str) -> None:
    assert fit_label(text, width) == expected


@pytest.mark.parametrize("width", [13, 15, 19, 24])
def test_no_two_tags_of_a_demo_unit_read_the_same(width: int) -> None:
    names = demo_tag_names()
    fitted = fit_apart(names, width)
    assert len(set(fitted)) == len(names), fitted
    assert all(len(f) <= width for f in fitted)


def test_siblings_keep_the_words_that_tell_them_apart() -> None:
    left, right = fit_apart(["Exhaust Temperature Left Bank",
                             "Exhaust Temperature Right Bank"], 13)
    assert "Left" in left and "Right" in right
    one, two = fit_apart(["Stage 1 Discharge Pressure", "Stage 2 Discharge Pressure"], 11)
    assert "1" in one.split("…")[0] and "2" in two.split("…")[0]


_WORDS = [*DEFAULT_ABBREVIATIONS, "Oil", "#1", "#2", "Left", "Bank", "Gas", "1", "2"]


@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6), st.integers(6, 40))
def test_an_ellipsis_is_never_inside_a_word(words: list[str], width: int) -> None:
    text = " ".join(words)
    out = fit_label(text, width)
    assert len(out) <= width
    allowed = set(words) | {DEFAULT_ABBREVIATIONS.get(w, w) for w in words}
    pieces = [p for p in re.split(r"[ …]", out) if p]
    if "…" in out:  # every piece next to an ellipsis is a whole word or its abbreviation
        assert set(pieces) <= allowed, (text, out)


def test_the_table_is_configurable() -> None:
    try:
        assert configure_abbreviations({"Pressure": "P", "Stage": "", "Oil": 3}) == [
            "ui.abbreviations.Oil: must be text for one word"]
        assert fit_label("Stage 1 Discharge Pressure", 19) == "Stage 1 Discharge P"
    finally:
        configure_abbreviations(None)
    assert fit_label("Stage 1 Discharge Pressure", 19) == "Stage 1 Disch Press"
