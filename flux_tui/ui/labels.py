"""Fitting names into narrow columns so that what tells them apart stays visible."""

from __future__ import annotations

from typing import Any

from flux_tui.data.formats import safe_text

__all__ = ["clip_apart", "clip_middle", "unit_label"]


def unit_label(names: Any, asset_id: Any) -> str:
    """The unit's name from the asset lookup when known, else its id, as literal text."""
    if names is not None:
        try:
            name = names.asset_name(asset_id)
        except Exception:  # noqa: BLE001 - names are a nicety: never break a panel or a line
            name = None
        if name:
            return safe_text(str(name))
    return safe_text(str(asset_id))


def clip_middle(text: str, width: int, tail: int | None = None) -> str:
    """``text`` in at most ``width`` cells: long names lose their middle, not their end
    ("Valve Loaded Position #3" → "Valve Lo…sition #3"), because tags of one unit often
    share a long prefix and differ only at the end."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if tail is None:
        tail = max(1, (width - 1) * 2 // 5)  # the end tells similar names apart
    tail = min(tail, width - 1)
    head = width - 1 - tail
    return text[:head] + "…" + text[-tail:]


def clip_apart(names: list[str], width: int) -> list[str]:
    """Each of ``names`` clipped to ``width`` (see :func:`clip_middle`), keeping more of the
    end where the usual clipping makes siblings look the same ("Exhaust Temperature Left
    Bank" and "… Right Bank" → "Exhaus… Left Bank", "Exhau…Right Bank")."""
    clipped = [clip_middle(n, width) for n in names]
    seen: dict[str, list[int]] = {}
    for i, c in enumerate(clipped):
        seen.setdefault(c, []).append(i)
    for same in seen.values():
        if len(same) < 2 or len({names[i] for i in same}) < 2:
            continue
        for tail in range(max(1, (width - 1) * 2 // 5) + 1, width):
            tries = [clip_middle(names[i], width, tail) for i in same]
            if len(set(tries)) == len(tries):
                break
        for i, t in zip(same, tries):
            clipped[i] = t
    return clipped
