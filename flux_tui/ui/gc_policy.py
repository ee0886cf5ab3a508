"""The viewer's garbage-collection policy: when Python's cyclic collector runs and what it
walks, so that no collection holds the event loop for long at peak feed.

What a collection walks. At peak a 10,000-reading page arrives every 0.6 s, and every
:class:`~flux_tui.feed.types.Reading` is a tuple holding a dict, which the collector tracks
until it dies (only tuples of plain values are ever untracked). A collection triggered by
allocations falls, by its nature, while a page is being made and handled: it walks the
page's live readings, promotes them to older generations, and full collections then walk
them too, with the strips and caches Textual keeps from frame to frame and everything the
application created at start-up (modules, classes, widgets, styles: ~300,000 objects).

So, measured with ``benchmarks/bench_tui.py``:

- :func:`gc.freeze` once the app has started takes what exists then out of every later
  collection: a full collection walks what came after, not the application.
- Young collections run from a timer (:data:`STEP`), between pages, when the page's
  readings are already freed and there is little to walk (:meth:`GcPolicy.step`); the
  allocation thresholds stay as a safety net far above what one page allocates (a loop
  held by other work still collects).
- A full collection comes at most every :data:`FULL_EVERY` seconds, from the same timer.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "FREEZE_AFTER",
    "FULL_EVERY",
    "SAFETY_THRESHOLDS",
    "STEP",
    "GcPolicy",
    "install_gc_policy",
]

STEP = 0.1  # seconds between looks at the young generation
YOUNG = 2_000  # tracked objects the young generation may hold before a timed collection
BURST = 1_000  # growth in one step that means a page is in flight (wait for it to be freed)
HOLD = 30_000  # young objects past which the collection comes even so
MIDDLE = 10  # young collections before a collection of the middle generation
FULL_EVERY = 30.0  # seconds at least between full collections (they come from the timer)
FULL_AFTER = 10  # middle collections before a full one may come
SAFETY_THRESHOLDS = (50_000, 20, 100)  # the allocation-driven collector, when the loop is held
FREEZE_AFTER = 2.0  # seconds after the app is mounted: its screens and widgets exist by then


class Collector(Protocol):
    """What the policy uses of the :mod:`gc` module (a test passes its own)."""

    def get_count(self) -> tuple[int, int, int]: ...

    def collect(self, generation: int = 2) -> int: ...

    def set_threshold(self, threshold0: int, threshold1: int = ..., threshold2: int = ...
                      ) -> None: ...

    def freeze(self) -> None: ...

    def unfreeze(self) -> None: ...

    def get_threshold(self) -> tuple[int, int, int]: ...


class GcPolicy:
    """Collections from a timer between pages, start-up frozen (see the module's docstring).

    :meth:`step` is the decision, taken every :data:`STEP` seconds by :meth:`run`.
    """

    def __init__(self, collector: Collector = gc, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.gc = collector
        self.clock = clock
        self.last_full = clock()
        self.last_young = 0  # the young generation's size at the last step
        self.collections = [0, 0, 0]  # how many of each generation the timer ran
        self.frozen = False

    def step(self) -> int | None:
        """Collect what is due now; the generation collected (None: nothing was due).

        A young collection waits while the young generation grows by a page's worth from
        one step to the next (a page is being made or handled: its readings are alive);
        it comes at the next step, once the page is freed, or at once past :data:`HOLD`."""
        young, middle, old = self.gc.get_count()
        grew = young - self.last_young
        self.last_young = young
        if young < YOUNG and middle < MIDDLE:
            return None
        if grew > BURST and young < HOLD:
            return None  # a page in flight: collect it next time, dead
        generation = 0
        if middle >= MIDDLE:
            generation = 1
            now = self.clock()
            if old >= FULL_AFTER and now - self.last_full >= FULL_EVERY:
                generation, self.last_full = 2, now
        self.gc.collect(generation)
        self.last_young = 0
        self.collections[generation] += 1
        return generation

    async def run(self) -> None:
        """Take over from the allocation-driven collector, freeze start-up a little later,
        then :meth:`step` every :data:`STEP` seconds until cancelled (the app ended): then
        the collector is as it was before."""
        thresholds = self.gc.get_threshold()
        self.gc.set_threshold(*SAFETY_THRESHOLDS)
        try:
            started = self.clock()
            while True:
                await asyncio.sleep(STEP)
                if not self.frozen and self.clock() - started >= FREEZE_AFTER:
                    self.freeze()
                self.step()
        finally:
            self.gc.set_threshold(*thresholds)
            if self.frozen:
                self.gc.unfreeze()

    def freeze(self) -> None:
        """Take every object that exists now out of later collections. Cyclic garbage of the
        start-up is frozen with it (a few hundred kilobytes at most, once): a full
        collection first would hold the loop for as long as the one it saves."""
        self.gc.freeze()
        self.frozen = True


_running: dict[asyncio.AbstractEventLoop, tuple[GcPolicy, asyncio.Task[None]]] = {}


def install_gc_policy() -> GcPolicy:
    """The viewer's policy, run as a task of the running loop (call it from the app's
    mount; a second call on the same loop gives the same policy); it ends with the loop."""
    loop = asyncio.get_running_loop()
    running = _running.get(loop)
    if running is not None and not running[1].done():
        return running[0]
    policy = GcPolicy()
    task = loop.create_task(policy.run())
    _running[loop] = (policy, task)
    task.add_done_callback(lambda _: _running.pop(loop, None))
    return policy
