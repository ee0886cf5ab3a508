"""Session files: what a recording or a save writes, and what ``open`` reads back.

The data file is plain JSONL or CSV (optionally ``.gz``) that jq, pandas and DuckDB open
as is; the metadata lives beside it in ``<file>.meta.json``. ``docs/session-files.md``
describes both. Writing is in :mod:`.write`, reading in :mod:`.read`, the compact index for large files
in :mod:`.index`, Parquet in ``parquet_*``; the recorder and the replay are here too.
"""

from flux_tui.data.session import parquet_read, read
from flux_tui.data.session.index import SessionIndex
from flux_tui.data.session.read import SessionFile, open_session
from flux_tui.data.session.write import (
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

# open_session (and so `flux-tui open`, the viewer's o, export) also opens Parquet.
read.OPENERS.append(parquet_read.open_if_parquet)
