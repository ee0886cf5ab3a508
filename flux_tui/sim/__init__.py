"""flux_tui.sim layer."""
