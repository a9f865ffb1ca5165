import os

from piccolo.conf.apps import AppConfig

from app.reminders.tables import (
    ClientDunning,
    DunningLevel,
    DunningSettings,
    Reminder,
    ReminderItem,
    ReminderPayment,
    ReminderSeries,
)

APP_CONFIG = AppConfig(
    app_name="reminders",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[DunningSettings, DunningLevel, ReminderSeries, Reminder, ReminderItem, ReminderPayment,
                   ClientDunning],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
