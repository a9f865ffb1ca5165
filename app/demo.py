"""`counterfoil demo`: realistic sample data through the same services the user uses.

Deterministic (seeded) so screenshots and benchmarks see the same business each time.
Every feature adds its part here, so a new user sees the whole product at once.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from unidecode import unidecode

from app.catalog import service as catalog_service
from app.clients import service as clients_service
from app.common.logic import Page, ValidationFailed
from app.config import Config
from app.documents import service as documents_service
from app.expenses import demo as expenses_demo
from app.mail import service as mail_service
from app.payments import service as payments_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service

# The settings form as update_settings() takes it (Mapping[str, Any]).
BUSINESS: dict[str, Any] = {
    "name": "Northwind Studio", "tagline": "Design, development and hosting",
    "address_line1": "214 Spadina Avenue, Suite 5", "postal_code": "M5T 2C2", "city": "Toronto",
    "region": "ON", "country": "CA", "email": "billing@northwind.example", "phone": "+1 416 555 0100",
    "website": "northwind.example", "registration_number": "ON 1002003", "tax_number": "123456789 RT0001",
    "bank_account_holder": "Northwind Studio Inc.", "bank_name": "Example Bank",
    "default_currency": "CAD", "default_locale": "en_CA", "time_zone": "America/Toronto",
    "payment_terms_days": 30, "invoice_footer": "Thank you for your business. Interac e-Transfer to billing@northwind.example.",
}

FIRST = ["Zoë", "Amélie", "Jürgen", "Søren", "Noah", "Priya", "Mateo", "Chloé", "Liam", "Aiko", "François",
         "Björn", "Fatima", "Olivia", "Łukasz", "Hélène", "Ravi", "Ingrid", "Tomás", "Mei"]
LAST = ["Tremblay", "Müller", "Gagnon", "Nguyen", "Roy", "Côté", "Schmidt", "Lefèvre", "Patel", "Okafor",
        "Johansson", "García", "Kowalski", "Dubois", "Chen", "O'Brien", "Bouchard", "Fischer", "Singh", "Ødegaard"]
COMPANY_WORDS = ["Maple", "Harbour", "Lumière", "Birch", "Atlas", "Nordlicht", "Cedar", "Boréal", "Granite",
                 "Tidewater", "Sommerfeld", "Prairie", "Aurora", "Kestrel", "Lachine"]
COMPANY_KINDS = ["Bakery", "Architects", "Dental Clinic", "Consulting", "Logistics", "Yoga Studio", "Law Office",
                 "Brewing Co.", "Software GmbH", "Café", "Landscaping", "Physiotherapy", "Media Inc."]
PLACES = [
    ("Toronto", "ON", "CA", "CAD", "en", "+1 416 555 {:04d}", "M5V 2T6"),
    ("Montréal", "QC", "CA", "CAD", "fr", "+1 514 555 {:04d}", "H2X 1Y4"),
    ("Vancouver", "BC", "CA", "CAD", "en", "+1 604 555 {:04d}", "V6B 1A1"),
    ("Halifax", "NS", "CA", "CAD", "en", "+1 902 555 {:04d}", "B3H 1A1"),
    ("Berlin", "", "DE", "EUR", "de", "+49 30 5550 {:04d}", "10115"),
    ("München", "", "DE", "EUR", "de", "+49 89 5550 {:04d}", "80331"),
    ("Lyon", "", "FR", "EUR", "fr", "+33 4 55 50 {:04d}", "69002"),
    ("Seattle", "WA", "US", "USD", "en", "+1 206 555 {:04d}", "98101"),
]
STREETS = ["King Street West", "Rue Saint-Denis", "Hauptstraße", "Granville Street", "Rue de la République",
           "Queen Street", "Barrington Street", "Pike Street", "Leopoldstraße"]

# One client is a German public authority: XRechnung needs its Leitweg-ID (buyer reference, BT-10). A
# Canadian business's services to it are a zero-rated export (reverse charge would need an EU VAT number
# of the business's own, EN 16931 BR-AE-02).
AUTHORITY_INDEX = 1
AUTHORITY = {
    "name": "Stadtverwaltung Bremen, Amt für Digitales", "contact_name": "Referat Beschaffung",
    "email": "rechnungseingang@stadt-bremen.example", "phone": "+49 421 5550 2100",
    "address_line1": "Am Markt 21", "address_line2": "", "postal_code": "28195", "city": "Bremen", "region": "",
    "country": "DE", "currency": "EUR", "language": "de", "tax_number": "DE114707273",
    "buyer_reference": "04011000-1234512345-06",
    "notes": "Public authority: send invoices as XRechnung with the Leitweg-ID.",
}
AUTHORITY_LINES = [
    {"description": "Accessibility audit of the citizen portal (WCAG 2.2 AA, BITV 2.0)", "quantity": "1",
     "unit": "fixed", "unit_price": "2400.00", "taxes": ["EXPORT"]},
    {"description": "Remediation workshop with the portal team", "quantity": "1", "unit": "day",
     "unit_price": "1450.00", "taxes": ["EXPORT"]},
]

ITEMS = [
    ("DEV-H", "Software development", "service", "hour", "125.00", "HST", "Development",
     "Design, implementation and testing of software features."),
    ("DES-H", "UI/UX design", "service", "hour", "110.00", "HST", "Design", "Wireframes, mock-ups and design reviews."),
    ("PM-H", "Project management", "service", "hour", "95.00", "HST", "Consulting", ""),
    ("WORKSHOP-D", "Discovery workshop", "service", "day", "1450.00", "HST", "Consulting",
     "On-site workshop with stakeholders; travel billed separately."),
    ("HOST-M", "Managed hosting", "service", "month", "120.00", "HST", "Hosting", "Hosting, backups and monitoring."),
    ("HOST-Y", "Managed hosting, yearly", "service", "year", "1290.00", "HST", "Hosting", "Twelve months, paid upfront."),
    ("DOMAIN", "Domain name renewal", "product", "year", "24.9900", "HST", "Hosting", ""),
    ("SSL", "SSL certificate", "product", "year", "79.00", "HST", "Hosting", ""),
    ("SUPPORT-M", "Support retainer", "service", "month", "650.00", "HST", "Support", "Up to 6 hours of support."),
    ("AUDIT", "Accessibility audit", "service", "fixed", "2400.00", "HST", "Consulting", "WCAG 2.2 AA audit and report."),
    ("PHOTO", "Stock photo licence", "product", "piece", "18.5000", "HST", "Design", ""),
    ("TRAVEL-KM", "Travel", "service", "km", "0.6800", "", "Expenses", "Per kilometre, as agreed."),
]


def _client(rng: random.Random, index: int) -> dict[str, Any]:
    city, region, country, currency, language, phone, postal = rng.choice(PLACES)
    if rng.random() < 0.55:
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
        contact = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    else:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        contact = ""
    if index == 3:
        name = "Lumière Boréale Architectes Paysagistes et Urbanistes Associés du Québec Inc."
    domain = "".join(ch for ch in unidecode(name.lower().split()[0]) if ch.isalnum()) or "client"
    if index == AUTHORITY_INDEX:  # after the same random draws as any client, so the others stay as they were
        return dict(AUTHORITY)
    return {
        "name": name, "contact_name": contact, "email": f"accounts@{domain}{index}.example",
        "phone": phone.format(100 + index), "address_line1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
        "postal_code": postal, "city": city, "region": region, "country": country, "currency": currency,
        "language": language, "tax_number": f"DE{rng.randint(100000000, 999999999)}" if country == "DE" else "",
        "notes": "Prefers invoices by email." if index % 7 == 0 else "",
    }


async def fill(config: Config, *, clients: int = 40, invoices: int = 120, seed: int = 2026) -> dict[str, int]:
    rng = random.Random(seed)
    settings = await settings_service.get_settings()
    if not settings.get("address_line1"):
        await settings_service.update_settings({**BUSINESS, "name": settings.get("name") or BUSINESS["name"]})
    await taxes_service.apply_preset("canada")
    await taxes_service.apply_preset("germany")
    made_items = 0
    for code, name, kind, unit, price, taxes, category, description in ITEMS:
        try:
            await catalog_service.create_item({"code": code, "name": name, "kind": kind, "unit": unit,
                                               "unit_price": price, "default_taxes": taxes, "category": category,
                                               "description": description, "active": True})
            made_items += 1
        except ValidationFailed:
            pass  # already there from an earlier demo run
    existing = (await clients_service.count_clients())
    start = existing.active + existing.archived
    made_clients = 0
    for index in range(start, start + clients):
        client = await clients_service.create_client(_client(rng, index), default_currency="CAD")
        made_clients += 1
        if index % 17 == 16:
            await clients_service.set_status(client.id, "archived")
    made = await _documents(rng, invoices)
    if invoices:
        made.update(await expenses_demo.fill(config.attachments_dir, seed=seed))
    made["emails"] = await mail_service.demo_outbox(
        config.data_dir, accountant_email="books@ledgerline-accounting.example",
        from_email=BUSINESS["email"], from_name=BUSINESS["name"])
    return {"clients": made_clients, "catalogue items": made_items, **made}


def _lines(rng: random.Random, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = []
    for item in rng.sample(items, k=rng.choice([1, 1, 2, 3, 4, 6])):
        unit = item["unit"]
        quantity = {"hour": rng.choice(["1.5", "4", "7.25", "12", "32"]), "day": rng.choice(["1", "2", "0.5"]),
                    "km": str(rng.randint(20, 400))}.get(unit, "1")
        line = {"item_id": item["id"], "quantity": quantity}
        if unit == "month" and rng.random() < 0.5:
            line["description"] = f"{item['name']}, {rng.choice(['September', 'October', 'November'])}"
        if rng.random() < 0.1:
            line["discount_percent"] = "10"
        lines.append(line)
    if rng.random() < 0.2:
        lines.append({"description": "Rush delivery surcharge", "quantity": "1", "unit_price": "150.00",
                      "taxes": ["HST"]})
    return lines


async def _documents(rng: random.Random, invoices: int) -> dict[str, int]:
    """Invoices over the last 14 months in every state, with payments, credit notes and quotes."""
    if invoices == 0:
        return {}
    clients = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 500))).items
               if c.currency == "CAD"] or (await clients_service.list_clients(status="active", page=Page(1, 500))).items
    items = [i for i in (await catalog_service.list_items(active=True, page=Page(1, 500))).items]
    if not clients or not items:
        return {}
    today = await settings_service.today()
    counts = {"invoices": 0, "payments": 0, "credit notes": 0, "quotes": 0}
    for index in range(invoices):
        client = rng.choice(clients)
        issue_date = today - timedelta(days=int(420 * (1 - index / max(1, invoices))) + rng.randint(0, 3))
        issue_date = min(issue_date, today)
        doc = await documents_service.create_document("invoice", {
            "client_id": client.id, "issue_date": issue_date.isoformat(), "terms_days": rng.choice([14, 30, 30, 45]),
            "lines": _lines(rng, items), "notes": "Thank you!" if rng.random() < 0.3 else "",
            "confirm_date": True})  # fourteen months of history: the oldest are dated more than a year ago
        counts["invoices"] += 1
        if index >= invoices - 3:
            continue  # a few drafts, as anyone has
        doc = await documents_service.issue(doc.id)
        fate = rng.random()
        age = (today - issue_date).days
        if fate < 0.04:
            await documents_service.cancel(doc.id, "Issued to the wrong client")
            continue
        if rng.random() < 0.5:
            await documents_service.mark_sent([doc.id])
        if (age > 40 and fate < 0.8) or (age > 10 and fate < 0.35):
            paid_on = min(today, doc.issue_date + timedelta(days=rng.randint(3, 40)))
            await payments_service.record_payment(doc.id, {
                "amount": str(doc.total), "date": paid_on.isoformat(),
                "method": rng.choice(["bank_transfer", "bank_transfer", "card", "cheque", "paypal"]),
                "reference": f"TRX-{rng.randint(10000, 99999)}"})
            counts["payments"] += 1
        elif fate < 0.9 and doc.total > 20:
            partial = (doc.total / 2).quantize(doc.total)
            await payments_service.record_payment(doc.id, {"amount": str(partial), "date": today.isoformat(),
                                                              "method": "bank_transfer", "reference": "Deposit"})
            counts["payments"] += 1
        elif fate < 0.93:
            credit = await documents_service.credit_invoice(doc.id)
            first = credit.lines[0]
            await documents_service.update_draft(credit.id, {"lines": [{
                "description": f"Goodwill credit: {first.description}", "quantity": "1",
                "unit_price": str((first.net / 4).quantize(first.net)), "taxes": list(first.taxes)}]})
            await documents_service.issue(credit.id)
            counts["credit notes"] += 1
    # The public authority's invoice: a zero-rated export, with its Leitweg-ID for XRechnung.
    authorities = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 500))).items
                   if c.buyer_reference and c.tax_number]
    for authority in authorities[:1]:
        doc = await documents_service.create_document("invoice", {
            "client_id": authority.id, "currency": "EUR", "issue_date": today.isoformat(),
            "terms_days": 30, "lines": AUTHORITY_LINES, "notes": "Rahmenvertrag Barrierefreiheit 2026, Los 2"})
        await documents_service.issue(doc.id)
        counts["invoices"] += 1
    for index in range(max(3, invoices // 10)):
        client = rng.choice(clients)
        quote = await documents_service.create_document("quote", {
            "client_id": client.id, "issue_date": (today - timedelta(days=rng.randint(0, 60))).isoformat(),
            "lines": _lines(rng, items)})
        counts["quotes"] += 1
        if index % 5 == 0:
            continue
        quote = await documents_service.issue(quote.id)
        if quote.shown_status != "issued":
            continue
        if index % 5 == 1:
            await documents_service.decide_quote(quote.id, "accept")
        elif index % 5 == 2:
            await documents_service.decide_quote(quote.id, "decline")
        elif index % 5 == 3:
            await documents_service.convert_quote(quote.id)
    return counts
