"""flux-tui: a terminal live viewer for the Flux Realtime API.

The core (``flux_tui.api``, ``flux_tui.feed``, ``flux_tui.data``) is usable as a library
without Textual; ``flux_tui.ui`` is the terminal interface, ``flux_tui.sim`` the simulator.
"""

__version__ = "0.1.0"
