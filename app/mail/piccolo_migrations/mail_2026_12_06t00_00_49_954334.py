from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T00:00:49:954334"
VERSION = "1.38.0"
DESCRIPTION = "Mail settings: the owner's consent to send the SMTP password unencrypted"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="mail", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="MailSettings",
        tablename="mail_settings",
        column_name="smtp_allow_unencrypted_password",
        db_column_name="smtp_allow_unencrypted_password",
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
