"""Expenses against a real SQLite file: supplier e-invoices in (a round trip through an invoice
Counterfoil itself issued), billing onto invoices, and every tax-return figure rebuilt from the raw rows."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.clients import service as clients_service
from app.common.logic import Conflict, Page, ValidationFailed
from app.config import Config
from app.documents import service as documents_service
from app.expenses import reports, service, taxreturn
from app.integrity.service import run_checks
from app.payments import service as payments_service
from app.render import service as render_service
from app.settings import service as settings_service
from app.taxes import service as taxes_service
from tests.conftest import run

SELLER_VAT = "DE123456789"


async def own_facturx_pdf(config: Config) -> bytes:
    """A Factur-X invoice issued by Counterfoil itself (a German business, 19 % and 7 % lines)."""
    await settings_service.update_settings({
        "name": "Müller Design GmbH", "country": "DE", "tax_number": SELLER_VAT, "default_currency": "EUR",
        "address_line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "email": "kontakt@example.de",
        "bank_iban": "DE89370400440532013000"})
    if not await taxes_service.list_taxes():
        await taxes_service.apply_preset("germany")
    client = await clients_service.create_client({
        "name": "Kunde AG", "currency": "EUR", "country": "DE", "tax_number": "DE987654321",
        "address_line1": "Domplatz 2", "city": "Köln", "postal_code": "50667", "email": "buch@example.de"})
    draft = await documents_service.create_document("invoice", {"client_id": client.id, "issue_date": "2026-11-02",
        "lines": [{"description": "Web design", "quantity": "3", "unit_price": "100.00", "taxes": ["VAT19"]},
                  {"description": "Fachbuch", "quantity": "1", "unit_price": "20.00", "taxes": ["VAT7"]}]})
    issued = await documents_service.issue(draft.id, issue_date=date(2026, 11, 2), backdate=True)
    return (await render_service.document_pdf(issued.id, data_dir=config.data_dir)).content


def _xml_of(pdf: bytes) -> bytes:
    from facturx import get_xml_from_pdf

    return get_xml_from_pdf(pdf, check_xsd=False)[1]


def files_in(config: Config) -> list[Path]:
    folder = config.attachments_dir / "receipts"
    return sorted(folder.iterdir()) if folder.exists() else []


def count(config: Config, table: str) -> int:
    connection = sqlite3.connect(config.database_path)
    try:
        return connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    finally:
        connection.close()


# -- supplier e-invoices in --------------------------------------------------------------------------

def test_a_factur_x_invoice_counterfoil_issued_reads_back_as_a_vendors(config):
    pdf = run(own_facturx_pdf(config))
    draft = run(service.import_einvoice(config.attachments_dir, pdf, "INV-2026-0001.pdf"))
    assert draft["status"] == "draft" and draft["source"] == "einvoice"
    assert draft["vendor_name"] == "Müller Design GmbH" and draft["source_number"] == "INV-2026-0001"
    assert (draft["net"], draft["tax_total"], draft["total"]) == (Decimal("320.00"), Decimal("58.40"),
                                                                  Decimal("378.40"))
    assert [(t["code"], t["base"], t["amount"]) for t in draft["tax_lines"]] == [
        ("VAT19", "300.00", "57.00"), ("VAT7", "20.00", "1.40")]
    assert draft["date"] == date(2026, 11, 2) and draft["paid_with"] == "unpaid" and draft["import_notes"] == ""
    assert draft["receipts"][0]["media_type"] == "application/pdf"
    assert files_in(config)[0].read_bytes() == pdf
    vendor = run(service.get_vendor(draft["vendor"]))
    assert (vendor["tax_number"], vendor["country"]) == (SELLER_VAT, "DE")
    # Not counted until recorded; then the tax return claims it.
    assert run(reports.tax_return("de-ustva", date(2026, 10, 1), date(2026, 12, 31))).lines()["66"] == 0
    run(service.record_expense(draft["id"]))
    assert run(reports.tax_return("de-ustva", date(2026, 10, 1), date(2026, 12, 31))).lines()["66"] == \
        Decimal("58.40")
    with pytest.raises(Conflict, match="already among the expenses"):
        run(service.import_einvoice(config.attachments_dir, pdf, "again.pdf"))
    assert run_checks(config.database_path) == []


def test_the_vendor_is_found_by_tax_number_however_it_is_written(config):
    pdf = run(own_facturx_pdf(config))
    known = run(service.create_vendor({"name": "Müller (Berlin)", "tax_number": "de 123.456.789"}))
    draft = run(service.import_einvoice(config.attachments_dir, pdf))
    assert draft["vendor"] == known["id"] and count(config, "vendor") == 1


def test_a_cii_xml_file_is_read_and_kept_as_the_receipt(config):
    xml = _xml_of(run(own_facturx_pdf(config)))
    draft = run(service.import_einvoice(config.attachments_dir, xml, "invoice.xml"))
    assert draft["total"] == Decimal("378.40") and draft["receipts"][0]["media_type"] == "application/xml"


UBL = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>2026-10-15</cbc:IssueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>{vat}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>{seller}</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">{tax}</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">200.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">38.00</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">200.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">200.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">{total}</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">{total}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="HUR">2</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">200.00</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Hosting, two months</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">100.00</cbc:PriceAmount></cac:Price></cac:InvoiceLine>
</Invoice>"""


