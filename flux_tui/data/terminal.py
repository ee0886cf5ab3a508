"""The one sanitizer for text that reaches a terminal.

Labels, asset ids, server messages, file names and the like are untrusted: an ``ESC``,
``BEL`` or C1 byte in them could set the clipboard (OSC 52), the window title (OSC 2) or
clear the screen. :func:`terminal_safe` turns every control character (C0, DEL, C1) and every
bidi override into a visible placeholder, so the text is shown literally and cannot act.
It imports nothing of the project: every layer (cli, ui, config errors) can use it.
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDER", "has_control", "terminal_safe"]

# C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates
# and the marks that reorder text (LRM/RLM/ALM).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_CONTROL_KEEP_NEWLINES = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

PLACEHOLDER = "\ufffd"
"""What a C1 control or a bidi control becomes (C0 and DEL get their Unicode picture)."""


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␛ (ESC) … ␟: the Unicode "control pictures"
    if code == 0x7F:
        return "\u2421"  # ␡
    return PLACEHOLDER


def terminal_safe(text: str, *, newlines: bool = False) -> str:
    """``text`` with every control and bidi character replaced by a visible placeholder.

    ``newlines=True`` keeps ``\\n`` (multi-line messages such as a filter's caret line);
    everything else, ``\\r`` and ``\\t`` included, is always replaced.
    """
    pattern = _CONTROL_KEEP_NEWLINES if newlines else _CONTROL
    if pattern.search(text) is None:  # the common case: no copy
        return text
    return pattern.sub(_picture, text)


def has_control(text: str) -> bool:
    """True when :func:`terminal_safe` would change ``text``."""
    return _CONTROL.search(text) is not None
