"""The audit trail's rules. Pure functions: no database, no files.

- Who acts (`Actor`): a user, a user's API token, the command line, or the program itself
  ("system" and the job's name), and from where (page, api, cli, schedule, system).
- What the database records by itself: the triggers on every business table
  (`trigger_statements`) write one entry per inserted, changed or deleted row, in the
  writing transaction, with the row's values (insert, delete) or the changed columns as
  [old, new] pairs (update). Secrets are written as "changed", never as their value.
- What an entry means (`action_for`): "issue" for a document whose status went from draft
  to issued, "reversal" for a payment that became reversed, and so on.
- The chain (`entry_hash`, `verify_chain`): each entry's hash is the SHA-256 of the previous
  entry's hash and the entry's canonical content, so an entry edited, deleted or slipped in
  breaks the chain at its sequence number.
- What the trail says the rows are (`replay`, `disagreements`): the books must be what the
  trail says happened to them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import CSV_BOM, FieldError, ValidationFailed, parse_day, spreadsheet_cell

ORIGINS = ("page", "api", "cli", "schedule", "system")
SECRET_VALUE = "changed"
# Column names whose values are secrets wherever they appear: only the fact that they changed is written.
SECRET_NAME = re.compile(r"password|passphrase|secret|_hash$|^csrf_token$")
# What json_object accepts: SQLite 3.40 takes at most 127 arguments in a call, two per column.
MAX_SNAPSHOT_COLUMNS = 63

# Tables without triggers, and why. Every other table of the schema is audited (a test holds this).
NOT_AUDITED = {
    "audit_entry": "the trail itself (append-only; its own triggers refuse changes)",
    "audit_pending": "what the triggers record during a transaction, moved into the trail by its seal",
    "app_session": "a browser session's bookkeeping (its last-seen time moves on every request); the sign-in that "
                   "opens it is recorded on login_attempt, app_user and launch_token",
    "migration": "Piccolo's record of the schema migrations run",
    "import_job": "an upload waiting for its preview to be applied (working state); what applying writes is "
                  "recorded on the business tables it writes, labelled as the import",
    "import_mapping": "the column mapping last used for a source, offered again (a preference, not the books)",
    "import_key": "which source row became which record, to match a re-import; the records themselves are recorded",
    "document_tally": "running sums of the documents kept by triggers for the lists' counts and footers (derived; "
                      "`counterfoil check` recomputes them from the documents, which are recorded)",
    "search_term": "the broad searches whose running sums are kept (derived: made from the documents when a search "
                   "is asked again; `counterfoil check` recomputes their sums)",
    "search_tally": "running sums of the documents each kept search finds, kept by triggers for its list's count and "
                    "footer (derived; `counterfoil check` recomputes them from the documents, which are recorded)",
    "payment_tally": "running sums of the payments kept by triggers for the payments list's count and footer "
                     "(derived; `counterfoil check` recomputes them from the payments, which are recorded)",
}


# -- who acts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Who makes a change, and through which door: written on every entry of their transactions.

    `actor` is what the filters match: "user:3", "token:7" (a user's API token), "cli:ann" (the
    command line, run by the operating-system user ann), "system:<job>" or "anonymous" (the
    sign-in page). `user_id` is the account behind it (a token's owner), for the "user" filter."""

    actor: str
    origin: str
    name: str = ""
    user_id: int | None = None

    @classmethod
    def user(cls, user_id: int, email: str, *, origin: str) -> Actor:
        return cls(f"user:{user_id}", origin, email, user_id)

    @classmethod
    def token(cls, token_id: int, user_id: int, email: str) -> Actor:
        return cls(f"token:{token_id}", "api", f"{email} (API token {token_id})", user_id)

    @classmethod
    def system(cls, job: str, *, origin: str = "schedule") -> Actor:
        return cls(f"system:{job}", origin, job)

    @classmethod
    def command_line(cls, os_user: str) -> Actor:
        return cls(f"cli:{os_user}", "cli", os_user)

    @classmethod
    def anonymous(cls, *, origin: str) -> Actor:
        return cls("anonymous", origin, "not signed in")


