"""The viewer's shipped themes (TOML), installed as the package ``flux_tui.themes``."""
