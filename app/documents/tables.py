from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.catalog.tables import Item
from app.clients.tables import Client
from app.db.engine import DB, on_connect


class Document(Table, db=DB, tablename="document"):
    """A quote, invoice or credit note. Money is integer minor units of `currency`.

    Drafts are recomputed on every save; issuing freezes the lines, the totals, the
    tax breakdown (`taxes_json`) and a snapshot of business and client (`snapshot_json`).
    `paid_minor` and `credited_minor` are kept in the same transaction as the payment
    or credit note that moves them; `counterfoil check` proves they agree.
    """

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    doc_type = Varchar(length=20, index=True)  # quote | invoice | credit_note
    number = Varchar(length=60, null=True, default=None, unique=True)
    status = Varchar(length=20, default="draft", index=True)  # stored life; partial/paid/overdue/expired derive
    client = ForeignKey(references=Client, on_delete=OnDelete.restrict, index=True)
    currency = Varchar(length=3)
    issue_date = Date(index=True)
    due_date = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)
    terms_days = Integer(null=True, default=None)
    discount_percent = Varchar(length=20, default="0")
    notes = Text(default="")
    terms = Text(default="")
    footer = Text(default="")
    subtotal_minor = BigInt(default=0)
    tax_total_minor = BigInt(default=0)
    total_minor = BigInt(default=0)
    paid_minor = BigInt(default=0)
    credited_minor = BigInt(default=0)
    taxes_json = Text(default="[]")
    snapshot_json = Text(default="")
    invoice: ForeignKey["Document"] = ForeignKey(references="Document", on_delete=OnDelete.restrict, null=True, default=None)
    source_quote: ForeignKey["Document"] = ForeignKey(references="Document", on_delete=OnDelete.set_null, null=True, default=None)
    converted_invoice: ForeignKey["Document"] = ForeignKey(references="Document", on_delete=OnDelete.set_null, null=True, default=None)
    duplicated_from: ForeignKey["Document"] = ForeignKey(references="Document", on_delete=OnDelete.set_null, null=True, default=None)
    cancel_reason = Text(default="")
    search_text = Text(default="")
    issued_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    created_by = Integer(null=True, default=None)
    # Frozen at issue for the base-currency totals (app.fx): units of `currency` per one unit of
    # `base_currency`, and the total in the base. NULL when no rate on or before the issue date was
    # known at issue; filled in when one is entered later (the dashboard counts those left out).
    base_currency = Varchar(length=3, default="")
    exchange_rate = Varchar(length=40, null=True, default=None)
    total_base_minor = BigInt(null=True, default=None)


