"""Load what `counterfoil check` compares, straight from the database file (read-only)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from app.audit.service import verify_database
from app.db.datafolder import connect_reading
from app.documents import logic as documents_logic
from app.documents import tables as documents_tables
from app.expenses.logic import expense_problems
from app.integrity import logic
from app.integrity.logic import Break
from app.render.service import check_record_files
from app.taxes.logic import rate_of


def _rows(connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(sql, args).fetchall()]


def integrity_breaks(database_path: Path) -> list[Break]:
    """SQLite's full `PRAGMA integrity_check` of the file (read-only): one break per problem it reports."""
    connection = connect_reading(database_path)
    try:
        try:
            report = [str(row[0]) for row in connection.execute("PRAGMA integrity_check").fetchall()]
        except sqlite3.DatabaseError as error:   # not a database at all, or too damaged to check
            report = [str(error)]
    finally:
        connection.close()
    return [] if report == ["ok"] else [Break("database", f"SQLite integrity check: {line}") for line in report]


def run_checks(database_path: Path, *, integrity: bool = True) -> list[Break]:
    """Every check, on the file itself, reading only (a read-only folder can be checked too). A file that
    fails SQLite's integrity check is not checked further: what it says means nothing then."""
    if integrity:
        damaged = integrity_breaks(database_path)
        if damaged:
            return damaged
    connection = connect_reading(database_path)
    connection.row_factory = sqlite3.Row
    try:
        breaks = _book_breaks(connection, database_path)
        # The audit trail: its chain unbroken from the first entry (the first broken sequence number is
        # named), the heads kept outside the database still in it, and the books what it says happened.
        # After the books' checks have let go of their rows: each part holds up to a gigabyte at 100,000 invoices.
        breaks.extend(Break("audit trail", problem) for problem in verify_database(database_path).problems())
        return breaks
    finally:
        connection.close()


# What the checks after the documents' own do not need, and what weighs (a snapshot is ~1.6 kB).
_HEAVY_DOCUMENT_COLUMNS = ("snapshot_json", "taxes_json", "search_text", "notes", "terms", "footer")
DOCUMENT_BATCH = 2_000


def _checked_documents(connection, rates: dict[str, Any], breaks: list[Break]) -> list[dict[str, Any]]:
    """Every document checked against its lines, a batch of ids at a time (the lines of 100,000 invoices
    at once took 700 MB); returned without their heavy columns for the checks that follow."""
    documents: list[dict[str, Any]] = []
    last_id = 0
    while batch := _rows(connection, "SELECT * FROM document WHERE id > ? ORDER BY id LIMIT ?", last_id, DOCUMENT_BATCH):
        last_id = batch[-1]["id"]
        lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for line in _rows(connection, "SELECT * FROM document_line WHERE document BETWEEN ? AND ? "
                                      "ORDER BY document, position", batch[0]["id"], last_id):
            lines[line["document"]].append(line)
        for doc in batch:
            doc["issue_date"] = date.fromisoformat(str(doc["issue_date"]))
            breaks.extend(logic.check_document(doc, lines[doc["id"]], rates))
            for column in _HEAVY_DOCUMENT_COLUMNS:
                doc.pop(column, None)
            documents.append(doc)
    return documents


