"""Suite-wide settings and fixtures.

Hypothesis explores new examples on every developer run, but CI replays a fixed sequence
(``derandomize``): a submission must not fail on an example nobody has seen yet. Failures
found locally are kept in ``.hypothesis/`` and replayed first.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def short_demo_history(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process demo without its 30 minutes of older history: ``--from trim-horizon``
    then reads the 2-minute backlog (about 24,000 readings) instead of generating and
    reading some 370,000 (15-20 s a test on a shared machine). For tests of what a command
    does with a backlog, not of how far back the demo reaches."""
    from flux_tui import connect

    monkeypatch.setattr(connect, "DEMO_HISTORY_SECONDS", 0.0)