class DocumentLine(Table, db=DB, tablename="document_line"):
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    document = ForeignKey(references=Document, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    item = ForeignKey(references=Item, on_delete=OnDelete.set_null, null=True, default=None)
    # The catalogue item's name as it was when the line was made (printed in bold above the
    # description; kept on the line so a renamed or deleted item does not change the document).
    name = Varchar(length=200, default="")
    description = Text()
    quantity = Varchar(length=40)       # exact decimal text
    unit = Varchar(length=30, default="")
    unit_price = Varchar(length=40)     # exact decimal text, up to 4 places
    discount_percent = Varchar(length=20, default="0")
    tax_codes = Varchar(length=200, default="")
    net_minor = BigInt(default=0)


class NumberSeries(Table, db=DB, tablename="number_series"):
    """The next number of each type and year; advanced only inside the issuing transaction."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    doc_type = Varchar(length=20)
    year = Integer()
    next_seq = Integer(default=1)
    start_seq = Integer(default=1)  # the first number of the year (users moving from another program)


class DocumentEvent(Table, db=DB, tablename="document_event"):
    """History of a document (created, issued, sent, cancelled...): append-only."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    document = ForeignKey(references=Document, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    kind = Varchar(length=30)
    detail = Text(default="")
    actor = Integer(null=True, default=None)



class CreateRequest(Table, db=DB, tablename="document_create_request"):
    """A client's `Idempotency-Key` on creating a document: the same key again returns the same
    document instead of a copy (a retried request after a lost reply). Its own table, because
    SQLite cannot add a UNIQUE column to an existing one."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    key = Varchar(length=100, unique=True)
    document = ForeignKey(references=Document, on_delete=OnDelete.cascade)
    created_at = Timestamptz()


class DocumentRecord(Table, db=DB, tablename="document_record"):
    """The document of record: the PDF an issued document was printed as, made once (at issue, or on
    first use for documents issued before it was kept) and served byte for byte ever after. The file
    lives in the data folder at `attachments/records/<sha256>.pdf` (so backups carry it); its name is
    derived from `sha256`, never stored, so a restored database cannot point at another file.
    `counterfoil check` reads every file back against its hash."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    document = ForeignKey(references=Document, on_delete=OnDelete.restrict, unique=True)
    kind = Varchar(length=20, default="pdf")        # what the file is (the PDF, Factur-X XML embedded)
    sha256 = Varchar(length=64)
    size = BigInt()
    origin = Varchar(length=20, default="issue")    # issue | first use (issued before records were kept)
    made_at = Timestamptz()


class DocumentTally(Table, db=DB, tablename="document_tally"):
    """Running count and money of the documents per (type, stored status, settled, currency, base currency,
    month of issue), kept by triggers on `document` (EXTRA_SQL below) in the writing transaction, whatever
    writes (the service, the import, a restore's migration, plain SQL). A list's count and footer over a
    large set (no filter, the paid invoices, the open ones, a period) add up these few hundred rows
    instead of 100,000 documents (issue 21). Derived, not audited: `counterfoil check` recomputes it
    from the documents and names any difference.

    `settled` is 1 when nothing is left to pay (total - paid - credited <= 0): with a live stored status
    that is the invoices' "paid" filter, without it the "open" one."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    doc_type = Varchar(length=20)
    status = Varchar(length=20)
    settled = Integer(default=0)
    currency = Varchar(length=3)
    base_currency = Varchar(length=3, default="")
    month = Varchar(length=7)     # YYYY-MM of the issue date
    n = BigInt(default=0)
    total_minor = BigInt(default=0)
    paid_minor = BigInt(default=0)
    credited_minor = BigInt(default=0)
    total_base_minor = BigInt(default=0)   # of the rated documents (total_base_minor not NULL)
    rated = BigInt(default=0)              # how many have a total in the base currency


class SearchTerm(Table, db=DB, tablename="search_term"):
    """A broad search (its words in thousands of documents) whose count and money are kept in SearchTally, so that
    its list's count and footer are read from a few hundred rows instead of testing 100,000 search texts at each
    first view after a change (issue 21). Made in the background once a search had to be counted that way twice
    (app.documents.service.keep_search_sums); at most MAX_SEARCH_TERMS, the oldest made giving way. Derived, not
    audited: `counterfoil check` recomputes each term's sums from the documents.

    `words`: the search's folded words, distinct, sorted and joined by a space (its key); `patterns`: a JSON array
    of their GLOB patterns (app.common.logic.glob_pattern), which the triggers test each document's text with."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    words = Varchar(length=400, unique=True)
    patterns = Text()


class SearchTally(Table, db=DB, tablename="search_tally"):
    """DocumentTally's running sums, of the documents that hold every word of a SearchTerm (`term`): kept by the
    triggers of EXTRA_SQL below in the writing transaction, whatever writes; filled when the term is made."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker
    term = ForeignKey(references=SearchTerm, on_delete=OnDelete.cascade)
    doc_type = Varchar(length=20)
    status = Varchar(length=20)
    settled = Integer(default=0)
    currency = Varchar(length=3)
    base_currency = Varchar(length=3, default="")
    month = Varchar(length=7)     # YYYY-MM of the issue date
    n = BigInt(default=0)
    total_minor = BigInt(default=0)
    paid_minor = BigInt(default=0)
    credited_minor = BigInt(default=0)
    total_base_minor = BigInt(default=0)
    rated = BigInt(default=0)


# Each document write tests every kept search's words against the old and new text, and moves the sums of those
# that match: a bound on what a write does for them (24 kept: an update of a document's money took 163 µs instead
# of 48 at 100,000 documents), and on the searches kept.
MAX_SEARCH_TERMS = 24


# Composite and covering indexes that Piccolo's columns cannot declare; a hand-written
# migration creates them, and tests/unit/test_migrations.py holds the two in step.
# Each carries search_text last, so a search finds its page and its sums in these narrow
# entries without reading the wide rows (see app.documents.service, "Search as you type").
EXTRA_INDEXES = {
    # The date index also carries every other sort's column (due date, total, number, client): a period's
    # rows are read from it alone and sorted (a year of 100,000 documents is a tenth of them), instead of
    # walking another sort's index from its start to the page (app.documents.logic.sort_walks_index).
    "document_type_date": ("document", ("doc_type", "issue_date", "id", "status", "due_date", "total_minor", "number",
                                        "client", "search_text")),
    "document_type_money": ("document", ("doc_type", "currency", "status", "base_currency", "due_date", "total_minor",
                                         "paid_minor", "credited_minor", "total_base_minor", "issue_date",
                                         "search_text")),
    # Issue 21: the list sorted by total walks an index instead of sorting 100,000 rows. No other
    # (doc_type, ...) index: SQLite, knowing nothing of the data, takes two equal columns for narrower
    # than one, and would walk (doc_type, status, ...) or (doc_type, due_date) for a client's open
    # invoices (the ledger page) instead of the client's few rows.
    # Each sort's index carries the issue date and the stored status, so that a period's many rows or the
    # paid invoices (logic.paid_invoice_sql) are found while walking it, without reading the documents;
    # and the search text, so that a broad search (a word in most documents) is tested in the index it
    # walks: page 1,400 of "hosting" sorted by number reads 50,000 index entries, not 50,000 documents.
    "document_type_total": ("document", ("doc_type", "total_minor", "id", "issue_date", "status", "search_text")),
    # Issue 21: the whole list sorted by due date or number walks these indexes. The ledger page's open
    # invoices of a client keep the client's rows (app.receivables sorts them with "+due_date").
    "document_type_due": ("document", ("doc_type", "due_date", "id", "issue_date", "status", "search_text")),
    "document_type_number": ("document", ("doc_type", "number", "id", "issue_date", "status", "search_text")),
    # A client's documents of one type by date; and the whole list sorted by client name, read client by
    # client in name order (client_name), each client's documents from here.
    "document_client_type": ("document", ("client", "doc_type", "issue_date", "id", "status", "search_text")),
    # Issue 21: a stored status of one type (the issued credit notes, the accepted quotes) is read here,
    # not among every document of that status (the issued credit notes among 90,000 issued invoices). It
    # carries what such a list sorts by, sums and searches (and a quote's expiry), so that its few hundred
    # rows (the drafts) are read, sorted and summed here: each document's own row is a page read of its own.
    "document_status_type": ("document", ("status", "doc_type", "issue_date", "id", "due_date", "total_minor", "number",
                                          "client", "currency", "base_currency", "paid_minor", "credited_minor",
                                          "total_base_minor", "valid_until", "search_text")),
}


# Search as you type: an FTS5 index of `search_text` with the trigram tokenizer, so that a
# substring of three characters or more is found through the index instead of a LIKE over
# every row. External content (the text stays in `document`; the index holds only the
# trigrams) kept in step by triggers, so every write (service, import, bulk SQL) updates it
# in its own transaction. The text is already folded (app.common.logic.fold_text), hence
# case_sensitive 1: a match is exactly a substring, the same rule as before.
# The index holds each text followed by two spaces (SEARCH_PAD; its content is the view
# document_search_source, so FTS5's own rebuild and integrity-check read the same): every
# place a word of one or two letters occurs then starts a trigram, even at the end of the
# text, and such a word is found through the trigrams that start with it (the vocabulary,
# app.documents.service._short_word_terms) instead of a scan of every text. A word never
# holds a space, so the padding matches nothing else.
# A hand-written migration creates these; tests/unit/test_migrations.py holds the two in step.
SEARCH_TABLE = "document_search"
SEARCH_PAD = "  "
# The trigrams of the index with the number of documents holding each (FTS5's fts5vocab), made on each
# of the engine's connections in its temporary schema (app.db.engine.on_connect): it stores nothing,
# so the data folder's schema, its backups and `counterfoil check` have nothing more to hold.
SEARCH_VOCABULARY = "document_search_vocab"
SEARCH_VOCABULARY_SQL = (f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{SEARCH_VOCABULARY} "
                         f"USING fts5vocab(main, {SEARCH_TABLE}, 'row')")
on_connect(SEARCH_VOCABULARY_SQL)

TALLY_KEY = ("doc_type", "status", "settled", "currency", "base_currency", "month")
TALLY_SUMS = ("n", "total_minor", "paid_minor", "credited_minor", "total_base_minor", "rated")
# The running sums' key and sums as a grouped SELECT of the documents (GROUP BY its first six columns): what a
# kept search's sums are filled with, and what `counterfoil check` compares every running sum against.
TALLY_OF_DOCUMENTS = ("doc_type, status, total_minor - paid_minor - credited_minor <= 0, currency, base_currency, "
                      "substr(issue_date, 1, 7), count(*), sum(total_minor), sum(paid_minor), sum(credited_minor), "
                      "coalesce(sum(total_base_minor), 0), count(total_base_minor)")


def _tally_values(row: str, sign: str) -> list[str]:
    """One document's key and signed sums (TALLY_KEY, TALLY_SUMS), `row` being new or old."""
    return [f"{row}.doc_type", f"{row}.status",
            f"({row}.total_minor - {row}.paid_minor - {row}.credited_minor <= 0)", f"{row}.currency",
            f"{row}.base_currency", f"substr({row}.issue_date, 1, 7)",
            f"{sign}1", f"{sign}{row}.total_minor", f"{sign}{row}.paid_minor", f"{sign}{row}.credited_minor",
            f"{sign}coalesce({row}.total_base_minor, 0)", f"{sign}({row}.total_base_minor IS NOT NULL)"]


def _tally_row(row: str, sign: str) -> str:
    """An upsert adding (sign "") or taking away (sign "-") one document, `row` being new or old."""
    columns = (*TALLY_KEY, *TALLY_SUMS)
    return (f"INSERT INTO document_tally ({', '.join(columns)}) VALUES ({', '.join(_tally_values(row, sign))}) "
            f"ON CONFLICT ({', '.join(TALLY_KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in TALLY_SUMS) + ";")


def _search_matches(text: str) -> str:
    """The condition that the search text `text` holds every word of the search_term row (its GLOB patterns)."""
    return (f"NOT EXISTS (SELECT 1 FROM json_each(search_term.patterns) WHERE coalesce({text} GLOB json_each.value, 0) "
            "= 0)")


def _search_tally_row(row: str, sign: str) -> str:
    """The upsert of _tally_row into search_tally, once for each kept search whose words the document holds."""
    columns = ("term", *TALLY_KEY, *TALLY_SUMS)
    return (f"INSERT INTO search_tally ({', '.join(columns)}) SELECT search_term.id, "
            f"{', '.join(_tally_values(row, sign))} FROM search_term WHERE {_search_matches(f'{row}.search_text')} "
            f"ON CONFLICT (term, {', '.join(TALLY_KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in TALLY_SUMS) + ";")


TALLIED_COLUMNS = ("doc_type", "status", "currency", "base_currency", "issue_date", "total_minor", "paid_minor",
                   "credited_minor", "total_base_minor")
TALLY_TRIGGERS = {
    "document_tally_key": "CREATE UNIQUE INDEX document_tally_key ON document_tally ("
                          + ", ".join(TALLY_KEY) + ")",
    "document_tally_insert": f"CREATE TRIGGER document_tally_insert AFTER INSERT ON document BEGIN "
                             f"{_tally_row('new', '')} END",
    "document_tally_delete": f"CREATE TRIGGER document_tally_delete AFTER DELETE ON document BEGIN "
                             f"{_tally_row('old', '-')} END",
    "document_tally_update": f"CREATE TRIGGER document_tally_update AFTER UPDATE OF {', '.join(TALLIED_COLUMNS)} "
                             f"ON document WHEN "
                             + " OR ".join(f"old.{c} IS NOT new.{c}" for c in TALLIED_COLUMNS)
                             + f" BEGIN {_tally_row('old', '-')} {_tally_row('new', '')} END",
}
SEARCH_TALLIED_COLUMNS = (*TALLIED_COLUMNS, "search_text")
SEARCH_TALLY_TRIGGERS = {
    "search_tally_key": "CREATE UNIQUE INDEX search_tally_key ON search_tally (term, " + ", ".join(TALLY_KEY) + ")",
    "search_tally_insert": f"CREATE TRIGGER search_tally_insert AFTER INSERT ON document BEGIN "
                           f"{_search_tally_row('new', '')} END",
    "search_tally_delete": f"CREATE TRIGGER search_tally_delete AFTER DELETE ON document BEGIN "
                           f"{_search_tally_row('old', '-')} END",
    "search_tally_update": f"CREATE TRIGGER search_tally_update AFTER UPDATE OF {', '.join(SEARCH_TALLIED_COLUMNS)} "
                           f"ON document WHEN "
                           + " OR ".join(f"old.{c} IS NOT new.{c}" for c in SEARCH_TALLIED_COLUMNS)
                           + f" BEGIN {_search_tally_row('old', '-')} {_search_tally_row('new', '')} END",
}

EXTRA_SQL = {
    "document_search_source": "CREATE VIEW document_search_source AS SELECT id, search_text || '  ' AS search_text "
                              "FROM document",
    "document_search": "CREATE VIRTUAL TABLE document_search USING fts5(search_text, content='document_search_source', "
                       "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "document_search_insert": "CREATE TRIGGER document_search_insert AFTER INSERT ON document BEGIN "
                              "INSERT INTO document_search (rowid, search_text) VALUES (new.id, new.search_text || '  '); "
                              "END",
    "document_search_delete": "CREATE TRIGGER document_search_delete AFTER DELETE ON document BEGIN "
                              "INSERT INTO document_search (document_search, rowid, search_text) "
                              "VALUES ('delete', old.id, old.search_text || '  '); END",
    "document_search_update": "CREATE TRIGGER document_search_update AFTER UPDATE OF search_text ON document BEGIN "
                              "INSERT INTO document_search (document_search, rowid, search_text) "
                              "VALUES ('delete', old.id, old.search_text || '  '); "
                              "INSERT INTO document_search (rowid, search_text) VALUES (new.id, new.search_text || '  '); "
                              "END",
    # The receivables aging report reads open invoices only (a partial index: paid ones are not in it).
    # It carries every column an open-invoice list reads (filters, sums, sorts, the search text), so such a list
    # reads it alone.
    "document_open_invoice": "CREATE INDEX document_open_invoice ON document (client, currency, due_date, issue_date, "
                             "total_minor, paid_minor, credited_minor, doc_type, status, base_currency, "
                             "total_base_minor, number, search_text) WHERE doc_type = 'invoice' "
                             "AND status IN ('issued', 'sent') AND total_minor - paid_minor - credited_minor > 0",
    # The running sums of DocumentTally: each document counted once under its key, moved when its key or
    # money changes. The key and the signed amounts are written once here for the three triggers.
    **TALLY_TRIGGERS,
    # The same sums per kept search (SearchTerm), for a broad search's count and footer.
    **SEARCH_TALLY_TRIGGERS,
    # Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
    # migration creates these). Lines, events and the number series belong to their document's history.
    **audited(Document, ignored={"search_text"}),
    **audited(DocumentLine, parent=("document", "document")),
    **audited(NumberSeries),
    **audited(DocumentEvent, parent=("document", "document")),
    **audited(CreateRequest, parent=("document", "document")),
    **audited(DocumentRecord, parent=("document", "document")),
}


# What the database itself refuses, whatever writes to it (app.db.constraints: a hand-written
# migration adds them; tests/unit/test_migrations.py holds the two in step). Totals and line
# nets are not here: a draft may hold a deducted deposit and come out below zero while it is
# edited, and a line's net is negative for such a deduction.
CHECKS = {
    "document": {
        "document_paid_not_negative": "paid_minor >= 0",
        "document_credited_not_negative": "credited_minor >= 0",
        # What is paid beyond the total lives on the payment as client credit (payment.excess_minor).
        # A draft below zero has nothing paid or credited.
        "document_paid_and_credited_within_total":
            "paid_minor + credited_minor = 0 OR paid_minor + credited_minor <= total_minor",
        # An issued invoice debits its total to the ledger, an issued credit note credits it: never below zero.
        "document_issued_total_not_negative": "status = 'draft' OR doc_type = 'quote' OR total_minor >= 0",
        "document_issued_has_number": "status = 'draft' OR number IS NOT NULL",
    },
}
