"""The books always agree: random sequences of what users do, against a real SQLite file.

After every step `counterfoil check` finds nothing, no invoice has a negative
balance and no client has negative credit. A refused action (409/422) must
leave no trace: the check would see a half-written change.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from app.clients import service as clients_service
from app.common.logic import Conflict, ValidationFailed
from app.config import Config
from app.db.engine import raw_connection
from app.db.lifecycle import open_database
from app.documents import service as documents_service
from app.integrity.service import run_checks
from app.payments import service as payments_service
from app.taxes import service as taxes_service

REFUSED = (Conflict, ValidationFailed)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
fractions = st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal("1"), Decimal("1.3"), Decimal("0.333")])


def run(coroutine):
    return asyncio.run(coroutine)


class Books(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    payments = Bundle("payments")

    @initialize()
    def open_books(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="books-"))
        self.config = Config(data_dir=self.folder)
        run(open_database(self.config))
        run(taxes_service.apply_preset("canada"))
        self.client = run(clients_service.create_client({"name": "Stateful Client", "currency": "CAD"}))

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(target=invoices, price=amounts, quantity=st.sampled_from(["1", "2", "0.5", "3.25"]),
          taxes=st.sampled_from([[], ["GST"], ["HST"], ["GST", "QST"]]))
    def issue_invoice(self, price, quantity, taxes):
        draft = run(documents_service.create_document("invoice", {
            "client_id": self.client.id, "lines": [{"description": "Work", "quantity": quantity,
                                                       "unit_price": str(price), "taxes": taxes}]}))
        return run(documents_service.issue(draft.id)).id

    def _invoice(self, invoice_id):
        return run(documents_service.get_document(invoice_id, with_lines=False))

    @rule(target=payments, invoice=invoices, fraction=fractions, keep=st.booleans())
    def pay(self, invoice, fraction, keep):
        doc = self._invoice(invoice)
        amount = (doc.balance * fraction).quantize(Decimal("0.01"))
        try:
            payment = run(payments_service.record_payment(invoice, {"amount": str(amount), "method": "card",
                                                                    "keep_excess_as_credit": keep}))
        except REFUSED:
            return -1
        assert payment.applied + payment.excess == payment.amount
        if not keep:
            assert payment.excess == 0
        return payment.id

    @rule(invoice=invoices)
    def apply_credit(self, invoice):
        try:
            run(payments_service.apply_credit(invoice, {}))
        except REFUSED:
            pass

    @rule(payment=payments, reason=st.sampled_from(["", "bounced"]))
    def reverse(self, payment, reason):
        if payment < 0:
            return
        try:
            run(payments_service.reverse_payment(payment, reason))
        except REFUSED:
            pass

    @rule(invoice=invoices, fraction=fractions)
    def credit_part(self, invoice, fraction):
        doc = self._invoice(invoice)
        try:
            credit = run(documents_service.credit_invoice(invoice))
        except REFUSED:
            return
        line = credit.lines[0]
        run(documents_service.update_draft(credit.id, {"lines": [{
            "description": "Partial credit", "quantity": "1",
            "unit_price": str(max(Decimal("0.01"), (doc.subtotal * fraction).quantize(Decimal("0.01")))),
            "taxes": list(line.taxes)}]}))
        try:
            run(documents_service.issue(credit.id))
        except REFUSED:
            run(documents_service.delete_draft(credit.id))

    @rule(amount=amounts)
    def credit_on_account(self, amount):
        draft = run(documents_service.create_document("credit_note", {
            "client_id": self.client.id, "lines": [{"description": "Goodwill", "quantity": "1",
                                                       "unit_price": str(amount)}]}))
        run(documents_service.issue(draft.id))

    @rule(invoice=invoices)
    def cancel(self, invoice):
        try:
            run(documents_service.cancel(invoice, "changed mind"))
        except REFUSED:
            pass

    @rule(amount=amounts)
    def refund(self, amount):
        try:
            run(payments_service.refund(self.client.id, {"amount": str(amount), "currency": "CAD"}))
        except REFUSED:
            pass

    @invariant()
    def books_agree(self):
        if not hasattr(self, "config"):
            return
        breaks = run_checks(self.config.database_path)
        assert breaks == [], [str(b) for b in breaks]
        connection = raw_connection(self.config.database_path)
        try:
            negative = connection.execute(
                "SELECT number FROM document WHERE doc_type = 'invoice' AND status != 'draft' "
                "AND total_minor - paid_minor - credited_minor < 0").fetchall()
            assert negative == []
            assert connection.execute("SELECT COUNT(*) FROM ledger_entry WHERE debit_minor < 0 OR credit_minor < 0"
                                      ).fetchone()[0] == 0
        finally:
            connection.close()
        assert run(payments_service.available_credit(self.client.id, "CAD")) >= 0


Books.TestCase.settings = settings(max_examples=20, stateful_step_count=12, deadline=None,
                                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestBooks = Books.TestCase
