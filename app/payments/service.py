"""Payments, reversals, client credit and refunds: every change is one transaction and one ledger entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import (
    MAX_ID,
    Conflict,
    FieldError,
    Form,
    NotFound,
    Page,
    PageOf,
    ValidationFailed,
    clean_idempotency_key,
    storable_id,
)
from app.db.engine import cached, write_transaction
from app.documents import service as documents_service
from app.documents.logic import parse_date, split_period
from app.documents.records import DocumentView
from app.documents.tables import Document
from app.fx import logic as fx_logic
from app.fx import service as fx_service
from app.ledger import logic as ledger_logic
from app.ledger import service as ledger_service
from app.money import from_minor, minor_digits, round_money, to_minor
from app.payments import logic
from app.payments.records import PaymentTotals, PaymentView, RefundView
from app.payments.tables import CreditApplication, Payment, PaymentTally, Refund
from app.settings import service as settings_service


def _now() -> datetime:
    return datetime.now(UTC)


def _payment_query() -> Any:
    return Payment.select(*Payment.all_columns(), Payment.client.name.as_alias("client_name"),
                          Payment.invoice.number.as_alias("invoice_number"))


async def get_payment(payment_id: int) -> PaymentView:
    row = await _payment_query().where(Payment.id == payment_id).first()
    if row is None:
        raise NotFound(_("Payment %(payment_id)s", payment_id=payment_id))
    return PaymentView.from_row(row)


async def _open_invoice(invoice_id: int) -> dict[str, Any]:
    invoice = await Document.select().where((Document.id == invoice_id) & (Document.doc_type == "invoice")).first()
    if invoice is None:
        raise NotFound(_("Invoice %(invoice_id)s", invoice_id=invoice_id))
    if invoice["status"] == "draft":
        raise Conflict(_("Issue the invoice before recording a payment."))
    if invoice["status"] == "cancelled":
        raise Conflict(_("This invoice is cancelled; it takes no payments."))
    return invoice


def _open_amount(invoice: Mapping[str, Any]) -> Decimal:
    return from_minor(invoice["total_minor"] - invoice["paid_minor"] - invoice["credited_minor"], invoice["currency"])


def _check_same_payment(recorded: PaymentView, data: Mapping[str, Any], today: date) -> None:
    """A retry with an idempotency key sends the same payment: the amount (with its fee), and the date, method and
    reference it gives. Another payment under a used key is refused (409), not answered as the first one."""
    values = logic.clean_payment(data, recorded.currency, today)
    given = {"date": values.payment_date if data.get("date", data.get("payment_date")) not in (None, "") else None,
             "method": values.method if data.get("method") not in (None, "") else None,
             "reference": values.reference if data.get("reference") not in (None, "") else None}
    differs = values.amount + values.fee != recorded.amount or any(
        value is not None and value != getattr(recorded, name)
        for name, value in (("payment_date", given["date"]), ("method", given["method"]),
                            ("reference", given["reference"])))
    if differs:
        raise Conflict(_("This idempotency key was already used for a payment of %(amount)s %(currency)s on %(day)s: "
                         "a retry sends the same payment, a new payment needs a new key.",
                         amount=recorded.amount, currency=recorded.currency, day=recorded.payment_date.isoformat()))


async def record_payment(invoice_id: int, data: Mapping[str, Any], *, actor: int | None = None,
                         idempotency_key: str | None = None) -> PaymentView:
    """Record money received against an invoice. The same idempotency key never records twice."""
    key = clean_idempotency_key(idempotency_key)
    today = await settings_service.today()
    async with write_transaction():
        if key is not None:
            existing = await Payment.select(Payment.id, Payment.invoice).where(Payment.idempotency_key == key).first()
            if existing is not None:
                if existing["invoice"] != invoice_id:
                    raise Conflict(_("This idempotency key was already used for another invoice."))
                recorded = await get_payment(existing["id"])
                _check_same_payment(recorded, data, today)
                return recorded
        invoice = await _open_invoice(invoice_id)
        currency = invoice["currency"]
        values = logic.clean_payment(data, currency, today)
        if values.payment_date < invoice["issue_date"]:
            raise ValidationFailed([FieldError("date", _("A payment cannot be dated before the invoice was issued"))])
        # The bank's fee settles the invoice with what arrived: amount + fee is what the payment counts for.
        settled = values.amount + values.fee
        applied, excess = logic.split_payment(settled, _open_amount(invoice), values.keep_excess_as_credit,
                                              currency)
        frozen = await fx_service.freeze(currency, values.payment_date, to_minor(settled, currency))
        payment = Payment(client=invoice["client"], invoice=invoice_id, currency=currency,
                          amount_minor=to_minor(settled, currency), applied_minor=to_minor(applied, currency),
                          excess_minor=to_minor(excess, currency), payment_date=values.payment_date,
                          method=values.method, reference=values.reference, note=values.note, status="live",
                          idempotency_key=key, created_at=_now(), created_by=actor,
                          fee_minor=to_minor(values.fee, currency),
                          exchange_rate=str(frozen.rate) if frozen.rate is not None and currency != frozen.base_currency
                          else None)
        await payment.save()
        await documents_service.add_paid(invoice_id, payment.applied_minor)
        method = logic.METHODS[values.method]
        await ledger_service.append(
            client_id=invoice["client"], currency=currency, entry_date=values.payment_date, kind="payment",
            credit_minor=payment.amount_minor, document_id=invoice_id, payment_id=payment.id, number=invoice["number"],
            description=f"Payment, {method}" + (f" ({values.reference})" if values.reference else "")
                        + (f"; {values.fee} {currency} bank fee" if values.fee else "")
                        + (f"; {excess} {currency} kept as credit" if excess else ""),
            refs={"method": values.method, "reference": values.reference or "",
                  "excess_minor": to_minor(excess, currency) if excess else 0,
                  **({"fee_minor": to_minor(values.fee, currency)} if values.fee else {})}, actor=actor)
        await _fx_memos(invoice, payment.id, values.payment_date, applied, values.fee, frozen, actor)
        await documents_service.record_event(invoice_id, "payment", f"{settled} {currency} by {method}"
                                             + (f" ({values.fee} {currency} bank fee)" if values.fee else ""), actor)
        # Read back inside the transaction: the reply is what this write made, whatever else is being read.
        return await get_payment(payment.id)


async def _fx_memos(invoice: Mapping[str, Any], payment_id: int, day: date, applied: Decimal, fee: Decimal,
                    frozen: fx_service.Frozen, actor: int | None) -> None:
    """The memo entries a foreign payment writes to the ledger in the base currency (app.fx): its realised
    exchange gain or loss against the rate the invoice was issued with, and the bank's fee as a cost.
    Without a rate for the payment's day (or the invoice's) no gain or loss can be known: none is written."""
    currency, base = invoice["currency"], frozen.base_currency
    common = {"client_id": invoice["client"], "entry_date": day, "document_id": invoice["id"],
              "payment_id": payment_id, "number": invoice["number"] or "", "actor": actor}
    if (currency != base and frozen.rate is not None and invoice["exchange_rate"]
            and invoice["base_currency"] == base and applied > 0):
        difference = fx_logic.realised_difference(applied, Decimal(invoice["exchange_rate"]), frozen.rate, base)
        if difference:
            await ledger_service.append(
                **common, currency=base, kind="fx_gain" if difference > 0 else "fx_loss",
                amount_minor=to_minor(abs(difference), base),
                description=f"{applied} {currency} at {fx_logic.rate_text(frozen.rate)} (invoice at "
                            f"{fx_logic.rate_text(Decimal(invoice['exchange_rate']))} per {base})")
    if fee > 0:
        in_base = fx_logic.to_base(fee, frozen.rate, base) if frozen.rate is not None else None
        await ledger_service.append(
            **common, currency=base if in_base is not None else currency, kind="bank_fee",
            amount_minor=to_minor(in_base, base) if in_base is not None else to_minor(fee, currency),
            description=f"Bank fee {fee} {currency}")


async def _undo_fx_memos(payment_id: int, day: date, actor: int | None) -> None:
    """A reversed payment undoes its exchange gain or loss and its bank fee, dated the day of the reversal."""
    for entry in await ledger_service.memos_of_payment(payment_id, tuple(ledger_logic.FX_MEMO_UNDO)):
        await ledger_service.append(
            client_id=entry["client"], currency=entry["currency"], entry_date=day,
            kind=ledger_logic.FX_MEMO_UNDO[entry["kind"]], amount_minor=entry["amount_minor"],
            document_id=entry["document_id"], payment_id=payment_id, number=entry["number"],
            description=f"Payment reversed: {entry['description']}", actor=actor)


async def reverse_payment(payment_id: int, reason: str, *, reversal_date: Any = None, actor: int | None = None
                          ) -> PaymentView:
    """A wrong payment is reversed by a dated entry; it stays in every list, marked reversed."""
    today = await settings_service.today()
    errors: list[FieldError] = []
    when = parse_date(reversal_date, "date", errors, "Date") if reversal_date not in (None, "") else today
    if when is not None and when > today:   # as a payment: what the bank has not done yet is not booked
        errors.append(FieldError("date", _("A reversal cannot be dated in the future")))
    if errors or when is None:  # None only with a reason in errors
        raise ValidationFailed(errors)
    async with write_transaction():
        payment = await get_payment(payment_id)
        currency = payment.currency
        available = await available_credit(payment.client_id, currency)
        logic.check_reversal(payment.status, payment.excess, available, reason or "")
        if when < payment.payment_date:
            raise ValidationFailed([FieldError("date", _("A reversal cannot be dated before the payment"))])
        await Payment.update({Payment.status: "reversed", Payment.reversal_date: when,
                              Payment.reversal_reason: reason.strip(), Payment.reversed_at: _now()}).where(
            Payment.id == payment_id)
        if payment.invoice_id is not None:
            await documents_service.add_paid(payment.invoice_id, -payment.applied_minor)
            await documents_service.record_event(payment.invoice_id, "payment reversed",
                                                 f"{payment.amount} {currency}: {reason.strip()}", actor)
        await _undo_fx_memos(payment_id, when, actor)
        await ledger_service.append(
            client_id=payment.client_id, currency=currency, entry_date=when, kind="reversal",
            debit_minor=payment.amount_minor, document_id=payment.invoice_id, payment_id=payment_id,
            number=payment.invoice_number or "", description=f"Payment of {payment.payment_date} reversed: "
                                                             f"{reason.strip()}",
            refs={"payment_date": payment.payment_date.isoformat(), "reason": reason.strip()}, actor=actor)
    return await get_payment(payment_id)


async def edit_payment(payment_id: int, data: Mapping[str, Any], *, actor: int | None = None) -> PaymentView:
    """Editing is a reversal plus a new payment, in one transaction: both stay on record."""
    async with write_transaction():
        old = await get_payment(payment_id)
        if old.invoice_id is None:
            raise Conflict(_("Only a payment against an invoice can be edited."))
        await reverse_payment(payment_id, "corrected", actor=actor)
        new = await record_payment(old.invoice_id, data, actor=actor)
        await Payment.update({Payment.replaced_by: new.id}).where(Payment.id == payment_id)
    return await get_payment(new.id)


async def available_credit(client_id: int, currency: str) -> Decimal:
    rows = await Payment.raw(
        "SELECT "
        # Each sum reads the client's own rows (INDEXED BY): SQLite, knowing nothing of the data, would
        # otherwise read every live payment in the currency, or every issued credit note (issue 21).
        "(SELECT COALESCE(SUM(total_minor), 0) FROM document INDEXED BY document_client_type WHERE client = {} "
        " AND doc_type = 'credit_note' AND status = 'issued' AND invoice IS NULL AND currency = {}) AS notes, "
        "(SELECT COALESCE(SUM(excess_minor), 0) FROM payment INDEXED BY payment_client WHERE client = {} "
        " AND status = 'live' AND currency = {}) AS excess, "
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM credit_application WHERE client = {} AND currency = {}) AS applied, "
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM refund WHERE client = {} AND currency = {}) AS refunded, "
        # Credit used for a reminder's fee and interest (app.reminders writes it on the ledger).
        "(SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entry WHERE kind = 'credit_to_charges' AND client = {} "
        " AND currency = {}) AS to_charges",
        client_id, currency, client_id, currency, client_id, currency, client_id, currency, client_id, currency)
    row = rows[0]
    return logic.available_credit(
        credit_notes_on_account=from_minor(row["notes"], currency), payment_excess=from_minor(row["excess"], currency),
        applied=from_minor(row["applied"] + row["to_charges"], currency), refunded=from_minor(row["refunded"], currency))


async def credits_of(client_id: int) -> list[tuple[str, Decimal]]:
    currencies = await ledger_service.currencies_of(client_id)
    out = []
    for currency in currencies:
        amount = await available_credit(client_id, currency)
        if amount:
            out.append((currency, amount))
    return out


def _amount(data: Mapping[str, Any], currency: str) -> Decimal:
    form = Form(data)
    form.decimal("amount", minimum=Decimal(0), label=_("Amount"), max_integer_digits=logic.MAX_AMOUNT_DIGITS)
    amount = form.raise_if_invalid()["amount"]
    if amount != round_money(amount, currency):
        raise ValidationFailed([FieldError("amount", _("%(currency)s amounts have at most %(minor_digits)s decimals", currency=currency, minor_digits=minor_digits(currency)))])
    return amount


async def apply_credit(invoice_id: int, data: Mapping[str, Any], *, actor: int | None = None) -> DocumentView:
    """Put the client's credit towards an open invoice (only when the user asks)."""
    today = await settings_service.today()
    async with write_transaction():
        invoice = await _open_invoice(invoice_id)
        currency = invoice["currency"]
        available = await available_credit(invoice["client"], currency)
        open_amount = _open_amount(invoice)
        raw = dict(data)
        if raw.get("amount") in (None, ""):
            raw["amount"] = str(min(available, open_amount))
        amount = _amount(raw, currency)
        logic.check_credit_use(amount, available, open_amount, "apply")
        minor = to_minor(amount, currency)
        await CreditApplication.insert(CreditApplication(client=invoice["client"], invoice=invoice_id, currency=currency,
                                                         amount_minor=minor, applied_date=today, created_at=_now(),
                                                         created_by=actor))
        await documents_service.add_paid(invoice_id, minor)
        await ledger_service.append(client_id=invoice["client"], currency=currency, entry_date=today,
                                    kind="credit_applied", amount_minor=minor, document_id=invoice_id,
                                    number=invoice["number"],
                                    description=f"{amount} {currency} of client credit applied to {invoice['number']}",
                                    refs={"amount_minor": minor}, actor=actor)
        await documents_service.record_event(invoice_id, "credit applied", f"{amount} {currency}", actor)
    return await documents_service.get_document(invoice_id)