def ubl(number: str = "NL-7", seller: str = "Hosting B.V.", vat: str = "NL123456789B01", tax: str = "38.00",
        total: str = "238.00") -> bytes:
    return UBL.format(number=number, seller=seller, vat=vat, tax=tax, total=total).encode()


def test_a_peppol_ubl_invoice_makes_a_draft_and_its_vendor(config):
    run(taxes_service.apply_preset("germany"))
    draft = run(service.import_einvoice(config.attachments_dir, ubl(), "peppol.xml"))
    assert (draft["vendor_name"], draft["net"], draft["total"], draft["description"]) == (
        "Hosting B.V.", Decimal("200.00"), Decimal("238.00"), "Hosting, two months")
    assert run(service.get_vendor(draft["vendor"]))["country"] == "NL"


def test_a_vat_rate_without_a_tax_code_is_said_in_the_draft(config):
    run(taxes_service.apply_preset("canada"))
    draft = run(service.import_einvoice(config.attachments_dir, ubl()))
    assert "no tax code with this rate" in draft["import_notes"]
    assert "Total recorded 200.00, the invoice's total 238.00" in draft["import_notes"]


@pytest.mark.parametrize(("content", "words"), [
    (b"<Invoice><unclosed>", "malformed"),
    (b"<?xml version='1.0'?><note>hello</note>", "not an e-invoice"),
    (ubl(tax="40.00"), "BR-CO-14"),
    (ubl(total="250.00"), "BR-CO-15"),
    (ubl(seller="", vat=""), "names no seller"),
    (b"%PDF-1.4\n%%EOF\n", "could not be read"),
    (b"hello", "Factur-X / ZUGFeRD PDF or an XRechnung"),
    (b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "not an e-invoice"),
])
def test_bad_e_invoices_are_refused_and_leave_nothing(config, content, words):
    run(taxes_service.apply_preset("germany"))
    with pytest.raises(ValidationFailed) as refused:
        run(service.import_einvoice(config.attachments_dir, content, "bad.xml"))
    assert words in refused.value.errors[0].message and refused.value.errors[0].field == "file"
    assert count(config, "expense") == 0 and count(config, "vendor") == 0 and files_in(config) == []


def test_an_import_into_a_closed_period_is_refused_and_leaves_nothing(config):
    run(taxes_service.apply_preset("germany"))
    run(service.set_closed_up_to("2026-11-30"))   # the invoice is of 2026-10-15; up to yesterday at most
    with pytest.raises(ValidationFailed) as refused:
        run(service.import_einvoice(config.attachments_dir, ubl()))
    assert refused.value.errors[0].field == "date"
    assert count(config, "expense") == 0 and count(config, "vendor") == 0 and files_in(config) == []


# -- billing -----------------------------------------------------------------------------------------------

