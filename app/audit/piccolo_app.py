import os

from piccolo.conf.apps import AppConfig

from app.audit.tables import AuditEntry, AuditPending

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[AuditEntry, AuditPending],
)
