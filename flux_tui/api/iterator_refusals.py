"""Which iterator types a profile's gateway refused, remembered for a day.

The first refusal of ``AT_TIMESTAMP`` or ``AT/AFTER_SEQUENCE_NUMBER`` costs a call and a
message; remembering it (in the user cache folder, one small private file per profile) spares
every later run both. After a day the types are tried again: a gateway may learn them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import orjson

from flux_tui.base.files import cache_folder, safe_file_name, write_private

REMEMBER_SECONDS = 86400.0


class IteratorRefusals:
    """``refused(kind)`` / ``note(kind)``; ``path`` None keeps them in memory only (the
    in-process simulator, tests). A damaged or unwritable file is ignored: the cost of
    forgetting is one refused call."""

    def __init__(self, path: Path | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._memory: dict[str, float] = {}

    @classmethod
    def for_profile(cls, profile: str, directory: Path | None = None) -> IteratorRefusals:
        """The memory of ``profile`` in the user cache folder."""
        if directory is None:
            directory = cache_folder("iterators")
        return cls(directory / safe_file_name(profile))

    def _load(self) -> dict[str, float]:
        if self.path is None:
            return self._memory
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            k: float(v)
            for k, v in data.items()
            if isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool)
        }

    def refused(self, kind: str) -> bool:
        """True when ``kind`` was refused less than a day ago."""
        at = self._load().get(kind)
        return at is not None and 0 <= self._clock() - at < REMEMBER_SECONDS

    def note(self, kind: str) -> None:
        """Remember that ``kind`` was refused now."""
        now = self._clock()
        kept = {k: v for k, v in self._load().items() if 0 <= now - v < REMEMBER_SECONDS}
        kept[kind] = now
        if self.path is None:
            self._memory = kept
            return
        try:
            write_private(self.path, orjson.dumps(kept))
        except OSError:
            self._memory = kept
            self.path = None  # keep going in memory for this run
