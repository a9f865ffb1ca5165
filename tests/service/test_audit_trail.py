"""The audit trail records every write, sealed in the same transaction, and cannot be quietly rewritten.

The walk: every function of the core that opens a write transaction is found by reading the
source (ast), and each is called once here; each call must leave sealed entries naming the actor
of the moment (or be listed in NO_ENTRY with the reason it records nothing). A new write function
without a line here fails the walk.
"""

from __future__ import annotations

import ast
import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import app
from app.audit import logic, trail
from app.audit import service as audit_service
from app.audit.logic import Actor, Head
from app.auth import service as auth_service
from app.auth.tables import LaunchToken
from app.backup import service as backup_service
from app.catalog import service as catalog_service
from app.clients import service as clients_service
from app.config import Config
from app.db.engine import write_transaction
from app.documents import service as documents_service
from app.mail import service as mail_service
from app.mail.tables import OutboxMessage
from app.payments import service as payments_service
from app.reminders import service as reminders_service
from app.settings import service as settings_service
from app.settings.tables import BusinessSettings
from app.taxes import service as taxes_service
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, run
from tests.http.support import png
from tests.service.audit_fx import scenarios as fx_scenarios
from tests.service.audit_imports import scenarios as imports_scenarios
from tests.service.audit_projects import scenarios as projects_scenarios

APP_DIR = Path(app.__file__).resolve().parent
ACTOR = Actor.user(42, "auditor@example.com", origin="page")


# -- the walk -------------------------------------------------------------------------------------

def write_functions() -> set[str]:
    """Every function of the core (not the web, not the engine) that opens write_transaction()."""
    found = set()
    for path in sorted(APP_DIR.rglob("*.py")):
        relative = path.relative_to(APP_DIR.parent)
        if relative.parts[1] in ("web", "db") or "piccolo_migrations" in relative.parts:
            continue
        module = ".".join(relative.with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            members = [(node.name + ".", item) for item in node.body] if isinstance(node, ast.ClassDef) else [("", node)]
            for prefix, item in members:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                        isinstance(call, ast.Call) and getattr(call.func, "id", None) == "write_transaction"
                        for call in ast.walk(item)):
                    found.add(f"{module}.{prefix}{item.name}")
    return found


class World:
    """What a write needs to exist first, made on demand (as the test's own setup, sealed as "system")."""

    def __init__(self, config: Config):
        self.config = config
        self._owner: dict[str, Any] | None = None

    async def owner(self) -> dict[str, Any]:
        if self._owner is None:
            self._owner = await auth_service.setup_owner({
                "business_name": "Audit Studio", "name": "Olivia Owner", "email": OWNER_EMAIL,
                "password": OWNER_PASSWORD, "password_repeat": OWNER_PASSWORD})
        return self._owner

    async def identity(self) -> Any:
        return auth_service.identity_of(await self.owner())

    async def client(self) -> Any:
        return await clients_service.create_client({"name": "Audited Ltd", "currency": "CAD"})

    async def draft(self, doc_type: str = "invoice", price: str = "100.00") -> Any:
        client = await self.client()
        return await documents_service.create_document(doc_type, {
            "client_id": client.id, "lines": [{"description": "Work", "quantity": "1", "unit_price": price}]})

    async def invoice(self, price: str = "100.00") -> Any:
        return await documents_service.issue((await self.draft("invoice", price)).id)

    async def quote(self) -> Any:
        return await documents_service.issue((await self.draft("quote")).id)

    async def payment(self) -> Any:
        return await payments_service.record_payment((await self.invoice()).id, {"amount": "40.00"})

    async def credit(self) -> Any:
        """An open invoice of a client with 30.00 of credit (a payment's excess, kept)."""
        first = await self.invoice("50.00")
        await payments_service.record_payment(first.id, {"amount": "80.00", "keep_excess_as_credit": True})
        return await documents_service.issue((await documents_service.create_document("invoice", {
            "client_id": first.client_id, "lines": [{"description": "More", "quantity": "1",
                                                     "unit_price": "60.00"}]})).id)

    async def message(self, status: str = "queued") -> int:
        message = await mail_service.queue_message("test", to=["someone@example.com"], subject="Hello",
                                                   body="A test message")
        if status != "queued":
            async with write_transaction():
                await OutboxMessage.update({OutboxMessage.status: status}).where(OutboxMessage.id == message["id"])
        return message["id"]

    async def token(self) -> tuple[str, dict[str, Any]]:
        owner = await self.owner()
        return await auth_service.create_api_token(owner["id"], "script")


Call = Callable[[], Awaitable[Any]]
Scenario = Callable[[World], Awaitable[Call]]


