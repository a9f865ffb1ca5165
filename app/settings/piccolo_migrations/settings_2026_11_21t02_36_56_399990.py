from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-21T02:36:56:399990"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="settings", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="BusinessSettings",
        tablename="business_settings",
        column_name="credit_note_number_pattern",
        db_column_name="credit_note_number_pattern",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": "CN-{year}-{seq:04}",
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
        column_name="default_terms",
        db_column_name="default_terms",
        column_class_name="Text",
        column_class=Text,
        params={
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
        column_name="invoice_number_pattern",
        db_column_name="invoice_number_pattern",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": "INV-{year}-{seq:04}",
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
        column_name="quote_number_pattern",
        db_column_name="quote_number_pattern",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 40,
            "default": "QUO-{year}-{seq:04}",
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
        column_name="quote_validity_days",
        db_column_name="quote_validity_days",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 30,
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
