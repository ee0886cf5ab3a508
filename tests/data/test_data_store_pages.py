"""The store's two ways of taking a page give the same store: a plain page (what the API
sends) goes column by column at once, any other reading by reading; and the history taken
many readings at a time is the history taken one by one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux_tui.data.formats import jsonl_line, reading_from_payload
from flux_tui.data.store import LiveStore, encode
from flux_tui.data.store.tiers import Tiers
from flux_tui.feed.types import Batch, Reading

T0 = 1_764_590_000_000
SHARDS = ["shardId-000000000000", "shardId-000000000000", "shardId-000000000003"]
SEQ0 = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898


def _payload(asset: int, tag: int, ms: int, val: Any) -> dict[str, Any]:
    return {"epochMs": ms, "registerId": 400 + tag, "val": val, "rtms": ms + 311,
            "pk": f"1_333_2222_{asset}_{tag}", "tagId": tag, "label": f"Tag {tag}",
            "tagName": f"tag_{tag}", "orgId": 333, "siteId": 2222, "assetId": asset}


@st.composite
def pages(draw: Any) -> list[list[Reading]]:
    """Pages as the API sends them (of one shard, mostly) or a replay reads them (of a few),
    now and then with something a column or a template cannot hold (then the page, or that
    reading, goes the careful way)."""
    out = []
    n = 0
    for _ in range(draw(st.integers(1, 4))):
        page = []
        for _ in range(draw(st.integers(1, 40))):
            asset, tag = draw(st.sampled_from([1111, 1112])), draw(st.sampled_from([1, 2, 3]))
            ms = T0 + n * draw(st.sampled_from([1, 400, 1000]))
            val = draw(st.one_of(st.floats(-1e6, 1e6), st.integers(-5, 5), st.booleans(),
                                 st.sampled_from(["RUN", "STOP"]), st.none()))
            payload = _payload(asset, tag, ms, val)
            odd = draw(st.sampled_from(["none"] * 12 + [
                "site-float", "key-order", "extra", "no-rtms", "sub-big", "seq-short",
                "arrival-zero", "label"]))
            shard = draw(st.sampled_from(SHARDS))
            seq = str(SEQ0 + SHARDS.index(shard) * 10**40 + n * 1_000_003)
            sub, arrival = 0, (ms + 850) / 1000.0
            if odd == "site-float":
                payload["siteId"] = 2222.0
            elif odd == "key-order":
                payload = dict(reversed(payload.items()))
            elif odd == "extra":
                payload["unit"] = "psi"
            elif odd == "no-rtms":
                del payload["rtms"]
            elif odd == "sub-big":
                sub = 300
            elif odd == "seq-short":
                seq = str(n)
            elif odd == "arrival-zero":
                arrival = 0.0
            elif odd == "label":
                payload["label"] = "Renamed"
            page.append(reading_from_payload(shard, seq, sub, arrival, payload))
            n += 1
        out.append(page)
    return out


def _fill(rows: list[list[Reading]], capacity: int) -> LiveStore:
    store = LiveStore(capacity)
    for page in rows:
        store.ingest(Batch("shardId-000000000000", page))
    return store


def _tag_facts(store: LiveStore) -> list[tuple[Any, ...]]:
    now = store.latest_ms / 1000.0 + 1
    return [(key, t.last, t.prev, t.count, t.last_pos, t.last_ms, t.interval_ms,
             t.window(3600, now), t.stats(3600, now)) for key, t in store.tags.items()]


@settings(max_examples=120, deadline=None)
@given(pages(), st.integers(5, 200))
def test_a_page_taken_at_once_gives_the_store_taken_one_by_one(
        rows: list[list[Reading]], capacity: int) -> None:
    fast = _fill(rows, capacity)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(encode, "_plain_page", lambda readings, cols: None)
        slow = _fill(rows, capacity)
    assert fast.total == slow.total and fast.first == slow.first
    for pos in range(fast.first, fast.total):
        a, b = fast.reading_at(pos), slow.reading_at(pos)
        assert a == b and jsonl_line(a) == jsonl_line(b)
        assert [type(x) for x in a] == [type(x) for x in b]
        assert fast.prev_at(pos) == slow.prev_at(pos)
    assert _tag_facts(fast) == _tag_facts(slow)
    assert list(fast.tree) == list(slow.tree)


def test_an_ordinary_page_goes_column_by_column(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[int] = []
    matched: list[Reading] = []
    plain, template = encode.PageEncoder.plain, encode.PageEncoder.template

    def spy(self: encode.PageEncoder, readings: list[Reading], page: Any) -> Any:
        taken.append(len(readings))
        return plain(self, readings, page)

    def one_by_one(self: encode.PageEncoder, t: Any, r: Reading, ms: Any, val: Any) -> Any:
        matched.append(r)
        return template(self, t, r, ms, val)

    monkeypatch.setattr(encode.PageEncoder, "plain", spy)
    monkeypatch.setattr(encode.PageEncoder, "template", one_by_one)
    rows = [reading_from_payload("shardId-000000000000", str(SEQ0 + i), 0,
                                 (T0 + i * 10 + 850) / 1000.0,
                                 _payload(1111 + i % 3, i % 7, T0 + i * 10,
                                          "RUN" if i % 7 == 6 else i * 0.5))
            for i in range(1000)]
    store = LiveStore(2000)
    store.ingest(Batch("shardId-000000000000", rows[:500]))
    assert len(matched) == 500  # new tags: their templates are made one by one
    store.ingest(Batch("shardId-000000000000", rows[500:]))
    assert taken == [500, 500]
    assert len(matched) == 500  # the second page: checked whole against the templates
    assert not store.cols.sparse
    assert [store.reading_at(p) for p in range(1000)] == rows


def test_a_reading_no_template_fits_is_kept_whole_inside_a_plain_page() -> None:
    page = [reading_from_payload("s", str(SEQ0 + i), 0, (T0 + i + 850) / 1000.0,
                                 _payload(1111, 1, T0 + i, float(i))) for i in range(20)]
    odd = dict(page[7].payload, siteId=2222.0)  # equal to 2222, but not the same JSON
    page[7] = reading_from_payload("s", page[7].seq, 0, page[7].arrival, odd)
    store = LiveStore(100)
    store.ingest(Batch("s", page))
    assert jsonl_line(store.reading_at(7)) == jsonl_line(page[7])
    assert [store.reading_at(p) for p in range(20)] == page


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2000), st.floats(-1e3, 1e3)), min_size=1,
                max_size=80), st.booleans())
def test_history_taken_many_at_a_time_equals_one_by_one(
        points: list[tuple[int, float]], in_order: bool) -> None:
    if in_order:
        points.sort(key=lambda p: p[0])
    one, many = Tiers(), Tiers()
    for second, value in points:
        one.add(second, value)
    half = len(points) // 2
    for part in (points[:half], points[half:]):
        if part:
            many.add_many([p[0] for p in part], [p[1] for p in part])
    for a, b in ((one.fine, many.fine), (one.mid, many.mid), (one.coarse, many.coarse)):
        for column in ("idx", "lo", "hi", "n", "last"):
            assert getattr(a, column)[a.head:] == getattr(b, column)[b.head:]
        assert a.sum[a.head:] == pytest.approx(b.sum[b.head:])


FILTERS = {
    "by tag": lambda r: r.tag_id == 2,  # decided once per template
    "by value": lambda r: isinstance(r.val, float) and r.val > 0,  # reading by reading
    "both": lambda r: r.asset_id == 1111 and r.val is not None,
}


@settings(max_examples=60, deadline=None)
@given(pages(), st.integers(5, 200), st.sampled_from(sorted(FILTERS)))
def test_the_filtered_view_of_plain_pages_is_the_filter_over_what_is_held(
        rows: list[list[Reading]], capacity: int, name: str) -> None:
    predicate = FILTERS[name]
    store = LiveStore(capacity)
    store.set_filter(predicate)
    for page in rows:
        store.ingest(Batch("shardId-000000000000", page))
    held = [p for p in range(store.first, store.total) if predicate(store.reading_at(p))]
    assert [store.view_pos(i) for i in range(store.view_len())] == held
