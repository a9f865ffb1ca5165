import os

from piccolo.conf.apps import AppConfig

from app.auth.tables import ApiToken, LaunchToken, LoginAttempt, Session, User

APP_CONFIG = AppConfig(
    app_name="auth",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[User, Session, ApiToken, LoginAttempt, LaunchToken],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
