"""The demo's cost side (called by app.demo): a year of expenses with generated receipts (PDFs and
PNGs), two supplier e-invoices read in (a Peppol UBL and a CII XRechnung), billable travel on the
clients' invoices, and the books closed up to the end of last year."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.clients import service as clients_service
from app.common.logic import Page
from app.documents import service as documents_service
from app.expenses import service
from app.settings import service as settings_service

# name, tax number, country, default category
VENDORS = [
    ("Bell Canada", "100000001 RT0001", "CA", "telephone"),
    ("Bureau en Gros", "100000002 RT0001", "CA", "office"),
    ("Spadina Workspace Ltd.", "100000003 RT0001", "CA", "rent"),
    ("Air Canada", "100000004 RT0001", "CA", "travel"),
    ("VIA Rail Canada", "100000005 RT0001", "CA", "travel"),
    ("Café Olimpico", "100000006 RT0001", "CA", "meals"),
    ("Figma Inc.", "", "US", "software"),
    ("Ledgerline Accounting", "100000007 RT0001", "CA", "professional-fees"),
    ("Royal Example Bank", "", "CA", "bank-charges"),
    ("Petro-Canada", "100000008 RT0001", "CA", "vehicle"),
    ("Indigo Books", "100000009 RT0001", "CA", "training"),
]
MONTHLY = [  # vendor, description, net, taxes, day of month
    ("Spadina Workspace Ltd.", "Desk rental, {month}", "650.00", ["HST"], 1),
    ("Bell Canada", "Fibre internet and mobile, {month}", "118.40", ["HST"], 12),
    ("Figma Inc.", "Figma Professional, {month}", "60.00", [], 18),
    ("Royal Example Bank", "Account fees, {month}", "14.95", [], 28),
]
OCCASIONAL = [  # vendor, description, low, high, taxes
    ("Bureau en Gros", "Printer paper and toner", "24", "180", ["HST"]),
    ("Café Olimpico", "Client lunch", "28", "140", ["HST"]),
    ("Petro-Canada", "Fuel", "45", "95", ["HST"]),
    ("Indigo Books", "Books on accessibility and design", "30", "90", ["HST"]),
    ("VIA Rail Canada", "Train Toronto–Montréal", "89", "240", ["HST"]),
]


def receipt_pdf(vendor: str, day: date, lines: list[tuple[str, str]], total: str) -> bytes:
    """A one-page PDF receipt (Helvetica, no fonts embedded): a real, small document a viewer shows."""
    def text(value: str) -> str:
        return value.encode("latin-1", "replace").decode("latin-1").replace("\\", "\\\\").replace("(", "\\(") \
            .replace(")", "\\)")

    rows = [f"BT /F1 16 Tf 40 760 Td ({text(vendor)}) Tj ET", f"BT /F1 10 Tf 40 740 Td (Receipt, {day.isoformat()}) Tj ET"]
    y = 700
    for label, amount in lines:
        rows.append(f"BT /F1 11 Tf 40 {y} Td ({text(label)}) Tj ET")
        rows.append(f"BT /F1 11 Tf 460 {y} Td ({text(amount)}) Tj ET")
        y -= 18
    rows.append(f"0.6 w 40 {y + 6} m 540 {y + 6} l S")
    rows.append(f"BT /F1 12 Tf 40 {y - 12} Td (Total CAD) Tj ET BT /F1 12 Tf 460 {y - 12} Td ({text(total)}) Tj ET")
    stream = "\n".join(rows).encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
               b"/Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def receipt_png(rng: random.Random, width: int = 180, height: int = 300) -> bytes:
    """A photo-like till slip: a white strip on grey with lines of 'print' of varying length."""
    rows = []
    lines = [(y, rng.randint(40, 140)) for y in range(30, height - 30, 14)]
    for y in range(height):
        row = bytearray()
        for x in range(width):
            inside = 20 <= x < width - 20
            ink = any(y0 <= y < y0 + 5 and 30 <= x < 30 + length for y0, length in lines)
            row += bytes((40, 40, 48) if ink and inside else (250, 250, 246) if inside else (150, 155, 160))
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def ubl_invoice(number: str, day: date) -> bytes:
    """A Peppol BIS 3.0 invoice of a German host to the demo business: reverse charge (AE), in EUR."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>{number}</cbc:ID><cbc:IssueDate>{day.isoformat()}</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PostalAddress><cbc:CityName>Nürnberg</cbc:CityName><cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>DE812871812</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Nordlicht Hosting GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>Northwind Studio Inc.</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0.00</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">348.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">0.00</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>AE</cbc:ID><cbc:Percent>0</cbc:Percent><cbc:TaxExemptionReason>Reverse charge</cbc:TaxExemptionReason><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">348.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">348.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">348.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">348.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="MON">12</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">348.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Managed server CX32, 12 months</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>AE</cbc:ID><cbc:Percent>0</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">29.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>""".encode()


def cii_invoice(number: str, day: date) -> bytes:
    """A CII (XRechnung syntax) invoice of a Montréal print shop: GST 5 % and QST 9.975 %, in CAD."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>{number}</ram:ID><ram:TypeCode>380</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{day.strftime("%Y%m%d")}</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Letterpress business cards, 500</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>420.00</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement><ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>420.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Imprimerie Lachine inc.</ram:Name>
        <ram:PostalTradeAddress><ram:CityName>Montréal</ram:CityName><ram:CountryID>CA</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">873456123 RT0001</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>Northwind Studio Inc.</ram:Name></ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>CAD</ram:InvoiceCurrencyCode>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>21.00</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>420.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>5</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:ApplicableTradeTax><ram:CalculatedAmount>41.90</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode><ram:BasisAmount>420.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>9.975</ram:RateApplicablePercent></ram:ApplicableTradeTax>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>420.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>420.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="CAD">62.90</ram:TaxTotalAmount><ram:GrandTotalAmount>482.90</ram:GrandTotalAmount>
        <ram:DuePayableAmount>482.90</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>""".encode()


