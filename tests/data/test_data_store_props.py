"""Property tests of the columnar store: what comes back is what went in (payload and all,
JSON text included), eviction keeps exactly the newest ``capacity``, the filtered view is
the filter applied to what is held, and cutting the log back restores the tags."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.data.formats import jsonl_line, reading_from_payload
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, Reading

T0 = 1_764_590_000_000

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6),
)
values = st.one_of(scalars, st.lists(st.integers(-(2**63), 2**63 - 1), max_size=2),
                   st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2))


@st.composite
def readings(draw: Any) -> Reading:
    """Mostly ordinary readings of a few tags, with now and then a field a template cannot
    rebuild: an extra or missing field, an odd type, a strange sequence number or arrival."""
    asset = draw(st.sampled_from([1111, 1112, "1113"]))
    tag = draw(st.sampled_from([1, 2]))
    ms = T0 + draw(st.integers(0, 10_000_000))
    payload: dict[str, Any] = {"epochMs": ms, "registerId": 400 + tag, "val": draw(values),
                               "rtms": ms + draw(st.integers(-5000, 5000)),
                               "pk": f"1_{asset}_{tag}", "tagId": tag,
                               "label": draw(st.sampled_from(["Suction Pressure", "Speed"])),
                               "tagName": f"tag_{tag}", "orgId": 333, "siteId": 2222,
                               "assetId": asset}
    odd = draw(st.sampled_from(["none"] * 6 + ["extra", "drop", "epoch-float", "rtms-str",
                                               "no-epoch", "id-float", "id-float", "nested"]))
    if odd == "extra":
        payload["unit"] = draw(scalars)
    elif odd == "drop":
        del payload[draw(st.sampled_from(sorted(payload)))]
    elif odd == "epoch-float":
        payload["epochMs"] = float(ms)
    elif odd == "rtms-str":
        payload["rtms"] = str(ms)
    elif odd == "no-epoch":
        del payload["epochMs"]
        payload["@timestamp"] = "2025-12-01T12:00:00Z"
    elif odd == "id-float":  # equal to the template's 2222, but not the same JSON
        payload["siteId"] = 2222.0
    elif odd == "nested":
        payload["extra"] = draw(st.sampled_from([[1], [1.0], {"a": True}, {"a": 1}]))
    shard = draw(st.sampled_from(["shardId-000000000000", "shardId-000000000001"]))
    seq = draw(st.one_of(
        st.integers(0, 10**30).map(lambda n: str(49 * 10**54 + n)),
        st.integers(0, 10**6).map(str),
        st.sampled_from(["007", "", "12a", "-5", "１２"]),
    ))
    sub = draw(st.one_of(st.just(0), st.integers(0, 300)))
    arrival = draw(st.one_of(st.just(0.0), st.integers(-10**6, 10**7).map(
        lambda d: (ms + d) / 1000.0), st.floats(0, 2e9, allow_nan=False)))
    return reading_from_payload(shard, seq, sub, arrival, payload)


def _key(r: Reading) -> tuple[Any, Any]:
    """The store's tag key: the unit and the tag id (the tag name when there is no id)."""
    return r.asset_id, r.tag_id if r.tag_id is not None else r.tag_name


def _same(a: Reading, b: Reading) -> None:
    assert a == b
    assert [type(x) for x in a[:14]] == [type(x) for x in b[:14]]
    assert jsonl_line(a) == jsonl_line(b)  # what a save writes: same fields, order, types
    assert list(a.payload) == list(b.payload)


@settings(max_examples=150, deadline=None)
@given(st.lists(readings(), min_size=1, max_size=60), st.integers(1, 40),
       st.integers(1, 17))