async def refund(client_id: int, data: Mapping[str, Any], *, actor: int | None = None) -> RefundView:
    """Pay client credit back: a dated refund entry."""
    today = await settings_service.today()
    currency = str(data.get("currency") or "").upper()
    currencies = await ledger_service.currencies_of(client_id)
    if currency not in currencies:
        raise ValidationFailed([FieldError("currency", _("The client has no account in this currency"))])
    errors: list[FieldError] = []
    when = parse_date(data.get("date"), "date", errors, "Date") if data.get("date") not in (None, "") else today
    if when is not None and when > today:
        errors.append(FieldError("date", _("A refund cannot be dated in the future")))
    if errors or when is None:  # None only with a reason in errors
        raise ValidationFailed(errors)
    method = str(data.get("method") or "bank_transfer")
    if method not in logic.METHODS:
        raise ValidationFailed([FieldError("method", _("Method must be one of: %(join)s", join=', '.join(logic.METHODS)))])
    reference = str(data.get("reference") or "").strip()[:200]
    async with write_transaction():
        available = await available_credit(client_id, currency)
        amount = _amount(data, currency)
        logic.check_credit_use(amount, available, Decimal(0), "refund")
        minor = to_minor(amount, currency)
        note = str(data.get("note") or "")[:2000]
        row = Refund(client=client_id, currency=currency, amount_minor=minor, refund_date=when, method=method,
                     reference=reference, note=note, created_at=_now(), created_by=actor)
        await row.save()
        await ledger_service.append(client_id=client_id, currency=currency, entry_date=when, kind="refund",
                                    debit_minor=minor, description=f"Refund of client credit, {logic.METHODS[method]}"
                                    + (f" ({reference})" if reference else ""),
                                    refs={"method": method, "reference": reference}, actor=actor)
    return RefundView(id=row.id, client_id=client_id, currency=currency, amount=amount, refund_date=when,
                      method=method, reference=reference, note=note)


