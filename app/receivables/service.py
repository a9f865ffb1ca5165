"""What clients owe: open invoices, the receivables aging (report and page) and client statements.

Reads the ledger (app.ledger) and the invoices with what settled them (documents, payments); writes
nothing. Which invoices are owed on, and how much, is documents' rule, in SQL from
app.documents.logic (owed_invoice_sql, open_amount_sql) so it is the rule the lists use.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query import OrderByRaw

from app.clients.tables import Client
from app.common.i18n import _
from app.common.logic import FieldError, NotFound, Page, PageOf, ValidationFailed
from app.db.engine import cached
from app.documents import logic as documents_logic
from app.documents.tables import Document
from app.fx import logic as fx_logic
from app.fx import service as fx_service
from app.ledger import service as ledger_service
from app.money import from_minor, round_money
from app.payments.tables import CreditApplication, Payment
from app.receivables import logic
from app.settings import service as settings_service

# Earliest due first, sorted after the filter's index has found the rows ("+": not by walking the index of
# every invoice's due date, document_type_due, which SQLite would otherwise take for the order).
DUE_FIRST = OrderByRaw("+document.due_date")


# -- open invoices ---------------------------------------------------------------------------

async def open_invoices(client_id: int | None = None, currency: str | None = None) -> list[logic.OpenInvoice]:
    """Invoices with money owed on them today, the earliest due first."""
    query = Document.select(Document.id, Document.number, Document.client, Document.currency, Document.issue_date,
                            Document.due_date, Document.total_minor, Document.paid_minor, Document.credited_minor,
                            Document.client.name.as_alias("client_name")).where(
        (Document.doc_type == documents_logic.INVOICE)
        & WhereRaw(documents_logic.owed_invoice_sql(documents_logic.InvoiceColumns.of("document"))))
    if client_id is not None:
        query = query.where(Document.client == client_id)
    else:
        # Every client's: the partial index of open invoices names them (SQLite, knowing nothing of the
        # data, would otherwise walk an index of every invoice).
        query = query.where(WhereRaw(documents_logic.open_invoice_ids_sql()))
    if currency:
        query = query.where(Document.currency == currency)
    rows = await query.order_by(DUE_FIRST).order_by(Document.id)
    return [_open_invoice(row) for row in rows]


def _open_invoice(row: dict[str, Any]) -> logic.OpenInvoice:
    currency = row["currency"]
    return logic.OpenInvoice(
        id=row["id"], number=row["number"], client_id=row["client"], client_name=row["client_name"],
        currency=currency, issue_date=row["issue_date"], due_date=row["due_date"],
        total=from_minor(row["total_minor"], currency),
        open=documents_logic.balance(*(from_minor(row[name], currency)
                                       for name in ("total_minor", "paid_minor", "credited_minor"))))


async def invoice_histories(client_id: int, currency: str, up_to: date) -> list[logic.InvoiceHistory]:
    """The client's invoices issued by `up_to` in one currency (cancelled ones too: their cancellation is a
    dated credit note), each with the payments, applied credit and credit notes dated by then."""
    rows = await Document.select(Document.id, Document.number, Document.issue_date, Document.due_date,
                                 Document.total_minor).where(
        (Document.client == client_id) & (Document.currency == currency)
        & (Document.doc_type == documents_logic.INVOICE) & (Document.status != "draft")
        & (Document.issue_date <= up_to)).order_by(DUE_FIRST).order_by(Document.id)
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    paid: dict[int, list[logic.Settlement]] = defaultdict(list)
    credited: dict[int, list[logic.Settlement]] = defaultdict(list)
    for payment in await Payment.select(Payment.invoice, Payment.payment_date, Payment.applied_minor, Payment.status,
                                        Payment.reversal_date).where(
            Payment.invoice.is_in(ids) & (Payment.payment_date <= up_to)):
        paid[payment["invoice"]].append(logic.Settlement(
            payment["payment_date"], from_minor(payment["applied_minor"], currency),
            undone_on=payment["reversal_date"] if payment["status"] == "reversed" else None))
    for applied in await CreditApplication.select(CreditApplication.invoice, CreditApplication.applied_date,
                                                  CreditApplication.amount_minor).where(
            CreditApplication.invoice.is_in(ids) & (CreditApplication.applied_date <= up_to)):
        paid[applied["invoice"]].append(logic.Settlement(applied["applied_date"],
                                                         from_minor(applied["amount_minor"], currency)))
    for note in await Document.select(Document.invoice, Document.issue_date, Document.total_minor).where(
            (Document.doc_type == documents_logic.CREDIT_NOTE) & (Document.status == "issued")
            & Document.invoice.is_in(ids) & (Document.issue_date <= up_to)):
        credited[note["invoice"]].append(logic.Settlement(note["issue_date"], from_minor(note["total_minor"], currency)))
    return [logic.InvoiceHistory(id=row["id"], number=row["number"], currency=currency, issue_date=row["issue_date"],
                                 due_date=row["due_date"], total=from_minor(row["total_minor"], currency),
                                 paid=tuple(paid[row["id"]]), credited=tuple(credited[row["id"]])) for row in rows]


# -- statements ------------------------------------------------------------------------------

async def statement(client_id: int, date_from: date | None = None, date_to: date | None = None,
                    currency: str | None = None) -> logic.StatementView:
    """A client's statement of account for a period (default: this year to today) in one currency (default:
    the first the client was billed in): the ledger's entries, opening and closing balances, and the aging
    of what was open at the end of the period. The page, the API, the PDF and the email all show this."""
    today = await settings_service.today()
    date_from, date_to = logic.statement_period(date_from, date_to, today)
    client = await Client.select().where(Client.id == client_id).first()
    if client is None:
        raise NotFound(_("Client %(client_id)s", client_id=client_id))
    currencies = await ledger_service.currencies_of(client_id)
    if currency and currency.upper() not in currencies and currency.upper() != client["currency"]:
        raise ValidationFailed([FieldError("currency", _("%(client)s has no account in %(currency)s; its statements are in %(currencies)s",
                                                         client=client["name"], currency=currency,
                                                         currencies=", ".join(currencies or [client["currency"] or "-"])))])
    # By default the client's own currency when its account has entries in it (a client billed in EUR by a
    # business in CAD also has the base currency's exchange and fee memos), else the first it has.
    currency = (currency or "").upper() or (client["currency"] if client["currency"] in currencies
                                            else currencies[0] if currencies else client["currency"] or "")
    entries = await ledger_service.entries(client_id, currency)
    open_items = logic.open_items_on(await invoice_histories(client_id, currency, date_to), date_to)
    result = logic.statement(entries, date_from, date_to, open_items)
    if currency:
        result = logic.in_currency(result, currency)
    return logic.StatementView(client=client, currency=currency, currencies=tuple(currencies), statement=result,
                               statement_date=logic.statement_date(date_to, today))


# -- the aging report ------------------------------------------------------------------------

async def aging_report(as_of: date) -> list[logic.AgingRow]:
    """Accounts receivable aging across clients, one row per client and currency, the largest total first
    (every row: the API and the accountant's CSV)."""
    rows = sorted(await _aging_rows(as_of), key=lambda r: (-r["total"], r["client_name"]))
    return [_aging_row(row) for row in rows]


async def aging_page(as_of: date, page: Page) -> PageOf:
    """One page of the aging report, the most overdue clients first, with the totals of every row
    (extra["totals"]: one AgingTotal per currency)."""
    # The page's rows, their count and the totals each summed in SQL over the open invoices' index: thousands
    # of client rows never travel into Python for one page of them.
    rows = await cached(("aging-page", as_of, page.offset, page.per_page),
                        lambda: _aging_query(as_of, limit=page.per_page, offset=page.offset))
    count = await cached(("aging-count", as_of), lambda: _aging_count(as_of))
    totals = await cached(("aging-totals", as_of), lambda: _aging_sql_totals(as_of))
    return PageOf(items=[_aging_row(row) for row in rows], total=count, page=page, extra={"totals": totals})


_AGING_KEYS = dict(zip(logic.AGING_BUCKETS, ("b_current", "b_1_30", "b_31_60", "b_61_90", "b_over_90"), strict=True))


async def _aging_totals(rows: list[dict[str, Any]]) -> list[logic.AgingTotal]:
    sums: dict[str, dict[str, int]] = {}
    for row in rows:
        add = sums.setdefault(row["currency"], dict.fromkeys((*_AGING_KEYS.values(), "total"), 0))
        for key in add:
            add[key] += row[key] or 0
    return [logic.AgingTotal(currency=currency,
                             buckets={name: from_minor(minor[key], currency) for name, key in _AGING_KEYS.items()},
                             total=from_minor(minor["total"], currency))
            for currency, minor in sorted(sums.items())]


def _aging_row(row: dict[str, Any]) -> logic.AgingRow:
    currency = row["currency"]
    return logic.AgingRow(client_id=row["client_id"], client_name=row["client_name"], currency=currency,
                          buckets={name: from_minor(row[key] or 0, currency) for name, key in _AGING_KEYS.items()},
                          total=from_minor(row["total"] or 0, currency))


async def _aging_rows(as_of: date) -> list[dict[str, Any]]:
    """Open invoice balances per client and currency and bucket, in minor units, the most overdue first:
    the largest amount more than 90 days past due, then 61-90, and so on, then the largest total
    (cached per data version)."""
    return await cached(("aging", as_of), lambda: _aging_query(as_of))


def _open_invoices_by(as_of: date) -> str:
    """The FROM and WHERE of the aging's queries: the open invoices issued by `as_of`, from their partial index."""
    return (" FROM document INDEXED BY document_open_invoice"
            f" WHERE doc_type = '{documents_logic.INVOICE}' AND {documents_logic.owed_invoice_sql()}"
            f" AND issue_date <= {documents_logic.sql_date(as_of)}")


def _bucket_sums(as_of: date) -> str:
    open_sql = documents_logic.open_amount_sql()
    return ", ".join(f"SUM(CASE WHEN {logic.aging_bucket_sql(name, as_of)} THEN {open_sql} ELSE 0 END) AS {key}"
                     for name, key in _AGING_KEYS.items()) + f", SUM({open_sql}) AS total"


async def _aging_count(as_of: date) -> int:
    """How many rows (client and currency) the aging report has."""
    found = await Document.raw(f"SELECT count(*) AS n FROM (SELECT 1{_open_invoices_by(as_of)} GROUP BY client, currency)")
    return int(found[0]["n"])


async def _aging_sql_totals(as_of: date) -> list[logic.AgingTotal]:
    """The totals of every row per currency (what _aging_totals adds up from the rows), summed in SQL."""
    return await _aging_totals(await Document.raw(
        f"SELECT currency, {_bucket_sums(as_of)}{_open_invoices_by(as_of)} GROUP BY currency"))


async def _aging_query(as_of: date, *, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Summed and ordered in SQL (logic.aging_bucket_sql: aging_bucket's edges as due-date comparisons) over
    the partial index of open invoices: 100,000 open invoices never travel into Python, and paid ones are
    not read.

    The amounts are those open today, of the invoices issued by `as_of`."""
    return await Document.raw(
        "SELECT a.*, c.name AS client_name FROM ("
        f" SELECT client AS client_id, currency, {_bucket_sums(as_of)}{_open_invoices_by(as_of)}"
        " GROUP BY client, currency"
        ") a JOIN client c ON c.id = a.client_id"
        " ORDER BY a.b_over_90 DESC, a.b_61_90 DESC, a.b_31_60 DESC, a.b_1_30 DESC, a.total DESC, c.name, c.id"
        + (f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""))


# -- in the base currency (app.fx) ----------------------------------------------------------------

async def aging_in_base(as_of: date) -> tuple[list[logic.AgingRow], logic.AgingTotal, int]:
    """The aging report with every open balance converted to the base currency at the rate its invoice
    was issued with (or the latest rate on or before its issue date when none was frozen): one row per
    client, the largest total first, the grand total, and how many invoices had no rate (left out)."""
    base = await fx_service.base_currency()
    rows = await Document.raw(
        "SELECT o.*, c.name AS client_name FROM ("
        f" SELECT client AS client_id, currency, due_date, issue_date, exchange_rate, base_currency,"
        f" {documents_logic.open_amount_sql()} AS open_minor FROM document"
        f" WHERE doc_type = '{documents_logic.INVOICE}' AND {documents_logic.owed_invoice_sql()}"
        f" AND issue_date <= {documents_logic.sql_date(as_of)}) o JOIN client c ON c.id = o.client_id")
    histories: dict[str, list[tuple[date, Decimal]]] = {}
    per_client: dict[int, dict[str, Decimal]] = {}
    names: dict[int, str] = {}
    left_out = 0
    for row in rows:
        currency = row["currency"]
        issued = row["issue_date"] if isinstance(row["issue_date"], date) else date.fromisoformat(row["issue_date"])
        due = row["due_date"]
        due = due if due is None or isinstance(due, date) else date.fromisoformat(due)
        rate: Decimal | None
        if currency == base:
            rate = Decimal(1)
        elif row["exchange_rate"] and row["base_currency"] == base:
            rate = Decimal(row["exchange_rate"])
        else:
            if currency not in histories:
                histories[currency] = await fx_service.history(currency, base)
            rate = fx_logic.rate_on(histories[currency], issued)
        if rate is None:
            left_out += 1
            continue
        amount = fx_logic.to_base(from_minor(int(row["open_minor"]), currency), rate, base)
        sums = per_client.setdefault(row["client_id"], {name: Decimal(0) for name in logic.AGING_BUCKETS})
        sums[logic.aging_bucket(due, as_of)] += amount
        names[row["client_id"]] = row["client_name"]
    result = [logic.AgingRow(client_id=client_id, client_name=names[client_id], currency=base,
                             buckets={k: round_money(v, base) for k, v in sums.items()},
                             total=round_money(sum(sums.values(), Decimal(0)), base))
              for client_id, sums in per_client.items()]
    result.sort(key=lambda r: (-r.total, r.client_name))
    grand = {name: round_money(sum((r.buckets[name] for r in result), Decimal(0)), base)
             for name in logic.AGING_BUCKETS}
    return result, logic.AgingTotal(currency=base, buckets=grand,
                                    total=round_money(sum(grand.values(), Decimal(0)), base)), left_out
