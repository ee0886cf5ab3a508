"""Properties of the filter language: the parser only ever raises its own error, and the
canonical printing of a query parses back to the same query."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.query import QuerySyntaxError, compile_query

NOW = 1_764_424_800.0

# Text built from the language's own pieces finds far more valid queries than random
# characters, while the random alphabet still reaches the scanner's corners.
pieces = st.sampled_from(
    [
        " ", "  ", "(", ")", '"', "\\", "-", "*", ":", "=", ">", "<", "!",
        "OR", "AND", "NOT", "or", "asset:", "site:", "org:", "tag:", "label:", "register:",
        "val", "val>", "val>=", "val<", "val<=", "val=", "val!=", "since:", "until:",
        "-5m", "14:00", "2026-11-29T14:00", "now", "1111", "2.5", "pressure", "Suction",
        "status", "é", "\t", "\n", "\u00a0", "x",
    ]
)  # fmt: skip
structured = st.lists(pieces, max_size=14).map("".join)
anything = st.text(max_size=40)
readings = [
    reading_from_payload(
        "s", "1", 0, NOW,
        {"epochMs": int(NOW * 1000) - 1000, "assetId": 1111, "siteId": 2, "orgId": 3,
         "tagId": 889, "label": "Suction Pressure", "tagName": "suction_pressure", "val": 2.5},
    ),
    reading_from_payload("s", "2", 0, NOW, {"label": "x", "val": "Running", "assetId": "7"}),
    reading_from_payload("s", "3", 0, NOW, {}),
]  # fmt: skip


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(structured, anything))
@example('"a\\"b" -(x OR y)')
@example("val=-5 since:-5m")
def test_parser_raises_only_its_own_error_and_prints_canonically(text: str) -> None:
    try:
        query = compile_query(text, now=NOW)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert error.expected
        return
    canonical = str(query)
    again = compile_query(canonical, now=NOW)
    assert again == query, (text, canonical, str(again))
    assert str(again) == canonical
    # the same tree gives the same answers, and matching never raises
    assert [query.matches(r) for r in readings] == [again.matches(r) for r in readings]