def _scenarios() -> dict[str, tuple[Scenario, str | None]]:
    """Per write function: its setup (returning the call) and an action its entries must include."""
    d, p, m = documents_service, payments_service, mail_service

    async def year(_: World) -> int:
        return (await settings_service.today()).year

    def simple(call: Callable[[World], Awaitable[Any]]) -> Scenario:
        async def setup(w: World) -> Call:
            return lambda: call(w)
        return setup

    def after(prepare: Callable[[World], Awaitable[Any]], call: Callable[[World, Any], Awaitable[Any]]) -> Scenario:
        async def setup(w: World) -> Call:
            made = await prepare(w)
            return lambda: call(w, made)
        return setup

    async def without_settings_row(w: World) -> None:
        async with write_transaction():
            await BusinessSettings.delete().where(BusinessSettings.id == 1)

    async def expired_launch_token(w: World) -> None:
        await auth_service.create_launch_token(60)
        async with write_transaction():
            await LaunchToken.update({LaunchToken.expires_at: datetime.now(UTC) - timedelta(hours=1)}).where(
                LaunchToken.id > 0)

    return {
        # auth
        "app.auth.service.setup_owner": (simple(lambda w: w.owner()), "create"),
        "app.auth.service.create_user": (after(lambda w: w.owner(), lambda w, _: auth_service.create_user({
            "email": "staff@example.com", "password": "staff password 1", "password_repeat": "staff password 1"})),
            "create"),
        "app.auth.service.set_user_active": (after(lambda w: auth_service.create_user({
            "email": "staff@example.com", "password": "staff password 1", "password_repeat": "staff password 1"}),
            lambda w, user: _deactivate(w, user["id"])), "deactivate"),
        "app.auth.service.set_language": (after(lambda w: w.owner(), lambda w, owner: auth_service.set_language(
            owner["id"], "de_DE")), "update"),
        "app.auth.service.change_password": (after(lambda w: w.owner(), lambda w, owner: auth_service.change_password(
            owner["id"], OWNER_PASSWORD, "a new long password", "a new long password")), "password change"),
        "app.auth.service.revoke_all_api_tokens": (after(lambda w: w.token(), lambda w, made: (
            auth_service.revoke_all_api_tokens(made[1]["user"]))), "token revoked"),
        "app.auth.service.login": (after(lambda w: w.owner(), lambda w, _: auth_service.login(
            OWNER_EMAIL, OWNER_PASSWORD)), "login"),
        "app.auth.service._record_failed_login": (after(lambda w: w.owner(), lambda w, _: _fail_to_sign_in()),
                                                  "failed login"),
        "app.auth.service.purge_expired_sessions": (after(expired_launch_token, lambda w, _: (
            auth_service.purge_expired_sessions(idle_timeout_s=60, lifetime_s=60))), "delete"),
        "app.auth.service.create_api_token": (after(lambda w: w.owner(), lambda w, owner: (
            auth_service.create_api_token(owner["id"], "script"))), "token created"),
        "app.auth.service.revoke_api_token": (after(lambda w: w.token(), lambda w, made: _revoke(w, made[1]["id"])),
                                              "token revoked"),
        "app.auth.service.create_launch_token": (simple(lambda w: auth_service.create_launch_token(60)), "create"),
        "app.auth.service.sign_in_by_launch": (after(lambda w: _owner_and_launch_token(w), lambda w, token: (
            auth_service.sign_in_by_launch(token, lifetime_s=60))), "login"),
        # settings, taxes, catalogue, clients
        "app.settings.service.get_settings": (after(without_settings_row, lambda w, _: (
            settings_service.get_settings())), "setting change"),
        "app.settings.service.update_settings": (simple(lambda w: settings_service.update_settings(
            {"name": "Renamed Studio"})), "setting change"),
        "app.settings.service.store_number_patterns": (simple(lambda w: settings_service.store_number_patterns(
            {"invoice_number_pattern": "F-{year}-{seq:05}"})), "setting change"),
        "app.settings.service.save_logo": (simple(lambda w: settings_service.save_logo(
            w.config.attachments_dir, png(8, 8))), "setting change"),
        "app.settings.service.remove_logo": (after(lambda w: settings_service.save_logo(
            w.config.attachments_dir, png(8, 8)), lambda w, _: settings_service.remove_logo(
            w.config.attachments_dir)), "setting change"),
        "app.taxes.service.create_tax": (simple(lambda w: taxes_service.create_tax(
            {"code": "TVQ", "name": "TVQ", "rate": "9.975"})), "create"),
        "app.taxes.service.update_tax": (after(lambda w: taxes_service.create_tax(
            {"code": "TVQ", "name": "TVQ", "rate": "9.975"}), lambda w, _: taxes_service.update_tax(
            "TVQ", {"name": "QST", "rate": "9.975"})), "update"),
        "app.taxes.service.apply_preset": (simple(lambda w: taxes_service.apply_preset("canada")), "create"),
        "app.catalog.service.create_item": (simple(lambda w: catalog_service.create_item(
            {"code": "DESIGN", "name": "Design", "unit_price": "95.00"})), "create"),
        "app.catalog.service.update_item": (after(lambda w: catalog_service.create_item(
            {"code": "DESIGN", "name": "Design", "unit_price": "95.00"}), lambda w, item: catalog_service.update_item(
            item["id"], {"code": "DESIGN", "name": "Design work", "unit_price": "99.00"})), "update"),
        "app.catalog.service.delete_item": (after(lambda w: catalog_service.create_item(
            {"code": "DESIGN", "name": "Design", "unit_price": "95.00"}), lambda w, item: (
            catalog_service.delete_item(item["id"]))), "delete"),
        "app.clients.service.create_client": (simple(lambda w: w.client()), "create"),
        "app.clients.service.update_client": (after(lambda w: w.client(), lambda w, client: (
            clients_service.update_client(client.id, {"name": "Renamed Ltd", "currency": "CAD"}))), "update"),
        "app.clients.service.set_status": (after(lambda w: w.client(), lambda w, client: (
            clients_service.set_status(client.id, "archived"))), "archive"),
        "app.clients.service.delete_client": (after(lambda w: w.client(), lambda w, client: (
            clients_service.delete_client(client.id, hard=True))), "delete"),
        # documents
        "app.documents.service.create_document": (simple(lambda w: w.draft()), "create"),
        "app.documents.service.update_draft": (after(lambda w: w.draft(), lambda w, draft: d.update_draft(
            draft.id, {"notes": "Thanks!"})), "update"),
        "app.documents.service.delete_draft": (after(lambda w: w.draft(), lambda w, draft: d.delete_draft(draft.id)),
                                               "delete"),
        "app.documents.service.issue": (after(lambda w: w.draft(), lambda w, draft: d.issue(draft.id)), "issue"),
        "app.documents.service.mark_sent": (after(lambda w: w.invoice(), lambda w, doc: d.mark_sent([doc.id])),
                                            "send"),
        "app.documents.service.record_emailed": (after(lambda w: w.invoice(), lambda w, doc: d.record_emailed(
            doc.id, "client@example.com")), "send"),
        "app.documents.service.cancel": (after(lambda w: w.invoice(), lambda w, doc: d.cancel(doc.id, "Wrong client")),
                                         "cancel"),
        "app.documents.service.decide_quote": (after(lambda w: w.quote(), lambda w, quote: d.decide_quote(
            quote.id, "accept")), "accept"),
        "app.documents.service.convert_quote": (after(lambda w: w.quote(), lambda w, quote: d.convert_quote(
            quote.id)), "convert"),
        "app.documents.service.duplicate": (after(lambda w: w.invoice(), lambda w, doc: d.duplicate(doc.id)),
                                            "create"),
        "app.documents.service.keep_document_record": (after(_unrecorded_invoice, lambda w, doc: (
            d.keep_document_record(doc.id, sha256="0" * 64, size=1, origin="first use"))), "document of record"),
        "app.documents.service.keep_document_records": (after(_unrecorded_invoice, lambda w, doc: (
            d.keep_document_records([(doc.id, "0" * 64, 1)]))), "document of record"),
        "app.documents.service.set_next_number": (after(year, lambda w, y: d.set_next_number("invoice", y, 50)),
                                                  "create"),
        "app.documents.service.save_numbering": (after(year, lambda w, y: d.save_numbering(
            y, {"quote_next": "20"})), "create"),
        # payments
        "app.payments.service.record_payment": (after(lambda w: w.invoice(), lambda w, doc: p.record_payment(
            doc.id, {"amount": "40.00"})), "payment"),
        "app.payments.service.reverse_payment": (after(lambda w: w.payment(), lambda w, pay: p.reverse_payment(
            pay.id, "The cheque bounced")), "reversal"),
        "app.payments.service.edit_payment": (after(lambda w: w.payment(), lambda w, pay: p.edit_payment(
            pay.id, {"amount": "45.00"})), "reversal"),
        "app.payments.service.apply_credit": (after(lambda w: w.credit(), lambda w, doc: p.apply_credit(
            doc.id, {"amount": "10.00"})), "credit application"),
        "app.payments.service.refund": (after(lambda w: w.credit(), lambda w, doc: p.refund(
            doc.client_id, {"currency": "CAD", "amount": "5.00"})), "refund"),
        # mail
        "app.mail.service._row": (simple(lambda w: m.get_mail_settings()), "setting change"),
        "app.mail.service.update_mail_settings": (simple(lambda w: m.update_mail_settings(
            {"smtp_host": "smtp.example.com", "smtp_password": "hunter2 is my password"})), "setting change"),
        "app.mail.service.set_accountant_last_period": (after(lambda w: m.get_mail_settings(), lambda w, _: (
            m.set_accountant_last_period("2026-11"))), "setting change"),
        "app.mail.service.queue_message": (simple(lambda w: w.message()), "mail queued"),
        "app.mail.service.retry": (after(lambda w: w.message("failed"), lambda w, mid: m.retry(mid)), "mail queued"),
        "app.mail.service.retry_all": (after(lambda w: w.message(), lambda w, _: m.retry_all()), "update"),
        "app.mail.service.cancel": (after(lambda w: w.message(), lambda w, mid: m.cancel(mid)), "mail cancelled"),
        "app.mail.service.mark_sent": (after(lambda w: w.message("uncertain"), lambda w, mid: m.mark_sent(mid)),
                                       "mail sent"),
        "app.mail.service.deliver_one": (after(lambda w: w.message(), lambda w, mid: m.deliver_one(mid)),
                                         "mail sending"),
        "app.mail.service.recover_at_start": (after(lambda w: w.message("sending"), lambda w, _: (
            m.recover_at_start())), "mail queued"),
        "app.mail.service.demo_outbox": (after(lambda w: w.invoice(), lambda w, _: m.demo_outbox(
            w.config.data_dir, accountant_email="books@example.com", from_email="me@example.com", from_name="Me")),
            "mail queued"),
        # backup
        "app.backup.service._ensure_schedule_row": (simple(lambda w: backup_service._ensure_schedule_row()),
                                                    "setting change"),
        "app.backup.service.update_schedule": (simple(lambda w: backup_service.update_schedule(
            w.config, {"rhythm": "off", "keep_last": "5"})), "setting change"),
        "app.backup.service.run_scheduled_backup": (simple(lambda w: backup_service.run_scheduled_backup(w.config)),
                                                    "setting change"),
        # recurring
        **_recurring_scenarios(after, simple),
        # reminders
        "app.reminders.service.save_dunning": (simple(lambda w: reminders_service.save_dunning(
            {"levels": [{"level": 1, "days_after_due": 5, "title": "Reminder", "fee_flat": "5.00"}]})),
            "setting change"),
        "app.reminders.service.set_no_reminders": (after(lambda w: w.client(), lambda w, client: (
            reminders_service.set_no_reminders(client.id, True))), "create"),
        "app.reminders.service.make_reminders": (after(_overdue_invoice, lambda w, doc: (
            reminders_service.make_reminders({"invoice_ids": [doc.id], "send": False}))), "reminder"),
        "app.reminders.service.send_reminder": (after(_reminder, lambda w, rem: reminders_service.send_reminder(
            rem.id, {}, data_dir=w.config.data_dir)), "reminder"),
        "app.reminders.service.cancel_reminder": (after(_reminder, lambda w, rem: (
            reminders_service.cancel_reminder(rem.id, "Sent in error"))), "reminder"),
        "app.reminders.service.pay_charges": (after(_reminder, lambda w, rem: reminders_service.pay_charges(
            rem.id, {"amount": "1.00"})), "reminder"),
        **_expense_scenarios(simple, after),
    }


