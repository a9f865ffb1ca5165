from piccolo.columns import Date, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class FxSettings(Table, db=DB, tablename="fx_settings"):
    """The base currency every total is converted to (one row). Empty: the business currency."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    base_currency = Varchar(length=3, default="")
    updated_at = Timestamptz()


class ExchangeRate(Table, db=DB, tablename="exchange_rate"):
    """A rate of one currency on one day: `rate` units of it per one unit of `base_currency` (exact
    decimal text). One row per (base, currency, day): a new rate for the same day replaces it."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    base_currency = Varchar(length=3)
    currency = Varchar(length=3, index=True)
    rate_date = Date(index=True)
    rate = Varchar(length=40)
    source = Varchar(length=10, default="manual")  # manual | ecb | boc | csv
    created_at = Timestamptz()
    updated_at = Timestamptz()


class BankAccount(Table, db=DB, tablename="bank_account"):
    """Where clients pay: one account for one or more currencies (`currencies`, space separated). A
    document prints the first account (by position) for its currency. Euro accounts carry an
    IBAN/BIC, Canadian ones an institution/transit/account number, US ones a routing/account number."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    position = Integer(default=0)
    currencies = Varchar(length=200, default="")
    holder = Varchar(length=200, default="")
    bank_name = Varchar(length=200, default="")
    iban = Varchar(length=42, default="")
    bic = Varchar(length=11, default="")
    institution = Varchar(length=3, default="")   # Canada: 3-digit institution number
    transit = Varchar(length=5, default="")       # Canada: 5-digit branch transit number
    routing = Varchar(length=9, default="")       # US: 9-digit ABA routing number
    account_number = Varchar(length=40, default="")  # Canada or US account number
    note = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers).
EXTRA_SQL = {**audited(FxSettings), **audited(ExchangeRate), **audited(BankAccount)}

# Created by a hand-written migration (see app/documents/tables.py EXTRA_INDEXES): the lookup of "the
# rate on or before a day" walks this index backwards.
EXTRA_INDEXES = {
    "exchange_rate_lookup": ("exchange_rate", ("base_currency", "currency", "rate_date")),
}