SYSTEM = Actor("system", "system", "Counterfoil")
MIGRATION = Actor("system:migration", "system", "schema upgrade")


# -- the triggers -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditedTable:
    """How one table is audited: its columns, which are secrets, which are not recorded at all
    (derived search text, bytes, a last-used time that moves on every use), and the record an
    entry also belongs to (a line's document), for that record's history."""

    table: str
    columns: tuple[str, ...]
    secret: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()
    parent: tuple[str, str] | None = None   # (column, entity): document_line.document -> "document"

    def __post_init__(self) -> None:
        unknown = (self.secret | self.ignored) - set(self.columns)
        if unknown:
            raise ValueError(_("%(table)s: no such column(s) %(sorted)s", table=self.table, sorted=sorted(unknown)))
        if "id" not in self.columns:
            raise ValueError(_("%(table)s: an audited table needs an id", table=self.table))
        if len(self.snapshot_columns) > MAX_SNAPSHOT_COLUMNS:
            raise ValueError(_("%(table)s: more than %(MAX_SNAPSHOT_COLUMNS)s columns for one json_object call", table=self.table, MAX_SNAPSHOT_COLUMNS=MAX_SNAPSHOT_COLUMNS))

    @cached_property   # asked for each column of each trigger, which every tables.py builds at import
    def secrets(self) -> frozenset[str]:
        return self.secret | {name for name in self.columns if SECRET_NAME.search(name)}

    @property
    def snapshot_columns(self) -> tuple[str, ...]:
        """What an insert or a delete records: every column but the id (the entry's entity_id) and the ignored."""
        return tuple(name for name in self.columns if name != "id" and name not in self.ignored)

    @property
    def watched_columns(self) -> tuple[str, ...]:
        """What an update records when it changes: the snapshot's columns and the id itself."""
        return ("id", *self.snapshot_columns)


NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
PENDING_COLUMNS = "at, operation, entity, entity_id, parent_entity, parent_id, changes"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def _value(spec: AuditedTable, ref: str, column: str) -> str:
    value = f"{ref}.{_quoted(column)}"
    if column in spec.secrets:
        # Whether a secret is set shows; what it is never does.
        return f"CASE WHEN {value} IS NULL OR {value} = '' THEN {value} ELSE '{SECRET_VALUE}' END"
    return value


def snapshot_sql(spec: AuditedTable, ref: str) -> str:
    """json_object of the row's recorded columns (`ref` is new, old or a table alias)."""
    pairs = ", ".join(f"{_literal(column)}, {_value(spec, ref, column)}" for column in spec.snapshot_columns)
    return f"json_object({pairs})"


def changed_sql(spec: AuditedTable) -> str:
    """{"column": [old, new]} for the columns an update changed (the others are left out)."""
    parts = " UNION ALL ".join(
        f"SELECT {_literal(column)} AS k, json_array({_value(spec, 'old', column)}, {_value(spec, 'new', column)}) "
        f"AS v WHERE old.{_quoted(column)} IS NOT new.{_quoted(column)}"
        for column in spec.watched_columns)
    return f"(SELECT json_group_object(k, json(v)) FROM ({parts}))"


def _entry_values(spec: AuditedTable, operation: str, ref: str, changes: str) -> str:
    parent_entity, parent_id = "NULL", "NULL"
    if spec.parent is not None:
        parent_entity, parent_id = _literal(spec.parent[1]), f"{ref}.{_quoted(spec.parent[0])}"
    return (f"INSERT INTO audit_pending ({PENDING_COLUMNS}) VALUES ({NOW_SQL}, '{operation}', "
            f"{_literal(spec.table)}, {ref}.id, {parent_entity}, {parent_id}, {changes});")


def trigger_names(table: str) -> tuple[str, str, str]:
    return (f"audit_{table}_insert", f"audit_{table}_update", f"audit_{table}_delete")


