"""flux_tui.cli layer."""
