"""One module per domain: its server-rendered pages, forms and downloads (the JSON API is in app/web/api)."""