def trigger_statements(spec: AuditedTable) -> dict[str, str]:
    """The three triggers that record every insert, change and deletion of the table's rows, in the
    writing transaction (into audit_pending, which the seal empties into audit_entry before the
    commit). An update that changes no recorded column writes nothing."""
    insert, update, delete = trigger_names(spec.table)
    table = _quoted(spec.table)
    any_change = " OR ".join(f"old.{_quoted(c)} IS NOT new.{_quoted(c)}" for c in spec.watched_columns)
    return {
        insert: f"CREATE TRIGGER {insert} AFTER INSERT ON {table} BEGIN "
                f"{_entry_values(spec, 'insert', 'new', snapshot_sql(spec, 'new'))} END",
        update: f"CREATE TRIGGER {update} AFTER UPDATE ON {table} WHEN {any_change} BEGIN "
                f"{_entry_values(spec, 'update', 'new', changed_sql(spec))} END",
        delete: f"CREATE TRIGGER {delete} AFTER DELETE ON {table} BEGIN "
                f"{_entry_values(spec, 'delete', 'old', snapshot_sql(spec, 'old'))} END",
    }


def baseline_statement(spec: AuditedTable) -> str:
    """One "baseline" entry for each row a table held before it was audited (the upgrade that adds
    the trail): from there on, the trail accounts for every row."""
    parent_entity, parent_id = "NULL", "NULL"
    if spec.parent is not None:
        parent_entity, parent_id = _literal(spec.parent[1]), f"t.{_quoted(spec.parent[0])}"
    return (f"INSERT INTO audit_pending ({PENDING_COLUMNS}, action) SELECT {NOW_SQL}, 'insert', "
            f"{_literal(spec.table)}, t.id, {parent_entity}, {parent_id}, {snapshot_sql(spec, 't')}, 'baseline' "
            f"FROM {_quoted(spec.table)} AS t ORDER BY t.id")


# -- what an entry means ------------------------------------------------------------------------

INSERT_ACTIONS = {
    "payment": "payment", "refund": "refund", "credit_application": "credit application",
    "ledger_entry": "ledger entry", "api_token": "token created", "login_attempt": "login attempt",
    "outbox_message": "mail queued", "business_settings": "setting change", "mail_settings": "setting change",
    "backup_settings": "setting change", "dunning_settings": "setting change", "dunning_level": "setting change",
    "document_record": "document of record", "recurring_run": "recurring run",
    "fx_settings": "setting change", "bank_account": "setting change",
}
SETTINGS_TABLES = {"business_settings", "mail_settings", "backup_settings", "dunning_settings", "dunning_level",
                   "fx_settings", "bank_account"}
DOCUMENT_STATUS_ACTIONS = {"issued": "issue", "cancelled": "cancel", "sent": "send", "accepted": "accept",
                           "declined": "decline", "converted": "convert"}
OUTBOX_STATUS_ACTIONS = {"sent": "mail sent", "failed": "mail failed", "cancelled": "mail cancelled",
                         "queued": "mail queued", "sending": "mail sending"}
# Every action an entry can carry, for the filters (explicit ones come from the services that write them).
ACTIONS = ("create", "update", "delete", "issue", "send", "cancel", "accept", "decline", "convert", "balance",
           "payment", "reversal", "refund", "credit application", "ledger entry", "setting change",
           "login attempt", "login", "failed login", "password change", "activate", "deactivate",
           "token created", "token revoked", "archive", "unarchive", "mail queued", "mail sending", "mail sent",
           "mail failed", "mail cancelled", "restore", "import", "reminder", "baseline", "document of record",
           "recurring run")


def action_for(entity: str, operation: str, changes: Mapping[str, Any]) -> str:
    """What a trigger-written entry means, from its table, its operation and what changed."""
    if operation == "insert":
        return INSERT_ACTIONS.get(entity, "create")
    if operation == "delete":
        return "delete"
    if entity in SETTINGS_TABLES:
        return "setting change"
    status = changes.get("status")
    if entity == "document":
        if status is not None:
            return DOCUMENT_STATUS_ACTIONS.get(status[1], "update")
        if set(changes) <= {"paid_minor", "credited_minor", "updated_at"}:
            return "balance"   # a payment, reversal, credit note or applied credit moved the invoice's balance
        return "update"
    if entity == "payment" and status is not None and status[1] == "reversed":
        return "reversal"
    if entity == "client" and status is not None:
        return "archive" if status[1] == "archived" else "unarchive"
    if entity == "api_token" and "revoked_at" in changes and changes["revoked_at"][0] is None:
        return "token revoked"
    if entity == "login_attempt" and "succeeded" in changes and changes["succeeded"][1]:
        return "login"
    if entity == "launch_token" and "used_at" in changes:
        return "login"
    if entity == "app_user":
        if "password_hash" in changes:
            return "password change"
        if "active" in changes:
            return "activate" if changes["active"][1] else "deactivate"
        if set(changes) == {"last_login_at"}:
            return "login"
    if entity == "outbox_message" and status is not None:
        return OUTBOX_STATUS_ACTIONS.get(status[1], "update")
    return "update"


