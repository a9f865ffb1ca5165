"""Hand-written, after the migration that gave API tokens a scope: a token made before scopes keeps
the power it had. It acted as its user, so the owner's tokens become `owner` and the others
`write` (the column's default). Then the CHECK that a scope is one of the three (app.db.constraints
rebuilds the table to add it).

Copied here, not imported from app.auth.tables: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T22:44:46:000000"
VERSION = "1.38.0"
DESCRIPTION = "API tokens from before scopes keep their power; CHECK on the scope"

CHECKS = {
    "api_token": {
        "api_token_scope_known": "scope IN ('read', 'write', 'owner')",
    },
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="auth", description=DESCRIPTION)

    async def keep_their_power():
        from piccolo.querystring import QueryString

        from app.db.constraints import add_checks
        from app.db.engine import DB

        await DB.run_querystring(QueryString(
            "UPDATE api_token SET scope = 'owner' WHERE \"user\" IN (SELECT id FROM app_user WHERE role = 'owner')"))
        for table, checks in CHECKS.items():
            await add_checks(table, checks)

    manager.add_raw(keep_their_power)
    return manager
