"""Suite-wide settings.

Hypothesis explores new examples on every developer run, but CI replays a fixed sequence
(``derandomize``): a submission must not fail on an example nobody has seen yet. Failures
found locally are kept in ``.hypothesis/`` and replayed first.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
