from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-21T04:04:50:774213"
VERSION = "1.38.0"
DESCRIPTION = "business_settings.use_custom_templates"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="settings", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="BusinessSettings",
        tablename="business_settings",
        column_name="use_custom_templates",
        db_column_name="use_custom_templates",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
