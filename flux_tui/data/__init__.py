"""flux_tui.data layer."""
