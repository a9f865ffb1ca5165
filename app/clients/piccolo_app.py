import os

from piccolo.conf.apps import AppConfig

from app.clients.tables import Client

APP_CONFIG = AppConfig(
    app_name="clients",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Client],
)