async def _overdue_invoice(w: World) -> Any:
    """An invoice 40 days past its due date, of a client with an address, under a level that charges 5.00."""
    await reminders_service.save_dunning({"levels": [{"level": 1, "days_after_due": 5, "title": "Reminder",
                                                      "fee_flat": "5.00"}]})
    client = await clients_service.create_client({"name": "Late Payer Ltd", "currency": "CAD",
                                                  "email": "ap@late.example"})
    issued = (await settings_service.today()) - timedelta(days=70)
    draft = await documents_service.create_document("invoice", {
        "client_id": client.id, "issue_date": issued.isoformat(), "terms_days": 30, "confirm_date": True,
        "lines": [{"description": "Work", "quantity": "1", "unit_price": "100.00"}]})
    return await documents_service.issue(draft.id, issue_date=issued, backdate=True)


async def _reminder(w: World) -> Any:
    made = await reminders_service.make_reminders({"invoice_ids": [(await _overdue_invoice(w)).id], "send": False})
    return made[0]


def _expense_scenarios(simple: Any, after: Any) -> dict[str, tuple[Any, str | None]]:
    """The expenses domain's writes (issue 18)."""
    from app.expenses import service as e

    async def expense(w: World, **fields: Any) -> Any:
        await taxes_service.apply_preset("canada")
        return await e.create_expense({"date": "2026-03-01", "category": "office", "net": "10.00",
                                       "currency": "CAD", "taxes": ["GST"], **fields})

    async def billable(w: World) -> tuple[Any, Any]:
        draft = await w.draft()
        made = await expense(w, billable=True, client_id=draft.client_id)
        return draft, made

    async def on_draft(w: World) -> Any:
        draft, made = await billable(w)
        await e.add_to_invoice(draft.id, [made["id"]])
        return made

    async def with_receipt(w: World) -> Any:
        made = await expense(w)
        return await e.add_receipt(w.config.attachments_dir, made["id"], png(3, 3), "r.png")

    async def einvoice(w: World) -> bytes:
        from tests.service.test_expenses_service import own_facturx_pdf
        return await own_facturx_pdf(w.config)

    vendor = {"name": "Staples", "tax_number": "123"}
    return {
        "app.expenses.service.ensure_chart": (simple(lambda w: e.ensure_chart()), "create"),
        "app.expenses.service.create_category": (simple(lambda w: e.create_category(
            {"code": "coworking", "name": "Coworking"})), "create"),
        "app.expenses.service.update_category": (after(lambda w: e.ensure_chart(), lambda w, _: e.update_category(
            "office", {"name": "Office"})), "update"),
        "app.expenses.service.create_vendor": (simple(lambda w: e.create_vendor(vendor)), "create"),
        "app.expenses.service.update_vendor": (after(lambda w: e.create_vendor(vendor), lambda w, v: e.update_vendor(
            v["id"], {"notes": "Near"})), "update"),
        "app.expenses.service.delete_vendor": (after(lambda w: e.create_vendor(vendor), lambda w, v: e.delete_vendor(
            v["id"])), "delete"),
        "app.expenses.service.set_closed_up_to": (simple(lambda w: e.set_closed_up_to("2026-01-31")), "create"),
        "app.expenses.service.create_expense": (simple(lambda w: expense(w)), "create"),
        "app.expenses.service.update_expense": (after(lambda w: expense(w), lambda w, x: e.update_expense(
            x["id"], {"net": "12.00"})), "update"),
        "app.expenses.service.record_expense": (after(lambda w: _imported_draft(w), lambda w, x: e.record_expense(
            x["id"])), "update"),
        "app.expenses.service.delete_expense": (after(lambda w: expense(w), lambda w, x: e.delete_expense(
            w.config.attachments_dir, x["id"])), "delete"),
        "app.expenses.service.add_receipt": (after(lambda w: expense(w), lambda w, x: e.add_receipt(
            w.config.attachments_dir, x["id"], png(3, 3), "r.png")), "create"),
        "app.expenses.service.remove_receipt": (after(lambda w: with_receipt(w), lambda w, x: e.remove_receipt(
            w.config.attachments_dir, x["id"], 1)), "delete"),
        "app.expenses.service.import_einvoice": (after(lambda w: einvoice(w), lambda w, pdf: e.import_einvoice(
            w.config.attachments_dir, pdf, "in.pdf")), "create"),
        "app.expenses.service.add_to_invoice": (after(lambda w: billable(w), lambda w, made: e.add_to_invoice(
            made[0].id, [made[1]["id"]])), "update"),
        "app.expenses.service.release": (after(lambda w: on_draft(w), lambda w, x: e.release(x["id"])), "update"),
    }


