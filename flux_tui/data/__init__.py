"""flux_tui.data layer."""

from flux_tui.data import parquet_read, session_read

# open_session (and so `flux-tui open`, the viewer's o, export) also opens Parquet.
session_read.OPENERS.append(parquet_read.open_if_parquet)