def test_a_billable_expense_goes_on_an_invoice_is_billed_at_issue_and_freed_by_deleting_the_draft(config):
    run(taxes_service.apply_preset("canada"))
    client = run(clients_service.create_client({"name": "Acme", "currency": "CAD"}))
    travel = run(service.create_expense({"date": "2026-03-02", "category": "travel", "net": "200.00",
                                         "currency": "CAD", "taxes": ["GST"], "description": "Train to Ottawa",
                                         "billable": True, "client_id": client.id, "markup_percent": "10"}))
    assert [e["id"] for e in run(service.unbilled_for(client.id))] == [travel["id"]]
    draft = run(documents_service.create_document("invoice", {"client_id": client.id, "lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": "500.00"}]}))
    run(service.add_to_invoice(draft.id, [travel["id"]]))
    lines = run(documents_service.get_document(draft.id)).lines
    assert [(ln.description, ln.unit_price) for ln in lines] == [
        ("Consulting", Decimal("500.00")), ("Train to Ottawa (2026-03-02)", Decimal("220.00"))]
    assert run(service.get_expense(travel["id"]))["billed_state"] == "on_draft"
    assert run(service.unbilled_for(client.id)) == []
    with pytest.raises(Conflict):
        run(service.add_to_invoice(draft.id, [travel["id"]]))
    run(documents_service.delete_draft(draft.id))
    assert run(service.get_expense(travel["id"]))["billed_state"] == "unbilled"
    second = run(documents_service.create_document("invoice", {"client_id": client.id, "lines": []}))
    run(service.add_to_invoice(second.id, [travel["id"]]))
    issued = run(documents_service.issue(second.id))
    billed = run(service.get_expense(travel["id"]))
    assert billed["billed_state"] == "billed" and billed["billed_number"] == issued.number
    assert run(service.list_expenses(billed=True)).total == 1
    with pytest.raises(Conflict, match="billed on invoice"):
        run(service.update_expense(travel["id"], {"net": "1.00"}))
    assert run(service.update_expense(travel["id"], {"notes": "Ticket in the travel folder"}))["notes"] == \
        "Ticket in the travel folder"
    same = {"date": "2026-03-02", "category": "travel", "net": "200.00", "currency": "CAD", "taxes": ["GST"],
            "description": "Train to Ottawa (late)", "billable": True, "client_id": client.id, "markup_percent": "10"}
    assert run(service.update_expense(travel["id"], same, partial=False))["description"] == "Train to Ottawa (late)"
    with pytest.raises(Conflict):
        run(service.delete_expense(config.attachments_dir, travel["id"]))


def test_an_expense_of_another_client_or_currency_is_not_added(config):
    run(taxes_service.apply_preset("canada"))
    acme = run(clients_service.create_client({"name": "Acme", "currency": "CAD"}))
    other = run(clients_service.create_client({"name": "Other", "currency": "CAD"}))
    theirs = run(service.create_expense({"date": "2026-03-02", "category": "travel", "net": "10.00",
                                         "currency": "CAD", "billable": True, "client_id": other.id}))
    usd = run(service.create_expense({"date": "2026-03-02", "category": "travel", "net": "10.00",
                                      "currency": "USD", "billable": True, "client_id": acme.id}))
    draft = run(documents_service.create_document("invoice", {"client_id": acme.id, "lines": []}))
    for expense in (theirs, usd):
        with pytest.raises(Conflict):
            run(service.add_to_invoice(draft.id, [expense["id"]]))
    assert run(documents_service.get_document(draft.id)).lines == ()


def test_a_client_with_billable_expenses_is_not_deleted(config):
    acme = run(clients_service.create_client({"name": "Acme", "currency": "CAD"}))
    run(service.create_expense({"date": "2026-03-02", "category": "travel", "net": "10.00", "currency": "CAD",
                                "billable": True, "client_id": acme.id}))
    with pytest.raises(Conflict):
        run(clients_service.delete_client(acme.id, hard=True))


# -- every tax-return figure, rebuilt from the raw rows ------------------------------------------------------

