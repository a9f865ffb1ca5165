import os

from piccolo.conf.apps import AppConfig

from app.taxes.tables import Tax

APP_CONFIG = AppConfig(
    app_name="taxes",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Tax],
)
