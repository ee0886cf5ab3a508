"""Fitting names into narrow columns so that what tells them apart stays visible (the rules
are in :mod:`flux_tui.data.label_fit`, shared with the tail table)."""

from __future__ import annotations

from typing import Any

from flux_tui.data.formats import safe_text
from flux_tui.data.label_fit import fit_apart, fit_label

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


def clip_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells: abbreviated word by word, then whole words left
    out with an ellipsis where they were (never inside a word); see
    :mod:`flux_tui.data.label_fit`."""
    return fit_label(text, width)


def clip_apart(names: list[str], width: int) -> list[str]:
    """Each of ``names`` fitted to ``width``, keeping the words that tell siblings apart
    ("Exhaust Temperature Left Bank" / "… Right Bank" → "Exh…Left Bank" / "…Right Bank")."""
    return fit_apart(names, width)
