"""One module per domain: its server-rendered pages, forms and downloads (the JSON API is in app/web/api)."""

from . import (
    audit,
    auth,
    backup,
    batch,
    catalog,
    clients,
    dashboard,
    documents,
    exports,
    ledger,
    mail,
    payments,
    receivables,
    render,
    reports,
    settings,
    taxes,
)

__all__ = ["audit", "auth", "backup", "batch", "catalog", "clients", "dashboard", "documents", "exports", "ledger", "mail", "payments", "receivables", "render", "reports", "settings", "taxes"]