async def list_payments(*, client_id: int | None = None, method: str = "", date_from: date | None = None,
                        date_to: date | None = None, state: str = "", invoice_id: int | None = None,
                        page: Page = Page()) -> PageOf[PaymentView]:
    """One page of payments, newest first, with the count and the per-currency sums (live and reversed)
    of all the filters select. A client's or an invoice's payments are read through their index; the
    whole book (or a method, a state, a period) counts and sums from payment_tally and reads a page's ids
    walking the index of its filters in date order, past the middle from the end (issue 21)."""
    errors = []
    if method and method not in logic.METHODS:
        errors.append(FieldError("method", _("method must be one of: %(join)s", join=', '.join(logic.METHODS))))
    if state and state not in ("live", "reversed"):
        errors.append(FieldError("state", "state must be live or reversed"))
    if date_from and date_to and date_to < date_from:
        errors.append(FieldError("to", _("The end of the period is before its start")))
    if client_id is not None and not storable_id(client_id):
        errors.append(FieldError("client_id", _("client_id must be a whole number from 1 to %(MAX_ID)s", MAX_ID=MAX_ID)))
    if errors:
        raise ValidationFailed(errors)
    index = logic.list_index(client=client_id is not None, invoice=invoice_id is not None, method=bool(method),
                             state=bool(state))
    where, args = _list_where(index, client_id=client_id, invoice_id=invoice_id, method=method, state=state,
                              date_from=date_from, date_to=date_to)
    key = ("payments", client_id, invoice_id, method, state, date_from, date_to)
    if index in logic.NARROW_INDEXES:
        sums = await cached(key, lambda: _sums(index, where, args))
    else:
        sums = await cached(key, lambda: _tally_sums(method=method, state=state, date_from=date_from,
                                                     date_to=date_to))
    count = sum(n for n, _amount in sums.values())
    window = logic.page_window(count, page.offset, page.per_page)
    views: list[PaymentView] = []
    if window.size:
        way = "ASC" if window.from_end else "DESC"
        found = await Payment.raw(f"SELECT id FROM payment INDEXED BY {index} WHERE {where} "
                                  f"ORDER BY payment_date {way}, id {way} LIMIT {{}} OFFSET {{}}",
                                  *args, window.size, window.offset)
        ids = [row["id"] for row in found]
        if window.from_end:
            ids.reverse()
        by_id = {row["id"]: row for row in await _payment_query().where(Payment.id.is_in(ids))} if ids else {}
        views = [PaymentView.from_row(by_id[i]) for i in ids if i in by_id]
    totals: dict[str, dict[str, Decimal]] = {}
    for (currency, status), (n, amount) in sorted(sums.items()):
        if not n:
            continue
        zero = from_minor(0, currency)  # money in JSON carries the currency's decimals: "0.00"
        entry = totals.setdefault(currency, {"live": zero, "reversed": zero})
        entry[status] = from_minor(amount, currency)
    return PageOf(items=views, total=count, page=page,
                  extra={"totals": [PaymentTotals(currency=c, live=v["live"], reversed=v["reversed"])
                                    for c, v in sorted(totals.items())]})


