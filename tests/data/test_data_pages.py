"""The paged log's pieces without a screen: a cut-back ring never shows overwritten slots,
and PagedLog answers for file rows from the store and from the file alike."""

from __future__ import annotations

from pathlib import Path

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.query import compile_query
from flux_tui.data.session import SessionWriter, open_session
from flux_tui.data.session.pages import PagedLog, whole_file_rows
from flux_tui.data.store import LiveStore
from flux_tui.feed.types import Batch, Reading

T0 = 1_764_590_000_000


def _reading(n: int) -> Reading:
    return reading_from_payload("shardId-0", str(1000 + n), 0, T0 / 1000 + n, {
        "epochMs": T0 + n, "val": float(n), "tagId": n % 5, "assetId": 1111 + n % 2,
        "label": f"tag {n % 5}"})


def test_a_cut_of_a_wrapped_ring_keeps_only_what_is_still_there() -> None:
    store = LiveStore(100)
    readings = [_reading(n) for n in range(250)]
    store.ingest(Batch("s", readings, [], 0, 0.0))
    assert (store.first, store.total) == (150, 250)
    store.truncate(200)  # slots of 100..149 hold 200..249: they must not come back
    assert (store.first, store.total) == (150, 200)
    assert [store.reading_at(p) for p in range(150, 200)] == readings[150:200]
    store.ingest(Batch("s", readings[200:230], [], 0, 0.0))  # play on from the cut
    assert (store.first, store.total) == (150, 230)
    assert [store.reading_at(p) for p in range(150, 230)] == readings[150:230]
    store.ingest(Batch("s", readings[230:], [], 0, 0.0))
    assert (store.first, store.total) == (150, 250)


def test_paged_log_reads_old_rows_from_the_file_and_new_ones_from_the_store(
        tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    readings = [_reading(n) for n in range(1000)]
    with SessionWriter(path, metadata={}) as writer:
        writer.write(readings)
    store = LiveStore(100)
    store.ingest(Batch("s", readings[:700], [], 0, 0.0))  # played up to row 700
    log = PagedLog(store, lambda: 0, cache=16)
    assert log.view_len() == 100 and not log.whole  # no index: the store's rows
    assert log.view_pos(0) == 600
    with open_session(path).index() as index:
        log.use_index(index)
        log.use_rows(None)
        assert log.whole and log.view_len() == 700 and log.file_count() == (1000, 1000)
        assert [log.reading_at(log.view_pos(i)) for i in range(700)] == readings[:700]
        assert log.cached <= 16  # the page cache is bounded
        assert log.prev_at(12) == 2.0  # the same tag and unit 10 rows back, from the file
        query = compile_query('label:"tag 2"')
        rows = whole_file_rows(index, query, lambda r: r[8] == 1111)
        log.use_rows(rows)
        expected = [r for r in readings if r.label == "tag 2" and r.asset_id == 1111]
        assert log.file_count() == (len(expected), 1000)
        assert [log.reading_at(log.view_pos(i)) for i in range(log.view_len())] == [
            r for r in expected if int(r.seq) - 1000 < 700]
        lines = log.lines()
        assert lines is not None and list(lines) == expected[:len(lines)]
        assert log.view_index_of(log.view_pos(3)) == 3 and log.view_index_of(1) is None
