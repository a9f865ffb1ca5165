"""One module per domain: its routes (server-rendered pages and, for now, its JSON API)."""