def _canadian_books(config: Config) -> None:
    run(settings_service.update_settings({"name": "Maple Studio", "country": "CA", "default_currency": "CAD"}))
    run(taxes_service.apply_preset("canada"))
    client = run(clients_service.create_client({"name": "Acme", "currency": "CAD"}))

    def invoice(day: str, lines: list[tuple[str, list[str]]], doc_type: str = "invoice") -> Any:
        draft = run(documents_service.create_document(doc_type, {"client_id": client.id, "issue_date": day, "lines": [
            {"description": "Work", "quantity": "1", "unit_price": price, "taxes": taxes} for price, taxes in lines]}))
        # Back-dated on purpose (numbers follow dates): the test's books are in the past.
        return run(documents_service.issue(draft.id, issue_date=date.fromisoformat(day), backdate=True))

    first = invoice("2026-01-10", [("1000.00", ["GST", "QST"]), ("250.00", ["HST"])])
    invoice("2026-02-03", [("333.33", ["GST"]), ("80.00", [])])
    invoice("2026-02-20", [("120.00", ["GST", "QST"])], "credit_note")
    invoice("2026-05-01", [("999.00", ["GST"])])              # outside the quarter
    run(payments_service.record_payment(first.id, {"amount": "500.00", "date": "2026-01-20"}))
    for day, category, net, taxes in (("2026-01-05", "office", "89.99", ["GST", "QST"]),
                                      ("2026-02-14", "meals", "64.20", ["GST", "QST"]),
                                      ("2026-03-31", "software", "49.00", ["GST"]),
                                      ("2026-03-15", "travel", "410.00", ["HST"]),
                                      ("2026-04-01", "office", "10.00", ["GST"])):
        run(service.create_expense({"date": day, "category": category, "net": net, "currency": "CAD",
                                    "taxes": taxes}))
    run(service.create_expense({"date": "2026-03-01", "category": "office", "net": "70.00", "currency": "USD",
                                "taxes": ["GST"]}))


def _raw(config: Config) -> tuple[list[tuple], list[tuple]]:
    connection = sqlite3.connect(config.database_path)
    try:
        documents = connection.execute(
            "SELECT doc_type, subtotal_minor, taxes_json FROM document WHERE doc_type IN ('invoice', 'credit_note') "
            "AND status != 'draft' AND issue_date BETWEEN '2026-01-01' AND '2026-03-31' AND currency = 'CAD'"
        ).fetchall()
        expenses = connection.execute(
            "SELECT taxes_json FROM expense WHERE status = 'recorded' AND expense_date BETWEEN '2026-01-01' AND "
            "'2026-03-31' AND currency = 'CAD'").fetchall()
        return documents, expenses
    finally:
        connection.close()


def test_every_gst34_and_qst_figure_rebuilt_from_the_raw_rows(config):
    _canadian_books(config)
    report = run(reports.tax_return("ca-gst34", date(2026, 1, 1), date(2026, 3, 31)))
    documents, expenses = _raw(config)
    sign = {"invoice": 1, "credit_note": -1}

    def sales_tax(prefixes: tuple[str, ...]) -> Decimal:
        return sum((sign[kind] * Decimal(t["amount"]) for kind, _, taxes in documents for t in json.loads(taxes)
                    if t["code"].startswith(prefixes)), Decimal(0))

    def input_tax(prefixes: tuple[str, ...]) -> Decimal:
        return sum((Decimal(t["deductible"]) for (taxes,) in expenses for t in json.loads(taxes)
                    if t["code"].startswith(prefixes)), Decimal(0))

    expected = {
        "101": sum((sign[kind] * Decimal(net) / 100 for kind, net, _ in documents), Decimal(0)),
        "103": sales_tax(("GST", "HST")), "106": input_tax(("GST", "HST")),
        "205": sales_tax(("QST",)), "208": input_tax(("QST",)),
    }
    expected["105"], expected["108"] = expected["103"], expected["106"]
    expected["109"] = expected["103"] - expected["106"]
    expected["207"], expected["209"] = expected["205"], expected["205"] - expected["208"]
    lines = report.lines()
    for key, value in expected.items():
        assert lines[key] == value, key
    assert lines["101"] == Decimal("1250.00") + Decimal("413.33") - Decimal("120.00")
    # meals: half of 3.21, rounded half-up
    assert lines["106"] == Decimal("4.50") + Decimal("1.61") + Decimal("2.45") + Decimal("53.30")
    assert report.left_out == {"USD": 1}
    for figure in report.figures:  # and each figure is the sum of the rows it links to
        assert figure.amount == sum((s.amount for s in figure.sources), Decimal(0)), figure.key


