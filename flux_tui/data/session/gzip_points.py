"""Resume points in a gzip stream (as zlib's ``zran.c`` does), so a replay can seek back in a
``.gz`` session without inflating it again from its start.

While the file is inflated once, front to back, :class:`GzipPoints` keeps now and then a
copy of the inflater's state (``zlib.Decompress.copy()``: its 32 KiB window and bit buffer)
with the place in the compressed file it had read up to and the place in the inflated bytes
it had given out. Inflating from a point gives exactly the bytes that followed it. Memory is
bounded: at most :data:`MAX_POINTS` points (about 45 KB each); when full, every other point
is dropped and the spacing doubles, so the points stay spread over the whole file.
"""

from __future__ import annotations

import zlib
from bisect import bisect_right
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

__all__ = ["MAX_POINTS", "SPACING", "GzipPoints", "inflate", "inflate_from"]

SPACING = 4 << 20  # inflated bytes between points at first
MAX_POINTS = 64


class GzipPoints:
    """Resume points of one gzip file: ``(inflated offset, compressed offset, inflater)``,
    in order."""

    def __init__(self, spacing: int = SPACING, limit: int = MAX_POINTS) -> None:
        self.spacing = spacing
        self.limit = max(2, limit)
        self.outs: list[int] = []
        self.ins: list[int] = []
        self.states: list[zlib._Decompress] = []

    def __len__(self) -> int:
        return len(self.outs)

    def note(self, out: int, consumed: int, inflater: zlib._Decompress) -> None:
        """The inflater has given out ``out`` bytes so far and read the compressed file up
        to ``consumed``: keep a point when the last one is ``spacing`` behind."""
        last = self.outs[-1] if self.outs else 0
        if out - last < self.spacing:
            return
        self.outs.append(out)
        self.ins.append(consumed)
        self.states.append(inflater.copy())
        if len(self.outs) > self.limit:
            self.outs, self.ins, self.states = self.outs[1::2], self.ins[1::2], self.states[1::2]
            self.spacing *= 2

    def before(self, offset: int) -> int | None:
        """The last point at or before inflated byte ``offset`` (None: the file's start)."""
        at = bisect_right(self.outs, offset) - 1
        return at if at >= 0 else None


def inflate(handle: IO[bytes], inflater: zlib._Decompress | None = None, *, feed: int,
            step: int, points: GzipPoints | None = None) -> Generator[bytes, None, bool]:
    """The inflated bytes of the gzip stream read from ``handle`` (at most ``step`` a piece,
    the file read ``feed`` bytes at a time), from ``inflater``'s state or a stream's start.
    Concatenated members (``cat a.gz b.gz``) are one stream. ``points`` notes resume points
    on the way (a read from the start). Raises ``zlib.error`` on corrupt data; returns
    whether the stream ended whole (False: it ends early, e.g. a recording interrupted)."""
    if inflater is None:
        inflater = zlib.decompressobj(wbits=31)
    out = 0
    raw = handle.read(feed)
    while raw:
        data = inflater.decompress(raw, step)
        out += len(data)
        if points is not None and not inflater.eof:
            points.note(out, handle.tell() - len(inflater.unconsumed_tail), inflater)
        if data:
            yield data
        if inflater.eof:
            raw = inflater.unused_data or handle.read(feed)
            if raw:
                inflater = zlib.decompressobj(wbits=31)
            continue
        raw = inflater.unconsumed_tail or handle.read(feed)
    return inflater.eof


def inflate_from(path: Path, offset: int, points: GzipPoints | None,
                 chunk: int = 1 << 20) -> Iterator[bytes]:
    """The inflated bytes of gzip file ``path`` from inflated byte ``offset`` on, started
    from the nearest resume point (or the start). Concatenated members are one stream. A
    stream that ends early or is corrupt just ends (it was reported when first read)."""
    at = points.before(offset) if points is not None else None
    with open(path, "rb") as handle:
        inflater = None
        out = 0
        if at is not None and points is not None:
            out, inflater = points.outs[at], points.states[at].copy()
            handle.seek(points.ins[at])
        try:
            for data in inflate(handle, inflater, feed=chunk, step=chunk):
                end = out + len(data)
                if end > offset:
                    yield data[max(0, offset - out):]
                out = end
        except zlib.error:
            return
