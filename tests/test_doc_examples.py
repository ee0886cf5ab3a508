"""Every filter example in README.md and docs/ matches readings in the demo: a new user tried
`asset:1111` from the README on `flux-tui demo` and got an empty log (no such unit there).

The examples are found in the text (so a new one is checked too): the `query` column of
docs/filter-language.md's table, the backticked queries after "e.g." on README lines about
the filter, the field terms of its "Combining" section, `compile_query("…")` calls, the
`"filter": "…"` of session metadata and every `--filter '…'` in a command. They run against the demo's own simulator, its clock
set to 14:20 today (the table has `since:14:00 until:14:30`), read from the oldest record.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import pytest

from flux_tui.config import load_config
from flux_tui.connect import DEMO_AUTH0_OPTIONS, open_feed
from flux_tui.data.query import compile_query
from flux_tui.feed.types import Batch, Reading
from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.settings import SimSettings

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _section(text: str, title: str) -> str:
    start = text.find(f"\n## {title}")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def filter_examples() -> list[tuple[str, str]]:
    """(file name, query) for every filter example in the README and docs/."""
    found: list[tuple[str, str]] = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        queries: list[str] = []
        table = _section(text, "Examples")
        if "| query |" in table:
            queries += re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE)
        for line in text.splitlines():
            if "filter" in line and "e.g." in line:
                listed = re.search(r"e\.g\. ((?:`[^`]+`(?:, )?)+)", line)
                if listed:
                    queries += [q.strip("'") for q in re.findall(r"`([^`]+)`", listed[1])]
        combining = _section(text, "Combining")
        queries += [q for q in re.findall(r"`([^`]+)`", combining) if ":" in q]
        queries += re.findall(r'compile_query\("([^"]+)"', text)
        queries += re.findall(r'"filter": "([^"]+)"', text)
        queries += re.findall(r"--filter '([^']+)'", text)
        found += [(path.name, q) for q in dict.fromkeys(queries)]
    return found


EXAMPLES = filter_examples()


def test_the_examples_are_found() -> None:
    """The extraction itself: the documented examples are there to check."""
    queries = [q for _, q in EXAMPLES]
    assert len(EXAMPLES) >= 15, EXAMPLES
    assert "asset:1131 label:pressure" in queries  # the table
    assert "asset:1131 val>100" in queries  # README --filter and compile_query
    assert "asset:1131 (label:pressure OR val>100) -tag:*status*" in queries  # README /
    assert 'site:"pad 7" NOT alarm' in queries


async def _read_demo() -> tuple[list[Reading], object, float]:
    today = datetime.now().replace(hour=14, minute=20, second=0, microsecond=0)
    profile = load_config(env={}).profile("demo")
    # the clock stands still at 14:20: per-shard read limits (per simulated second) would
    # never free up, so they are lifted for this read
    settings = SimSettings(company=profile.company or "demo",
                           auth0_options=dict(DEMO_AUTH0_OPTIONS),
                           shard_reads_per_second=10_000,
                           shard_read_bytes_per_second=1 << 40)
    simulator = Simulator(settings, SimClock.manual_at(today.timestamp()))
    readings: list[Reading] = []
    async with await open_feed(profile, start="trim-horizon", simulator=simulator) as feed:
        await feed.names.refresh()
        async for item in feed.reader:
            if isinstance(item, Batch):
                readings += item.readings
            if feed.reader.caught_up:
                break
        return readings, feed.names, simulator.clock.now()


@pytest.fixture(scope="module")
def demo_readings() -> tuple[list[Reading], object, float]:
    """The demo's backlog (two minutes before 14:20 today, local time) and its names."""
    return asyncio.run(_read_demo())


@pytest.mark.parametrize(("source", "query"), EXAMPLES,
                         ids=[f"{s}:{q}" for s, q in EXAMPLES])
def test_every_filter_example_matches_readings_in_the_demo(
        demo_readings: tuple[list[Reading], object, float], source: str, query: str) -> None:
    readings, names, now = demo_readings
    keep = compile_query(query, names, now=now).matches  # type: ignore[arg-type]
    matched = sum(1 for r in readings if keep(r))
    assert matched >= 1, f"{source}: {query!r} matches none of {len(readings)} demo readings"