def test_the_generic_return_and_the_pnl_on_the_same_books(config):
    _canadian_books(config)
    generic = run(reports.tax_return("generic", date(2026, 1, 1), date(2026, 3, 31)))
    assert generic.net == generic.figure("collected").amount - generic.figure("deductible").amount
    pnl = run(reports.profit_and_loss(date(2026, 1, 1), date(2026, 3, 31), "accrual"))
    assert pnl.revenue == Decimal("1543.33") and pnl.expenses == Decimal("89.99") + Decimal("64.20") + \
        Decimal("49.00") + Decimal("410.00")
    assert pnl.profit == pnl.revenue - pnl.expenses
    assert [m.revenue for m in pnl.months] == [Decimal("1250.00"), Decimal("293.33"), Decimal("0")]
    cash = run(reports.profit_and_loss(date(2026, 1, 1), date(2026, 3, 31), "cash"))
    first_total = Decimal("1250.00") + Decimal("50.00") + Decimal("99.75") + Decimal("32.50")
    assert cash.revenue == (Decimal("500.00") * Decimal("1250.00") / first_total).quantize(Decimal("0.01"))


def test_integrity_check_passes_on_expenses_books(config):
    _canadian_books(config)
    assert run_checks(config.database_path) == []
    assert taxreturn.form_for_country("CA") == "ca-gst34"


def test_the_demo_adds_a_year_of_expenses_with_receipts_e_invoices_and_billable_travel(config, monkeypatch):
    from app import demo
    from app.settings.service import TEST_TODAY_ENV

    monkeypatch.setenv(TEST_TODAY_ENV, "2026-11-20")
    made = run(demo.fill(config, clients=15, invoices=12))
    assert made["expenses"] > 60 and made["receipts"] > 40 and made["supplier e-invoices"] == 2
    listed = run(service.list_expenses(page=Page(1, 500))).items
    assert {e["date"].year for e in listed} == {2025, 2026}
    assert {r["media_type"] for e in listed for r in e["receipts"]} >= {"application/pdf", "image/png",
                                                                        "application/xml"}
    assert sorted(e["billed_state"] for e in listed if e["billable"]) == ["billed", "on_draft", "unbilled"]
    assert [e["status"] for e in listed if e["source"] == "einvoice"].count("draft") == 1
    assert run(service.closed_up_to()) == date(2025, 12, 31)
    profit = run(reports.profit_and_loss())
    assert profit.expenses > 0 and profit.profit == profit.revenue - profit.expenses
    assert run(reports.tax_return()).form == "ca-gst34"
    assert run_checks(config.database_path) == []
    assert run(demo.fill(config, clients=0, invoices=0)) is not None   # a second run adds no second year


def test_counterfoil_check_finds_an_expense_that_does_not_add_up(config):
    from tests.conftest import sealed_writes

    run(taxes_service.apply_preset("canada"))
    expense = run(service.create_expense({"date": "2026-03-02", "category": "office", "net": "10.00",
                                          "currency": "CAD", "taxes": ["GST"]}))
    assert run_checks(config.database_path) == []
    connection = sqlite3.connect(config.database_path)
    with sealed_writes(connection):
        connection.execute("UPDATE expense_split SET net_minor = 900 WHERE expense = ?", (expense["id"],))
    connection.commit()
    connection.close()
    found = [str(b) for b in run_checks(config.database_path)]
    assert f"expense {expense['id']}: its splits add up to 900, its net is 1000 (minor units)" in found