async def _imported_draft(w: World) -> Any:
    from app.expenses import service as e
    from tests.service.test_expenses_service import own_facturx_pdf

    return await e.import_einvoice(w.config.attachments_dir, await own_facturx_pdf(w.config), "in.pdf")


async def _fail_to_sign_in() -> None:
    from app.common.logic import ValidationFailed

    with pytest.raises(ValidationFailed):
        await auth_service.login(OWNER_EMAIL, "not the password")


async def _deactivate(w: World, user_id: int) -> Any:
    return await auth_service.set_user_active(user_id, False, actor=await w.identity())


async def _revoke(w: World, token_id: int) -> Any:
    return await auth_service.revoke_api_token(token_id, actor=await w.identity())


async def _owner_and_launch_token(w: World) -> str:
    await w.owner()
    return await auth_service.create_launch_token(60)


def _recurring_scenarios(after: Any, simple: Any) -> dict[str, tuple[Scenario, str | None]]:
    from app.recurring import service as r
    from app.recurring.logic import Period

    async def profile(w: World, action: str = "issue") -> Any:
        client = await clients_service.create_client({"name": "Recurring Ltd", "currency": "CAD",
                                                      "email": "accounts@recurring.example"})
        return await r.create_profile({"client_id": client.id, "start_date": "2026-01-01", "action": action,
                                       "lines": [{"description": "Hosting {month}", "quantity": "1",
                                                  "unit_price": "50"}]})

    async def paused(w: World) -> Any:
        return await r.pause_profile((await profile(w)).id)

    async def made_to_send(w: World) -> Any:
        made = await profile(w, "issue_and_send")
        await r._make_period(made.id, Period(0, date(2026, 1, 1), date(2026, 1, 31)), None)
        return made

    return {
        "app.recurring.service.create_profile": (simple(profile), "create"),
        "app.recurring.service.update_profile": (after(profile, lambda w, p: r.update_profile(p.id, {"every": 2})),
                                                 "update"),
        "app.recurring.service.delete_profile": (after(profile, lambda w, p: r.delete_profile(p.id)), "delete"),
        "app.recurring.service.pause_profile": (after(profile, lambda w, p: r.pause_profile(p.id)), "update"),
        "app.recurring.service.resume_profile": (after(paused, lambda w, p: r.resume_profile(p.id)), "update"),
        "app.recurring.service._make_period": (after(profile, lambda w, p: r._make_period(
            p.id, Period(0, date(2026, 1, 1), date(2026, 1, 31)), None)), "recurring run"),
        "app.recurring.service._send_pending": (after(made_to_send, lambda w, p: r._send_pending(
            None, w.config.data_dir, r.RunReport(as_of=date(2026, 1, 1)))), "mail queued"),
    }


