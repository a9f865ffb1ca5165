"""`counterfoil demo`: realistic sample data through the same services the user uses.

Deterministic (seeded) so screenshots and benchmarks see the same business each time.
Every feature adds its part here, so a new user sees the whole product at once.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from unidecode import unidecode

from app.catalog import service as catalog_service
from app.clients import service as clients_service
from app.common.logic import Page, ValidationFailed
from app.config import Config
from app.documents import service as documents_service
from app.expenses import demo as expenses_demo
from app.fx import service as fx_service
from app.mail import service as mail_service
from app.payments import service as payments_service
from app.projects.demo import Scheduled
from app.recurring import service as recurring_service
from app.reminders import logic as reminders_logic
from app.reminders import service as reminders_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service

# The settings form as update_settings() takes it (Mapping[str, Any]).
BUSINESS: dict[str, Any] = {
    "name": "Northwind Studio", "tagline": "Design, development and hosting",
    "address_line1": "214 Spadina Avenue, Suite 5", "postal_code": "M5T 2C2", "city": "Toronto",
    "region": "ON", "country": "CA", "email": "billing@northwind.example", "phone": "+1 416 555 0100",
    "website": "northwind.example", "registration_number": "ON 1002003", "tax_number": "123456789 RT0001",
    "bank_account_holder": "Northwind Studio Inc.", "bank_name": "Example Bank",
    "default_currency": "CAD", "default_locale": "en_CA",
    # Registered for British Columbia's PST: goods sold to a Vancouver client carry GST + PST (services GST).
    "pst_registrations": "BC", "time_zone": "America/Toronto",
    "payment_terms_days": 30, "invoice_footer": "Thank you for your business. Interac e-Transfer to billing@northwind.example.",
    # What an XRechnung names (Settings, E-invoices): the contact point, and how to pay without an IBAN
    # (a Canadian account: credit transfer, 30, to its transit/institution/account number).
    "seller_contact_name": "Accounts receivable", "seller_contact_phone": "+1 416 555 0101",
    "seller_contact_email": "ar@northwind.example", "payment_means_code": "30",
    "payment_account_id": "Transit 00011, institution 003, account 1234567 (SWIFT EXAMCATT)",
    "payment_means_text": "Wire transfer to Example Bank, Toronto, or Interac e-Transfer to billing@northwind.example",
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
# A Toronto studio's clients are mostly in Ontario (HST), the rest spread over the other places.
PLACE_WEIGHTS = [6, 2, 1, 1, 1, 1, 1, 1]
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

# Clients whose names are in other scripts (the PDFs fall back from Inter to the bundled Noto fonts,
# right to left for Arabic and Hebrew): each gets an issued invoice, billed in US dollars as an export.
SCRIPT_CLIENTS = [
    {"name": "山田デザイン事務所", "contact_name": "山田太郎", "address_line1": "丸の内1-1-1", "postal_code": "100-0005",
     "city": "東京都千代田区", "country": "JP", "email": "keiri@yamada-design.example"},
    {"name": "شركة النخيل للتجارة", "contact_name": "محمد الأحمد", "address_line1": "شارع الشيخ زايد 12",
     "postal_code": "", "city": "دبي", "country": "AE", "email": "accounts@alnakheel.example"},
    {"name": "김민준 디자인 스튜디오", "contact_name": "김민준", "address_line1": "테헤란로 152", "postal_code": "06236",
     "city": "서울 강남구", "country": "KR", "email": "billing@kimstudio.example"},
    {"name": "דוד כהן הפקות", "contact_name": "דוד כהן", "address_line1": "רחוב רוטשילד 22", "postal_code": "6688218",
     "city": "תל אביב", "country": "IL", "email": "office@cohen-productions.example"},
]
SCRIPT_LINES = [
    {"description": "Localisation of the product site ☕🚀", "quantity": "1", "unit": "fixed", "unit_price": "1800.00",
     "taxes": ["EXPORT"]},
]

# A Belgian client on the Peppol network, reached by its enterprise number (EAS 0208): its invoice is a
# Peppol BIS Billing 3.0 (UBL) e-invoice. The business is found there by its GS1 location number (0088).
PEPPOL_INDEX = 2
PEPPOL_SELLER_ADDRESS = {"electronic_address_scheme": "0088", "electronic_address": "7540012345674"}
PEPPOL_CLIENT = {
    "name": "Maison Verhaeghe BV", "contact_name": "Lotte Verhaeghe", "email": "facturen@verhaeghe.example",
    "phone": "+32 56 55 01 20", "address_line1": "Grote Markt 12", "address_line2": "", "postal_code": "8500",
    "city": "Kortrijk", "region": "", "country": "BE", "currency": "EUR", "language": "en",
    "tax_number": "BE0879464059",  # no buyer reference: its client code stands in (Peppol wants one of the two)
    "electronic_address_scheme": "0208", "electronic_address": "0879464059",
    "notes": "Receives invoices through Peppol: download the Peppol UBL file from the invoice page.",
}
PEPPOL_LINES = [
    {"description": "Brand identity refresh: logo, colours and type", "quantity": "1", "unit": "fixed",
     "unit_price": "3200.00", "taxes": ["EXPORT"]},
    {"description": "Webshop development (Shopify theme)", "quantity": "36", "unit": "hour", "unit_price": "125.00",
     "discount_percent": "10", "taxes": ["EXPORT"]},
]

# Exchange rates (app.fx): units per one Canadian dollar, where the last 90 days' walk starts; a client in
# Germany and one in the US, each with prices of its own on two catalogue items; the euro client pays by
# SEPA transfer and the banks keep a fee on the way to Toronto.
RATE_START = {"EUR": "0.6650", "USD": "0.7300", "GBP": "0.5750"}
# More than the last 90 days: the demo's invoices (a reminder's story among them) go back a year, and a
# line in euros of a date without a rate would ask for its price.
RATE_DAYS = 400
ITEM_PRICES = {"DES-H": {"EUR": "75.00", "USD": "80.00"}, "WORKSHOP-D": {"EUR": "990.00", "USD": "1050.00"}}
BANK_ACCOUNTS = [
    {"currencies": "CAD", "holder": "Northwind Studio Inc.", "bank_name": "Example Bank", "institution": "004",
     "transit": "12345", "account_number": "5012345"},
    {"currencies": "USD", "holder": "Northwind Studio Inc.", "bank_name": "Example Bank (US dollar account)",
     "routing": "026009593", "account_number": "4455667788"},
    {"currencies": "EUR", "holder": "Northwind Studio Inc.", "bank_name": "Wise Europe SA",
     "iban": "BE71096123456769", "bic": "TRWIBEB1"},
]
EURO_CLIENT = {
    "name": "Atelier Kranich GmbH", "contact_name": "Jana Kranich", "email": "buchhaltung@kranich.example",
    "phone": "+49 30 5550 1188", "address_line1": "Oranienstraße 185", "address_line2": "", "postal_code": "10999",
    "city": "Berlin", "region": "", "country": "DE", "currency": "EUR", "language": "en",
    "tax_number": "DE278912345",
}
EURO_INVOICES = [   # (days ago issued, days ago paid or None, bank fee in EUR, item, quantity)
    (70, 48, "12.50", "DES-H", "24"), (42, 15, "12.50", "WORKSHOP-D", "2"), (12, None, "0", "DES-H", "16")]
# One French and one German client, whatever the draws: their invoices, emails and statements are in
# their language (issue 15), with the taxes' names and notes and the units in it too.
FRENCH_INDEX, GERMAN_INDEX = 4, 5
LANGUAGE_CLIENTS = {
    FRENCH_INDEX: {
        "name": "Boulangerie Lefèvre & Fils", "contact_name": "Hélène Lefèvre", "email": "compta@lefevre.example",
        "phone": "+33 4 55 50 0104", "address_line1": "18 rue de la République", "address_line2": "",
        "postal_code": "69002", "city": "Lyon", "region": "", "country": "FR", "currency": "EUR", "language": "fr",
        "tax_number": "FR40303265045", "notes": "Écrit en français : factures, relances et relevés en français.",
    },
    GERMAN_INDEX: {
        "name": "Sommerfeld Software GmbH", "contact_name": "Jürgen Sommerfeld", "email": "buchhaltung@sommerfeld.example",
        "phone": "+49 30 5550 0105", "address_line1": "Hauptstraße 44", "address_line2": "", "postal_code": "10115",
        "city": "Berlin", "region": "", "country": "DE", "currency": "EUR", "language": "de",
        "tax_number": "DE129273398", "notes": "Rechnungen und Kontoauszüge auf Deutsch.",
    },
}

# Their invoices: zero-rated exports (the business is Canadian), in hours and days; the German one is
# partly paid by bank transfer, so its statement and email say what is left.
LANGUAGE_LINES = {
    FRENCH_INDEX: ([
        {"description": "Développement de la caisse en ligne (commande et retrait)", "quantity": "32",
         "unit": "hour", "unit_price": "125.00", "taxes": ["EXPORT"]},
        {"description": "Atelier de cadrage avec l'équipe", "quantity": "1", "unit": "day", "unit_price": "1450.00",
         "taxes": ["EXPORT"]}], "Projet caisse en ligne 2026", None),
    GERMAN_INDEX: ([
        {"description": "Barrierefreiheitsprüfung des Kundenportals", "quantity": "3", "unit": "day",
         "unit_price": "1450.00", "taxes": ["EXPORT"]},
        {"description": "Nachbesserungen nach der Prüfung", "quantity": "12.5", "unit": "hour",
         "unit_price": "125.00", "taxes": ["EXPORT"]}], "Auftrag 2026-117", "2000.00"),
}

ITEMS = [
    ("DEV-H", "Software development", "service", "hour", "125.00", "", "Development",
     "Design, implementation and testing of software features."),
    ("DES-H", "UI/UX design", "service", "hour", "110.00", "", "Design", "Wireframes, mock-ups and design reviews."),
    ("PM-H", "Project management", "service", "hour", "95.00", "", "Consulting", ""),
    ("WORKSHOP-D", "Discovery workshop", "service", "day", "1450.00", "", "Consulting",
     "On-site workshop with stakeholders; travel billed separately."),
    ("HOST-M", "Managed hosting", "service", "month", "120.00", "", "Hosting", "Hosting, backups and monitoring."),
    ("HOST-Y", "Managed hosting, yearly", "service", "year", "1290.00", "", "Hosting", "Twelve months, paid upfront."),
    ("DOMAIN", "Domain name renewal", "product", "year", "24.9900", "", "Hosting", ""),
    ("SSL", "SSL certificate", "product", "year", "79.00", "", "Hosting", ""),
    ("SUPPORT-M", "Support retainer", "service", "month", "650.00", "", "Support", "Up to 6 hours of support."),
    ("AUDIT", "Accessibility audit", "service", "fixed", "2400.00", "", "Consulting", "WCAG 2.2 AA audit and report."),
    ("PHOTO", "Stock photo licence", "product", "piece", "18.5000", "", "Design", ""),
    # Mileage billed to a client is part of the taxable supply (and an untaxed line beside taxed ones
    # has no EN 16931 form: BR-O-11).
    ("TRAVEL-KM", "Travel", "service", "km", "0.6800", "", "Expenses", "Per kilometre, as agreed."),
]


def _client(rng: random.Random, index: int) -> dict[str, Any]:
    city, region, country, currency, language, phone, postal = rng.choices(PLACES, weights=PLACE_WEIGHTS)[0]
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
    if index == PEPPOL_INDEX:
        return dict(PEPPOL_CLIENT)
    if index in LANGUAGE_CLIENTS:
        return dict(LANGUAGE_CLIENTS[index])
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
    rates = await _exchange_rates()
    made_items = 0
    for code, name, kind, unit, price, taxes, category, description in ITEMS:
        try:
            await catalog_service.create_item({"code": code, "name": name, "kind": kind, "unit": unit,
                                               "unit_price": price, "default_taxes": taxes, "category": category,
                                               "description": description, "active": True,
                                               "prices": ITEM_PRICES.get(code, {})})
            made_items += 1
        except ValidationFailed:
            pass  # already there from an earlier demo run
    existing = (await clients_service.count_clients())
    start = existing.active + existing.archived
    made_clients = 0
    # A full demo (the default 40) has four of its clients named in other scripts, and the Berlin client
    # billed in euros on the first run (the one that adds the exchange rates); a small one none of them.
    scripts = len(SCRIPT_CLIENTS) if clients >= 20 and invoices else 0
    for index in range(start, start + clients - scripts - (1 if scripts and rates else 0)):
        client = await clients_service.create_client(_client(rng, index), default_currency="CAD")
        made_clients += 1
        if index % 17 == 16:
            await clients_service.set_status(client.id, "archived")
    profiles = await _recurring_profiles() if invoices else 0
    scheduled: Scheduled = []   # invoices prepared elsewhere (time, dunning), issued among the others in date order
    projects = await _projects(rng, scheduled)
    # Its own random draws, so that the rest of the demo stays as it was.
    send_reminders = await _reminders(random.Random(17), scheduled) if invoices else None
    # The Berlin client of a full demo (like the clients of other scripts, none in a small one).
    pay_in_euros = await _euro_invoices(scheduled) if scripts and rates else None
    made_clients += 1 if pay_in_euros is not None else 0
    made = await _documents(rng, invoices, scheduled)
    await _catch_up(scheduled, await settings_service.today())
    if rates:
        made["exchange rates"] = rates
    if pay_in_euros is not None:
        made["payments in EUR"] = await pay_in_euros()
    if profiles:
        made["recurring profiles"] = profiles
        made["recurring invoices"] = await _recurring_invoices()
    made.update(projects)
    if send_reminders is not None:
        made["reminders"] = await send_reminders()
    if invoices:
        made.update(await expenses_demo.fill(config.attachments_dir, seed=seed))
        made.update(await _project_expenses())
    if scripts:   # issued today, after the back-dated ones (numbers follow dates)
        made_clients += await _script_clients(made)
    made["emails"] = await mail_service.demo_outbox(
        config.data_dir, accountant_email="books@ledgerline-accounting.example",
        from_email=BUSINESS["email"], from_name=BUSINESS["name"])
    return {"clients": made_clients, "catalogue items": made_items, **made}


async def _exchange_rates() -> int:
    """The last RATE_DAYS days of rates per Canadian dollar (weekdays, as the central banks publish them), a
    small deterministic walk from RATE_START, imported as a date,currency,rate file; and the bank accounts
    per currency. Nothing when rates are there from an earlier demo run."""
    if await fx_service.rate_count():
        return 0
    walk = random.Random(16)
    today = await settings_service.today()
    levels = {code: Decimal(start) for code, start in RATE_START.items()}
    rows = ["date,currency,rate"]
    for back in range(RATE_DAYS, -1, -1):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for code in levels:
            levels[code] = (levels[code] * (1 + Decimal(walk.gauss(0, 0.0035)).quantize(Decimal("0.000001"))))
            rows.append(f"{day.isoformat()},{code},{levels[code].quantize(Decimal('0.0001'))}")
    result = await fx_service.import_rates("\n".join(rows) + "\n")
    if len(await fx_service.bank_accounts()) <= 1:
        for account in BANK_ACCOUNTS:
            await fx_service.save_bank_account(account)
    return result.read


async def _euro_invoices(scheduled: Scheduled) -> Callable[[], Awaitable[int]]:
    """A Berlin client billed in euros at its own catalogue prices (issued among the others in date
    order); the function returned records its payments, each less the bank's fee, after every invoice
    is issued: the realised exchange gain or loss of each goes to the ledger and the P&L."""
    today = await settings_service.today()
    client = await clients_service.create_client(EURO_CLIENT, default_currency="CAD")
    items = {i["code"]: i for i in (await catalog_service.list_items(active=True, page=Page(1, 500))).items}
    issued: dict[int, Any] = {}
    for index, (ago, _paid, _fee, code, quantity) in enumerate(EURO_INVOICES):
        day = today - timedelta(days=ago)
        draft = await documents_service.create_document("invoice", {
            "client_id": client.id, "currency": "EUR", "issue_date": day.isoformat(), "terms_days": 30,
            "confirm_date": True, "lines": [{"item_id": items[code]["id"], "quantity": quantity, "taxes": ["EXPORT"]}]})

        async def issue(draft_id: int = draft.id, on: date = day, story: int = index) -> None:
            issued[story] = await documents_service.issue(draft_id, issue_date=on, backdate=on < today)
        scheduled.append((day, issue))

    async def pay() -> int:
        paid = 0
        for index, (_ago, paid_ago, fee, _code, _quantity) in enumerate(EURO_INVOICES):
            if paid_ago is None or index not in issued:
                continue
            invoice = issued[index]
            await payments_service.record_payment(invoice.id, {
                "amount": str(invoice.total - Decimal(fee)), "fee": fee, "method": "bank_transfer",
                "date": (today - timedelta(days=paid_ago)).isoformat(), "reference": f"SEPA {invoice.number}"})
            paid += 1
        return paid
    return pay


async def _script_clients(counts: dict[str, int]) -> int:
    """SCRIPT_CLIENTS, each with an invoice issued today (after the random ones: their draws stay the same)."""
    today = await settings_service.today()
    for fields in SCRIPT_CLIENTS:
        client = await clients_service.create_client({**fields, "currency": "USD", "language": "en"},
                                                     default_currency="CAD")
        doc = await documents_service.create_document("invoice", {
            "client_id": client.id, "currency": "USD", "issue_date": today.isoformat(), "terms_days": 30,
            "lines": SCRIPT_LINES})
        await documents_service.issue(doc.id)
        counts["invoices"] = counts.get("invoices", 0) + 1
    return len(SCRIPT_CLIENTS)


async def _catch_up(scheduled: Scheduled, up_to: date) -> None:
    """Everything dated up to `up_to` in date order (numbers follow dates): the recurring profiles' periods
    and what the other parts of the demo prepared (invoices from time, the dunning stories)."""
    scheduled.sort(key=lambda item: item[0])
    while scheduled and scheduled[0][0] <= up_to:
        day, issue = scheduled.pop(0)
        await recurring_service.run_due(day)
        await issue()
    await recurring_service.run_due(up_to)


async def _projects(rng: random.Random, scheduled: Scheduled) -> dict[str, int]:
    """Projects and time (app/projects/demo.py): three projects, six months of entries, invoices from time."""
    from app.projects import demo as projects_demo

    clients = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 500))).items
               if c.currency == "CAD"]
    return await projects_demo.fill(rng, projects_demo.pick_clients(clients), await settings_service.today(),
                                    scheduled)


async def _project_expenses() -> dict[str, int]:
    """A few of the demo's expenses on its projects (app/projects/demo.py)."""
    from app.projects import demo as projects_demo

    return await projects_demo.link_expenses(await settings_service.today())


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
        # A typed line: its taxes come from the rules for the client, like a catalogue line's.
        lines.append({"description": "Rush delivery surcharge", "quantity": "1", "unit_price": "150.00"})
    return lines


