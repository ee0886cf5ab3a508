"""Read what the app shows as plain text (for assertions a user would make by looking)."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App) -> str:
    """The whole screen as lines of text."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip).rstrip() for strip in strips)
