"""The foundations under every layer: the error base (:mod:`.errors`), the app's name, its
folders and the private atomic write (:mod:`.files`), and the feed's events that the API
client and the reader both report (:mod:`.events`). Imports nothing else of flux_tui."""