# Only these need the changes read to name the action (a JSON parse saved on every other entry).
ACTION_NEEDS_CHANGES = frozenset({"document", "payment", "client", "api_token", "login_attempt", "launch_token",
                                  "app_user", "outbox_message"})


# -- the chain ----------------------------------------------------------------------------------

# The content an entry's hash covers, in this order (docs/audit-trail.md says how to recompute it).
CANONICAL_FIELDS = ("id", "at", "actor", "user_id", "actor_name", "origin", "action", "operation", "entity",
                    "entity_id", "parent_entity", "parent_id", "changes", "note")
GENESIS = ""


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def canonical(values: Sequence[Any]) -> str:
    """The entry's content (CANONICAL_FIELDS, in order) as one line of JSON: a list, no spaces, UTF-8."""
    return _ENCODE(list(values))


def entry_hash(prev_hash: str, values: Sequence[Any]) -> str:
    """SHA-256 (hex) of the previous entry's hash, a newline, and the entry's canonical content."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(values)}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    what: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.what}"


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> int | None:
        return self.problems[0].seq if self.problems else None


def verify_chain(rows: Iterable[Sequence[Any]]) -> ChainReport:
    """Walk the entries in sequence order. Each row: (hash, prev_hash, *CANONICAL_FIELDS), the first
    of which is the sequence number.

    An entry is broken when it has no hash (written outside Counterfoil), when its sequence number
    is not the one after the previous entry's (entries deleted, or one slipped in), when its
    prev_hash is not the previous entry's hash, or when its hash does not match its content (edited).
    The walk goes on after a break, so each break is named once, not everything after it."""
    problems: list[ChainProblem] = []
    expected_seq = 1
    previous = GENESIS
    count = 0
    sha256 = hashlib.sha256
    dumps = _ENCODE
    for row in rows:
        count += 1
        stored_hash, prev_hash, seq = row[0], row[1], row[2]
        if seq != expected_seq:
            if seq > expected_seq:
                missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq} to {seq - 1}"
                problems.append(ChainProblem(expected_seq, _("missing: entry %(missing)s was deleted", missing=missing)))
            else:
                problems.append(ChainProblem(seq, "out of sequence"))
        expected_seq = seq + 1
        if stored_hash is None:
            problems.append(ChainProblem(seq, _("has no hash: it was written outside Counterfoil")))
            continue
        if prev_hash != previous:
            problems.append(ChainProblem(seq, _("does not follow the entry before it (an entry was deleted, "
                                              "inserted or rewritten)")))
        content = dumps(list(row[2:]))
        if sha256(f"{prev_hash}\n{content}".encode()).hexdigest() != stored_hash:
            problems.append(ChainProblem(seq, _("its content does not match its hash: it was changed after it "
                                              "was written")))
        previous = stored_hash
    return ChainReport(count, expected_seq - 1, previous, tuple(problems))


@dataclass(frozen=True)
class Head:
    """The chain's last entry: what audit-head.json and a backup's manifest keep."""

    seq: int
    hash: str
    at: str

    @property
    def day(self) -> str:
        return self.at[:10]

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at}


def heads_to_keep(recorded: Sequence[Mapping[str, Any]], head: Head, *, keep: int = 400) -> list[dict[str, Any]] | None:
    """The head file's list with today's first head added, or None when today's is there already."""
    if recorded and str(recorded[-1].get("day")) >= head.day:
        return None
    return [*(dict(item) for item in recorded), {"day": head.day, **head.as_json()}][-keep:]


