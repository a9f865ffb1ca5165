"""The audit trail's rules (app.audit.logic): the triggers' SQL, what an entry means, the chain."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.audit import logic
from app.audit.logic import Actor, AuditedTable, Head
from app.common.logic import ValidationFailed

# -- the triggers, run on a real SQLite ------------------------------------------------------------

PENDING_TABLE = ("CREATE TABLE audit_pending (id INTEGER PRIMARY KEY, at TEXT, operation TEXT, entity TEXT, "
                 "entity_id INTEGER, parent_entity TEXT, parent_id INTEGER, changes TEXT, note TEXT, action TEXT)")
ACCOUNT = AuditedTable("account", ("id", "owner", "email", "password_hash", "api_secret", "search_text", "photo"),
                       secret=frozenset({"api_secret"}), ignored=frozenset({"search_text", "photo"}),
                       parent=("owner", "person"))


@pytest.fixture
def database() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute(PENDING_TABLE)
    connection.execute('CREATE TABLE account (id INTEGER PRIMARY KEY, owner INTEGER, email TEXT, password_hash TEXT, '
                       'api_secret TEXT, search_text TEXT, photo BLOB)')
    for statement in logic.trigger_statements(ACCOUNT).values():
        connection.execute(statement)
    return connection


def entries(connection: sqlite3.Connection) -> list[tuple]:
    return [(op, entity, entity_id, parent, parent_id, json.loads(changes)) for op, entity, entity_id, parent,
            parent_id, changes in connection.execute(
                "SELECT operation, entity, entity_id, parent_entity, parent_id, changes FROM audit_pending ORDER BY id")]


def test_an_insert_records_the_row_without_secrets_ignored_columns_or_bytes(database):
    database.execute("INSERT INTO account (owner, email, password_hash, api_secret, search_text, photo) "
                     "VALUES (7, 'ann@example.com', '$argon2id$...', 's3cr3t', 'ann', x'00ff')")
    [(op, entity, entity_id, parent, parent_id, changes)] = entries(database)
    assert (op, entity, entity_id, parent, parent_id) == ("insert", "account", 1, "person", 7)
    assert changes == {"owner": 7, "email": "ann@example.com", "password_hash": "changed", "api_secret": "changed"}
    assert "s3cr3t" not in json.dumps(changes) and "argon2" not in json.dumps(changes)


def test_an_update_records_only_what_changed_as_old_and_new(database):
    database.execute("INSERT INTO account (owner, email, password_hash, api_secret) VALUES (7, 'a@x.example', '', '')")
    database.execute("UPDATE account SET email = 'b@x.example', password_hash = 'h2', search_text = 'b' WHERE id = 1")
    assert entries(database)[-1] == ("update", "account", 1, "person", 7,
                                     {"email": ["a@x.example", "b@x.example"], "password_hash": ["", "changed"]})


def test_an_update_that_changes_nothing_recorded_writes_nothing(database):
    database.execute("INSERT INTO account (owner, email) VALUES (7, 'a@x.example')")
    database.execute("UPDATE account SET email = email, search_text = 'only derived text', photo = x'01' WHERE id = 1")
    assert len(entries(database)) == 1


def test_a_delete_records_the_row_as_it_was(database):
    database.execute("INSERT INTO account (owner, email, api_secret) VALUES (NULL, 'a@x.example', NULL)")
    database.execute("DELETE FROM account")
    assert entries(database)[-1] == ("delete", "account", 1, "person", None,
                                     {"owner": None, "email": "a@x.example", "password_hash": None, "api_secret": None})


def test_a_changed_id_is_recorded_under_the_new_one(database):
    database.execute("INSERT INTO account (owner, email) VALUES (1, 'a@x.example')")
    database.execute("UPDATE account SET id = 9")
    assert entries(database)[-1] == ("update", "account", 9, "person", 1, {"id": [1, 9]})


def test_the_baseline_records_each_existing_row_once(database):
    database.execute("DROP TRIGGER audit_account_insert")
    database.executemany("INSERT INTO account (owner, email, password_hash) VALUES (?, ?, ?)",
                         [(1, "a@x.example", "h"), (2, "b@x.example", "")])
    database.execute(logic.baseline_statement(ACCOUNT))
    assert [(e[2], e[5]) for e in entries(database)] == [
        (1, {"owner": 1, "email": "a@x.example", "password_hash": "changed", "api_secret": None}),
        (2, {"owner": 2, "email": "b@x.example", "password_hash": "", "api_secret": None})]
    assert database.execute("SELECT DISTINCT action FROM audit_pending").fetchall() == [("baseline",)]


def test_names_that_look_secret_are_secret_whatever_the_table_says():
    spec = AuditedTable("t", ("id", "smtp_password", "token_hash", "backup_passphrase", "client_secret", "csrf_token",
                              "hash_kind", "name"))
    assert spec.secrets == {"smtp_password", "token_hash", "backup_passphrase", "client_secret", "csrf_token"}


def test_a_table_described_wrongly_is_refused():
    with pytest.raises(ValueError, match="no such column"):
        AuditedTable("t", ("id", "a"), ignored=frozenset({"b"}))
    with pytest.raises(ValueError, match="needs an id"):
        AuditedTable("t", ("a",))
    with pytest.raises(ValueError, match="more than 63 columns"):
        AuditedTable("t", ("id", *(f"c{i}" for i in range(64))))


# -- what an entry means ----------------------------------------------------------------------------

@pytest.mark.parametrize(("entity", "operation", "changes", "action"), [
    ("document", "insert", {}, "create"),
    ("document", "update", {"status": ["draft", "issued"], "number": [None, "INV-1"]}, "issue"),
    ("document", "update", {"status": ["issued", "cancelled"]}, "cancel"),
    ("document", "update", {"status": ["issued", "sent"]}, "send"),
    ("document", "update", {"status": ["issued", "accepted"]}, "accept"),
    ("document", "update", {"status": ["accepted", "converted"]}, "convert"),
    ("document", "update", {"paid_minor": [0, 500], "updated_at": ["a", "b"]}, "balance"),
    ("document", "update", {"notes": ["", "x"]}, "update"),
    ("document", "delete", {}, "delete"),
    ("payment", "insert", {}, "payment"),
    ("payment", "update", {"status": ["live", "reversed"]}, "reversal"),
    ("refund", "insert", {}, "refund"),
    ("credit_application", "insert", {}, "credit application"),
    ("ledger_entry", "insert", {}, "ledger entry"),
    ("business_settings", "update", {"name": ["a", "b"]}, "setting change"),
    ("mail_settings", "insert", {}, "setting change"),
    ("api_token", "insert", {}, "token created"),
    ("api_token", "update", {"revoked_at": [None, "2026-12-01"]}, "token revoked"),
    ("login_attempt", "insert", {}, "login attempt"),
    ("login_attempt", "update", {"succeeded": [0, 1]}, "login"),
    ("launch_token", "update", {"used_at": [None, "x"]}, "login"),
    ("app_user", "update", {"last_login_at": [None, "x"]}, "login"),
    ("app_user", "update", {"password_hash": ["changed", "changed"]}, "password change"),
    ("app_user", "update", {"active": [1, 0]}, "deactivate"),
    ("client", "update", {"status": ["active", "archived"], "archived_at": [None, "x"]}, "archive"),
    ("client", "update", {"status": ["archived", "active"]}, "unarchive"),
    ("outbox_message", "update", {"status": ["sending", "sent"]}, "mail sent"),
    ("catalog_item", "update", {"name": ["a", "b"]}, "update"),
])
def test_each_entry_gets_the_action_its_change_means(entity, operation, changes, action):
    assert logic.action_for(entity, operation, changes) == action
    assert action in logic.ACTIONS


def test_actors_name_who_and_from_where():
    assert Actor.user(3, "ann@example.com", origin="page") == Actor("user:3", "page", "ann@example.com", 3)
    assert Actor.token(7, 3, "ann@example.com").actor == "token:7" and Actor.token(7, 3, "a").origin == "api"
    assert Actor.token(7, 3, "a").user_id == 3
    assert Actor.system("outbox") == Actor("system:outbox", "schedule", "outbox")
    assert Actor.command_line("ann") == Actor("cli:ann", "cli", "ann")
    for actor in (Actor.user(1, "a", origin="api"), Actor.system("x"), Actor.command_line("y"), logic.SYSTEM,
                  Actor.anonymous(origin="page"), logic.MIGRATION):
        assert actor.origin in logic.ORIGINS
        assert logic.ACTOR_NAME.match(actor.actor), actor


# -- the chain ------------------------------------------------------------------------------------

def chain(count: int) -> list[list]:
    """Rows as verify_chain reads them: [hash, prev_hash, *CANONICAL_FIELDS], properly chained."""
    rows, previous = [], logic.GENESIS
    for seq in range(1, count + 1):
        content = [seq, f"2026-12-06T10:00:{seq:02d}.000Z", "user:1", 1, "ann@example.com", "page", "update",
                   "update", "client", seq, None, None, json.dumps({"name": [f"n{seq}", f"m{seq}"]}), None]
        digest = logic.entry_hash(previous, content)
        rows.append([digest, previous, *content])
        previous = digest
    return rows


def test_an_untouched_chain_verifies():
    report = logic.verify_chain(chain(5))
    assert report.ok and report.entries == 5 and report.head_seq == 5 and report.first_broken is None
    assert report.head_hash == chain(5)[-1][0]


def test_the_hash_is_the_documented_one():
    """SHA-256 over the previous hash, a newline and the canonical JSON list (docs/audit-trail.md)."""
    import hashlib

    content = [1, "2026-12-06T10:00:00.000Z", "cli:ann", None, "ann", "cli", "create", "insert", "client", 1, None,
               None, '{"name":"Ä"}', None]
    text = '\n[1,"2026-12-06T10:00:00.000Z","cli:ann",null,"ann","cli","create","insert","client",1,null,null,' \
           '"{\\"name\\":\\"Ä\\"}",null]'
    assert logic.entry_hash("", content) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert logic.entry_hash("ab", content) == hashlib.sha256(("ab" + text).encode("utf-8")).hexdigest()


def test_an_edited_entry_is_named():
    rows = chain(6)
    rows[2][14] = json.dumps({"name": ["n3", "forged"]})
    report = logic.verify_chain(rows)
    assert report.first_broken == 3 and "changed after it was written" in str(report.problems[0])
    assert len(report.problems) == 1   # the entries after it still follow its stored hash


def test_an_edited_entry_whose_hash_was_recomputed_breaks_the_next_link():
    rows = chain(6)
    rows[2][4] = "user:2"
    rows[2][0] = logic.entry_hash(rows[2][1], rows[2][2:])
    report = logic.verify_chain(rows)
    assert report.first_broken == 4 and "does not follow" in str(report.problems[0])


def test_a_deleted_entry_is_named():
    rows = chain(6)
    del rows[3]
    report = logic.verify_chain(rows)
    assert report.first_broken == 4 and "entry 4 was deleted" in str(report.problems[0])


def test_deleted_entries_at_the_start_are_named():
    report = logic.verify_chain(chain(6)[2:])
    assert report.first_broken == 1 and "entry 1 to 2 was deleted" in str(report.problems[0])


def test_an_inserted_entry_is_named():
    rows = chain(6)
    forged = [9, "2026-12-06T10:00:03.500Z", "user:1", 1, "a", "page", "payment", "insert", "payment", 1, None, None,
              "{}", None]
    rows.insert(3, [logic.entry_hash(rows[2][0], forged), rows[2][0], *forged])
    report = logic.verify_chain(rows)
    assert report.first_broken == 4   # the forged one claims 9 where 4 belongs: the sequence breaks there
    assert not report.ok


def test_an_entry_without_hash_was_written_outside_counterfoil():
    rows = chain(4)
    rows[1][0] = None
    report = logic.verify_chain(rows)
    assert [problem.seq for problem in report.problems] == [2, 3]   # and the next one no longer follows
    assert "written outside Counterfoil" in str(report.problems[0])


@given(st.integers(min_value=1, max_value=12), st.data())
def test_any_single_change_to_any_field_is_caught(count, data):
    rows = chain(count)
    index = data.draw(st.integers(min_value=0, max_value=count - 1))
    column = data.draw(st.integers(min_value=3, max_value=15))   # any content field but the sequence number
    rows[index][column] = "tampered"
    assert logic.verify_chain(rows).first_broken == index + 1


# -- heads kept outside the database --------------------------------------------------------------

def test_the_day_s_first_head_is_kept_once_a_day():
    first = logic.heads_to_keep([], Head(3, "h3", "2026-12-06T08:00:00.000Z"))
    assert first == [{"day": "2026-12-06", "seq": 3, "hash": "h3", "at": "2026-12-06T08:00:00.000Z"}]
    assert logic.heads_to_keep(first, Head(9, "h9", "2026-12-06T23:00:00.000Z")) is None
    assert logic.heads_to_keep(first, Head(12, "h12", "2026-12-07T00:00:01.000Z"))[-1]["seq"] == 12
    many = [{"day": f"2025-{m:02d}-01", "seq": m, "hash": "x"} for m in range(1, 13)]
    assert len(logic.heads_to_keep(many, Head(99, "h", "2026-01-01T00:00:00Z"), keep=5)) == 5


def test_a_recorded_head_must_still_be_in_the_chain():
    recorded = [{"day": "2026-12-01", "seq": 2, "hash": "aa"}, {"day": "2026-12-02", "seq": 5, "hash": "bb"}]
    assert logic.check_heads(recorded, {2: "aa", 5: "bb"}, "audit-head.json") == []
    [problem] = logic.check_heads(recorded, {2: "aa", 5: "cc"}, "audit-head.json")
    assert problem.seq == 5 and "rewritten" in problem.what and "2026-12-02" in problem.what
    [gone] = logic.check_heads(recorded, {2: "aa"}, "audit-head.json")
    assert gone.seq == 5 and "removed" in gone.what


# -- the trail against the rows -----------------------------------------------------------------

def test_replay_follows_inserts_updates_and_deletes():
    trail = logic.replay([
        (1, "insert", 1, json.dumps({"status": "draft", "total_minor": 100})),
        (2, "insert", 2, json.dumps({"status": "draft", "total_minor": 5})),
        (3, "update", 1, json.dumps({"status": ["draft", "issued"]})),
        (4, "delete", 2, json.dumps({"status": "draft", "total_minor": 5})),
        (5, "update", 1, json.dumps({"id": [1, 3]})),
    ])
    assert trail == {2: None, 3: {"status": "issued", "total_minor": 100}}


def test_rows_that_differ_from_the_trail_are_named():
    trail = {1: {"status": "issued", "total_minor": 100, "password_hash": "changed"}, 2: None,
             3: {"status": "draft"}}
    columns = {"id": 0, "status": 1, "total_minor": 2, "password_hash": 3}
    rows = {1: (1, "issued", 90, "x"), 2: (2, "draft", 0, ""), 4: (4, "paid", 0, "")}
    problems = logic.disagreements("document", trail, rows, columns)
    assert problems == [
        "document 1: total_minor is 90 but the audit trail says 100",
        "document 2 is deleted in the audit trail but still in the database",
        "document 3 is in the audit trail but was deleted from the database outside Counterfoil",
        "document 4 is not in the audit trail: it was written outside Counterfoil",
    ]
    assert logic.disagreements("document", {1: {"total_minor": 90}}, rows, columns) == [
        "document 2 is not in the audit trail: it was written outside Counterfoil",
        "document 4 is not in the audit trail: it was written outside Counterfoil"]


# -- reading -----------------------------------------------------------------------------------------

def test_filters_are_read_and_bad_ones_named():
    criteria = logic.parse_filter({"entity": "document", "entity_id": "12", "actor": "token:3", "action": "issue",
                                   "from": "2026-12-01", "to": "2026-12-31", "before": "400"})
    assert criteria == logic.AuditFilter("document", 12, "token:3", None, "issue", date(2026, 12, 1),
                                         date(2026, 12, 31), 400)
    assert criteria.at_from == "2026-12-01" and criteria.at_to == "2027-01-01"
    assert logic.parse_filter({"actor": "3"}) == logic.AuditFilter(user_id=3)
    assert logic.parse_filter({"actor": "system:accountant package"}).actor == "system:accountant package"
    with pytest.raises(ValidationFailed) as failed:
        logic.parse_filter({"entity": "document; drop", "entity_id": "x", "actor": "root", "action": "explode",
                            "from": "2026-13-01", "before": "-1"})
    assert set(failed.value.by_field()) == {"entity", "entity_id", "actor", "action", "from", "before"}
    with pytest.raises(ValidationFailed, match="ends before it starts"):
        logic.parse_filter({"from": "2026-12-02", "to": "2026-12-01"})


def test_changes_read_for_people():
    assert logic.field_changes("update", '{"name":["a","b"]}') == [logic.FieldChange("name", "a", "b")]
    assert logic.field_changes("insert", '{"name":"a","notes":"","x":null}') == [logic.FieldChange("name", None, "a")]
    assert logic.field_changes("delete", '{"name":"a"}') == [logic.FieldChange("name", "a", None)]
    assert logic.field_changes("event", '{"email":"a@x.example"}') == [logic.FieldChange("email", None, "a@x.example")]
    assert logic.field_changes("update", None) == []


def test_links_lead_to_the_record_or_what_it_belongs_to():
    assert logic.link_for("document", 4) == "/documents/4"
    assert logic.link_for("document_line", 9, "document", 4) == "/documents/4"
    assert logic.link_for("payment", 2) == "/audit/history/payment/2"
    assert logic.link_for("business_settings", 1) == "/settings"
    assert logic.link_for("number_series", 1) is None


def test_an_export_line_carries_the_stored_changes_and_the_hashes():
    row = {"id": 3, "at": "2026-12-06T10:00:00.000Z", "actor": "user:1", "user_id": 1, "actor_name": "a",
           "origin": "page", "action": "update", "operation": "update", "entity": "client", "entity_id": 1,
           "parent_entity": None, "parent_id": None, "changes": '{"name":["a","b"]}', "note": None,
           "hash": "h3", "prev_hash": "h2"}
    entry = logic.Entry.from_row(row)
    line = json.loads(logic.jsonl_line(entry))
    assert line["changes"] == {"name": ["a", "b"]} and line["changes_text"] == row["changes"]
    assert (line["seq"], line["hash"], line["prev_hash"]) == (3, "h3", "h2")
    assert logic.csv_row(entry)[12] == row["changes"] and len(logic.csv_row(entry)) == len(logic.CSV_HEADER)


def test_a_csv_line_never_runs_as_a_formula_and_keeps_the_changes_as_stored():
    line = logic.csv_line(["=HYPERLINK(\"http://x\")", '{"a": 1}', -12.5, None])
    assert line == "\"'=HYPERLINK(\"\"http://x\"\")\",\"{\"\"a\"\": 1}\",-12.5,\r\n"
    assert logic.csv_header_line().startswith("\ufeffseq,")
