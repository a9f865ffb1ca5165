"""Every table of the schema is audited, or named with a reason in app.audit.logic.NOT_AUDITED.

"Every change is recorded" holds by construction: each table's triggers write the entries, so a
service cannot forget to. This test keeps it so when a table is added: it fails, naming the table,
until the table's domain declares `audited(...)` in its EXTRA_SQL (and a migration creates the
triggers, which tests/unit/test_migrations.py then holds in step).
"""

from __future__ import annotations

import sys

from piccolo.columns import Bytea

from app.audit import logic
from app.audit.tables import AUDITED
from app.db.piccolo_conf import APP_REGISTRY


def tables():
    return [table for config in APP_REGISTRY.app_configs.values() for table in config.table_classes]


def test_every_table_is_audited_or_says_why_not():
    problems = []
    for table in tables():
        name = table._meta.tablename
        declared = getattr(sys.modules[table.__module__], "EXTRA_SQL", {})
        if name in logic.NOT_AUDITED:
            assert name not in AUDITED, f"{name} is audited and also listed as not audited"
            continue
        missing = [trigger for trigger in logic.trigger_names(name) if trigger not in declared]
        if missing or name not in AUDITED:
            problems.append(f"{name}: declare audited({table.__name__}) in {table.__module__}.EXTRA_SQL")
    assert not problems, "\n".join(problems)


def test_what_is_not_audited_exists_and_is_explained():
    names = {table._meta.tablename for table in tables()} | {"migration"}
    assert set(logic.NOT_AUDITED) <= names
    assert all(len(reason) > 20 for reason in logic.NOT_AUDITED.values())


def test_the_declared_triggers_are_the_ones_built_from_the_tables_as_they_are():
    """A column added to a table changes its triggers (then the migrations test asks for a migration)."""
    for table in tables():
        spec = AUDITED.get(table._meta.tablename)
        if spec is None:
            continue
        assert spec.columns == tuple(column._meta.db_column_name for column in table._meta.columns)
        declared = sys.modules[table.__module__].EXTRA_SQL
        for name, statement in logic.trigger_statements(spec).items():
            assert declared[name] == statement


def test_bytes_are_never_recorded_and_secrets_never_shown():
    for table in tables():
        spec = AUDITED.get(table._meta.tablename)
        if spec is None:
            continue
        for column in table._meta.columns:
            if isinstance(column, Bytea):
                assert column._meta.db_column_name in spec.ignored, f"{spec.table}.{column._meta.db_column_name}"
    assert {"password_hash"} <= AUDITED["app_user"].secrets
    assert {"token_hash"} <= AUDITED["api_token"].secrets and {"token_hash"} <= AUDITED["launch_token"].secrets
    assert {"smtp_password"} <= AUDITED["mail_settings"].secrets
    assert "last_used_at" in AUDITED["api_token"].ignored   # it moves on every request


def test_a_record_s_parts_belong_to_its_history():
    assert AUDITED["document_line"].parent == ("document", "document")
    assert AUDITED["payment"].parent == ("invoice", "document")
    assert AUDITED["ledger_entry"].parent == ("document_id", "document")
    assert AUDITED["refund"].parent == ("client", "client")