def check_heads(recorded: Iterable[Mapping[str, Any]], hash_at: Mapping[int, str | None], where: str
                ) -> list[ChainProblem]:
    """Each head recorded outside the database (the day's first write, a backup) must still be in
    the chain, with the same hash: a trail rewritten and re-hashed from scratch fails here."""
    problems = []
    for head in recorded:
        seq, expected = int(head["seq"]), str(head["hash"])
        found = hash_at.get(seq)
        if seq not in hash_at:
            problems.append(ChainProblem(seq, _("recorded as the chain's head in %(where)s on %(value)s, and no longer in the trail: entries were removed", where=where, value=head.get('day') or '?')))
        elif found != expected:
            problems.append(ChainProblem(seq, _("differs from the head recorded in %(where)s on %(value)s: the trail was rewritten", where=where, value=head.get('day') or '?')))
    return problems


# -- the trail against the rows -----------------------------------------------------------------

DELETED = None


def replay(entries: Iterable[tuple[int, str, int, str]]) -> dict[int, dict[str, Any] | None]:
    """What the trail says each row of one table holds now: (seq, operation, entity_id, changes) in
    sequence order -> {id: {column: value}} (None: deleted)."""
    rows: dict[int, dict[str, Any] | None] = {}
    loads = json.loads
    for _seq, operation, entity_id, changes in entries:
        values = loads(changes) if changes else {}
        if operation == "insert":
            rows[entity_id] = dict(values)
        elif operation == "delete":
            rows[entity_id] = DELETED
        else:
            current = rows.get(entity_id)
            if current is None:
                current = rows[entity_id] = {}
            moved = values.pop("id", None)
            for column, (_old, new) in values.items():
                current[column] = new
            if moved is not None and moved[1] != entity_id:
                rows[moved[1]] = rows.pop(entity_id)
    return rows


def disagreements(entity: str, trail: Mapping[int, dict[str, Any] | None], rows: Mapping[int, Sequence[Any]],
                  columns: Mapping[str, int], *, limit: int = 20) -> list[str]:
    """Where a table's rows differ from what its trail says: rows the trail never saw (inserted with
    the triggers off), rows it saw deleted or never deleted, values changed behind its back. A secret
    (recorded as "changed") and a column the trail never recorded are not compared.

    `rows`: id -> the row's values, `columns` saying where each column is (a million rows are not
    turned into a million dicts)."""
    problems: list[str] = []
    for row_id in sorted(set(rows) | set(trail)):
        if len(problems) >= limit:
            problems.append(_("%(entity)s: more rows differ from the trail", entity=entity))
            break
        row = rows.get(row_id)
        if row_id not in trail:
            problems.append(_("%(entity)s %(row_id)s is not in the audit trail: it was written outside Counterfoil", entity=entity, row_id=row_id))
            continue
        recorded = trail[row_id]
        if recorded is DELETED:
            if row is not None:
                problems.append(_("%(entity)s %(row_id)s is deleted in the audit trail but still in the database", entity=entity, row_id=row_id))
        elif row is None:
            problems.append(_("%(entity)s %(row_id)s is in the audit trail but was deleted from the database outside Counterfoil", entity=entity, row_id=row_id))
        elif isinstance(recorded, dict):
            for column, value in recorded.items():
                position = columns.get(column)
                if value == SECRET_VALUE or position is None:
                    continue
                if row[position] != value:
                    problems.append(f"{entity} {row_id}: {column} is {row[position]!r} but the audit trail says "
                                    f"{value!r}")
                    break
    return problems


# -- reading entries ----------------------------------------------------------------------------

