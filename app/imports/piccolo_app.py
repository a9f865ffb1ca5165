import os

from piccolo.conf.apps import AppConfig

from app.imports.tables import ImportJob, ImportKey, ImportMapping

APP_CONFIG = AppConfig(
    app_name="imports",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ImportJob, ImportMapping, ImportKey],
    migration_dependencies=["app.audit.piccolo_app"],
)
