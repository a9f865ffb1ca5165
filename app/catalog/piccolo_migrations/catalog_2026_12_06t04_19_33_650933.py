from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T04:19:33:650933"
VERSION = "1.38.0"
DESCRIPTION = "tax category of catalogue items (rules by place of supply)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="catalog", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Item",
        tablename="catalog_item",
        column_name="tax_category",
        db_column_name="tax_category",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 10,
            "default": "standard",
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
