"""flux_tui.sim: the embedded Flux simulator (Auth0, Realtime, Enterprise Objects), the demo
default and the test backend. ``Simulator(SimSettings())`` gives an ASGI app and its control.
"""

from flux_tui.sim.app import Simulator
from flux_tui.sim.clock import SimClock
from flux_tui.sim.control import SimControl
from flux_tui.sim.faults import BadRecord, Fault
from flux_tui.sim.parts import Counters
from flux_tui.sim.settings import ReshardStep, SimSettings

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