async def _documents(rng: random.Random, invoices: int, scheduled: Scheduled) -> dict[str, int]:
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
    latest = max([today - timedelta(days=430), *await _issued_up_to("invoice", today)])
    # Credit notes are dated a little after their invoice, in their own series' order: a demo whose credit
    # notes all carried today's date would show this month's revenue below zero.
    credited = max([today - timedelta(days=430), *await _issued_up_to("credit_note", today)])
    for index in range(invoices):
        client = rng.choice(clients)
        issue_date = today - timedelta(days=int(420 * (1 - index / max(1, invoices))) + rng.randint(0, 3))
        # Numbers follow dates: each invoice is dated no earlier than the one issued before it, and the
        # recurring profiles' invoices come in their place among the others.
        issue_date = latest = min(max(issue_date, latest), today)
        await _catch_up(scheduled, issue_date)
        doc = await documents_service.create_document("invoice", {
            "client_id": client.id, "issue_date": issue_date.isoformat(), "terms_days": rng.choice([14, 30, 30, 45]),
            "lines": _lines(rng, items), "notes": "Thank you!" if rng.random() < 0.3 else "",
            "confirm_date": True})  # fourteen months of history: the oldest are dated more than a year ago
        counts["invoices"] += 1
        if index >= invoices - 3:
            continue  # a few drafts, as anyone has
        doc = await documents_service.issue(doc.id, issue_date=issue_date, backdate=issue_date < today)
        fate = rng.random()
        age = (today - issue_date).days
        if fate < 0.04:
            credited = max(credited, min(today, issue_date + timedelta(days=2)))
            await documents_service.cancel(doc.id, "Issued to the wrong client", issue_date=credited,
                                           backdate=credited < today)
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
            credited = max(credited, min(today, issue_date + timedelta(days=14)))
            await documents_service.issue(credit.id, issue_date=credited, backdate=credited < today)
            counts["credit notes"] += 1
    await _catch_up(scheduled, today)   # up to today, before today's invoices
    # Two recent invoices settled by credit notes, so the lists show "Partly credited" and "Credited" (a
    # credit note is not a payment): a goodwill quarter of one line, and a whole invoice credited.
    recent = [d for d in (await documents_service.list_documents("invoice", status="issued", page=Page(1, 30))).items
              if d.paid == 0 and d.credited == 0 and d.total > 20][:2]
    for whole, invoice in enumerate(recent):
        credit = await documents_service.credit_invoice(invoice.id)
        if not whole:
            first = credit.lines[0]
            await documents_service.update_draft(credit.id, {"lines": [{
                "description": f"Goodwill credit: {first.name or first.description}", "quantity": "1",
                "unit_price": str((first.net / 4).quantize(first.net)), "taxes": list(first.taxes)}]})
        await documents_service.issue(credit.id)
        counts["credit notes"] += 1
    # The public authority's invoice: a zero-rated export, with its Leitweg-ID, ready as an XRechnung
    # (the document page offers it; KoSIT's rules pass it).
    authorities = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 500))).items
                   if c.buyer_reference and c.tax_number]
    for authority in authorities[:1]:
        doc = await documents_service.create_document("invoice", {
            "client_id": authority.id, "currency": "EUR", "issue_date": today.isoformat(),
            "terms_days": 30, "lines": AUTHORITY_LINES, "notes": "Rahmenvertrag Barrierefreiheit 2026, Los 2"})
        await documents_service.issue(doc.id)
        counts["invoices"] += 1
    counts["invoices"] += await _peppol_invoice(today)
    counts["invoices"] += await _language_invoices(today)
    quotes_from = max([today - timedelta(days=60), *await _issued_up_to("quote", today)])
    quote_dates = sorted(max(quotes_from, today - timedelta(days=rng.randint(0, 60)))
                         for _ in range(max(3, invoices // 10)))
    for index, quote_date in enumerate(quote_dates):
        client = rng.choice(clients)
        quote = await documents_service.create_document("quote", {
            "client_id": client.id, "issue_date": quote_date.isoformat(), "lines": _lines(rng, items)})
        counts["quotes"] += 1
        if index % 5 == 0:
            continue
        quote = await documents_service.issue(quote.id, issue_date=quote_date, backdate=quote_date < today)
        if quote.shown_status != "issued":
            continue
        if index % 5 == 1:
            await documents_service.decide_quote(quote.id, "accept")
        elif index % 5 == 2:
            await documents_service.decide_quote(quote.id, "decline")
        elif index % 5 == 3:
            await documents_service.convert_quote(quote.id)
    return counts


async def _issued_up_to(doc_type: str, today: date) -> list[date]:
    """The latest issue dates of this and last year's series: a second demo run dates nothing before
    them (numbers follow dates)."""
    found = [await documents_service.latest_issued_date(doc_type, year) for year in (today.year - 1, today.year)]
    return [day for day, _ in found if day is not None]


async def _peppol_invoice(today: Any) -> int:
    """One invoice to the Belgian Peppol participant (once, however often the demo runs)."""
    settings = await settings_service.get_settings()
    if not settings.get("electronic_address"):
        await settings_service.update_settings(PEPPOL_SELLER_ADDRESS)
    active = (await clients_service.list_clients(status="active", page=Page(1, 500))).items
    client = next((c for c in active if c.electronic_address == PEPPOL_CLIENT["electronic_address"]), None)
    if client is None or await documents_service.client_documents(client.id):
        return 0
    doc = await documents_service.create_document("invoice", {
        "client_id": client.id, "currency": "EUR", "issue_date": today.isoformat(), "terms_days": 30,
        "lines": PEPPOL_LINES, "notes": "Project Verhaeghe 2026, phase 1"})
    await documents_service.issue(doc.id)
    return 1

async def _language_invoices(today: Any) -> int:
    """An invoice each to the French and the German client (once, however often the demo runs)."""
    active = (await clients_service.list_clients(status="active", page=Page(1, 500))).items
    made = 0
    for index, (lines, notes, paid) in LANGUAGE_LINES.items():
        client = next((c for c in active if c.email == LANGUAGE_CLIENTS[index]["email"]), None)
        if client is None or await documents_service.client_documents(client.id):
            continue
        doc = await documents_service.create_document("invoice", {
            "client_id": client.id, "currency": "EUR", "issue_date": today.isoformat(), "terms_days": 30,
            "lines": lines, "notes": notes})
        await documents_service.issue(doc.id)
        if paid:
            await payments_service.record_payment(doc.id, {"amount": paid, "date": today.isoformat(),
                                                           "method": "bank_transfer", "reference": "SEPA 2026-117"})
        made += 1
    return made


# Monthly hosting retainers for three clients started a year ago, a quarterly maintenance contract made
# as drafts to check, and a support retainer the client has paused. Clients are taken in order, not
# drawn, so the rest of the demo stays as it was.
RETAINERS = [
    [{"code": "HOST-M", "description": "Managed hosting, {period}"}],
    [{"code": "HOST-M", "description": "Managed hosting, {period}"},
     {"code": "DOMAIN", "description": "Domain name and DNS, {month} {year}", "quantity": "0.0833"}],
    [{"code": "HOST-M", "description": "Managed hosting and backups, {period}", "quantity": "2"}],
]
PAUSED_NOTE = "Support retainer"


async def _recurring_profiles() -> int:
    clients = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 500))).items
               if c.currency == "CAD" and c.email]
    items = {i["code"]: i for i in (await catalog_service.list_items(active=True, page=Page(1, 500))).items}
    if len(clients) < 5 or not {"HOST-M", "DOMAIN", "DEV-H", "SUPPORT-M"} <= set(items):
        return 0
    today = await settings_service.today()
    year_ago = today.replace(year=today.year - 1, day=1)

    def lines(specs: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{"item_id": items[spec["code"]]["id"], "description": spec["description"],
                 "quantity": spec.get("quantity", "1")} for spec in specs]

    for client, specs, day in zip(clients[:3], RETAINERS, (1, 1, 15), strict=True):
        await recurring_service.create_profile({
            "client_id": client.id, "lines": lines(specs), "unit": "month", "day_of_month": day,
            "start_date": year_ago.isoformat(), "action": "issue",
            "notes": "Monthly retainer: hosting, updates and monitoring."})
    await recurring_service.create_profile({
        "client_id": clients[3].id, "unit": "quarter", "day_of_month": 31, "start_date": year_ago.isoformat(),
        "action": "draft", "notes": "Quarterly maintenance, {period}: security updates, backups tested, report.",
        "lines": lines([{"code": "DEV-H", "description": "Maintenance and updates, {period}", "quantity": "6"}])})
    await recurring_service.create_profile({
        "client_id": clients[4].id, "unit": "month", "day_of_month": 1, "start_date": year_ago.isoformat(),
        "action": "issue", "notes": PAUSED_NOTE,
        "lines": lines([{"code": "SUPPORT-M", "description": "Support retainer, {month} {year}"}])})
    return 5


