"""flux_tui.sim: the embedded Flux simulator (Auth0, Realtime, Enterprise Objects), the demo
default and the test backend. ``Simulator(SimSettings())`` gives an ASGI app and its control.

The names load with their module on first use (:mod:`flux_tui.base.lazy`): ``flux-tui sim``'s
options need only :mod:`flux_tui.sim.settings`, not the whole ASGI app.
"""

from typing import TYPE_CHECKING

from flux_tui.base.lazy import lazy_exports

if TYPE_CHECKING:
    from flux_tui.sim.app import Simulator
    from flux_tui.sim.clock import SimClock
    from flux_tui.sim.control import SimControl
    from flux_tui.sim.faults import BadRecord, Fault
    from flux_tui.sim.parts import Counters
    from flux_tui.sim.settings import ReshardStep, SimSettings

__getattr__ = lazy_exports(__name__, {
    "BadRecord": "flux_tui.sim.faults",
    "Counters": "flux_tui.sim.parts",
    "Fault": "flux_tui.sim.faults",
    "ReshardStep": "flux_tui.sim.settings",
    "SimClock": "flux_tui.sim.clock",
    "SimControl": "flux_tui.sim.control",
    "SimSettings": "flux_tui.sim.settings",
    "Simulator": "flux_tui.sim.app",
})

__all__ = [
    "BadRecord",
    "Counters",
    "Fault",
    "ReshardStep",
    "SimClock",
    "SimControl",
    "SimSettings",
    "Simulator",
]
