"""The session index filters exactly like the query's own predicate, for any query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_data_session import make_readings  # same folder: pytest puts it on sys.path

from flux_tui.data.query import QuerySyntaxError, compile_query
from flux_tui.data.session import SessionIndex, SessionWriter, open_session
from flux_tui.feed.types import Reading

NOW = 1_764_424_800.0 + 200  # inside make_readings' time span
READINGS = make_readings(400)

terms = st.sampled_from(
    [
        "pressure", "break", "unit", "1112", "asset:1111", "asset:111*", "site:2222",
        "org:333", "tag:889", "tag:tag_3", "tag:77", "label:*loaded*", "register:416",
        "val>1", "val<=2", "val=2", "val!=2", "val=running", "val=true", "val>=-1",
        "asset>1111", "tag<890", "since:-100s", "until:-50s", "since:14:00",
    ]
)  # fmt: skip
queries = st.recursive(
    terms,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(" ".join),
        st.tuples(inner, inner).map(" OR ".join),
        inner.map(lambda q: f"-({q})"),
        inner.map(lambda q: f"NOT {q}"),
        inner.map(lambda q: f"({q})"),
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionIndex]:
    path: Path = tmp_path_factory.mktemp("index") / "s.jsonl"
    with SessionWriter(path, metadata={}) as writer:
        writer.write(READINGS)
    with open_session(path).index() as loaded:
        yield loaded


def expected(text: str) -> list[int]:
    query = compile_query(text, now=NOW)
    return [i for i, reading in enumerate(READINGS) if query.matches(reading)]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(queries)
def test_index_filter_equals_the_predicate(index: SessionIndex, text: str) -> None:
    try:
        query = compile_query(text, now=NOW)
    except QuerySyntaxError:  # e.g. nesting deeper than allowed
        return
    assert list(index.filter(query)) == expected(text)
    assert list(index.filter(query.predicate)) == expected(text)


@pytest.mark.parametrize(
    "text",
    ["", "pressure", "asset:1111 label:pressure OR val>1 -tag:*3*", "NOT (val>3 OR asset:1111)"],
)
def test_index_filter_examples(index: SessionIndex, text: str) -> None:
    rows = list(index.filter(compile_query(text, now=NOW)))
    assert rows == expected(text)
    assert [index.reading(i) for i in rows[:5]] == [READINGS[i] for i in rows[:5]]


def test_index_reports_progress(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    readings: list[Reading] = make_readings(2500)
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    seen: list[int] = []
    session = open_session(path)
    with SessionIndex.load(session, progress=seen.append, progress_every=1000) as index:
        assert len(index) == 2500
    assert seen == [1000, 2000]
