"""flux_tui.ui layer."""
