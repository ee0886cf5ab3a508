"""flux_tui.data: the live store (``store/``), the filter language (``query/``), session
files (``session/``) and the formats they share (``formats.py``)."""
