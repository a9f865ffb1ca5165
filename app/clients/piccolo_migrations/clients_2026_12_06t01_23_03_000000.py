"""Hand-written (build/audit_migration.py, the client part): the audit trail's triggers on client,
re-created after the migration before it added electronic_address and electronic_address_scheme, so
that changes to the two new columns are recorded too.

Piccolo runs a migration's raw SQL before its added columns, so the triggers, which name every
column, are re-created here, in the migration right after the ALTER TABLE. The rows already there
keep their baseline entries: a column the trail has not recorded yet is not compared by `counterfoil
check` until its first change is.

Copied here, not imported from the tables module: tests/unit/test_migrations.py proves the two agree.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T01:23:03:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit trail triggers on client re-created with the electronic address columns"

CREATE = [
    'CREATE TRIGGER audit_client_insert AFTER INSERT ON "client" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'insert\', \'client\', new.id, NULL, NULL, json_object(\'code\', new."code", \'name\', new."name", \'status\', new."status", \'contact_name\', new."contact_name", \'email\', new."email", \'phone\', new."phone", \'address_line1\', new."address_line1", \'address_line2\', new."address_line2", \'postal_code\', new."postal_code", \'city\', new."city", \'region\', new."region", \'country\', new."country", \'currency\', new."currency", \'language\', new."language", \'tax_number\', new."tax_number", \'buyer_reference\', new."buyer_reference", \'electronic_address\', new."electronic_address", \'electronic_address_scheme\', new."electronic_address_scheme", \'notes\', new."notes", \'created_at\', new."created_at", \'updated_at\', new."updated_at", \'archived_at\', new."archived_at")); END',
    'CREATE TRIGGER audit_client_update AFTER UPDATE ON "client" WHEN old."id" IS NOT new."id" OR old."code" IS NOT new."code" OR old."name" IS NOT new."name" OR old."status" IS NOT new."status" OR old."contact_name" IS NOT new."contact_name" OR old."email" IS NOT new."email" OR old."phone" IS NOT new."phone" OR old."address_line1" IS NOT new."address_line1" OR old."address_line2" IS NOT new."address_line2" OR old."postal_code" IS NOT new."postal_code" OR old."city" IS NOT new."city" OR old."region" IS NOT new."region" OR old."country" IS NOT new."country" OR old."currency" IS NOT new."currency" OR old."language" IS NOT new."language" OR old."tax_number" IS NOT new."tax_number" OR old."buyer_reference" IS NOT new."buyer_reference" OR old."electronic_address" IS NOT new."electronic_address" OR old."electronic_address_scheme" IS NOT new."electronic_address_scheme" OR old."notes" IS NOT new."notes" OR old."created_at" IS NOT new."created_at" OR old."updated_at" IS NOT new."updated_at" OR old."archived_at" IS NOT new."archived_at" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'update\', \'client\', new.id, NULL, NULL, (SELECT json_group_object(k, json(v)) FROM (SELECT \'id\' AS k, json_array(old."id", new."id") AS v WHERE old."id" IS NOT new."id" UNION ALL SELECT \'code\' AS k, json_array(old."code", new."code") AS v WHERE old."code" IS NOT new."code" UNION ALL SELECT \'name\' AS k, json_array(old."name", new."name") AS v WHERE old."name" IS NOT new."name" UNION ALL SELECT \'status\' AS k, json_array(old."status", new."status") AS v WHERE old."status" IS NOT new."status" UNION ALL SELECT \'contact_name\' AS k, json_array(old."contact_name", new."contact_name") AS v WHERE old."contact_name" IS NOT new."contact_name" UNION ALL SELECT \'email\' AS k, json_array(old."email", new."email") AS v WHERE old."email" IS NOT new."email" UNION ALL SELECT \'phone\' AS k, json_array(old."phone", new."phone") AS v WHERE old."phone" IS NOT new."phone" UNION ALL SELECT \'address_line1\' AS k, json_array(old."address_line1", new."address_line1") AS v WHERE old."address_line1" IS NOT new."address_line1" UNION ALL SELECT \'address_line2\' AS k, json_array(old."address_line2", new."address_line2") AS v WHERE old."address_line2" IS NOT new."address_line2" UNION ALL SELECT \'postal_code\' AS k, json_array(old."postal_code", new."postal_code") AS v WHERE old."postal_code" IS NOT new."postal_code" UNION ALL SELECT \'city\' AS k, json_array(old."city", new."city") AS v WHERE old."city" IS NOT new."city" UNION ALL SELECT \'region\' AS k, json_array(old."region", new."region") AS v WHERE old."region" IS NOT new."region" UNION ALL SELECT \'country\' AS k, json_array(old."country", new."country") AS v WHERE old."country" IS NOT new."country" UNION ALL SELECT \'currency\' AS k, json_array(old."currency", new."currency") AS v WHERE old."currency" IS NOT new."currency" UNION ALL SELECT \'language\' AS k, json_array(old."language", new."language") AS v WHERE old."language" IS NOT new."language" UNION ALL SELECT \'tax_number\' AS k, json_array(old."tax_number", new."tax_number") AS v WHERE old."tax_number" IS NOT new."tax_number" UNION ALL SELECT \'buyer_reference\' AS k, json_array(old."buyer_reference", new."buyer_reference") AS v WHERE old."buyer_reference" IS NOT new."buyer_reference" UNION ALL SELECT \'electronic_address\' AS k, json_array(old."electronic_address", new."electronic_address") AS v WHERE old."electronic_address" IS NOT new."electronic_address" UNION ALL SELECT \'electronic_address_scheme\' AS k, json_array(old."electronic_address_scheme", new."electronic_address_scheme") AS v WHERE old."electronic_address_scheme" IS NOT new."electronic_address_scheme" UNION ALL SELECT \'notes\' AS k, json_array(old."notes", new."notes") AS v WHERE old."notes" IS NOT new."notes" UNION ALL SELECT \'created_at\' AS k, json_array(old."created_at", new."created_at") AS v WHERE old."created_at" IS NOT new."created_at" UNION ALL SELECT \'updated_at\' AS k, json_array(old."updated_at", new."updated_at") AS v WHERE old."updated_at" IS NOT new."updated_at" UNION ALL SELECT \'archived_at\' AS k, json_array(old."archived_at", new."archived_at") AS v WHERE old."archived_at" IS NOT new."archived_at"))); END',
    'CREATE TRIGGER audit_client_delete AFTER DELETE ON "client" BEGIN INSERT INTO audit_pending (at, operation, entity, entity_id, parent_entity, parent_id, changes) VALUES (strftime(\'%Y-%m-%dT%H:%M:%fZ\', \'now\'), \'delete\', \'client\', old.id, NULL, NULL, json_object(\'code\', old."code", \'name\', old."name", \'status\', old."status", \'contact_name\', old."contact_name", \'email\', old."email", \'phone\', old."phone", \'address_line1\', old."address_line1", \'address_line2\', old."address_line2", \'postal_code\', old."postal_code", \'city\', old."city", \'region\', old."region", \'country\', old."country", \'currency\', old."currency", \'language\', old."language", \'tax_number\', old."tax_number", \'buyer_reference\', old."buyer_reference", \'electronic_address\', old."electronic_address", \'electronic_address_scheme\', old."electronic_address_scheme", \'notes\', old."notes", \'created_at\', old."created_at", \'updated_at\', old."updated_at", \'archived_at\', old."archived_at")); END',
]

DROP = [
    'DROP TRIGGER IF EXISTS audit_client_insert',
    'DROP TRIGGER IF EXISTS audit_client_update',
    'DROP TRIGGER IF EXISTS audit_client_delete',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="clients", description=DESCRIPTION)

    async def create():
        from app.db.engine import DB

        for statement in [*DROP, *CREATE]:
            await DB.run_ddl(statement)

    async def drop():
        from app.db.engine import DB

        for statement in DROP:
            await DB.run_ddl(statement)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