def _list_where(index: str, *, client_id: int | None, invoice_id: int | None, method: str, state: str,
                date_from: date | None, date_to: date | None) -> tuple[str, list[Any]]:
    """The list's filters in SQL, for `index` (logic.list_index) to lead."""
    conditions, args = ["1 = 1"], []
    for column, value in (("client", client_id), ("invoice", invoice_id), ("method", method or None),
                          ("status", state or None)):
        if value is not None:
            conditions.append(f"{column} = {{}}")
            args.append(value)
    if date_from is not None:
        conditions.append("payment_date >= {}")
        args.append(date_from.isoformat())
    if date_to is not None:
        conditions.append("payment_date <= {}")
        args.append(date_to.isoformat())
    return " AND ".join(conditions), args


async def _sums(index: str, where: str, args: Sequence[Any]) -> dict[tuple[str, str], tuple[int, int]]:
    """Count and amount per (currency, state) of the payments `where` selects, read through `index`."""
    rows = await Payment.raw(f"SELECT currency, status, count(*) AS n, sum(amount_minor) AS amount "
                             f"FROM payment INDEXED BY {index} WHERE {where} GROUP BY currency, status", *args)
    return {(row["currency"], row["status"]): (row["n"], row["amount"] or 0) for row in rows}


async def _tally_sums(*, method: str, state: str, date_from: date | None, date_to: date | None
                      ) -> dict[tuple[str, str], tuple[int, int]]:
    """What _sums gives for a list without client or invoice: the whole months of its period from
    payment_tally, the days around them from the payments (a month's at most, through the date index)."""
    split = split_period(date_from, date_to)
    out: dict[tuple[str, str], tuple[int, int]] = {}

    def add(groups: Mapping[tuple[str, str], tuple[int, int]]) -> None:
        for group, (n, amount) in groups.items():
            had_n, had_amount = out.get(group, (0, 0))
            out[group] = (had_n + n, had_amount + amount)

    if split.months:
        conditions, args = ["1 = 1"], []
        for condition, value in (("method = {}", method), ("status = {}", state), ("month >= {}", split.first_month),
                                 ("month <= {}", split.last_month)):
            if value:
                conditions.append(condition)
                args.append(value)
        rows = await PaymentTally.raw(f"SELECT currency, status, sum(n) AS n, sum(amount_minor) AS amount "
                                      f"FROM payment_tally WHERE {' AND '.join(conditions)} GROUP BY currency, status",
                                      *args)
        add({(row["currency"], row["status"]): (row["n"] or 0, row["amount"] or 0) for row in rows})
    index = logic.list_index(client=False, invoice=False, method=bool(method), state=bool(state))
    for first, last in split.edges:
        add(await _sums(index, *_list_where(index, client_id=None, invoice_id=None, method=method, state=state,
                                            date_from=first, date_to=last)))
    return {group: sums for group, sums in out.items() if sums[0]}
