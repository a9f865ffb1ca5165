import os

from piccolo.conf.apps import AppConfig

from app.documents.tables import (
    CreateRequest,
    Document,
    DocumentEvent,
    DocumentLine,
    DocumentRecord,
    DocumentTally,
    NumberSeries,
    SearchTally,
    SearchTerm,
)

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Document, DocumentLine, NumberSeries, DocumentEvent, CreateRequest, DocumentRecord, DocumentTally,
                   SearchTerm, SearchTally],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
