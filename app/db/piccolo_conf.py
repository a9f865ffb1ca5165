"""Piccolo's configuration: the engine and every domain app with tables.

Used by `piccolo migrations ...` at development time (PICCOLO_CONF=app.db.piccolo_conf)
and by the migration runner at start.
"""

from piccolo.conf.apps import AppRegistry

from app.db.engine import DB

APP_REGISTRY = AppRegistry(
    apps=[
        "app.audit.piccolo_app",   # first: every other app's triggers write into its table
        "app.settings.piccolo_app",
        "app.auth.piccolo_app",
        "app.clients.piccolo_app",
        "app.catalog.piccolo_app",
        "app.taxes.piccolo_app",
        "app.fx.piccolo_app",      # exchange rates, base currency, bank accounts (issue 16)
        "app.documents.piccolo_app",
        "app.ledger.piccolo_app",
        "app.payments.piccolo_app",
        "app.backup.piccolo_app",
        "app.mail.piccolo_app",
        "app.projects.piccolo_app",
        "app.recurring.piccolo_app",
        "app.reminders.piccolo_app",
        "app.expenses.piccolo_app",
        "app.imports.piccolo_app",
    ]
)

__all__ = ["APP_REGISTRY", "DB"]
