import os

from piccolo.conf.apps import AppConfig

from app.settings.tables import BusinessSettings

APP_CONFIG = AppConfig(
    app_name="settings",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[BusinessSettings],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