# What writes, and why nothing is recorded: only the session's own bookkeeping, or a token's last use.
NO_ENTRY = {
    "app.auth.service.start_session": "sessions are not audited (app.audit.logic.NOT_AUDITED)",
    "app.auth.service.load_session": "sessions are not audited (it moves last_seen_at, or ends an expired one)",
    "app.auth.service.end_session": "sessions are not audited (the sign-out ends one)",
    "app.auth.service.identity_for_token": "a token's last use is not recorded (it moves on every request)",
    "app.documents.service.issue_preview": "its transaction is always rolled back: it keeps nothing",
    "app.documents.service.keep_search_sums": "the kept sums of a search are derived, not audited "
                                              "(app.audit.logic.NOT_AUDITED: search_term, search_tally)",
    "app.documents.service.unless_recorded": "it writes nothing: it reads under the writer, then removes a file "
                                             "no document records",
}
async def _unrecorded_invoice(world: World) -> Any:
    """An invoice issued as before documents of record were kept (app.render's issue hook off)."""
    from app.documents import service as documents_service

    hooks = list(documents_service._issue_hooks)
    documents_service._issue_hooks.clear()
    try:
        return await world.invoice()
    finally:
        documents_service._issue_hooks.extend(hooks)


SCENARIOS = {**_scenarios(), **projects_scenarios()}   # projects and time: tests/service/audit_projects.py
SCENARIOS.update(fx_scenarios())   # exchange rates and bank accounts: tests/service/audit_fx.py
SCENARIOS.update(imports_scenarios())   # imports: tests/service/audit_imports.py
# Bookkeeping writes go through a helper that skips them on a read-only or gone data folder: the walk
# sees the helper, and its callers are the ones with a scenario above.
WRITES_THROUGH = {"app.auth.service._unless_the_folder_refuses": {"app.auth.service.load_session",
                                                                   "app.auth.service.identity_for_token"}}
