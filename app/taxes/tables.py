from piccolo.columns import Boolean, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class Tax(Table, db=DB, tablename="tax"):
    """A named rate (GST 5, VAT 19...). The rate is exact decimal text, never REAL."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    code = Varchar(length=20, unique=True)
    name = Varchar(length=100)
    rate = Varchar(length=20)  # percent, e.g. "9.975"
    compound = Boolean(default=False)
    note = Text(default="")  # legal note printed on documents (reverse charge, registration no.)
    # JSON {language: text}: the name and the note in other languages (en, fr, de), printed on a document
    # in its language (logic.tax_label, logic.tax_note); a language without one prints `name`, `note`.
    names = Text(default="")
    notes = Text(default="")
    category = Varchar(length=2, default="S")  # EN 16931 VAT category: S, Z, E, AE, K, G, O
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers).
EXTRA_SQL = audited(Tax)
