"""The dashboard's invoice statistics (issue 21: the open invoices grouped by stored status, lateness and
whether anything was paid, in SQL) equal each invoice's own status and open amount, on any day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from app.documents import logic, service
from app.documents.tables import Document
from app.money import from_minor
from app.settings import service as settings_service
from tests.conftest import run


async def _invoices() -> list[dict]:
    return await Document.select().where(Document.doc_type == logic.INVOICE)


@pytest.mark.parametrize("days_later", [0, 20, 45, 400])
def test_the_statistics_are_each_invoices_status(config, monkeypatch, days_later):
    from app import demo

    run(demo.fill(config, clients=8, invoices=40))
    day = run(settings_service.today()) + timedelta(days=days_later)
    monkeypatch.setenv(settings_service.TEST_TODAY_ENV, day.isoformat())
    counts: Counter[str] = Counter()
    overdue: dict[str, Decimal] = {}
    for row in run(_invoices()):
        currency = row["currency"]
        total, paid, credited = (from_minor(row[c], currency) for c in ("total_minor", "paid_minor", "credited_minor"))
        status = logic.invoice_status(row["status"], total=total, paid=paid, credited=credited,
                                      due_date=row["due_date"], today=day)
        counts[status] += 1
        if status == "overdue":
            overdue[currency] = overdue.get(currency, Decimal(0)) + total - paid - credited
    stats = run(service.statistics())
    assert stats["counts"] == {status: counts[status] for status in logic.INVOICE_STATUSES}
    assert {m["currency"]: m["overdue"] for m in stats["amounts"] if m["overdue"]} == overdue
    assert sum(counts[s] for s in logic.OWED_STATUSES) > 0   # the demo's books have open invoices
