"""The per-profile memory of refused iterator types: a day, private, damage-tolerant."""

from __future__ import annotations

import stat
from pathlib import Path

from flux_tui.api.iterator_refusals import REMEMBER_SECONDS, IteratorRefusals


def test_a_refusal_is_remembered_for_a_day_across_instances(tmp_path: Path) -> None:
    now = [1000.0]
    first = IteratorRefusals.for_profile("acme/prd", tmp_path)
    first._clock = lambda: now[0]
    assert not first.refused("AT_TIMESTAMP")
    first.note("AT_TIMESTAMP")
    second = IteratorRefusals(first.path, clock=lambda: now[0])
    assert second.refused("AT_TIMESTAMP") and not second.refused("AFTER_SEQUENCE_NUMBER")
    now[0] += REMEMBER_SECONDS + 1
    assert not second.refused("AT_TIMESTAMP")
    assert first.path is not None and stat.S_IMODE(first.path.stat().st_mode) == 0o600


def test_a_damaged_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    refusals = IteratorRefusals.for_profile("p", tmp_path)
    assert refusals.path is not None
    refusals.path.parent.mkdir(parents=True, exist_ok=True)
    refusals.path.write_bytes(b"\x00not json")
    assert not refusals.refused("AT_TIMESTAMP")
    refusals.note("AT_TIMESTAMP")
    assert IteratorRefusals(refusals.path).refused("AT_TIMESTAMP")


def test_in_memory_only_without_a_path() -> None:
    refusals = IteratorRefusals()
    refusals.note("AFTER_SEQUENCE_NUMBER")
    assert refusals.refused("AFTER_SEQUENCE_NUMBER")
    assert not IteratorRefusals().refused("AFTER_SEQUENCE_NUMBER")
