import os

from piccolo.conf.apps import AppConfig

from app.fx.tables import BankAccount, ExchangeRate, FxSettings

APP_CONFIG = AppConfig(
    app_name="fx",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[FxSettings, ExchangeRate, BankAccount],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
