"""The filter language: every construct, what it matches, and every syntax error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.query import Query, QuerySyntaxError, compile_query
from flux_tui.data.query.parse import And, Compare, Field, Not, Or, Text, Time
from flux_tui.feed.types import Reading

NOW = 1_764_424_800.0  # 2025-11-29T14:00:00Z, the injected clock
T = int(NOW * 1000)


def reading(**fields: Any) -> Reading:
    payload = {
        "epochMs": T - 60_000,
        "assetId": 1111,
        "siteId": 2222,
        "orgId": 333,
        "tagId": 889,
        "registerId": 416,
        "tagName": "suction_pressure",
        "label": "Suction Pressure",
        "val": 38.2,
    }
    payload.update(fields)
    payload = {k: v for k, v in payload.items() if v is not ...}
    return reading_from_payload("shardId-0", "1", 0, NOW, payload)


SUCTION = reading()
STATUS = reading(tagId=890, tagName="valve_#4_status", label="Valve Loaded Position", val=2)
RUNNING = reading(assetId=1112, tagId=5, tagName="state", label="Engine State", val="Running")
OLD = reading(
    epochMs=T - 3_600_000,
    assetId="1113",
    tagId="77",
    tagName="discharge",
    label="Discharge",
    val=612.0,
)
FLAG = reading(assetId=1112, label="Alarm Active", tagName="alarm", val=True)
EMPTY = reading(label="Spare", tagName="spare", val=None, epochMs=...)
ALL = [SUCTION, STATUS, RUNNING, OLD, FLAG, EMPTY]


class Names:
    """A NameLookup stand-in; names can be added later like the Enterprise Objects cache."""

    def __init__(self) -> None:
        self.assets: dict[Any, str] = {1111: "Pad 7 North"}
        self.calls = 0

    def asset_name(self, asset_id: Any) -> str | None:
        self.calls += 1
        return self.assets.get(asset_id)

    def site_name(self, site_id: Any) -> str | None:
        return "Permian Pad" if site_id == 2222 else None

    def org_name(self, org_id: Any) -> str | None:
        return "Acme Energy" if org_id == 333 else None


def hits(text: str, names: Names | None = None) -> list[Reading]:
    query = compile_query(text, names, now=NOW)
    return [r for r in ALL if query.matches(r)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ALL),
        ("   ", ALL),
        ("pressure", [SUCTION]),
        ("PRESSURE", [SUCTION]),
        ("status", [STATUS]),  # tag name
        ("unit", ALL),  # the unit name shown without a lookup is "Unit <id>"
        ("1112", [RUNNING, FLAG]),  # ...so its id is found too
        ("suc*sure", [SUCTION]),
        ('"engine state"', [RUNNING]),
        ("asset:1111", [SUCTION, STATUS, EMPTY]),
        ("asset:111*", ALL),
        ("asset:1113", [OLD]),  # string id in the older spelling
        ("site:2222", ALL),
        ("org:333", ALL),
        ("tag:889", [SUCTION, FLAG, EMPTY]),
        ("tag:*status*", [STATUS]),
        ("tag:*status", [STATUS]),
        ("tag:valve*", [STATUS]),
        ("tag:status", [STATUS]),  # no wildcard: tag name contains it
        ("tag:77", [OLD]),
        ("label:pressure", [SUCTION]),
        ('label:"valve loaded"', [STATUS]),
        ("label:*state", [RUNNING]),
        ("register:416", ALL),
        ("register:41", []),  # ids match exactly, not by substring
        ("val>100", [OLD]),
        ("val>=38.2", [SUCTION, OLD]),
        ("val<3", [STATUS]),
        ("val<=2", [STATUS]),
        ("val=2", [STATUS]),
        ("val:2", [STATUS]),
        ("val!=2", [SUCTION, OLD]),  # text, booleans and null never satisfy numbers
        ("val=running", [RUNNING]),
        ("val=RUN*", [RUNNING]),
        ("val!=running", [SUCTION, STATUS, OLD, FLAG]),
        ("val=true", [FLAG]),
        ("asset>1111", [RUNNING, OLD, FLAG]),
        ("asset=1113", [OLD]),
        ("tag<100", [RUNNING, OLD]),
        ("site!=2222", []),
        ("since:-5m", [SUCTION, STATUS, RUNNING, FLAG]),
        ("since:-2h", [SUCTION, STATUS, RUNNING, OLD, FLAG]),
        ("until:-5m", [OLD]),
        ("until:now", [SUCTION, STATUS, RUNNING, OLD, FLAG]),
        (f"since:{T - 60_000}", [SUCTION, STATUS, RUNNING, FLAG]),
        (f"since:{T - 59_999}", []),
        ("since:2025-11-29T13:30Z", [SUCTION, STATUS, RUNNING, FLAG]),
        ("since:2025-11-29T12:00:00+00:00 until:2025-11-29T13:30Z", [OLD]),
        ("-pressure", [STATUS, RUNNING, OLD, FLAG, EMPTY]),
        ("NOT pressure", [STATUS, RUNNING, OLD, FLAG, EMPTY]),
        ("--pressure", [SUCTION]),
        ("asset:1111 label:pressure", [SUCTION]),
        ("asset:1111 AND label:pressure", [SUCTION]),
        ("pressure OR state", [SUCTION, RUNNING]),
        ("asset:1112 alarm OR pressure", [SUCTION, FLAG]),  # AND binds tighter than OR
        ("asset:1112 (alarm OR pressure)", [FLAG]),
        ("(asset:1111 OR asset:1112) since:-5m", [SUCTION, STATUS, RUNNING, FLAG]),
        ("val>100 -tag:*status*", [OLD]),
        ("-(asset:1111 OR asset:1112)", [OLD]),
        ("NOT (pressure OR state) asset:1111", [STATUS, EMPTY]),
        ("or", []),  # keywords are upper case; 'or' is a word
    ],
)
def test_matches(text: str, expected: list[Reading]) -> None:
    assert hits(text) == expected


def test_since_clock_time_is_today_local() -> None:
    at = datetime.fromtimestamp(NOW).astimezone().replace(hour=9, minute=30, second=0)
    at_ms = int(at.timestamp() * 1000)
    early = reading(epochMs=at_ms - 1)
    late = reading(epochMs=at_ms)
    query = compile_query("since:09:30", now=NOW)
    assert not query.matches(early) and query.matches(late)
    assert compile_query("until:9:30:00.000", now=NOW).matches(early)


def test_relative_time_is_resolved_once_at_compile_time() -> None:
    clock = iter([NOW, NOW + 3600])
    query = compile_query("since:-5m", now=lambda: next(clock))
    assert query.matches(SUCTION)
    assert query.matches(SUCTION)  # the clock is not read again
    assert not compile_query("since:-5m", now=lambda: next(clock)).matches(SUCTION)


def test_names_match_asset_site_org_and_bare_words() -> None:
    names = Names()
    assert hits("asset:*north", names) == [SUCTION, STATUS, EMPTY]
    assert hits("asset:pad", names) == [SUCTION, STATUS, EMPTY]  # names: containment
    assert hits("site:permian", names) == ALL
    assert hits('org:"acme energy"', names) == ALL
    assert hits("north", names) == [SUCTION, STATUS, EMPTY]
    assert hits("asset:1112", names) == [RUNNING, FLAG]  # ids still match


def test_names_that_arrive_later_take_effect() -> None:
    names = Names()
    asset_query = compile_query("asset:compressor", names, now=NOW)
    word_query = compile_query("compressor", names, now=NOW)
    assert not asset_query.matches(RUNNING) and not word_query.matches(RUNNING)
    names.assets[1112] = "Compressor B"
    assert asset_query.matches(RUNNING) and word_query.matches(RUNNING)


def test_known_names_are_not_asked_again_for_every_reading() -> None:
    names = Names()
    query = compile_query("asset:north", names, now=NOW)
    for _ in range(100):
        query.matches(SUCTION)
    assert names.calls == 1


def test_query_object() -> None:
    query = compile_query("asset:1111   label:pressure", now=NOW)
    assert query.text == "asset:1111   label:pressure"
    assert str(query) == "asset:1111 label:pressure"
    assert query == compile_query("asset:1111 AND label:pressure", now=NOW)
    assert query != compile_query("asset:1111", now=NOW)
    assert query.predicate(SUCTION) and not query.predicate(STATUS)
    assert query.filter(ALL) == [SUCTION]
    assert compile_query("", now=NOW).is_empty and not query.is_empty
    assert repr(query) == "Query('asset:1111 label:pressure')"
    assert isinstance(hash(query), int)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a b OR c", Or((And((Text("a"), Text("b"))), Text("c")))),
        ("a (b OR c)", And((Text("a"), Or((Text("b"), Text("c")))))),
        ("(a b) c", And((Text("a"), Text("b"), Text("c")))),  # flattened
        ("((a))", Text("a")),
        ("-a", Not(Text("a"))),
        ("NOT -a", Not(Not(Text("a")))),
        ("Asset:7", Field("asset", "7")),
        ('label:"a \\"quoted\\" b"', Field("label", 'a "quoted" b')),
        ("val>=1e3", Compare("val", ">=", "1e3", 1000.0)),
        ("val:on", Compare("val", "=", "on", None)),
        ("since:-5m", Time("since", "-5m", T - 300_000)),
        ('"a"b', And((Text("a"), Text("b")))),
        ("pre-heat", Text("pre-heat")),
        ("14:00", Text("14:00")),
        ("a\u00a0OR\u2003b", Or((Text("a"), Text("b")))),  # any Unicode space separates
        ("ORANGE", Text("ORANGE")),
    ],
)
def test_tree(text: str, tree: object) -> None:
    assert compile_query(text, now=NOW).node == tree


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a   AND b", "a b"),
        ("NOT a", "-a"),
        ("NOT (a b)", "-(a b)"),
        ("(a OR b) (c OR d)", "(a OR b) (c OR d)"),
        ("a (b c)", "a b c"),
        ('"two words"', '"two words"'),
        ('"OR"', '"OR"'),
        ('"-x"', '"-x"'),
        ('"asset:1"', '"asset:1"'),
        ('label:"x(y)"', 'label:"x(y)"'),
        ("val:3", "val=3"),
        ('"back\\\\slash"', '"back\\\\slash"'),
    ],
)
def test_canonical_printing(text: str, canonical: str) -> None:
    query = compile_query(text, now=NOW)
    assert str(query) == canonical
    assert compile_query(canonical, now=NOW) == query


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("(", 1, "a term after '('"),
        ("()", 1, "a term after '('"),
        (")", 0, "a term"),
        ("a)", 1, "a term, 'OR' or end of query"),
        ("(a", 2, "')' to close the '(' at 0"),
        ("a OR", 4, "a term after 'OR'"),
        ("OR a", 0, "a term"),
        ("a OR OR b", 5, "a term after 'OR'"),
        ("a AND", 5, "a term after 'AND'"),
        ("AND a", 0, "a term"),
        ("NOT", 3, "a term after 'NOT'"),
        ("- a", 1, "a term right after '-' (no space)"),
        ("a -", 3, "a term right after '-' (no space)"),
        ('"abc', 4, "a closing '\"' for the quote at 0"),
        ('label:"abc', 10, "a closing '\"' for the quote at 6"),
        ('""', 0, "text between the quotes"),
        ('x"y', 1, "a space before the quote"),
        ('asset:x"y', 7, "no quote inside an unquoted value"),
        ("asset:", 6, "a value after 'asset:'"),
        ("asset: 1", 6, "a value after 'asset:'"),
        ("asset:\u00a01", 6, "a value after 'asset:'"),
        ("-\u00a0a", 1, "a term right after '-' (no space)"),
        ('asset:""', 6, "a value after 'asset:'"),
        ("val>", 4, "a value after 'val>'"),
        ("val>abc", 4, "a number after 'val>'"),
        ("val<=x", 5, "a number after 'val<='"),
        ("asset>pad", 6, "a number after 'asset>'"),
        ("foo:bar", 0, "a known field"),
        ("lable:x", 0, "a known field"),
        ("label>3", 5, "':' after 'label'"),
        ("since>3", 5, "':' after 'since'"),
        ("since:yesterday", 6, "a time after 'since:'"),
        ("until:25:00", 6, "a time after 'until:'"),
        ("since:2026-13-01", 6, "a time after 'since:'"),
        ("(" * 150 + "a" + ")" * 150, 100, "at most 100 nested"),
        ("-" * 150 + "a", 100, "at most 100 nested"),
    ],
)
def test_syntax_errors(text: str, position: int, expected: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(text, now=NOW)
    error = caught.value
    assert error.position == position
    assert error.expected.startswith(expected)
    assert str(error).startswith(f"at {position}: expected {expected}")
    assert isinstance(error, ValueError)


def test_error_message_names_what_was_found() -> None:
    with pytest.raises(
        QuerySyntaxError, match=r"at 4: expected a number after 'val>', found 'abc'"
    ):
        compile_query("val>abc", now=NOW)


def test_strange_payload_values_do_not_break_matching() -> None:
    odd = reading_from_payload(
        "s", "1", 0, 0.0, {"assetId": [1], "tagId": {"a": 1}, "val": [1, 2], "label": 5}
    )
    for text in ["asset:1", "tag:a", "val>1", "val=x", "asset>1", "x", "since:-1m"]:
        assert compile_query(text, now=NOW).matches(odd) in (True, False)
    assert compile_query('val="[1, 2]"', now=NOW).matches(odd)  # other values as text
    assert compile_query("5", now=NOW).matches(odd)  # a non-text label is matched as text


def test_query_type_is_exported() -> None:
    assert isinstance(compile_query("a", now=NOW), Query)
