from piccolo.columns import Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class Client(Table, db=DB, tablename="client"):
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    code = Varchar(length=20, unique=True)
    name = Varchar(length=200, index=True)
    status = Varchar(length=10, default="active", index=True)  # active | archived
    contact_name = Varchar(length=200, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=60, default="")
    address_line1 = Varchar(length=200, default="")
    address_line2 = Varchar(length=200, default="")
    postal_code = Varchar(length=40, default="")
    city = Varchar(length=120, default="")
    region = Varchar(length=120, default="")
    country = Varchar(length=2, default="")
    currency = Varchar(length=3, default="")
    language = Varchar(length=10, default="en")
    tax_number = Varchar(length=80, default="")
    # EN 16931 BT-10: the reference the buyer wants on its invoices (a German authority's Leitweg-ID).
    buyer_reference = Varchar(length=100, default="")
    # EN 16931 BT-49: where e-invoices reach the client (a Peppol participant id) and its EAS scheme code.
    electronic_address = Varchar(length=100, default="")
    electronic_address_scheme = Varchar(length=4, default="")
    notes = Text(default="")
    # Accent- and case-folded name/code/email, and the phone's digits, for search.
    search_text = Text(default="")
    search_digits = Varchar(length=60, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    archived_at = Timestamptz(null=True, default=None)


# Composite indexes Piccolo's columns cannot declare; a hand-written migration creates them, and
# tests/unit/test_migrations.py holds the two in step. The newest clients (the dashboard) walk this one
# from its end and stop after the few they show, instead of sorting every active client.
EXTRA_INDEXES = {
    "client_status_created": ("client", ("status", "created_at")),
}


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers). The search columns are derived from the others: not recorded.
EXTRA_SQL = audited(Client, ignored={"search_text", "search_digits"})
