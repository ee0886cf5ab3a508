"""``python -m flux_tui`` runs the command line."""

from flux_tui.cli.main import main

raise SystemExit(main())
