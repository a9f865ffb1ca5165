import os

from piccolo.conf.apps import AppConfig

from app.expenses.tables import Books, Expense, ExpenseCategory, ExpenseSplit, Receipt, Vendor

APP_CONFIG = AppConfig(
    app_name="expenses",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Vendor, ExpenseCategory, Expense, ExpenseSplit, Receipt, Books],
    # Its audit triggers write into the trail's table: that app's migrations run first.
    migration_dependencies=["app.audit.piccolo_app"],
)
