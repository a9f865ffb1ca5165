import os

from piccolo.conf.apps import AppConfig

from app.recurring.tables import RecurringProfile, RecurringRun

APP_CONFIG = AppConfig(
    app_name="recurring",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[RecurringProfile, RecurringRun],
    # Its tables refer to clients, documents and outbox messages; its triggers write into the trail.
    migration_dependencies=["app.audit.piccolo_app", "app.clients.piccolo_app", "app.documents.piccolo_app",
                            "app.mail.piccolo_app"],
)
