"""The whole file's count before the index is loaded (byte prefilter + the real query on each
candidate): equal to the index's count on tricky lines, and the index's faster row reading
equal to the decoder's."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from flux_tui.data.formats import reading_from_json, reading_from_payload
from flux_tui.data.query import compile_query
from flux_tui.data.query.parse import parse
from flux_tui.data.session.index import ROW_ERRORS, row_key, row_reading
from flux_tui.data.session.prefilter import count_file, needles, scan_block
from flux_tui.data.session.read import open_session


def line(label: Any = "Suction Pressure", **fields: Any) -> bytes:
    obj = {"epochMs": 1_764_590_000_000, "registerId": 389, "val": 32.6, "tagId": 862,
           "label": label, "tagName": "register_tag__suction_pressure", "orgId": 321,
           "siteId": 2213, "assetId": 1393, "_shard": "shardId-000000000002", "_seq": "7919",
           "_arrival": 1_764_590_000.85}
    obj.update(fields)
    return orjson.dumps({k: v for k, v in obj.items() if v is not ...})


TRICKY = [
    line(),
    line("SUCTION PRESSURE"),  # another case
    line("Discharge Pressure", tagName="suction pressure (copy)"),  # the text in another field
    line("Discharge Pressure"),
    b'{"label":"\\u0053uction Pressure","_shard":"s","_seq":"1","assetId":1}',  # escaped
    b'{"label":"Suction\\u0020Pressure","_shard":"s","_seq":"2","assetId":1}',
    line("Oil temp \u212a"),  # the Kelvin sign lowers to an ASCII k
    line("Pr\u0130"),  # U+0130 lowers to i + a combining dot
    line(["suction pressure", 2]),  # str() of a list: "['suction pressure', 2]"
    line(1000.0, tagId="0862"),  # a number as label, an older string id
    line(None, tagName=None, tag_name="suction pressure stage 2"),  # the older spelling
    line(_seq=...),  # no _seq: no row, though its label matches
    line(_sub=True),  # refused by the decoder
    line(_arrival="late"),
    b"[1, 2, 3]",
    b'"suction pressure"',
    b"{not json suction pressure",
    b"   ",
    b"",
    line("Suction Pressure Stage 2", epochMs="1764590000000", val="RUN"),
    line("Bearing Temp", **{"@timestamp": "2026-12-01T10:00:00Z", "epochMs": ...}),
    line("Unit mode", assetId="abc"),
    line("caf\u00e9 pressure"),
    line('quote " and \\ backslash'),
]

QUERIES = [
    'label:"suction pressure"', "suction", "pressure", "SUCTION", 'label:"Suction*"',
    "tag:*suction*", "tag:862", "label:k", "label:pri", "oil", "label:café", "café",
    'label:"suction pressure" val>30', 'label:"suction pressure" OR label:bearing',
    "label:1000.0", "register:389", "asset:1393", "unit", '"unit 13"', "abc",
    'label:"\'suction pressure\'"', "tag=abc", "val>10", "-label:suction", "quote",
    'label:"\\\\ backslash"',
]


@pytest.fixture(params=["plain", "gz"])
def tricky_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    body = b"\n".join(TRICKY * 3) + b"\n" + line("Suction pressure, truncated")[:-4]
    if request.param == "plain":
        path = tmp_path / "tricky.jsonl"
        path.write_bytes(body)
    else:
        path = tmp_path / "tricky.jsonl.gz"
        path.write_bytes(gzip.compress(body))
    return path


def test_the_prefilter_count_equals_the_index_count_on_tricky_lines(tricky_file: Path) -> None:
    index = open_session(tricky_file).index()
    try:
        unanswered = []
        for text in QUERIES:
            query = compile_query(text)
            found = count_file(tricky_file, query)
            if found is None:
                unanswered.append(text)
                continue
            assert found[0] == len(index.filter(query)), text
            assert found[1] == 3 * len(TRICKY) + 1  # every line, blank ones too
        # numbers (a float's str() differs from its JSON), the unit's name, repr's quotes
        # and backslashes, value tests and negations wait for the index
        assert unanswered == ["tag:862", "label:1000.0", "register:389", "asset:1393", "unit",
                              '"unit 13"', "label:\"'suction pressure'\"", "val>10",
                              "-label:suction", 'label:"\\\\ backslash"']
    finally:
        index.close()


def test_the_count_follows_the_tree_scope_too(tricky_file: Path) -> None:
    index = open_session(tricky_file).index()
    try:
        for text in ('label:"suction pressure"', "pressure val>20"):
            query = compile_query(text)

            def scope(r: Any) -> bool:
                return r[8] == 1393

            found = count_file(tricky_file, query, scope)
            assert found is not None
            rows = index.filter(query)
            assert found[0] == sum(1 for row in rows if index.keys[index.key_of[row]][3] == 1393)
    finally:
        index.close()


def test_the_escaped_and_the_case_variants_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join(TRICKY[:9]) + b"\n")
    found = count_file(path, compile_query('label:"suction pressure"'))
    # the plain one, the capitals, both escaped spellings, the list (str() holds the text)
    assert found == (5, 9)


def test_what_the_prefilter_does_not_scan_for() -> None:
    def of(text: str, names: Any = None) -> list[str] | None:
        return needles(parse(text, lambda v: 0), names)

    assert of('label:"Suction Pressure"') == ["suction pressure"]
    assert of("tag:*disch*rge*") == ["disch"]
    assert of("pump OR label:bb") == ["pump", "bb"]
    assert of("val>3 label:xyz") == ["xyz"]
    for text in ("val>100", "-label:x", "since:0", "a OR val>1", '"unit 1"', "it", "t 13",
                 "label:1.5e3", "label:none", 'label:"a, b"', 'label:" x"'):
        assert of(text) is None, text

    class Names:
        directory = object()  # a lookup that may know names the file does not hold

    assert of("pump", Names()) is None and of("site:north", Names()) is None
    assert of("label:pump", Names()) == ["pump"]


def test_scan_block_candidates() -> None:
    block = b'{"a":"x"}\n{"a":"\\u0078"}\n{"a":"X"}\n{"a":"\xc3\xa9"}\n{"a":"y"}'
    assert scan_block(block, [b"x"], False) == [b'{"a":"x"}', b'{"a":"\\u0078"}', b'{"a":"X"}']
    assert scan_block(block, [b"zz"], True) == [b'{"a":"\\u0078"}', b'{"a":"\xc3\xa9"}']


ODD = [
    {"_shard": 2, "_seq": 7, "tagId": "0889", "assetId": "12", "registerId": "x"},
    {"_shard": "s", "_seq": "1", "tag_id": 5, "asset_id": "1" * 20, "site_id": 3,
     "org_id": "o", "tag_name": 7, "label": ["a"], "epochMs": "17.5", "rtms": 1.5},
    {"_shard": "s", "_seq": "1", "@timestamp": "2026-12-01T10:00:00Z", "rtms": True,
     "label": None, "tagName": None, "val": {"k": 1}},
    {"_shard": "s", "_seq": "1", "epochMs": float("nan") if False else 1e30, "val": True},
    {"_shard": "s", "_seq": "1", "_sub": 0, "_arrival": 3},
    {"_shard": "s", "_seq": "1", "epochMs": None, "@timestamp": 1_700_000_000},
]
REFUSED = [{"_seq": "1"}, {"_shard": "s"}, {"_shard": "s", "_seq": "1", "_sub": 1.0},
           {"_shard": "s", "_seq": "1", "_arrival": "x"}, [["_shard", 1], ["_seq", 2]], 5,
           {"_shard": "s", "_seq": "1", "_sub": True}]


def test_the_index_reads_a_row_as_the_decoder_does() -> None:
    for obj in ODD:
        expected = reading_from_payload(str(obj["_shard"]), str(obj["_seq"]), 0, 0.0, obj)
        assert row_reading(obj) == expected
        assert row_key(obj) == expected[6:13]
    for obj in REFUSED:
        with pytest.raises(ROW_ERRORS):
            row_reading(obj)
        with pytest.raises(ROW_ERRORS):
            row_key(obj)
        with pytest.raises((ValueError, TypeError, KeyError, AttributeError)):
            reading = reading_from_json(obj)  # type: ignore[arg-type]
            obj["_shard"], obj["_seq"]  # type: ignore[index]  # the index's own test
            if type(obj.get("_arrival", 0.0)) not in (int, float):  # type: ignore[union-attr]
                raise ValueError(reading)


def test_the_index_keeps_the_rows_it_kept_before(tmp_path: Path) -> None:
    """The faster fill gives the same columns as building each reading."""
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(o) for o in ODD + REFUSED) + b"\n")
    index = open_session(path).index()
    try:
        assert len(index) == len(ODD)
        for row, obj in enumerate(ODD):
            r = reading_from_payload(str(obj["_shard"]), str(obj["_seq"]), 0, 0.0, obj)
            key = tuple(k if isinstance(k, (str, int, float, type(None))) else repr(k)
                        for k in (r.shard, *r[6:13]))
            assert index.keys[index.key_of[row]] == key
            assert index.value(row) == r.val
            assert index.epoch_ms[row] == (r.epoch_ms if r.epoch_ms is not None else -(2**63))
        assert len(index.problems) == len(REFUSED)
    finally:
        index.close()


@pytest.mark.parametrize("block", [7, 64, 149])
def test_lines_across_blocks_and_a_line_over_the_bound(
        tricky_file: Path, block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks smaller than a line: lines are joined across them exactly once; a line longer
    than MAX_LINE is dropped, as the index skips it."""
    from flux_tui.data.session import prefilter

    monkeypatch.setattr(prefilter, "BLOCK", block)
    monkeypatch.setattr(prefilter, "MAX_LINE", 150)
    query = compile_query('label:"suction pressure"')
    found = count_file(tricky_file, query)
    expected = [t for t in TRICKY if len(t) <= 150]
    monkeypatch.setattr(prefilter, "BLOCK", 1 << 20)
    monkeypatch.setattr(prefilter, "MAX_LINE", 1 << 20)
    assert found is not None
    whole = count_file(tricky_file, query)
    assert whole is not None
    short = tricky_file.parent / ("short" + "".join(tricky_file.suffixes))
    body = b"\n".join(expected * 3) + b"\n"
    short.write_bytes(gzip.compress(body) if tricky_file.suffix == ".gz" else body)
    only_short = count_file(short, query)
    assert only_short is not None
    assert found[0] == only_short[0] < whole[0]
