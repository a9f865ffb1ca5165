import os

from piccolo.conf.apps import AppConfig

from app.projects.tables import (
                                 DefaultRate,
                                 Project,
                                 ProjectExpense,
                                 ProjectInvoice,
                                 ProjectTask,
                                 RunningTimer,
                                 TimeEntry,
)

APP_CONFIG = AppConfig(
    app_name="projects",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Project, ProjectTask, DefaultRate, TimeEntry, RunningTimer, ProjectInvoice, ProjectExpense],
    # Its audit triggers write into the trail's table, its rows point at clients, users, documents and expenses.
    migration_dependencies=["app.audit.piccolo_app", "app.auth.piccolo_app", "app.clients.piccolo_app",
                            "app.documents.piccolo_app", "app.expenses.piccolo_app"],
)
