"""`counterfoil demo`'s projects and time (app.demo calls it): three projects with six months of entries,
one over its hours budget, one at a fixed price, and invoices made from the time."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from app.auth import service as auth_service
from app.clients.records import ClientView
from app.common.logic import Page
from app.documents import service as documents_service
from app.payments import service as payments_service
from app.projects import service

# What to issue on which day: the demo runs these among its other invoices, oldest first.
Scheduled = list[tuple[date, Callable[[], Awaitable[None]]]]

DESCRIPTIONS = {
    "Development": ["Checkout flow", "Product import script", "Payment provider integration", "Search filters",
                    "Fix cart rounding bug", "Order e-mails", "Performance pass on product pages"],
    "Design": ["Product page layout", "Mobile navigation", "Icon set", "Checkout screens review"],
    "Meetings": ["Weekly call", "Sprint planning", "Demo to the client"],
    "Research": ["Competitor review", "Customer interviews", "Mood boards"],
    "Concepts": ["Logo concepts", "Colour palette", "Typography options"],
    "Final artwork": ["Logo final files", "Brand guidelines document", "Stationery"],
    "Support": ["Server updates", "Backup check", "Ticket: contact form spam", "SSL renewal", "Uptime alert"],
}


def _month_ends(today: date, months: int) -> list[tuple[date, date]]:
    """The last `months` whole months before today's, oldest first, as (first day, last day)."""
    periods = []
    first = today.replace(day=1)
    for _ in range(months):
        last = first - timedelta(days=1)
        first = last.replace(day=1)
        periods.append((first, last))
    return list(reversed(periods))


async def fill(rng: random.Random, clients: list[ClientView], today: date, scheduled: Scheduled) -> dict[str, int]:
    """The projects, their time and the draft invoices made from it; issuing each draft (and its payment) is
    added to `scheduled`, for the demo to run among its other invoices in date order (numbers follow dates)."""
    users = await auth_service.list_users()
    if len(clients) < 3 or not users:
        return {}   # time belongs to someone: `counterfoil init` makes the owner first
    user = users[0]["id"]
    if await service.list_projects():
        return {}   # already there from an earlier demo run
    await service.set_default_rate(None, "95.00")
    # Each project's taxes are what the rules by place of supply give its client (HST in Ontario, GST + QST
    # in Québec...).
    taxes = [" ".join((await documents_service.suggest_taxes(client.id)).codes) for client in clients[:3]]
    shop = await service.create_project({
        "client_id": clients[0].id, "name": "Online shop build", "code": "SHOP", "hourly_rate": "115.00",
        "budget_hours": "200", "budget_amount": "25000", "rounding_minutes": 15, "taxes": taxes[0],
        "tasks": ["Development", "Design", "Meetings"], "notes": "Shopify replacement; launch planned for spring."})
    brand = await service.create_project({
        "client_id": clients[1].id, "name": "Brand identity refresh", "code": "BRAND", "fixed_price": "12000.00",
        "budget_hours": "90", "taxes": taxes[1], "tasks": ["Research", "Concepts", "Final artwork"]})
    support = await service.create_project({
        "client_id": clients[2].id, "name": "Hosting and support retainer", "code": "SUPPORT",
        "hourly_rate": "90.00", "budget_amount": "3000", "rounding_minutes": 30, "taxes": taxes[2],
        "tasks": ["Support"]})
    await service.add_task(shop["id"], {"name": "Rush fixes", "hourly_rate": "140.00"})
    counts = {"time entries": 0, "invoices from time": 0}
    start = today - timedelta(days=182)
    day = start
    while day <= today:
        if day.weekday() < 5:
            for project, tasks, chance, hours in (
                    (shop, ["Development", "Development", "Development", "Design", "Meetings", "Rush fixes"], .6,
                     (2, 3, 4)),
                    (brand, ["Research", "Concepts", "Concepts", "Final artwork"], .45, (1, 1.5, 2, 3)),
                    (support, ["Support"], .3, (.25, .5, .75, 1))):
                if rng.random() > chance or (project is brand and day > today - timedelta(days=30)):
                    continue
                task = rng.choice(tasks)
                minutes = int(rng.choice(hours) * 60) + rng.choice([0, 0, 5, 10, 20])
                await service.create_entry(user, {
                    "project_id": project["id"], "task": task, "date": day.isoformat(), "minutes": minutes,
                    "description": rng.choice(DESCRIPTIONS.get(task, DESCRIPTIONS["Development"])),
                    "billable": task != "Meetings" or rng.random() < 0.3})
                counts["time entries"] += 1
        day += timedelta(days=1)
    # Monthly invoices of the shop's hours and the retainer's, the deposits of the fixed price; the last
    # month of the shop stays a draft, the current month unbilled.
    months = _month_ends(today, 5)
    since = {shop["id"]: start, support["id"]: start}   # each bill covers the time since the last one
    for index, (first, last) in enumerate(months):
        issue_on = last + timedelta(days=1)
        for project, group_by in ((shop, "task"), (support, "entry")):
            if project is support and index % 2 == 0:
                continue   # the retainer bills every other month
            draft = await service.invoice_time(project["id"], since[project["id"]], last, group_by,
                                               issue_date=issue_on)
            since[project["id"]] = issue_on
            counts["invoices from time"] += 1
            if project is shop and index == len(months) - 1:
                continue
            paid = index < len(months) - 2

            async def issue(draft_id: int = draft.id, day: date = issue_on, paid: bool = paid,
                            reference: str = f"{project['code']}-{first:%m}") -> None:
                issued = await documents_service.issue(draft_id, issue_date=day, backdate=day < today)
                if paid:
                    await payments_service.record_payment(issued.id, {
                        "amount": str(issued.total), "date": min(today, day + timedelta(days=12)).isoformat(),
                        "method": "bank_transfer", "reference": reference})
            scheduled.append((issue_on, issue))
    brand_since = start
    for percent, (_, last) in ((40, months[0]), (30, months[3])):
        issue_on = last + timedelta(days=1)
        draft = await service.invoice_time(brand["id"], brand_since, last, percent=percent, issue_date=issue_on)
        brand_since = issue_on

        async def issue_deposit(draft_id: int = draft.id, day: date = issue_on) -> None:
            await documents_service.issue(draft_id, issue_date=day, backdate=day < today)
        scheduled.append((issue_on, issue_deposit))
        counts["invoices from time"] += 1
    return counts