def _book_breaks(connection, database_path: Path) -> list[Break]:
    """Every check but the audit trail's."""
    breaks: list[Break] = []
    for row in connection.execute("PRAGMA foreign_key_check").fetchall():
        breaks.append(Break("database", f"broken reference in {row[0]} row {row[1]}"))
    rates = {row["code"]: rate_of(row) for row in _rows(connection, "SELECT * FROM tax")}
    documents = _checked_documents(connection, rates, breaks)
    applied: dict[int, int] = defaultdict(int)
    for row in _rows(connection, "SELECT invoice, SUM(applied_minor) AS s FROM payment WHERE status = 'live' "
                                 "AND invoice IS NOT NULL GROUP BY invoice"):
        applied[row["invoice"]] += row["s"]
    for row in _rows(connection, "SELECT invoice, SUM(amount_minor) AS s FROM credit_application GROUP BY invoice"):
        applied[row["invoice"]] += row["s"]
    credited = {row["invoice"]: row["s"] for row in _rows(
        connection, "SELECT invoice, SUM(total_minor) AS s FROM document WHERE doc_type = 'credit_note' "
                    "AND status = 'issued' AND invoice IS NOT NULL GROUP BY invoice")}
    breaks.extend(logic.check_allocations([d for d in documents if d["doc_type"] == "invoice"], applied, credited))
    ledger = {(r["client"], r["currency"]): r["s"] for r in _rows(
        connection, "SELECT client, currency, SUM(debit_minor) - SUM(credit_minor) AS s FROM ledger_entry "
                    "GROUP BY client, currency")}
    expected: dict[tuple[int, str], int] = defaultdict(int)
    for doc in documents:
        if doc["status"] == "draft":
            continue
        if doc["doc_type"] == "invoice":
            expected[(doc["client"], doc["currency"])] += doc["total_minor"]
        elif doc["doc_type"] == "credit_note":
            expected[(doc["client"], doc["currency"])] -= doc["total_minor"]
    for row in _rows(connection, "SELECT client, currency, SUM(amount_minor) AS s FROM payment "
                                 "WHERE status = 'live' GROUP BY client, currency"):
        expected[(row["client"], row["currency"])] -= row["s"]
    for row in _rows(connection, "SELECT client, currency, SUM(amount_minor) AS s FROM refund GROUP BY client, currency"):
        expected[(row["client"], row["currency"])] += row["s"]
    credit: dict[tuple[int, str], int] = defaultdict(int)
    for doc in documents:
        if doc["doc_type"] == "credit_note" and doc["status"] == "issued" and doc["invoice"] is None:
            credit[(doc["client"], doc["currency"])] += doc["total_minor"]
    for sql, sign in (("SELECT client, currency, SUM(excess_minor) AS s FROM payment WHERE status = 'live' "
                       "GROUP BY client, currency", 1),
                      ("SELECT client, currency, SUM(amount_minor) AS s FROM credit_application "
                       "GROUP BY client, currency", -1),
                      ("SELECT client, currency, SUM(amount_minor) AS s FROM refund GROUP BY client, currency", -1)):
        for row in _rows(connection, sql):
            credit[(row["client"], row["currency"])] += sign * row["s"]
    # Reminders (app.reminders): their fee and interest are debits, a cancellation and money paid for
    # them credits; client credit used for them is credit spent.
    for row in _rows(connection, "SELECT client, currency, SUM(fee_minor + interest_minor) AS s FROM reminder "
                                 "GROUP BY client, currency"):
        expected[(row["client"], row["currency"])] += row["s"]
    for row in _rows(connection, "SELECT client, currency, SUM(fee_minor + interest_minor) AS s FROM reminder "
                                 "WHERE status = 'cancelled' GROUP BY client, currency"):
        expected[(row["client"], row["currency"])] -= row["s"]
    for row in _rows(connection, "SELECT client, currency, source, SUM(amount_minor) AS s FROM reminder_payment "
                                 "GROUP BY client, currency, source"):
        if row["source"] == "credit":
            credit[(row["client"], row["currency"])] -= row["s"]
        else:
            expected[(row["client"], row["currency"])] -= row["s"]
    breaks.extend(_reminder_breaks(connection))
    names = {row["id"]: row["name"] for row in _rows(connection, "SELECT id, name FROM client")}
    breaks.extend(logic.check_ledgers(ledger, {k: v for k, v in expected.items() if v or k in ledger}, credit, names))
    issued = [d for d in documents if d["number"]]
    series = _rows(connection, "SELECT * FROM number_series")
    breaks.extend(logic.check_numbering(issued, series))
    # Numbers follow dates: in each series, no number carries an earlier date than the one before it.
    for number, day, before, before_day in documents_logic.series_going_backwards(issued):
        breaks.append(Break(number, f"dated {day}, before {before} ({before_day}) issued ahead of it in "
                                    "the same series: the series' dates go backwards"))
    # The documents of record: each stored PDF still the bytes recorded at issue.
    records = _rows(connection, "SELECT r.document, r.sha256, COALESCE(d.number, 'document ' || d.id) AS name "
                                "FROM document_record AS r JOIN document AS d ON d.id = r.document "
                                "ORDER BY r.document")
    for record, problem in check_record_files(database_path.parent, records):
        breaks.append(Break(str(record["name"]), problem))
    entries_per_doc = {row["document_id"]: row["n"] for row in _rows(
        connection, "SELECT document_id, COUNT(*) AS n FROM ledger_entry WHERE kind IN "
                    "('invoice', 'credit_note', 'cancellation') GROUP BY document_id")}
    for doc in documents:
        if (doc["status"] != "draft" and doc["doc_type"] in ("invoice", "credit_note")
                and entries_per_doc.get(doc["id"], 0) != 1):
                breaks.append(Break(doc["number"] or str(doc["id"]),
                                    f"{entries_per_doc.get(doc['id'], 0)} ledger entries instead of 1"))
    breaks.extend(logic.check_event_entries(*_event_entries(connection)))
    breaks.extend(_tally_breaks(connection))
    breaks.extend(_payment_tally_breaks(connection))
    breaks.extend(_search_tally_breaks(connection))
    breaks.extend(_search_index_breaks(connection))
    breaks.extend(_recurring_breaks(connection))
    breaks.extend(_expense_breaks(connection))
    return breaks


