"""Fitting names into narrow columns so that what tells them apart stays visible."""

from __future__ import annotations

__all__ = ["clip_middle"]


def clip_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells: long names lose their middle, not their end
    ("Valve Loaded Position #3" → "Valve Lo…sition #3"), because tags of one unit often
    share a long prefix and differ only at the end."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = max(1, (width - 1) * 2 // 5)  # the end tells similar names apart
    head = width - 1 - tail
    return text[:head] + "…" + text[-tail:]
