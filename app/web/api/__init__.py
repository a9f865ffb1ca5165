"""The JSON API under /api/v1, with its msgspec DTOs."""

from . import (
    audit,
    auth,
    catalog,
    clients,
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

__all__ = ["audit", "auth", "catalog", "clients", "documents", "exports", "ledger", "mail", "payments", "receivables", "render", "reports", "settings", "taxes"]
