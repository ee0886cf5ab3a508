"""How fast the simulator's fleet generates readings (target: >= 20,000 readings/s of wall time).

Run: python benchmarks/bench_sim_telemetry.py [--rate 50000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import time

from flux_tui.sim.telemetry import Fleet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50_000.0, help="readings/s of sim time")
    parser.add_argument("--seconds", type=int, default=20, help="sim seconds to generate")
    args = parser.parse_args()
    t0 = 1_764_000_000_000
    for rate in (None, args.rate):
        fleet = Fleet(rate=rate)
        span = args.seconds * 1000 if rate else 600_000
        started = time.perf_counter()
        n = sum(1 for _ in fleet.generate(t0, t0 + span))
        wall = time.perf_counter() - started
        label = "default" if rate is None else f"{rate:,.0f}/s"
        print(f"rate {label:>12}: {n:>9,} readings in {wall:6.2f} s wall"
              f" = {n / wall:>10,.0f} readings/s generated ({n / (span / 1000):,.0f}/s sim)")


if __name__ == "__main__":
    main()