ENTITY_LABELS = {
    "client": N_("Client"), "catalog_item": N_("Catalogue item"), "tax": N_("Tax"), "document": N_("Document"),
    "document_line": N_("Document line"), "document_event": N_("Document event"), "number_series": N_("Number series"),
    "payment": N_("Payment"), "credit_application": N_("Applied credit"), "refund": N_("Refund"), "ledger_entry": N_("Ledger entry"),
    "business_settings": N_("Business settings"), "mail_settings": N_("Email settings"), "backup_settings": N_("Backup settings"),
    "app_user": N_("User"), "api_token": N_("API token"), "login_attempt": N_("Sign-in"), "launch_token": N_("Launch sign-in"),
    "outbox_message": N_("Email"), "outbox_attachment": N_("Email attachment"), "database": N_("Database"),
    "reminder": N_("Reminder"), "reminder_item": N_("Reminder item"), "reminder_payment": N_("Reminder fee payment"),
    "reminder_series": N_("Reminder numbers"), "dunning_settings": N_("Dunning settings"), "dunning_level": N_("Dunning level"),
    "client_dunning": N_("No-reminders flag"),
}


def entity_label(entity: str) -> str:
    """The record kind in the reader's language (an unknown table by its name)."""
    label = ENTITY_LABELS.get(entity)
    return _(label) if label else entity.replace("_", " ").capitalize()


def link_for(entity: str, entity_id: int | None, parent_entity: str | None = None,
             parent_id: int | None = None) -> str | None:
    """The page of the thing an entry is about (or of the record it belongs to), if it has one."""
    pages = {"client": "/clients/{}", "document": "/documents/{}", "catalog_item": "/catalog/{}/edit",
             "outbox_message": "/outbox/{}", "payment": "/audit/history/payment/{}", "reminder": "/reminders/{}"}
    if entity in pages and entity_id is not None:
        return pages[entity].format(entity_id)
    if parent_entity in pages and parent_id is not None:
        return pages[parent_entity].format(parent_id)
    fixed = {"business_settings": "/settings", "mail_settings": "/settings/email", "backup_settings": "/backup",
             "tax": "/settings/taxes", "app_user": "/users", "api_token": "/account"}
    return fixed.get(entity)


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any
    new: Any


def field_changes(operation: str, changes: str | None) -> list[FieldChange]:
    """The changes of an entry for people: each field with its value before and after."""
    if not changes:
        return []
    values = json.loads(changes)
    if operation == "update":
        return [FieldChange(name, pair[0], pair[1]) for name, pair in values.items()]
    if operation == "delete":
        return [FieldChange(name, value, None) for name, value in values.items()]
    if operation == "insert":
        return [FieldChange(name, None, value) for name, value in values.items() if value not in (None, "")]
    return [FieldChange(name, None, value) for name, value in values.items()]


@dataclass(frozen=True)
class AuditFilter:
    """The filters of the audit page, the API and the export (all optional; combined with AND)."""

    entity: str = ""
    entity_id: int | None = None
    actor: str = ""          # "user:3", "token:7", "system:outbox", "cli:ann", "anonymous"
    user_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None   # inclusive
    before: int | None = None     # the sequence number the page starts below (newest first)

    @property
    def at_from(self) -> str | None:
        return self.date_from.isoformat() if self.date_from else None

    @property
    def at_to(self) -> str | None:
        """Entries before the day after `date_to` (times are UTC ISO text, which sorts as time does)."""
        return (self.date_to + timedelta(days=1)).isoformat() if self.date_to else None


ENTITY_NAME = re.compile(r"^[a-z_]{1,40}$")
ACTOR_NAME = re.compile(r"^(user|token):\d{1,12}$|^(system|cli)(:[^\x00-\x1f]{1,80})?$|^anonymous$")


def parse_filter(params: Mapping[str, Any]) -> AuditFilter:
    """Query parameters -> AuditFilter, or ValidationFailed naming each bad field."""
    errors: list[FieldError] = []

    def text(name: str) -> str:
        value = params.get(name)
        return "" if value is None else str(value).strip()

    def number(name: str) -> int | None:
        value = text(name)
        if not value:
            return None
        if not value.isdigit() or len(value) > 12:
            errors.append(FieldError(name, _("%(name)s must be a whole number", name=name)))
            return None
        return int(value)

    def day(name: str) -> date | None:
        value = text(name)
        if not value:
            return None
        return parse_day(value, name, errors, name)

    entity = text("entity")
    if entity and not ENTITY_NAME.match(entity):
        errors.append(FieldError("entity", _("entity must be a table name such as document or client")))
    actor = text("actor")
    user_id = number("user")
    if actor.isdigit():   # the API's actor=3 means the user 3 (with their tokens)
        user_id, actor = int(actor), ""
    elif actor and not ACTOR_NAME.match(actor):
        errors.append(FieldError("actor", _("actor must be a user id, user:ID, token:ID, cli:NAME, system:JOB "
                                          "or anonymous")))
    action = text("action")
    if action and action not in ACTIONS:
        errors.append(FieldError("action", _("unknown action %(action)r", action=action[:40])))
    result = AuditFilter(entity=entity, entity_id=number("entity_id"), actor=actor, user_id=user_id, action=action,
                         date_from=day("from"), date_to=day("to"), before=number("before"))
    if result.date_from and result.date_to and result.date_to < result.date_from:
        errors.append(FieldError("to", _("the period ends before it starts")))
    if errors:
        raise ValidationFailed(errors, detail=_("The audit filters are not valid."))
    return result


