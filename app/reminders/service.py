"""Reminders: the dunning settings, which invoices are due a reminder, making, sending, paying and cancelling them.

A reminder is its own numbered document (REM-{year}-{seq:04}). Its fee and interest are one debit on the
client's ledger (kind `reminder_charge`), written in the transaction that makes it: the issued invoices
never change. Money towards them is a ledger credit (`charge_payment`), or the client's credit used
(`credit_to_charges`, which app.payments counts as credit spent); cancelling is the reversing credit
(`reminder_cancelled`).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query import OrderByRaw

from app.audit import service as audit_service
from app.background import Periodic
from app.clients.tables import Client
from app.common.i18n import _
from app.common.logic import Conflict, FieldError, Form, NotFound, Page, PageOf, ValidationFailed, storable_id
from app.config import Config
from app.db.engine import write_transaction
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.documents.tables import Document
from app.fx import service as fx_service
from app.ledger import service as ledger_service
from app.mail import logic as mail_logic
from app.mail import service as mail_service
from app.mail.logic import Attachment
from app.money import from_minor, minor_digits, to_minor
from app.payments import logic as payments_logic
from app.payments import service as payments_service
from app.reminders import logic
from app.reminders.logic import Dunning
from app.reminders.tables import (
    ClientDunning,
    DunningLevel,
    DunningSettings,
    Reminder,
    ReminderItem,
    ReminderPayment,
    ReminderSeries,
)
from app.render import logic as render_logic
from app.render import service as render_service
from app.settings import service as settings_service

log = logging.getLogger("counterfoil")

SETTINGS_ID = 1
# The automatic run: a minute after start, then every hour (only when the settings turn it on).
AUTO_FIRST_CHECK_S = 60.0
AUTO_INTERVAL_S = 3600.0
AUTO_JOB = "reminders"

# Earliest due first, sorted after the filter's index has found the rows ("+": not by walking the index of
# every invoice's due date, document_type_due, which SQLite would otherwise take for the order).
DUE_FIRST = OrderByRaw("+document.due_date")


def _now() -> datetime:
    return datetime.now(UTC)


# -- settings -----------------------------------------------------------------------------------

async def get_dunning() -> Dunning:
    """The dunning settings; the defaults until they are saved once."""
    row = await DunningSettings.select().where(DunningSettings.id == SETTINGS_ID).first()
    if row is None:
        return logic.default_dunning()
    levels = await DunningLevel.select().order_by(DunningLevel.level)
    return logic.clean_dunning({
        "levels": [{"level": lv["level"], "days_after_due": lv["days_after_due"], "title": lv["title"],
                    "fee_flat": lv["fee_flat"], "fee_percent": lv["fee_percent"],
                    "interest_rate": lv["interest_rate"], "texts": json.loads(lv["texts_json"] or "{}")}
                   for lv in levels],
        "auto_send": row["auto_send"], "notice_days_before_due": row["notice_days_before_due"],
        "notice_on_due_date": row["notice_on_due_date"], "notice_texts": json.loads(row["notice_texts_json"] or "{}"),
        "pay_within_days": row["pay_within_days"], "day_count": row["day_count"]})


async def save_dunning(data: Mapping[str, Any], *, actor: int | None = None) -> Dunning:
    """Replace the dunning settings, all or nothing (422 naming every bad field, nothing written)."""
    dunning = logic.clean_dunning(data)
    async with write_transaction():
        values: dict[str, Any] = {
            "auto_send": dunning.auto_send, "notice_days_before_due": dunning.notice_days_before_due,
            "notice_on_due_date": dunning.notice_on_due_date,
            "notice_texts_json": json.dumps(dunning.notice_texts, ensure_ascii=False),
            "pay_within_days": dunning.pay_within_days, "day_count": dunning.day_count,
            "updated_at": _now(), "updated_by": actor}
        if await DunningSettings.exists().where(DunningSettings.id == SETTINGS_ID):
            await DunningSettings.update(cast(dict[Column | str, Any], values)).where(DunningSettings.id == SETTINGS_ID)
        else:
            await DunningSettings.insert(DunningSettings(id=SETTINGS_ID, **values))
        existing = {row["level"] for row in await DunningLevel.select(DunningLevel.level)}
        for level in dunning.levels:
            row: dict[str, Any] = {
                "days_after_due": level.days_after_due, "title": level.title,
                "texts_json": json.dumps(level.texts, ensure_ascii=False), "fee_flat": str(level.fee_flat),
                "fee_percent": str(level.fee_percent), "interest_rate": str(level.interest_rate)}
            if level.level in existing:
                await DunningLevel.update(cast(dict[Column | str, Any], row)).where(DunningLevel.level == level.level)
            else:
                await DunningLevel.insert(DunningLevel(level=level.level, **row))
        kept = [level.level for level in dunning.levels]
        await DunningLevel.delete().where(DunningLevel.level.not_in(kept) if kept else DunningLevel.level >= 1)
    return dunning


async def no_reminders_clients() -> set[int]:
    return {row["client"] for row in await ClientDunning.select(ClientDunning.client).where(
        ClientDunning.no_reminders == True)}  # noqa: E712 (Piccolo builds SQL from ==)


async def client_no_reminders(client_id: int) -> bool:
    row = await ClientDunning.select(ClientDunning.no_reminders).where(ClientDunning.client == client_id).first()
    return bool(row and row["no_reminders"])


async def set_no_reminders(client_id: int, no_reminders: Any) -> bool:
    """Mark a client "no reminders" (or not): none is made for its invoices, by hand or automatically."""
    form = Form({"no_reminders": no_reminders})
    form.boolean("no_reminders")
    flag = form.raise_if_invalid()["no_reminders"]
    async with write_transaction():
        if not await Client.exists().where(Client.id == client_id):
            raise NotFound(_("Client %(client_id)s", client_id=client_id))
        if await ClientDunning.exists().where(ClientDunning.client == client_id):
            await ClientDunning.update({ClientDunning.no_reminders: flag, ClientDunning.updated_at: _now()}).where(
                ClientDunning.client == client_id)
        else:
            await ClientDunning.insert(ClientDunning(client=client_id, no_reminders=flag, updated_at=_now()))
    return flag


# -- what is due --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DueInvoice:
    """An open invoice due a reminder today, at `level`, with what that reminder would charge on it."""

    id: int
    number: str
    client_id: int
    client_name: str
    client_email: str
    currency: str
    issue_date: date
    due_date: date
    total: Decimal
    open: Decimal
    days_overdue: int
    level: int
    title: str
    fee: Decimal          # the level's percentage fee on this invoice plus its flat fee (once per reminder)
    interest: Decimal
    last_reminder: str    # the number of the last live reminder about it, or ""


async def _applied(invoice_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The live reminder items of these invoices with their reminder's number and date."""
    if not invoice_ids:
        return {}
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    # The ids as one JSON parameter: thousands of them cost one query, not a bound value each.
    rows = await ReminderItem.select(
        ReminderItem.invoice, ReminderItem.level, ReminderItem.interest_to,
        ReminderItem.reminder.number.as_alias("number"), ReminderItem.reminder.issue_date.as_alias("issue_date"),
    ).where(WhereRaw("reminder_item.invoice IN (SELECT value FROM json_each({}))", json.dumps(list(invoice_ids)))
            & (ReminderItem.cancelled == False))  # noqa: E712
    for row in rows:
        out[row["invoice"]].append(row)
    return out