def _tally_breaks(connection) -> list[Break]:
    """document_tally, kept by triggers, against the same sums made afresh from the documents."""
    return _running_sums_breaks(connection, "document_tally", (), "1", ())


def _search_tally_breaks(connection) -> list[Break]:
    """search_tally, kept by triggers for each kept search, against the same sums made afresh from the documents
    whose text holds the search's words."""
    breaks = []
    for term, words, patterns in connection.execute("SELECT id, words, patterns FROM search_term ORDER BY id"):
        globs = json.loads(patterns)
        breaks += _running_sums_breaks(connection, "search_tally WHERE term = ?", (term,),
                                       " AND ".join(["search_text GLOB ?"] * len(globs)), globs, search=words)
    return breaks


def _running_sums_breaks(connection, stored: str, stored_args: Sequence[Any], documents: str,
                         documents_args: Sequence[Any], *, search: str | None = None) -> list[Break]:
    """The running sums read from `stored` (a table and its condition) against those of the documents matching
    `documents` (a condition), grouped afresh."""
    columns = ", ".join((*documents_tables.TALLY_KEY, *documents_tables.TALLY_SUMS))
    have = {tuple(row[:6]): tuple(row[6:])
            for row in connection.execute(f"SELECT {columns} FROM {stored}", stored_args).fetchall()}
    want = {tuple(row[:6]): tuple(row[6:]) for row in connection.execute(
        f"SELECT {documents_tables.TALLY_OF_DOCUMENTS} FROM document WHERE {documents} GROUP BY 1, 2, 3, 4, 5, 6",
        documents_args).fetchall()}
    return logic.check_tally(have, want, search=search)


def _payment_tally_breaks(connection) -> list[Break]:
    """payment_tally, kept by triggers, against the same sums made afresh from the payments."""
    stored = {tuple(row[:4]): tuple(row[4:]) for row in connection.execute(
        "SELECT method, status, currency, month, n, amount_minor FROM payment_tally").fetchall()}
    recomputed = {tuple(row[:4]): tuple(row[4:]) for row in connection.execute(
        "SELECT method, status, currency, substr(payment_date, 1, 7), count(*), sum(amount_minor) FROM payment "
        "GROUP BY 1, 2, 3, 4").fetchall()}
    return logic.check_payment_tally(stored, recomputed)


def _varint(blob: bytes) -> int:
    """SQLite's variable-length integer (FTS5 writes a document's trigram count so)."""
    value = 0
    for position, byte in enumerate(blob[:9]):
        if position == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value


def _search_index_breaks(connection) -> list[Break]:
    """The documents' search index (document_search), kept by triggers, against the documents' texts: read
    through its vocabulary (documents_tables.SEARCH_VOCABULARY_SQL, a view of the index made in this
    connection's temporary schema) and its count of trigrams per document."""
    previous = connection.execute("PRAGMA query_only").fetchone()[0]
    connection.execute("PRAGMA query_only = 0")   # for the temporary view only: nothing of the file is written
    try:
        connection.execute(documents_tables.SEARCH_VOCABULARY_SQL)
    finally:
        connection.execute(f"PRAGMA query_only = {int(previous)}")
    texts = {row[0]: (row[1] or "") + documents_tables.SEARCH_PAD
             for row in connection.execute("SELECT id, search_text FROM document")}
    sizes = {row[0]: _varint(row[1]) for row in connection.execute(
        f"SELECT id, sz FROM {documents_tables.SEARCH_TABLE}_docsize")}
    stored = {row[0]: row[1] for row in connection.execute(
        f"SELECT term, cnt FROM temp.{documents_tables.SEARCH_VOCABULARY}")}
    return logic.check_search_index(sizes, texts, stored, logic.trigrams_of(texts.values()))


def _recurring_breaks(connection) -> list[Break]:
    """Recurring invoices (app.recurring): each (profile, period) done once, each invoice made for one
    period, and that invoice is the profile's client's."""
    breaks = [Break(f"recurring profile {row['profile']}", f"the period starting {row['period_start']} was made "
                                                           f"{row['n']} times")
              for row in _rows(connection, "SELECT profile, period_start, COUNT(*) AS n FROM recurring_run "
                                           "GROUP BY profile, period_start HAVING COUNT(*) > 1")]
    breaks += [Break(f"recurring profile {row['profile']}", f"invoice {row['number'] or row['document']} is recorded "
                                                            f"for {row['n']} periods")
               for row in _rows(connection, "SELECT MIN(r.profile) AS profile, r.document, d.number, COUNT(*) AS n "
                                            "FROM recurring_run r JOIN document d ON d.id = r.document "
                                            "GROUP BY r.document HAVING COUNT(*) > 1")]
    breaks += [Break(f"recurring profile {row['profile']}", f"document {row['number'] or row['document']} of its "
                                                            f"period {row['period_start']} is not an invoice of "
                                                            "the profile's client")
               for row in _rows(connection, "SELECT r.profile, r.document, r.period_start, d.number FROM recurring_run r "
                                            "JOIN recurring_profile p ON p.id = r.profile "
                                            "JOIN document d ON d.id = r.document "
                                            "WHERE d.doc_type != 'invoice' OR d.client != p.client")]
    return breaks


