"""flux_tui.feed layer."""
