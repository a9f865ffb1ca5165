from piccolo.columns import BigInt, Boolean, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class Item(Table, db=DB, tablename="catalog_item"):
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    code = Varchar(length=40, unique=True)
    name = Varchar(length=200, unique=True)
    kind = Varchar(length=10, default="service")  # service | product
    description = Text(default="")
    unit = Varchar(length=30, default="")
    # Exact price with up to 4 decimals, as an integer of 1/10,000 (never REAL).
    unit_price_e4 = BigInt(default=0)
    # The item's own tax codes (space-separated): when set, they override the rules by place of supply.
    default_tax_codes = Varchar(length=200, default="")
    # What the rules by place of supply read (app.taxes.logic): standard | reduced | zero | exempt.
    tax_category = Varchar(length=10, default="standard")
    category = Varchar(length=100, default="", index=True)
    active = Boolean(default=True)
    # Prices in other currencies than the business's, exact decimal text: {"EUR": "1100.00"} (app.fx).
    prices_json = Text(default="{}")
    search_text = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers). The search text is derived from the others: not recorded.
EXTRA_SQL = audited(Item, ignored={"search_text"})
