"""'What changed' ranks a scope's tags by their move over 5/15/60 minutes."""

from __future__ import annotations

from flux_tui.data.formats import reading_from_payload
from flux_tui.data.store import LiveStore
from flux_tui.data.store.changes import rank_changes
from flux_tui.feed.types import Batch

T0 = 1_764_590_400_000


def reading(t_s: int, tag: int, label: str, val: object):  # type: ignore[no-untyped-def]
    payload = {"epochMs": T0 + t_s * 1000, "assetId": 1, "tagId": tag, "label": label,
               "tagName": f"t{tag}", "val": val, "orgId": 1, "siteId": 1}  # fmt: skip
    return reading_from_payload("s", f"{tag}-{t_s}", 0, T0 / 1000 + t_s, payload)


def test_the_most_moved_tags_come_first() -> None:
    rows = []
    for s in range(0, 3600, 10):
        rows.append(reading(s, 1, "Steady Pressure", 50.0 + (s % 20) * 0.05))
        # sinks 30 psi in the last five minutes, after an hour between 30 and 40
        sinking = 35.0 + 5 * ((s // 600) % 2) if s < 3300 else 35.0 - (s - 3300) / 10
        rows.append(reading(s, 2, "Suction Pressure", round(sinking, 1)))
        rows.append(reading(s, 3, "Run Status", 1 if s < 3400 or s > 3500 else 0))
    store = LiveStore(100_000)
    store.ingest(Batch("s", rows))
    now = T0 / 1000 + 3600
    ranked = rank_changes(store.tags.values(), now, 300)
    assert [c.tag.label for c in ranked] == ["Suction Pressure", "Run Status", "Steady Pressure"]
    suction = ranked[0]
    assert suction.delta is not None and suction.delta < -25 and suction.low is not None
    assert suction.share is not None and suction.share > 0.6
    assert ranked[1].changes == 2 and ranked[1].score == 1.0  # 0/1: it never moved before
    # over the whole hour (no history before it: its first fifth is the baseline) the
    # stop and the sink still outrank the noise
    hour = rank_changes(store.tags.values(), now, 3600)
    assert hour[-1].tag.label == "Steady Pressure" and hour[-1].score < 0.5


def test_tags_silent_in_the_window_are_left_out() -> None:
    store = LiveStore(1000)
    store.ingest(Batch("s", [reading(0, 1, "Old", 1.0), reading(3590, 2, "New", 2.0)]))
    ranked = rank_changes(store.tags.values(), T0 / 1000 + 3600, 300)
    assert [c.tag.label for c in ranked] == ["New"]


def test_text_states_rank_by_their_changes() -> None:
    store = LiveStore(1000)
    rows = [reading(s, 1, "Controller State", "Running" if s < 3500 else "Shutdown")
            for s in range(3300, 3600, 10)]  # fmt: skip
    rows += [reading(s, 2, "Mode", "Auto") for s in range(3300, 3600, 10)]
    store.ingest(Batch("s", rows))
    ranked = rank_changes(store.tags.values(), T0 / 1000 + 3600, 300)
    assert [(c.tag.label, c.changes, c.numeric) for c in ranked] == [
        ("Controller State", 1, False), ("Mode", 0, False)]  # fmt: skip