# Writes made as someone else than the one acting when they started: a sign-in is the user's own act.
ACTS_AS_THE_USER = {"app.auth.service.sign_in_by_launch", "app.auth.service.login"}


def test_the_walk_finds_every_write_function_and_each_has_a_scenario():
    found = write_functions()
    assert "app.documents.service.issue" in found and "app.mail.service.Worker" not in found
    assert len(found) > 55
    for helper, callers in WRITES_THROUGH.items():
        assert helper in found
        found = (found - {helper}) | callers
    assert found == set(SCENARIOS) | set(NO_ENTRY), (
        f"without a scenario: {sorted(found - set(SCENARIOS) - set(NO_ENTRY))}; "
        f"no longer writing: {sorted((set(SCENARIOS) | set(NO_ENTRY)) - found)}")


def _entries_after(database: Path, seq: int) -> list[sqlite3.Row]:
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM audit_entry WHERE id > ? ORDER BY id", (seq,)).fetchall()
    finally:
        connection.close()


def _pending(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT count(*) FROM audit_pending").fetchone()[0]
    finally:
        connection.close()


def _last_seq(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT COALESCE(max(id), 0) FROM audit_entry").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_write_function_leaves_sealed_entries_naming_its_actor(name: str, config: Config):
    scenario, action = SCENARIOS[name]
    world = World(config)
    call = run(scenario(world))
    before = _last_seq(config.database_path)

    async def act() -> None:
        with audit_service.acting(ACTOR):
            await call()
    run(act())
    added = _entries_after(config.database_path, before)
    assert added, f"{name} wrote no audit entry"
    assert all(row["hash"] and row["prev_hash"] is not None for row in added), name
    assert _pending(config.database_path) == 0, name
    expected = "user:1" if name in ACTS_AS_THE_USER else ACTOR.actor
    acted = [row for row in added if row["actor"] == expected]
    assert acted, (name, [dict(row) for row in added])
    assert all(row["origin"] == "page" and row["user_id"] == int(expected.split(":")[1]) for row in acted)
    if action is not None:
        assert action in {row["action"] for row in added}, (name, [row["action"] for row in added])
    verification = audit_service.verify_database(config.database_path)
    assert verification.ok, (name, verification.problems())


@pytest.mark.parametrize("name", sorted(NO_ENTRY))
def test_the_writes_that_record_nothing_really_touch_nothing_audited(name: str, config: Config):
    world = World(config)

    async def scene() -> Call:
        owner = await world.owner()
        token, _ = await world.token()
        session_id, _ = await auth_service.start_session(owner["id"], lifetime_s=3600)
        draft = await world.draft()
        return {
            "app.documents.service.issue_preview": lambda: documents_service.issue_preview(draft.id,
                                                                                            now=datetime.now(UTC)),
            "app.auth.service.start_session": lambda: auth_service.start_session(owner["id"], lifetime_s=60),
            "app.auth.service.load_session": lambda: auth_service.load_session(session_id, idle_timeout_s=0,
                                                                               lifetime_s=0),
            "app.auth.service.end_session": lambda: auth_service.end_session(session_id),
            "app.auth.service.identity_for_token": lambda: auth_service.identity_for_token(token),
            "app.documents.service.keep_search_sums": lambda: documents_service.keep_search_sums(("line",)),
            "app.documents.service.unless_recorded": lambda: documents_service.unless_recorded("0" * 64, lambda: None),
        }[name]
    call = run(scene())
    before = _last_seq(config.database_path)
    run(call())
    assert _entries_after(config.database_path, before) == []


# -- the seal ---------------------------------------------------------------------------------------

def test_a_transaction_is_sealed_as_its_actor_with_its_label(config: Config):
    async def scene() -> None:
        with audit_service.acting(Actor.system("importer")), audit_service.labelled("import"):
            await clients_service.create_client({"name": "Imported Ltd", "currency": "EUR"})
        with audit_service.acting(Actor.command_line("ann")):
            await clients_service.create_client({"name": "Typed Ltd", "currency": "EUR"})
    run(scene())
    rows = [(r["actor"], r["actor_name"], r["origin"], r["action"]) for r in _entries_after(config.database_path, 0)]
    assert rows[-2:] == [("system:importer", "importer", "schedule", "import"), ("cli:ann", "ann", "cli", "create")]


def test_a_rolled_back_transaction_leaves_no_entry_and_the_chain_goes_on(config: Config):
    async def scene() -> None:
        await clients_service.create_client({"name": "Kept Ltd", "currency": "EUR"})
        with pytest.raises(RuntimeError):
            async with write_transaction():
                await clients_service.create_client({"name": "Lost Ltd", "currency": "EUR"})
                raise RuntimeError("the user's change fails half way")
        await clients_service.create_client({"name": "Also kept Ltd", "currency": "EUR"})
    run(scene())
    names = [json.loads(r["changes"])["name"] for r in _entries_after(config.database_path, 0) if r["entity"] == "client"]
    assert names == ["Kept Ltd", "Also kept Ltd"]
    assert audit_service.verify_database(config.database_path).ok


def test_a_nested_service_call_is_one_transaction_sealed_once(config: Config):
    async def scene() -> None:
        async with write_transaction():
            client = await clients_service.create_client({"name": "Nested Ltd", "currency": "EUR"})
            await clients_service.update_client(client.id, {"name": "Nested Ltd", "currency": "EUR", "notes": "n"})
    run(scene())
    rows = _entries_after(config.database_path, 0)
    assert [r["action"] for r in rows] == ["create", "update"]
    assert rows[1]["prev_hash"] == rows[0]["hash"]


def test_an_event_is_recorded_only_inside_a_write_transaction(config: Config):
    with pytest.raises(RuntimeError, match="only inside write_transaction"):
        run(audit_service.record("failed login", "login_attempt", 1))


def test_failed_sign_ins_are_entries_with_the_reason_and_never_the_password(config: Config):
    from app.common.logic import ValidationFailed

    run(World(config).owner())

    async def scene() -> None:
        for _ in range(3):
            with pytest.raises(ValidationFailed):
                await auth_service.login(OWNER_EMAIL, "wrong password!")
        with pytest.raises(auth_service.LoginThrottled):
            await auth_service.login(OWNER_EMAIL, "wrong password!")
    with audit_service.acting(Actor.anonymous(origin="page")):
        run(scene())
    failed = [r for r in _entries_after(config.database_path, 0) if r["action"] == "failed login"]
    assert len(failed) == 4 and all(r["actor"] == "anonymous" and r["origin"] == "page" for r in failed)
    assert json.loads(failed[0]["changes"]) == {"email": OWNER_EMAIL}
    assert failed[0]["note"] == "wrong email or password" and failed[-1]["note"].startswith("throttled for ")
    connection = sqlite3.connect(config.database_path)
    dump = "\n".join(connection.iterdump())
    assert "wrong password!" not in dump and OWNER_PASSWORD not in dump
    connection.close()


def test_a_successful_sign_in_is_the_user_s_own_entry(config: Config):
    owner = run(World(config).owner())
    before = _last_seq(config.database_path)
    with audit_service.acting(Actor.anonymous(origin="page")):
        run(auth_service.login(OWNER_EMAIL, OWNER_PASSWORD))
    rows = _entries_after(config.database_path, before)
    assert [(r["entity"], r["action"], r["actor"]) for r in rows] == [
        ("login_attempt", "login attempt", "anonymous"), ("login_attempt", "login", f"user:{owner['id']}"),
        ("app_user", "login", f"user:{owner['id']}")]


# -- the guards -------------------------------------------------------------------------------------

def _sqlite(config: Config) -> sqlite3.Connection:
    return sqlite3.connect(config.database_path, isolation_level=None)


def test_the_trail_is_append_only_in_the_database(config: Config):
    run(World(config).client())
    connection = _sqlite(config)
    try:
        for statement in ("DELETE FROM audit_entry WHERE id = 1", "UPDATE audit_entry SET actor = 'user:9'",
                          "UPDATE audit_entry SET hash = 'forged' WHERE id = 1",
                          "UPDATE audit_entry SET changes = '{}' WHERE id = 1"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)
    finally:
        connection.close()


def test_what_the_triggers_record_becomes_entries_before_the_commit(config: Config):
    run(World(config).client())
    connection = _sqlite(config)
    try:
        assert connection.execute("SELECT count(*) FROM audit_pending").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM audit_entry WHERE hash IS NULL").fetchone() == (0,)
    finally:
        connection.close()


def test_a_write_outside_counterfoil_is_left_out_of_the_trail_and_named(config: Config):
    run(World(config).client())
    connection = _sqlite(config)
    connection.execute("UPDATE client SET notes = 'changed with a SQLite editor' WHERE id = 1")
    connection.close()
    # The program's next write does not launder it: only its own records are sealed.
    run(clients_service.create_client({"name": "Later Ltd", "currency": "EUR"}))
    rows = _entries_after(config.database_path, 0)
    assert [json.loads(r["changes"]).get("name") for r in rows if r["entity"] == "client"] == ["Audited Ltd",
                                                                                              "Later Ltd"]
    verification = audit_service.verify_database(config.database_path)
    assert verification.chain == [] and not verification.ok
    problems = verification.problems()
    assert any(p.startswith("1 change of client since ") and "made outside Counterfoil" in p for p in problems)
    assert "client 1: notes is 'changed with a SQLite editor' but the audit trail says ''" in problems


def test_the_day_s_first_write_keeps_the_head_beside_the_database(config: Config):
    head_file = trail.head_path(config.database_path)
    assert not head_file.exists()
    run(World(config).client())
    heads = trail.read_heads(head_file)
    assert len(heads) == 1 and heads[0]["day"] == datetime.now(UTC).date().isoformat()
    assert heads[0]["seq"] == 1 and oct(head_file.stat().st_mode)[-3:] == "600"
    run(World(config).client())
    assert trail.read_heads(head_file) == heads   # once a day
    tomorrow = Head(heads[0]["seq"] + 1, "h", (date.today() + timedelta(days=1)).isoformat() + "T00:00:00.000Z")
    assert trail.note_head(head_file, tomorrow) and len(trail.read_heads(head_file)) == 2


def test_a_trail_rewritten_and_rehashed_from_its_start_is_caught_by_the_kept_heads(config: Config):
    for _ in range(3):
        run(World(config).client())
    connection = _sqlite(config)
    _drop_guards(connection)
    connection.execute("UPDATE audit_entry SET actor_name = 'somebody else'")
    _rehash(connection)
    connection.close()
    verification = audit_service.verify_database(config.database_path, books=False)
    assert not verification.chain   # the chain itself holds: the rewrite was thorough...
    assert verification.first_broken == 1 and "audit-head.json" in verification.problems()[0]


def test_an_unreadable_head_file_is_a_problem_not_a_crash(config: Config):
    run(World(config).client())
    trail.head_path(config.database_path).write_text("{not json", encoding="utf-8")
    assert "audit-head.json is not a Counterfoil audit head file" in \
        audit_service.verify_database(config.database_path).problems()
    run(World(config).client())   # and writes go on (the head waits for a readable file)


def _drop_guards(connection: sqlite3.Connection) -> None:
    connection.execute("DROP TRIGGER audit_entry_no_update")
    connection.execute("DROP TRIGGER audit_entry_no_delete")


def _rehash(connection: sqlite3.Connection) -> None:
    previous = logic.GENESIS
    for row in connection.execute(f"SELECT {trail.SEAL_COLUMNS} FROM audit_entry ORDER BY id").fetchall():
        digest = logic.entry_hash(previous, row)
        connection.execute("UPDATE audit_entry SET prev_hash = ?, hash = ? WHERE id = ?", (previous, digest, row[0]))
        previous = digest


def test_verifying_runs_off_the_event_loop(config: Config):
    run(World(config).client())

    async def scene() -> Any:
        return await asyncio.wait_for(audit_service.verify(), timeout=30)
    assert run(scene()).ok
