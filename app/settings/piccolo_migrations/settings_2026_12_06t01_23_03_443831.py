from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T01:23:03:443831"
VERSION = "1.38.0"
DESCRIPTION = "electronic address (EN 16931 BT-34/BT-49) and its EAS scheme"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="settings", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="BusinessSettings",
        tablename="business_settings",
        column_name="electronic_address",
        db_column_name="electronic_address",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 100,
            "default": "",
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

    manager.add_column(
        table_class_name="BusinessSettings",
        tablename="business_settings",
        column_name="electronic_address_scheme",
        db_column_name="electronic_address_scheme",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 4,
            "default": "",
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
