"""Which side panels show: the tree from 100 columns, the sparklines from 30 rows, unless the
user toggled one since the terminal last crossed that panel's threshold. So a given size
shows the same panels whatever the resize history was (a choice made at 80 columns does not
outlive a resize to 120 and back)."""

from __future__ import annotations

__all__ = ["NARROW", "SHORT", "PanelChoices"]

NARROW = 100  # below this width the tree is hidden
SHORT = 30  # below this height the sparkline panel is hidden


class PanelChoices(dict[str, bool]):
    """The user's panel toggles (``"tree"``, ``"sparks"``), dropped when the size class
    they were made in ends."""

    def __init__(self) -> None:
        super().__init__()
        self._size_class: tuple[bool, bool] | None = None

    def for_size(self, width: int, height: int) -> dict[str, bool]:
        """The panels to show at ``width`` × ``height``."""
        wide, tall = width >= NARROW, height >= SHORT
        if self._size_class is not None:
            if wide != self._size_class[0]:
                self.pop("tree", None)
            if tall != self._size_class[1]:
                self.pop("sparks", None)
        self._size_class = (wide, tall)
        return {"tree": self.get("tree", wide), "sparks": self.get("sparks", tall)}
