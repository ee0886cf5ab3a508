"""Session files: what a recording or a save writes, and what ``open`` reads back.

The data file is plain JSONL or CSV (optionally ``.gz``) that jq, pandas and DuckDB open
as is; the metadata lives beside it in ``<file>.meta.json``. ``docs/session-files.md``
describes both. Writing is in :mod:`session_write`, reading in :mod:`session_read`, the
compact index for large files in :mod:`session_index`.
"""

from flux_tui.data.session_index import SessionIndex
from flux_tui.data.session_read import SessionFile, open_session
from flux_tui.data.session_write import (
    FLUSH_INTERVAL,
    SessionWriteError,
    SessionWriter,
    session_format,
    sidecar_path,
)

__all__ = [
    "FLUSH_INTERVAL",
    "SessionFile",
    "SessionIndex",
    "SessionWriteError",
    "SessionWriter",
    "open_session",
    "session_format",
    "sidecar_path",
]