def _invoice_due(row: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> logic.InvoiceDue:
    charged = [item["interest_to"] for item in items if item["interest_to"] is not None]
    return logic.InvoiceDue(id=row["id"], number=row["number"], issue_date=row["issue_date"], due_date=row["due_date"],
                            total_minor=row["total_minor"], paid_minor=row["paid_minor"] + row["credited_minor"],
                            interest_charged_to=max(charged) if charged else None)


_OPEN_COLUMNS = (Document.id, Document.number, Document.client, Document.currency, Document.issue_date,
                 Document.due_date, Document.total_minor, Document.paid_minor, Document.credited_minor,
                 Document.status, Document.doc_type, Document.client.name.as_alias("client_name"),
                 Document.client.email.as_alias("client_email"))


async def _owed_rows(invoice_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    if invoice_ids is None:
        query = Document.select(*_OPEN_COLUMNS).where(
            (Document.doc_type == documents_logic.INVOICE)
            & WhereRaw(documents_logic.owed_invoice_sql(documents_logic.InvoiceColumns.of("document"))))
    else:
        # These invoices by their ids, then checked: the "+" keeps SQLite from walking the status or type
        # index of every live invoice for the few asked (it cannot know how few the JSON list holds).
        columns = dataclasses.replace(documents_logic.InvoiceColumns.of("document"), status="+document.status")
        query = Document.select(*_OPEN_COLUMNS).where(
            WhereRaw("document.id IN (SELECT value FROM json_each({}))", json.dumps(list(invoice_ids)))
            & WhereRaw(f"+document.doc_type = '{documents_logic.INVOICE}' AND "
                       + documents_logic.owed_invoice_sql(columns)))
    return await query.order_by(DUE_FIRST).order_by(Document.id)


async def _due_levels(as_of: date, dunning: Dunning) -> list[tuple[int, int]]:
    """(invoice id, level) of every open invoice due a reminder on `as_of`, earliest due date first.

    Reads only the ids, due dates and clients of the open invoices that could be due (next_level() is None
    past `as_of` plus the notice's days) from the partial index document_open_invoice, never the invoices'
    rows; the live reminder items of those invoices decide the level, with the same next_level() as each
    invoice's view."""
    latest = as_of + timedelta(days=max(dunning.notice_days_before_due or 0, 0))
    # The type written in the SQL, not bound: SQLite takes the partial index only for a condition it can read.
    open_invoice = (f"document.doc_type = '{documents_logic.INVOICE}' AND "
                    + documents_logic.owed_invoice_sql(documents_logic.InvoiceColumns.of("document")))
    # One row per due date with its invoices' ids (the clients marked "no reminders" left out in SQL):
    # an invoice never reminded has the level its due date gives, so thousands of invoices due cost one
    # next_level() per due date and no Python work per invoice (issue 21).
    by_due_date = await Document.raw(
        "SELECT due_date, group_concat(id) AS ids FROM ("
        f"SELECT id, due_date FROM document INDEXED BY document_open_invoice WHERE {open_invoice} "
        "AND due_date IS NOT NULL AND due_date <= {} AND client NOT IN "
        "(SELECT client FROM client_dunning WHERE no_reminders = {})) GROUP BY due_date ORDER BY due_date",
        latest.isoformat(), True)
    if not by_due_date:
        return []
    applied: dict[int, dict[int, date]] = defaultdict(dict)
    # The live items of open invoices (few next to the invoices: only those reminded and still owed).
    for item in await ReminderItem.raw(
            "SELECT reminder_item.invoice AS invoice, reminder_item.level AS level, reminder.issue_date AS issued "
            "FROM document INDEXED BY document_open_invoice "
            "JOIN reminder_item ON reminder_item.invoice = document.id AND reminder_item.cancelled = 0 "
            f"JOIN reminder ON reminder.id = reminder_item.reminder WHERE {open_invoice}"):
        issued = item["issued"]
        applied[item["invoice"]][item["level"]] = issued if isinstance(issued, date) else date.fromisoformat(issued)
    out: list[tuple[int, int]] = []
    for row in by_due_date:
        due = row["due_date"]
        due_date = due if isinstance(due, date) else date.fromisoformat(due)
        ids = sorted(map(int, str(row["ids"]).split(",")))   # in id order within a due date, as listed
        level = logic.next_level(due_date=due_date, as_of=as_of, dunning=dunning, applied={})
        if applied.keys().isdisjoint(ids):
            if level is not None:
                out.extend(zip(ids, itertools.repeat(level)))
            continue
        for invoice_id in ids:
            items = applied.get(invoice_id)
            own = logic.next_level(due_date=due_date, as_of=as_of, dunning=dunning, applied=items) if items else level
            if own is not None:
                out.append((invoice_id, own))
    return out


async def _due_views(invoice_ids: Sequence[int], as_of: date, dunning: Dunning) -> list[DueInvoice]:
    """These invoices as due a reminder on `as_of` (those no longer due left out), in the order of the ids."""
    rows = {row["id"]: row for row in await _owed_rows(invoice_ids) if row["due_date"] is not None}
    excluded = await no_reminders_clients()
    applied = await _applied([invoice_id for invoice_id in invoice_ids if invoice_id in rows])
    out = []
    for invoice_id in invoice_ids:
        row = rows.get(invoice_id)
        if row is None or row["client"] in excluded:
            continue
        items = applied.get(row["id"], [])
        level_number = logic.next_level(due_date=row["due_date"], as_of=as_of, dunning=dunning,
                                        applied={item["level"]: item["issue_date"] for item in items})
        if level_number is None:
            continue
        currency = row["currency"]
        level = dunning.level(level_number)
        charge = logic.charges([_invoice_due(row, items)], level, currency, as_of, dunning.day_count)
        last = max(items, key=lambda item: item["issue_date"], default=None)
        out.append(DueInvoice(
            id=row["id"], number=row["number"], client_id=row["client"], client_name=row["client_name"],
            client_email=row["client_email"] or "", currency=currency, issue_date=row["issue_date"],
            due_date=row["due_date"], total=from_minor(row["total_minor"], currency),
            open=from_minor(charge.open_minor, currency), days_overdue=(as_of - row["due_date"]).days,
            level=level_number, title=dunning.title_of(level_number),
            fee=from_minor(charge.fee_minor, currency), interest=from_minor(charge.interest_minor, currency),
            last_reminder=last["number"] if last else ""))
    return out


async def due_invoices(as_of: date | None = None, *, dunning: Dunning | None = None) -> list[DueInvoice]:
    """Every open invoice due a reminder on `as_of` (today), at which level, with what it would charge:
    GET /api/v1/reminders/due and "send all due". Clients marked "no reminders" are left out."""
    as_of = as_of or await settings_service.today()
    dunning = dunning or await get_dunning()
    return await _due_views([invoice_id for invoice_id, _level in await _due_levels(as_of, dunning)], as_of, dunning)


async def due_page(page: Page = Page(), as_of: date | None = None, *,
                   dunning: Dunning | None = None) -> PageOf[DueInvoice]:
    """One page of due_invoices() and their count (the reminders page): only the page's invoices are read whole
    and charged, so the page costs the same with 5,000 invoices due as with 5."""
    as_of = as_of or await settings_service.today()
    dunning = dunning or await get_dunning()
    due = await _due_levels(as_of, dunning)
    chosen = [invoice_id for invoice_id, _level in due[page.offset:page.offset + page.per_page]]
    return PageOf(items=await _due_views(chosen, as_of, dunning), total=len(due), page=page)


# -- records ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderItemView:
    invoice_id: int
    invoice_number: str
    issue_date: date
    due_date: date | None
    total: Decimal
    paid: Decimal
    open: Decimal
    interest_from: date | None
    interest_to: date | None
    interest: Decimal
    fee: Decimal


@dataclass(frozen=True)
class ReminderView:
    id: int
    number: str
    client_id: int
    client_name: str
    currency: str
    level: int
    title: str
    issue_date: date
    new_due_date: date
    language: str
    subject: str
    body: str
    open: Decimal
    fee: Decimal
    interest: Decimal
    charges_paid: Decimal
    status: str
    sent_to: str
    message_id: int | None
    cancel_reason: str
    created_at: datetime
    items: tuple[ReminderItemView, ...]

    @property
    def charges(self) -> Decimal:
        return self.fee + self.interest

    @property
    def charges_open(self) -> Decimal:
        return Decimal(0) if self.status == "cancelled" else self.charges - self.charges_paid

    @property
    def total_due(self) -> Decimal:
        """What the reminder asked for: the open invoices, its fee and its interest."""
        return self.open + self.charges

    @property
    def invoice_ids(self) -> list[int]:
        return [item.invoice_id for item in self.items]

    @property
    def level_name(self) -> str:
        return logic.level_name(self.level)


def _reminder_query() -> Any:
    return Reminder.select(*Reminder.all_columns(), Reminder.client.name.as_alias("client_name"))


async def _views(rows: Sequence[Mapping[str, Any]]) -> list[ReminderView]:
    ids = [row["id"] for row in rows]
    items: dict[int, list[ReminderItemView]] = defaultdict(list)
    if ids:
        for item in await ReminderItem.select(
                *ReminderItem.all_columns(), ReminderItem.invoice.number.as_alias("invoice_number"),
                ReminderItem.invoice.issue_date.as_alias("invoice_issue_date"),
                ReminderItem.invoice.due_date.as_alias("invoice_due_date"),
                ReminderItem.reminder.currency.as_alias("currency")).where(
                ReminderItem.reminder.is_in(ids)).order_by(ReminderItem.id):
            cur = item["currency"]
            items[item["reminder"]].append(ReminderItemView(
                invoice_id=item["invoice"], invoice_number=item["invoice_number"] or "",
                issue_date=item["invoice_issue_date"], due_date=item["invoice_due_date"],
                total=from_minor(item["total_minor"], cur), paid=from_minor(item["paid_minor"], cur),
                open=from_minor(item["open_minor"], cur), interest_from=item["interest_from"],
                interest_to=item["interest_to"], interest=from_minor(item["interest_minor"], cur),
                fee=from_minor(item["fee_minor"], cur)))
    out = []
    for row in rows:
        cur = row["currency"]
        out.append(ReminderView(
            id=row["id"], number=row["number"], client_id=row["client"], client_name=row["client_name"] or "",
            currency=cur, level=row["level"], title=row["title"], issue_date=row["issue_date"],
            new_due_date=row["new_due_date"], language=row["language"], subject=row["subject"], body=row["body"],
            open=from_minor(row["open_minor"], cur), fee=from_minor(row["fee_minor"], cur),
            interest=from_minor(row["interest_minor"], cur), charges_paid=from_minor(row["charges_paid_minor"], cur),
            status=row["status"], sent_to=row["sent_to"], message_id=row["message_id"],
            cancel_reason=row["cancel_reason"], created_at=row["created_at"], items=tuple(items[row["id"]])))
    return out


async def get_reminder(reminder_id: int) -> ReminderView:
    row = await _reminder_query().where(Reminder.id == reminder_id).first() if storable_id(reminder_id) else None
    if row is None:
        raise NotFound(_("Reminder %(reminder_id)s", reminder_id=reminder_id))
    return (await _views([row]))[0]


async def list_reminders(*, client_id: int | None = None, status: str = "", invoice_id: int | None = None,
                         page: Page = Page()) -> PageOf[ReminderView]:
    if status and status not in logic.STATUSES:
        raise ValidationFailed([FieldError("status", _("status must be one of: %(join)s", join=', '.join(logic.STATUSES)))])
    query, count = _reminder_query(), Reminder.count()
    conditions = []
    if client_id is not None:
        conditions.append(Reminder.client == client_id)
    if status:
        conditions.append(Reminder.status == status)
    if invoice_id is not None:
        ids = [row["reminder"] for row in await ReminderItem.select(ReminderItem.reminder).where(
            ReminderItem.invoice == invoice_id)]
        conditions.append(Reminder.id.is_in(ids or [0]))
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = await query.order_by(Reminder.issue_date, ascending=False).order_by(Reminder.id, ascending=False) \
        .limit(page.per_page).offset(page.offset)
    return PageOf(items=await _views(rows), total=await count, page=page)


async def reminders_for_invoice(invoice_id: int) -> list[ReminderView]:
    """An invoice's reminder history, the first one first (the invoice page)."""
    result = await list_reminders(invoice_id=invoice_id, page=Page(1, 500))
    return list(reversed(result.items))


# -- making reminders ---------------------------------------------------------------------------

async def _next_number(issue_date: date) -> str:
    series = await ReminderSeries.select().where(ReminderSeries.year == issue_date.year).first()
    if series is None:
        seq = 1
        await ReminderSeries.insert(ReminderSeries(year=issue_date.year, next_seq=2))
    else:
        seq = series["next_seq"]
        await ReminderSeries.update({ReminderSeries.next_seq: seq + 1}).where(ReminderSeries.id == series["id"])
    return logic.format_number(issue_date, seq)


def _clean_request(data: Mapping[str, Any]) -> tuple[list[int] | None, bool]:
    """(invoice ids or None for all due, send by email)."""
    unknown = set(data) - {"invoice_ids", "all_due", "send"}
    if unknown:
        raise ValidationFailed([FieldError(sorted(unknown)[0], _("Unknown field"))])
    all_due = data.get("all_due") in (True, "true", "on", "1", 1)
    raw = data.get("invoice_ids")
    send = data.get("send", True) not in (False, "false", "off", "0", 0)
    if all_due:
        if raw:
            raise ValidationFailed([FieldError("invoice_ids", _("Give invoice_ids or all_due, not both"))])
        return None, send
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationFailed([FieldError("invoice_ids", _("Choose at least one invoice (or all_due: true)"))])
    ids = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit() \
                or not storable_id(int(value)):
            raise ValidationFailed([FieldError("invoice_ids", _("%(value)r is not an invoice id", value=str(value)[:20]))])
        ids.append(int(value))
    if len(ids) > 1000:
        raise ValidationFailed([FieldError("invoice_ids", _("At most 1000 invoices at once"))])
    return sorted(set(ids)), send


async def _check_requested(ids: Sequence[int], due: Mapping[int, DueInvoice]) -> None:
    """Every requested invoice must be due a reminder: 422 naming invoice_ids and saying why one is not."""
    missing = [i for i in ids if i not in due]
    if not missing:
        return
    rows = {row["id"]: row for row in await Document.select(
        Document.id, Document.number, Document.doc_type, Document.status, Document.total_minor, Document.paid_minor,
        Document.credited_minor, Document.client, Document.due_date).where(Document.id.is_in(missing))}
    excluded = await no_reminders_clients()
    problems = []
    for invoice_id in missing:
        row = rows.get(invoice_id)
        if row is None or row["doc_type"] != documents_logic.INVOICE:
            problems.append(_("invoice %(invoice_id)s does not exist", invoice_id=invoice_id))
            continue
        why = logic.check_remindable(row["status"], row["total_minor"] - row["paid_minor"] - row["credited_minor"],
                                     row["number"] or "")
        if why is None and row["client"] in excluded:
            why = f"{row['number']}: the client is marked \"no reminders\""
        problems.append(why or _("%(number)s is not due a reminder today", number=row['number']))
    raise ValidationFailed([FieldError("invoice_ids", "; ".join(problems))])


async def make_reminders(data: Mapping[str, Any], *, actor: int | None = None, data_dir: Path | None = None,
                         as_of: date | None = None) -> list[ReminderView]:
    """Make the reminders asked for (`invoice_ids` or `all_due`), one per client, currency and level, each
    numbered, its fee and interest on the ledger, in one transaction; then email each with its PDF
    (`send`, default true) through the outbox. A level is never applied twice: the due list is read again
    inside the transaction, and the database's unique index refuses a second live (invoice, level)."""
    ids, send = _clean_request(data)
    today = as_of or await settings_service.today()
    made: list[int] = []
    with audit_service.labelled("reminder"):
        async with write_transaction():
            dunning = await get_dunning()
            due = {invoice.id: invoice for invoice in await due_invoices(today, dunning=dunning)}
            if ids is not None:
                await _check_requested(ids, due)
                chosen = [due[i] for i in ids]
            else:
                chosen = list(due.values())
            groups: dict[tuple[int, str, int], list[DueInvoice]] = defaultdict(list)
            for invoice in chosen:
                groups[logic.group_key(invoice.client_id, invoice.currency, invoice.level)].append(invoice)
            settings = await settings_service.get_settings()
            for (client_id, currency, level_number), invoices in sorted(groups.items()):
                made.append(await _make_one(client_id, currency, level_number, invoices, dunning, today, actor,
                                            settings))
    views = await _views(await _reminder_query().where(Reminder.id.is_in(made)).order_by(Reminder.id)) if made else []
    if send:
        views = [await _send_quietly(view, data_dir=data_dir, actor=actor) for view in views]
    return views


async def _make_one(client_id: int, currency: str, level_number: int, invoices: Sequence[DueInvoice],
                    dunning: Dunning, today: date, actor: int | None, settings: Mapping[str, Any]) -> int:
    client = await Client.select().where(Client.id == client_id).first()
    if client is None:  # the foreign key keeps it
        raise NotFound(_("Client %(client_id)s", client_id=client_id))
    rows = {row["id"]: row for row in await _owed_rows([i.id for i in invoices])}
    applied = await _applied(list(rows))
    level = dunning.level(level_number)
    charge = logic.charges([_invoice_due(rows[i.id], applied.get(i.id, [])) for i in invoices], level, currency,
                           today, dunning.day_count)
    number = await _next_number(today)
    language = render_logic.language_of(client.get("language"), settings.get("default_locale"))
    locale = render_logic.document_locale(language, client.get("country"), settings.get("default_locale"))
    new_due = today + timedelta(days=dunning.pay_within_days)
    invoice_numbers = ", ".join(i.number for i in invoices)
    values = {"number": invoice_numbers, "client": client.get("contact_name") or client["name"],
              "business": settings.get("name") or "",
              "amount": render_logic.money(from_minor(charge.total_minor, currency), currency, locale),
              "due_date": render_logic.date_text(invoices[0].due_date if level_number == logic.NOTICE_BEFORE
                                                 else new_due, locale)}
    text = dunning.text_of(level_number, language)
    labels = logic.labels_for(language)
    title = logic.title_in(level.title, language) if level is not None else labels["notice"]
    reminder = Reminder(
        number=number, client=client_id, currency=currency, level=level_number, title=title, issue_date=today,
        new_due_date=invoices[0].due_date if level_number == logic.NOTICE_BEFORE else new_due,
        language=language, subject=logic.fill(text["subject"], values), body=logic.fill(text["body"], values),
        open_minor=charge.open_minor, fee_minor=charge.fee_minor, interest_minor=charge.interest_minor,
        charges_paid_minor=0, status="issued", created_at=_now(), created_by=actor)
    await Reminder.insert(reminder)
    await ReminderItem.insert(*(ReminderItem(
        reminder=reminder.id, invoice=item.invoice.id, level=level_number, total_minor=item.invoice.total_minor,
        paid_minor=item.invoice.paid_minor, open_minor=item.invoice.open_minor, interest_from=item.interest_from,
        interest_to=item.interest_to, interest_minor=item.interest_minor, fee_minor=item.fee_minor)
        for item in charge.items))
    for item in charge.items:
        await _event(item.invoice.id, "reminder", f"{number}: {title}", actor)
    charges_minor = charge.fee_minor + charge.interest_minor
    if charges_minor:
        await ledger_service.append(
            client_id=client_id, currency=currency, entry_date=today, kind="reminder_charge",
            debit_minor=charges_minor, number=number,
            description=f"{title} {number} ({invoice_numbers}): fee {from_minor(charge.fee_minor, currency)}, "
                        f"interest {from_minor(charge.interest_minor, currency)}",
            refs={"title": title, "invoices": invoice_numbers, "fee_minor": charge.fee_minor,
                  "interest_minor": charge.interest_minor}, actor=actor)
    return reminder.id


async def _event(invoice_id: int, kind: str, detail: str, actor: int | None) -> None:
    await documents_service.record_event(invoice_id, kind, detail, actor)


# -- the PDF and the email ----------------------------------------------------------------------

async def reminder_pdf(reminder_id: int, *, data_dir: Path | None = None) -> render_service.RenderedPdf:
    """The reminder's PDF: the open invoices, what was paid, the fee and interest, the new due date."""
    view = await get_reminder(reminder_id)
    settings = await settings_service.get_settings()
    client = await Client.select().where(Client.id == view.client_id).first()
    dunning = await get_dunning()
    logo = settings_service.logo_path(data_dir / "attachments", settings) if data_dir else None
    # The bank account for the reminder's currency (app.fx), as the invoices and statements print it.
    data = pdf_data(view, await fx_service.settings_for_currency(settings, view.currency), client or {}, dunning,
                    render_service.asset_path(logo))
    content = await render_service.render_pdf(
        "reminder.typ", data, template_dir=render_service.template_dir_for(settings, data_dir),
        roots_dir=render_service.roots_dir_of(data_dir) if data_dir else None, assets=render_service.assets_for(logo))
    return render_service.RenderedPdf(content=content, filename=pdf_filename(view))


def pdf_filename(view: ReminderView) -> str:
    return f"{view.number} {view.client_name}"[:80].replace("/", "-") + ".pdf"


def pdf_data(view: ReminderView, settings: Mapping[str, Any], client: Mapping[str, Any], dunning: Dunning,
             logo: str | None) -> dict[str, Any]:
    """The template data of typst_templates/reminder.typ (the letterhead, parties and footer of the documents)."""
    language = view.language
    locale = render_logic.document_locale(language, client.get("country"), settings.get("default_locale"))
    labels = {**render_logic.labels_for(language), **logic.labels_for(language)}
    business = render_logic.snapshot_of(None, settings, None)["business"]
    cur = view.currency

    def m(value: Decimal) -> str:
        return render_logic.money(value, cur, locale)

    def a(value: Decimal) -> str:
        return render_logic.amount_text(value, cur, locale)

    level = dunning.level(view.level)
    rows = []
    for item in view.items:
        overdue = (view.issue_date - item.due_date).days if item.due_date else 0
        rows.append({"number": item.invoice_number, "date": render_logic.date_text(item.issue_date, locale),
                     "due": render_logic.date_text(item.due_date, locale),
                     "overdue": str(overdue) if overdue > 0 else "", "total": a(item.total), "paid": a(item.paid),
                     "open": a(item.open)})
    charges = []
    flat = view.fee - sum((item.fee for item in view.items), Decimal(0))
    if flat:
        charges.append([labels["fee"], m(flat)])
    percent_fee = sum((item.fee for item in view.items), Decimal(0))
    if percent_fee and level is not None:
        charges.append([labels["percent_fee"].format(percent=_percent(level.fee_percent, locale)), m(percent_fee)])
    for item in view.items:
        if item.interest and item.interest_from and item.interest_to:
            days = (item.interest_to - item.interest_from).days + 1
            rate = _percent(level.interest_rate, locale) if level is not None else ""
            charges.append([labels["interest"].format(invoice=item.invoice_number, rate=rate, amount=m(item.open),
                                                      days=days), m(item.interest)])
    summary = [[labels["open_total"], m(view.open)], *charges]
    meta = [[labels["reminder_date"], render_logic.date_text(view.issue_date, locale)],
            [labels["new_due_date"], render_logic.date_text(view.new_due_date, locale)]]
    if client.get("code"):
        meta.append([labels["client_code"], client["code"]])
    payment: dict[str, Any] | None = None
    total_due = view.total_due
    if total_due > 0:
        payment = {"message": labels["pay_by"].format(amount=m(total_due),
                                                      date=render_logic.date_text(view.new_due_date, locale)),
                   "rows": [], "qr_payload": None, "qr_svg": None, "qr_caption": labels["scan_to_pay"]}
        payment["rows"] = render_logic.bank_rows(business, labels, reference=view.number)
        if business.get("bank_iban"):
            payload = render_logic.epc_payload(
                name=business.get("bank_account_holder") or business.get("name") or "", iban=business["bank_iban"],
                bic=business.get("bank_bic") or "", amount=total_due, currency=cur, reference=view.number)
            if payload:
                payment["qr_payload"] = payload
                payment["qr_svg"] = render_service.qr_svg(payload)
    return {
        "kind": "reminder", "lang": language, "locale": locale, "accent": "#9b2c2c" if view.level > 0 else "#1d4f7c",
        "labels": labels, "title": view.title, "number": view.number, "currency": cur,
        "watermark": labels["cancelled"] if view.status == "cancelled" else "",
        "watermark_kind": "cancelled" if view.status == "cancelled" else "", "paper": render_logic.paper_of(settings),
        "pdf_title": f"{view.title} {view.number} — {view.client_name}",
        "business": render_logic._business_block(business, labels, locale, logo),
        "client": {"label": labels["bill_to"], "name": client.get("name") or view.client_name,
                   "contact": client.get("contact_name") or "", "lines": render_logic._party_lines(client, locale),
                   "email": client.get("email") or ""},
        "meta": meta, "body": view.body, "invoices": rows,
        "open_total": a(view.open), "summary": summary, "total_due": m(total_due),
        "payment": payment, "footer_text": settings.get("invoice_footer") or "",
    }


def _percent(value: Decimal, locale: str) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if not locale.startswith("en") else text


async def _send_quietly(view: ReminderView, *, data_dir: Path | None, actor: int | None) -> ReminderView:
    """Email a reminder just made; one that cannot go (no address, no PDF) stays issued, to send by hand."""
    try:
        return await send_reminder(view.id, {}, data_dir=data_dir, actor=actor)
    except (Conflict, ValidationFailed) as problem:
        log.info("reminder %s not emailed: %s", view.number, problem)
        return view


async def send_reminder(reminder_id: int, data: Mapping[str, Any], *, data_dir: Path | None = None,
                        actor: int | None = None) -> ReminderView:
    """Queue the reminder with its PDF for the client (`to` overrides the client's address)."""
    view = await get_reminder(reminder_id)
    if view.status == "cancelled":
        raise Conflict(_("%(number)s is cancelled; it is not sent.", number=view.number))
    client = await Client.select(Client.email).where(Client.id == view.client_id).first()
    to_raw = data.get("to") or (client or {}).get("email") or ""
    if not to_raw:
        raise ValidationFailed([FieldError("to", _("The client has no email address; enter one"))])
    to = mail_logic.parse_addresses(to_raw, "to", required=True, label=_("To"))
    try:
        rendered = await reminder_pdf(reminder_id, data_dir=data_dir)
    except render_service.RenderError as error:
        raise Conflict(_("The PDF could not be made, so nothing was queued: %(error)s", error=error)) from None
    with audit_service.labelled("reminder"):
        async with write_transaction():
            message = await mail_service.queue_message(
                "reminder", to=to, subject=view.subject, body=view.body,
                attachments=[Attachment(rendered.filename, "application/pdf", rendered.content)],
                document_id=view.items[0].invoice_id if view.items else None, client_id=view.client_id, actor=actor)
            await Reminder.update({Reminder.status: "sent", Reminder.sent_to: ", ".join(to)[:500],
                                   Reminder.message_id: message["id"]}).where(Reminder.id == reminder_id)
    return await get_reminder(reminder_id)


# -- cancelling and paying ----------------------------------------------------------------------

async def cancel_reminder(reminder_id: int, reason: str = "", *, actor: int | None = None) -> ReminderView:
    """Cancel a reminder: its fee and interest are reversed by a ledger credit, its levels freed.
    One whose charges were paid in part is not cancelled (the money would have nothing to settle)."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationFailed([FieldError("reason", _("The reason is too long (at most 500 characters)"))])
    with audit_service.labelled("reminder"):
        async with write_transaction():
            view = await get_reminder(reminder_id)
            if view.status == "cancelled":
                raise Conflict(_("%(number)s is already cancelled.", number=view.number))
            if view.charges_paid:
                raise Conflict(_("%(charges_paid)s %(currency)s of %(number)s's fee and interest was paid; it cannot be cancelled.", charges_paid=view.charges_paid, currency=view.currency, number=view.number))
            await Reminder.update({Reminder.status: "cancelled", Reminder.cancel_reason: reason,
                                   Reminder.cancelled_at: _now()}).where(Reminder.id == reminder_id)
            await ReminderItem.update({ReminderItem.cancelled: True}).where(ReminderItem.reminder == reminder_id)
            charges = to_minor(view.charges, view.currency)
            if charges:
                await ledger_service.append(
                    client_id=view.client_id, currency=view.currency, entry_date=await settings_service.today(),
                    kind="reminder_cancelled", credit_minor=charges, number=view.number,
                    description=f"{view.title} {view.number} cancelled" + (f": {reason}" if reason else ""),
                    refs={"title": view.title, "reason": reason or ""}, actor=actor)
            for item in view.items:
                await _event(item.invoice_id, "reminder cancelled", view.number, actor)
    return await get_reminder(reminder_id)


async def pay_charges(reminder_id: int, data: Mapping[str, Any], *, actor: int | None = None) -> ReminderView:
    """Money towards a reminder's fee and interest: received (`method`, a ledger credit) or, with
    `from_credit`, the client's credit (a payment's excess kept, a credit note on account) used for it.
    The amount defaults to what is unpaid of them (or the credit there is)."""
    unknown = set(data) - {"amount", "date", "method", "reference", "from_credit"}
    if unknown:
        raise ValidationFailed([FieldError(sorted(unknown)[0], _("Unknown field"))])
    form = Form(data)
    form.boolean("from_credit")
    form.date("date", label=_("Date"))
    form.choice("method", payments_logic.METHODS, default="bank_transfer", label=_("Method"))
    form.text("reference", max_length=200, one_line=True, label=_("Reference"))
    values = form.raise_if_invalid()
    today = await settings_service.today()
    with audit_service.labelled("reminder"):
        async with write_transaction():
            view = await get_reminder(reminder_id)
            cur = view.currency
            unpaid = to_minor(view.charges_open, cur)
            credit = to_minor(await payments_service.available_credit(view.client_id, cur), cur) \
                if values["from_credit"] else None
            raw_amount = data.get("amount")
            if raw_amount in (None, ""):
                amount_minor = min(unpaid, credit) if credit is not None else unpaid
            else:
                amount_form = Form({"amount": raw_amount})
                amount_form.decimal("amount", minimum=Decimal(0), max_places=minor_digits(cur), label=_("Amount"),
                                    max_integer_digits=payments_logic.MAX_AMOUNT_DIGITS)
                amount_minor = to_minor(amount_form.raise_if_invalid()["amount"], cur)
            logic.check_charge_payment(amount_minor, unpaid, view.status, credit)
            when = values.get("date") or today
            if when < view.issue_date:
                raise ValidationFailed([FieldError("date", _("A payment cannot be dated before the reminder"))])
            source = "credit" if values["from_credit"] else "money"
            await ReminderPayment.insert(ReminderPayment(
                reminder=reminder_id, client=view.client_id, currency=cur, amount_minor=amount_minor,
                payment_date=when, source=source, method="" if source == "credit" else values["method"],
                reference=values.get("reference", ""), created_at=_now(), created_by=actor))
            await Reminder.update({Reminder.charges_paid_minor: Reminder.charges_paid_minor + amount_minor}).where(
                Reminder.id == reminder_id)
            amount = from_minor(amount_minor, cur)
            if source == "credit":
                await ledger_service.append(
                    client_id=view.client_id, currency=cur, entry_date=when, kind="credit_to_charges",
                    amount_minor=amount_minor, number=view.number,
                    description=f"{amount} {cur} of client credit towards the fee and interest of {view.number}",
                    refs={"amount_minor": amount_minor}, actor=actor)
            else:
                reference = values.get("reference", "")
                await ledger_service.append(
                    client_id=view.client_id, currency=cur, entry_date=when, kind="charge_payment",
                    credit_minor=amount_minor, number=view.number,
                    description=f"Payment of the fee and interest of {view.number}, "
                                f"{payments_logic.METHODS[values['method']]}" + (f" ({reference})" if reference else ""),
                    refs={"method": values["method"], "reference": reference}, actor=actor)
    return await get_reminder(reminder_id)


# -- the automatic run --------------------------------------------------------------------------

async def run_automatic(*, data_dir: Path | None = None, as_of: date | None = None) -> list[ReminderView]:
    """When the settings turn automatic sending on: make and email every reminder due today. Safe to run
    again and from two processes at once: what was made is not due any more, and the unique index
    refuses a level a second time (the loser's transaction writes nothing)."""
    dunning = await get_dunning()
    if not dunning.auto_send:
        return []
    try:
        return await make_reminders({"all_due": True}, data_dir=data_dir, as_of=as_of)
    except sqlite3.IntegrityError:
        log.info("another run made these reminders first")
        return []


class Scheduler:
    """Runs the automatic reminders a minute after start, then every hour, as "system:reminders"."""

    def __init__(self, config: Config):
        self.config = config
        self.periodic = Periodic("the automatic reminders", lambda: audit_service.as_system(
            AUTO_JOB, run_automatic(data_dir=config.data_dir)), first_delay_s=AUTO_FIRST_CHECK_S,
            interval_s=AUTO_INTERVAL_S)

    async def start(self) -> None:
        self.periodic.start()

    async def stop(self) -> None:
        await self.periodic.stop()