async def _recurring_invoices() -> int:
    """Catch up to today; the support retainer's client paused it; what is older than five weeks is paid."""
    today = await settings_service.today()
    await recurring_service.run_due(today)
    profiles = await recurring_service.list_profiles()
    for profile in profiles:
        if profile.notes == PAUSED_NOTE and profile.status == "active":
            await recurring_service.pause_profile(profile.id)
    for profile in profiles:
        for period in await recurring_service.runs(profile.id):
            document = period.document
            if document is None or document.status != "issued" or (today - document.issue_date).days < 35:
                continue
            await payments_service.record_payment(document.id, {
                "amount": str(document.balance), "date": (document.issue_date + timedelta(days=12)).isoformat(),
                "method": "bank_transfer", "reference": f"Retainer {document.number}"})
    return sum(p.made for p in profiles)


# Overdue invoices at each reminder level: (days past due today, the levels already sent, each on its day).
REMINDER_STORIES = ((10, ()), (30, (1,)), (45, (1, 2)), (70, (1, 2, 3)), (120, (1, 2, 3, 4)))


async def _reminders(rng: random.Random, scheduled: Scheduled) -> Callable[[], Awaitable[int]]:
    """Dunning as a business runs it: notices three days ahead, and five overdue invoices, one due each level
    today and one past its final notice, their earlier reminders sent on their days (fees and interest on
    the clients' accounts; one client paid the fee). The invoices are issued among the others, in date order
    (`scheduled`); the reminders, their own series, are made by the function returned, once they are."""
    async def nothing() -> int:
        return 0
    if (await reminders_service.list_reminders(page=Page(1, 1))).total:
        return nothing   # already there from an earlier demo run (its overdue invoices are history now)
    dunning = reminders_logic.dunning_as_data(await reminders_service.get_dunning())
    await reminders_service.save_dunning({**dunning, "notice_days_before_due": 3})
    clients = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 500))).items
               if c.email and not c.buyer_reference]
    items = [i for i in (await catalog_service.list_items(active=True, page=Page(1, 500))).items]
    today = await settings_service.today()
    issued: dict[int, Any] = {}
    sends: list[tuple[Any, int, int, int]] = []   # (day, overdue, level, story): made in date order below
    for index, (overdue, sent) in enumerate(REMINDER_STORIES):
        client = clients[(index * 7 + 3) % len(clients)]
        due = today - timedelta(days=overdue)
        issue_on = due - timedelta(days=30)
        draft = await documents_service.create_document("invoice", {
            "client_id": client.id, "issue_date": issue_on.isoformat(), "terms_days": 30,
            "lines": _lines(rng, items), "confirm_date": True})

        async def issue(draft_id: int = draft.id, day: date = issue_on, story: int = index) -> None:
            issued[story] = await documents_service.issue(draft_id, issue_date=day, backdate=day < today)
        scheduled.append((issue_on, issue))
        for level in sent:
            sends.append((due + timedelta(days=reminders_logic.DEFAULT_LEVELS[level - 1]["days_after_due"]),
                          overdue, level, index))

    async def send() -> int:
        # Reminder numbers follow their dates, as they would have when each was sent on its day.
        for day, overdue, level, story in sorted(sends, key=lambda send: (send[0], send[1])):
            reminder, = await reminders_service.make_reminders({"invoice_ids": [issued[story].id], "send": False},
                                                               as_of=day)
            if overdue == 120 and level == 2:
                await reminders_service.pay_charges(reminder.id, {"date": (day + timedelta(days=5)).isoformat(),
                                                                  "method": "bank_transfer",
                                                                  "reference": "Mahngebühr"})
        return len(sends)
    return send