def _reminder_breaks(connection) -> list[Break]:
    """No (invoice, level) applied twice by live reminders; every fee and interest, cancellation and payment
    of a reminder has its one ledger entry of its amount; what was paid of the charges adds up."""
    reminders = _rows(connection, "SELECT id, number, status, fee_minor, interest_minor, charges_paid_minor "
                                  "FROM reminder ORDER BY id")
    items = _rows(connection, "SELECT i.invoice, i.level, i.fee_minor, i.interest_minor, i.reminder, r.number "
                              "FROM reminder_item i JOIN reminder r ON r.id = i.reminder WHERE i.cancelled = 0 "
                              "ORDER BY i.id")
    payments = _rows(connection, "SELECT reminder, source, COUNT(*) AS n, SUM(amount_minor) AS s "
                                 "FROM reminder_payment GROUP BY reminder, source")
    entries = _rows(connection, "SELECT number, kind, COUNT(*) AS n, SUM(debit_minor + credit_minor + amount_minor) AS s "
                                "FROM ledger_entry WHERE kind IN ('reminder_charge', 'reminder_cancelled', "
                                "'charge_payment', 'credit_to_charges') GROUP BY number, kind")
    return logic.check_reminders(reminders, items, payments, entries)


def _expense_breaks(connection) -> list[Break]:
    """Each expense adds up: its splits to its net, its taxes to its totals (app.expenses)."""
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'expense'").fetchone():
        return []   # a database from before expenses, checked read-only without its upgrade
    splits: dict[int, list[int]] = defaultdict(list)
    for row in _rows(connection, "SELECT expense, net_minor FROM expense_split"):
        splits[row["expense"]].append(row["net_minor"])
    return [Break(f"expense {row['id']}", problem)
            for row in _rows(connection, "SELECT * FROM expense ORDER BY id")
            for problem in expense_problems(row, splits[row["id"]])]


def _event_entries(connection) -> tuple[dict[tuple[str, str], tuple[int, int]], dict[tuple[str, str], tuple[int, int]]]:
    """What the payments tables say the ledger must hold, and what it holds, per event."""
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    found: dict[tuple[str, str], tuple[int, int]] = {}
    numbers = {row["id"]: row["number"] for row in _rows(connection, "SELECT id, number FROM document")}

    def invoice(document_id: Any) -> str:
        return numbers.get(document_id) or f"invoice {document_id}"
    for row in _rows(connection, "SELECT id, status, amount_minor FROM payment"):
        expected[(f"payment {row['id']}", "payment")] = (1, row["amount_minor"])
        if row["status"] == "reversed":
            expected[(f"payment {row['id']}", "reversal")] = (1, row["amount_minor"])
    for row in _rows(connection, "SELECT payment_id, kind, COUNT(*) AS n, SUM(debit_minor + credit_minor) AS s "
                                 "FROM ledger_entry WHERE kind IN ('payment', 'reversal') GROUP BY payment_id, kind"):
        found[(f"payment {row['payment_id']}", row["kind"])] = (row["n"], row["s"])
    for row in _rows(connection, "SELECT invoice, COUNT(*) AS n, SUM(amount_minor) AS s FROM credit_application "
                                 "GROUP BY invoice"):
        expected[(invoice(row["invoice"]), "credit_applied")] = (row["n"], row["s"])
    for row in _rows(connection, "SELECT document_id, COUNT(*) AS n, SUM(amount_minor) AS s FROM ledger_entry "
                                 "WHERE kind = 'credit_applied' GROUP BY document_id"):
        found[(invoice(row["document_id"]), "credit_applied")] = (row["n"], row["s"])
    for row in _rows(connection, "SELECT client, currency, COUNT(*) AS n, SUM(amount_minor) AS s FROM refund "
                                 "GROUP BY client, currency"):
        expected[(f"client {row['client']} ({row['currency']})", "refund")] = (row["n"], row["s"])
    for row in _rows(connection, "SELECT client, currency, COUNT(*) AS n, SUM(debit_minor) AS s FROM ledger_entry "
                                 "WHERE kind = 'refund' GROUP BY client, currency"):
        found[(f"client {row['client']} ({row['currency']})", "refund")] = (row["n"], row["s"])
    return expected, found