def pick_clients(clients: list[Any]) -> list[Any]:
    """Three active clients of the business's currency, the same ones each run."""
    return sorted(clients, key=lambda c: c.id)[:3]


async def link_expenses(today: date) -> dict[str, int]:
    """Expenses on the demo's projects (after the expenses demo ran): each project gets its client's
    expenses, and the shop build two recent trips of the business's own, the newer one billable to the
    client, so its time to invoice shows an expense next to the hours."""
    from app.expenses import service as expenses_service
    from app.projects.tables import ProjectExpense

    projects = {p["code"]: p for p in await service.list_projects()}
    if not projects or await ProjectExpense.count():
        return {}   # no demo projects, or linked already by an earlier run
    linked = 0
    for summary in projects.values():
        project = await service.get_project(summary["id"])
        for expense in (await service.linkable_expenses(project))[:3]:
            await service.set_expense_project(expense["id"], project["id"])
            linked += 1
    shop = projects.get("SHOP")
    if shop is not None:
        # This year only: the demo closes last year's books, and a closed expense is not changed.
        since = max(today - timedelta(days=60), date(today.year, 1, 1))
        recent = await expenses_service.list_expenses(date_from=since, status="recorded",
                                                      q="", page=Page(1, 200))
        trips = [e for e in recent.items if e["client"] is None and not e["billable"]
                 and e["vendor_name"] in ("Petro-Canada", "VIA Rail Canada", "Café Olimpico")][:2]
        for index, expense in enumerate(trips):
            if index == 0 and expense["currency"] == "CAD":
                await expenses_service.update_expense(expense["id"], {
                    "billable": True, "client_id": shop["client"], "markup_percent": "0",
                    "description": f"{expense['description']}, on-site visit for the shop build"})
            await service.set_expense_project(expense["id"], shop["id"])
            linked += 1
    return {"expenses on projects": linked} if linked else {}