def _month_name(day: date) -> str:
    return day.strftime("%B %Y")


async def fill(attachments_dir: Path, *, seed: int = 2026) -> dict[str, int]:
    """A year of expenses up to today; nothing when the demo's vendors are there already (a second run)."""
    if (await service.list_vendors(page=Page(1, 1))).total:
        return {}
    rng = random.Random(seed)
    today = await settings_service.today()
    await service.ensure_chart()
    vendors: dict[str, dict[str, Any]] = {}
    for name, tax_number, country, category in VENDORS:
        vendors[name] = await service.create_vendor({"name": name, "tax_number": tax_number, "country": country,
                                                     "default_category": category})
    counts = {"expenses": 0, "receipts": 0, "supplier e-invoices": 0}

    async def spend(vendor: str, day: date, description: str, net: Decimal, taxes: list[str], **extra: Any) -> Any:
        row = vendors[vendor]
        expense = await service.create_expense({
            "date": day.isoformat(), "vendor_id": row["id"], "category": extra.pop("category", row["default_category"]),
            "description": description, "currency": "CAD", "net": str(net), "taxes": taxes,
            "paid_with": extra.pop("paid_with", rng.choice(["card", "card", "bank", "cash"])),
            "reference": f"R-{rng.randint(10000, 99999)}", **extra})
        counts["expenses"] += 1
        if rng.random() < 0.85:
            tax = expense["tax_total"]
            if rng.random() < 0.5:
                content = receipt_pdf(vendor, day, [(description, str(net))] + ([("HST 13 %", str(tax))] if tax else []),
                                      str(expense["total"]))
                name = f"{vendor.split()[0].lower()}-{day.isoformat()}.pdf"
            else:
                content, name = receipt_png(rng), f"IMG_{rng.randint(1000, 9999)}.png"
            await service.add_receipt(attachments_dir, expense["id"], content, name)
            counts["receipts"] += 1
        return expense

    month = date(today.year - 1, today.month, 1)   # thirteen months, so last year's closed books hold some
    while month <= today:
        for vendor, description, net, taxes, day_of_month in MONTHLY:
            day = month.replace(day=day_of_month)
            if day <= today:
                await spend(vendor, day, description.format(month=_month_name(day)), Decimal(net), taxes,
                            paid_with="bank")
        for _ in range(rng.randint(2, 4)):
            vendor, description, low, high, taxes = rng.choice(OCCASIONAL)
            day = month + timedelta(days=rng.randint(0, 27))
            if day <= today:
                amount = Decimal(rng.randint(int(low) * 100, int(high) * 100)) / 100
                await spend(vendor, day, description, amount, taxes)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    await spend("Ledgerline Accounting", today - timedelta(days=20), "Quarterly bookkeeping review",
                Decimal("450.00"), ["HST"], paid_with="bank")
    # Billable travel: one billed on an issued invoice, one on a draft, one waiting for the next invoice.
    clients = [c for c in (await clients_service.list_clients(status="active", page=Page(1, 50))).items
               if c.currency == "CAD"]
    if len(clients) >= 2:
        first, second = clients[0], clients[1]
        flight = await spend("Air Canada", today - timedelta(days=40), f"Flight to Halifax for {first.name}",
                             Decimal("412.00"), ["HST"], billable=True, client_id=first.id, markup_percent="0",
                             category="travel")
        train = await spend("VIA Rail Canada", today - timedelta(days=12), f"Train to Montréal, workshop {second.name}",
                            Decimal("186.50"), ["HST"], billable=True, client_id=second.id, markup_percent="10",
                            category="travel")
        await spend("Café Olimpico", today - timedelta(days=11), f"Workshop lunch, {second.name}", Decimal("96.00"),
                    ["HST"], billable=True, client_id=second.id, markup_percent="10", category="meals")
        invoice = await documents_service.create_document("invoice", {
            "client_id": first.id, "issue_date": (today - timedelta(days=35)).isoformat(), "lines": [
                # Typed lines: their taxes come from the rules for the client's province.
                {"description": "On-site accessibility review", "quantity": "1", "unit_price": "1800.00"}]})
        await service.add_to_invoice(invoice.id, [flight["id"]])
        await documents_service.issue(invoice.id)
        draft = await documents_service.create_document("invoice", {"client_id": second.id, "lines": [
            {"description": "Design workshop, two days", "quantity": "2", "unit": "day", "unit_price": "1200.00"}]})
        await service.add_to_invoice(draft.id, [train["id"]])
    # Two supplier e-invoices: the print shop's (GST and QST, recorded) and the host's (a draft to check).
    printing = await service.import_einvoice(attachments_dir, cii_invoice("IL-88213", today - timedelta(days=25)),
                                             "IL-88213_xrechnung.xml")
    await service.update_expense(printing["id"], {"category": "advertising", "paid_with": "bank"})
    await service.record_expense(printing["id"])
    await service.import_einvoice(attachments_dir, ubl_invoice("NH-2026-10442", today - timedelta(days=3)),
                                  "NH-2026-10442.xml")
    counts["supplier e-invoices"] = 2
    # Last year's books are closed: its expenses are frozen.
    await service.set_closed_up_to(date(today.year - 1, 12, 31).isoformat())
    return counts
