"""The simulator rig fixture, shared by the feed tests that run against the simulator."""

from test_feed_against_sim import make_rig

__all__ = ["make_rig"]
