import os

from piccolo.conf.apps import AppConfig

from app.payments.tables import CreditApplication, Payment, PaymentTally, Refund

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Payment, CreditApplication, Refund, PaymentTally],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
