"""flux_tui.api layer."""