def test_rebuilt_readings_equal_what_went_in(rows: list[Reading], capacity: int,
                                             page: int) -> None:
    store = LiveStore(capacity=capacity)
    for start in range(0, len(rows), page):
        store.ingest(Batch("s", rows[start:start + page]))
    assert store.total == len(rows)
    assert store.held == min(capacity, len(rows))
    assert store.first == len(rows) - store.held
    for pos in range(store.first, store.total):
        _same(store.reading_at(pos), rows[pos])
    # previous value of the same tag, while it is held
    for pos in range(store.first, store.total):
        key = _key(rows[pos])
        before = [r for r in rows[store.first:pos] if _key(r) == key]
        expected = before[-1].val if before else None
        got = store.prev_at(pos)
        assert got == expected or (got is None and expected is None)


@settings(max_examples=100, deadline=None)
@given(st.lists(readings(), min_size=1, max_size=60), st.integers(1, 30),
       st.sampled_from(["label", "val", "both", "none"]))
def test_filtered_view_is_the_filter_over_what_is_held(rows: list[Reading], capacity: int,
                                                       kind: str) -> None:
    def predicate(r: Any) -> bool:
        if kind == "label":
            return "Suction" in r.label
        if kind == "val":
            return type(r.val) is float and r.val > 0
        if kind == "both":
            return r.tag_id == 2 and r.epoch_ms is not None and r.epoch_ms % 2 == 0
        return False

    store = LiveStore(capacity=capacity)
    half = len(rows) // 2
    store.ingest(Batch("s", rows[:half]))
    store.set_filter(predicate)  # over what is held, then on each new page
    store.ingest(Batch("s", rows[half:]))
    expected = [p for p in range(store.first, store.total) if predicate(rows[p])]
    assert [store.view_pos(i) for i in range(store.view_len())] == expected
    fresh = LiveStore(capacity=capacity)
    fresh.ingest(Batch("s", rows))
    fresh.set_filter(predicate)
    assert [fresh.view_pos(i) for i in range(fresh.view_len())] == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(readings(), min_size=2, max_size=50), st.data())
def test_cutting_the_log_back_restores_each_tags_last_value(rows: list[Reading],
                                                            data: Any) -> None:
    store = LiveStore(capacity=100)
    store.ingest(Batch("s", rows))
    cut = data.draw(st.integers(0, len(rows)))
    store.truncate(cut)
    assert store.total == cut
    for pos in range(cut):
        _same(store.reading_at(pos), rows[pos])
    for key, t in store.tags.items():
        mine = [r for r in rows[:cut] if _key(r) == key]
        assert t.last == (mine[-1].val if mine else None) or (
            mine and t.last != t.last)  # a NaN would not equal itself (none are drawn)
    store.ingest(Batch("s", rows[cut:]))  # and it carries on from there
    for pos in range(len(rows)):
        _same(store.reading_at(pos), rows[pos])


def test_a_field_equal_in_value_but_not_in_type_is_kept_as_it_came() -> None:
    base = {"epochMs": T0, "val": 1.0, "rtms": T0 + 1, "tagId": 1, "siteId": 2222,
            "assetId": 1}
    a = reading_from_payload("s", "5", 0, 0.0, base)
    b = reading_from_payload("s", "6", 0, 0.0, {**base, "siteId": 2222.0})
    store = LiveStore(10)
    store.ingest(Batch("s", [a, b]))
    assert jsonl_line(store.reading_at(1)) == jsonl_line(b)


def test_an_ordinary_feed_is_held_without_sparse_entries() -> None:
    rows = [reading_from_payload("shardId-000000000000", str(49 * 10**54 + 7919 * i), 0,
                                 (T0 + i * 1000 + 850) / 1000.0,
                                 {"epochMs": T0 + i * 1000, "registerId": 401, "val": i * 0.5,
                                  "rtms": T0 + i * 1000 + 311, "pk": "1_2_3", "tagId": 862,
                                  "label": "Suction Pressure", "tagName": "t", "orgId": 321,
                                  "siteId": 2213, "assetId": 1393}) for i in range(5000)]
    store = LiveStore(capacity=3000)
    store.ingest(Batch("s", rows))
    assert not store.cols.sparse
    assert len(store.cols.templates) == 1
    assert orjson.loads(jsonl_line(store.reading_at(4999))) == orjson.loads(jsonl_line(rows[-1]))