@dataclass(frozen=True)
class Entry:
    """One entry of the trail, as read back."""

    seq: int
    at: str
    actor: str | None
    user_id: int | None
    actor_name: str | None
    origin: str | None
    action: str | None
    operation: str
    entity: str
    entity_id: int | None
    parent_entity: str | None
    parent_id: int | None
    changes: str | None
    note: str | None
    hash: str | None
    prev_hash: str | None
    fields: list[FieldChange] = field(default_factory=list, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Entry:
        return cls(seq=row["id"], at=row["at"], actor=row["actor"], user_id=row["user_id"],
                   actor_name=row["actor_name"], origin=row["origin"], action=row["action"],
                   operation=row["operation"], entity=row["entity"], entity_id=row["entity_id"],
                   parent_entity=row["parent_entity"], parent_id=row["parent_id"], changes=row["changes"],
                   note=row["note"], hash=row["hash"], prev_hash=row["prev_hash"],
                   fields=field_changes(row["operation"], row["changes"]))

    @property
    def entity_label(self) -> str:
        return entity_label(self.entity)

    @property
    def link(self) -> str | None:
        return link_for(self.entity, self.entity_id, self.parent_entity, self.parent_id)

    def as_json(self) -> dict[str, Any]:
        """What the API and the JSON-lines export give: the changes parsed, the hashes as stored."""
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "actor_name": self.actor_name,
                "user_id": self.user_id, "origin": self.origin, "action": self.action, "operation": self.operation,
                "entity": self.entity, "entity_id": self.entity_id, "parent_entity": self.parent_entity,
                "parent_id": self.parent_id, "changes": json.loads(self.changes) if self.changes else {},
                "note": self.note, "hash": self.hash, "prev_hash": self.prev_hash}


CSV_HEADER = ("seq", "at", "actor", "actor_name", "user_id", "origin", "action", "operation", "entity", "entity_id",
              "parent_entity", "parent_id", "changes", "note", "prev_hash", "hash")


def csv_row(entry: Entry) -> tuple[Any, ...]:
    """An entry as a CSV row: the changes as their stored JSON text, so the hash can be recomputed from the file."""
    return (entry.seq, entry.at, entry.actor, entry.actor_name, entry.user_id, entry.origin, entry.action,
            entry.operation, entry.entity, entry.entity_id, entry.parent_entity, entry.parent_id, entry.changes,
            entry.note, entry.prev_hash, entry.hash)


def csv_line(values: Sequence[Any]) -> str:
    """One CSV line as the other exports write it (RFC 4180, CRLF), each cell safe for a spreadsheet: a
    user named "=HYPERLINK(...)" is text. The changes' JSON starts with "{", so it is never prefixed."""
    out = io.StringIO(newline="")
    csv.writer(out, dialect="excel").writerow([spreadsheet_cell(value) for value in values])
    return out.getvalue()


def csv_header_line() -> str:
    """The header line, after the byte-order mark Excel needs to read UTF-8."""
    return CSV_BOM + csv_line(CSV_HEADER)


def jsonl_line(entry: Entry) -> str:
    """An entry as one JSON line, with `changes_text` (the stored JSON, the hash's input) beside the parsed changes."""
    return json.dumps({**entry.as_json(), "changes_text": entry.changes}, ensure_ascii=False, separators=(",", ":"))
