"""Supplier e-invoices in: Factur-X / ZUGFeRD PDF (the `factur-x` package takes the XML out of the PDF),
XRechnung or Peppol in CII or UBL XML (read with lxml). What is read is one `SupplierInvoice`;
its own arithmetic is checked (EN 16931's BR-CO rules on the totals), and an invoice that does not
add up, names no seller or is not an e-invoice at all is refused, naming the rule.

No network, no entities: the parser never fetches a DTD or expands an entity (a file from outside).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, ValidationFailed

log = logging.getLogger("counterfoil.expenses")

NS_CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
NS_UBL = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
UBL_ROOTS = {"{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "invoice",
             "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "credit_note"}
CII_ROOT = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice"
MAX_XML_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class SupplierLine:
    name: str
    quantity: Decimal
    net: Decimal


@dataclass(frozen=True)
class SupplierTax:
    category: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass
class SupplierInvoice:
    syntax: str                      # CII | UBL
    container: str                   # pdf | xml
    kind: str                        # invoice | credit_note
    number: str
    issue_date: date
    currency: str
    seller_name: str
    seller_tax_number: str
    seller_country: str
    lines: list[SupplierLine]
    taxes: list[SupplierTax]
    line_total: Decimal
    tax_exclusive: Decimal
    tax_total: Decimal
    grand_total: Decimal
    allowances: Decimal = Decimal(0)
    charges: Decimal = Decimal(0)
    problems: list[str] = field(default_factory=list)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed([FieldError("file", message)])


def xml_of(content: bytes) -> tuple[bytes, str]:
    """The e-invoice XML and where it came from: a PDF's embedded Factur-X / ZUGFeRD / XRechnung file, or the XML."""
    if content.startswith(b"%PDF-"):
        from facturx import get_xml_from_pdf

        try:
            _name, xml = get_xml_from_pdf(content, check_xsd=False)
        except Exception as error:  # a broken PDF: the library raises many kinds
            log.info("no e-invoice read from a PDF: %s", error)
            raise _refuse(_("This PDF could not be read as a Factur-X / ZUGFeRD invoice")) from None
        if not xml:
            raise _refuse(_("This PDF carries no e-invoice XML (Factur-X / ZUGFeRD): add it as a receipt instead"))
        return xml, "pdf"
    head = content.lstrip()[:200]
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        if len(content) > MAX_XML_BYTES:
            raise _refuse(_("The XML file is larger than 5 MB"))
        return content, "xml"
    raise _refuse(_("A supplier e-invoice is a Factur-X / ZUGFeRD PDF or an XRechnung / Peppol XML file (CII or UBL)"))


def _parse_xml(xml: bytes) -> Any:
    from lxml import etree  # at the first e-invoice read, not at start

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True)
    try:
        return etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise _refuse(_("The XML is malformed: %(error)s", error=error)) from None


def _decimal(text: str | None, what: str, *, required: bool = True) -> Decimal:
    if text is None or not text.strip():
        if required:
            raise _refuse(_("The e-invoice has no %(what)s", what=what))
        return Decimal(0)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _refuse(_("The e-invoice's %(what)s is not a number: %(text)r", what=what, text=text.strip()[:40])) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise _refuse(_("The e-invoice's %(what)s is not a usable amount", what=what))
    return value


def _date(text: str | None, fmt: str | None) -> date:
    value = (text or "").strip()
    try:
        if fmt == "102" or (len(value) == 8 and value.isdigit()):
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _refuse(_("The e-invoice's issue date (BT-2) is not a date: %(value)r", value=value[:20])) from None


def _text(node: Any, path: str, ns: dict[str, str]) -> str:
    found = node.find(path, ns)
    return (found.text or "").strip() if found is not None and found.text else ""


def _cii(root: Any, container: str) -> SupplierInvoice:
    ns = NS_CII
    doc = root.find("rsm:ExchangedDocument", ns)
    trade = root.find("rsm:SupplyChainTradeTransaction", ns)
    if doc is None or trade is None:
        raise _refuse(_("The CII invoice has no document or trade transaction"))
    type_code = _text(doc, "ram:TypeCode", ns)
    date_node = doc.find("ram:IssueDateTime/udt:DateTimeString", ns)
    agreement = trade.find("ram:ApplicableHeaderTradeAgreement", ns)
    settlement = trade.find("ram:ApplicableHeaderTradeSettlement", ns)
    if agreement is None or settlement is None:
        raise _refuse(_("The CII invoice has no agreement or settlement"))
    seller = agreement.find("ram:SellerTradeParty", ns)
    tax_number = ""
    if seller is not None:
        for registration in seller.findall("ram:SpecifiedTaxRegistration/ram:ID", ns):
            if registration.text and (not tax_number or registration.get("schemeID") == "VA"):
                tax_number = registration.text.strip()
    summation = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", ns)
    if summation is None:
        raise _refuse(_("The CII invoice has no totals (BG-22)"))
    lines = []
    for item in trade.findall("ram:IncludedSupplyChainTradeLineItem", ns):
        lines.append(SupplierLine(
            name=_text(item, "ram:SpecifiedTradeProduct/ram:Name", ns),
            quantity=_decimal(_text(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", ns) or "1", "quantity"),
            net=_decimal(_text(item, "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetary"
                                     "Summation/ram:LineTotalAmount", ns), "line net amount (BT-131)")))
    taxes = [SupplierTax(category=_text(t, "ram:CategoryCode", ns) or "S",
                         rate=_decimal(_text(t, "ram:RateApplicablePercent", ns), "VAT rate", required=False),
                         base=_decimal(_text(t, "ram:BasisAmount", ns), "VAT base (BT-116)"),
                         amount=_decimal(_text(t, "ram:CalculatedAmount", ns), "VAT amount (BT-117)"))
             for t in settlement.findall("ram:ApplicableTradeTax", ns)]
    currency = _text(settlement, "ram:InvoiceCurrencyCode", ns)
    tax_total_nodes = [n for n in summation.findall("ram:TaxTotalAmount", ns)
                       if not n.get("currencyID") or n.get("currencyID") == currency]
    return SupplierInvoice(
        syntax="CII", container=container, kind="credit_note" if type_code == "381" else "invoice",
        number=_text(doc, "ram:ID", ns), issue_date=_date(date_node.text if date_node is not None else None,
                                                          date_node.get("format") if date_node is not None else None),
        currency=currency,
        seller_name=_text(seller, "ram:Name", ns) if seller is not None else "",
        seller_tax_number=tax_number,
        seller_country=_text(seller, "ram:PostalTradeAddress/ram:CountryID", ns) if seller is not None else "",
        lines=lines, taxes=taxes,
        line_total=_decimal(_text(summation, "ram:LineTotalAmount", ns), "sum of line nets (BT-106)"),
        allowances=_decimal(_text(summation, "ram:AllowanceTotalAmount", ns), "allowances", required=False),
        charges=_decimal(_text(summation, "ram:ChargeTotalAmount", ns), "charges", required=False),
        tax_exclusive=_decimal(_text(summation, "ram:TaxBasisTotalAmount", ns), "total without VAT (BT-109)"),
        tax_total=_decimal(tax_total_nodes[0].text if tax_total_nodes else "0", "VAT total (BT-110)"),
        grand_total=_decimal(_text(summation, "ram:GrandTotalAmount", ns), "total with VAT (BT-112)"),
    )


def _ubl(root: Any, container: str, kind: str) -> SupplierInvoice:
    ns = NS_UBL
    party = root.find("cac:AccountingSupplierParty/cac:Party", ns)
    tax_number = ""
    name = ""
    country = ""
    if party is not None:
        tax_number = _text(party, "cac:PartyTaxScheme/cbc:CompanyID", ns) or \
            _text(party, "cac:PartyLegalEntity/cbc:CompanyID", ns)
        name = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName", ns) or _text(party, "cac:PartyName/cbc:Name", ns)
        country = _text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode", ns)
    totals = root.find("cac:LegalMonetaryTotal", ns)
    if totals is None:
        raise _refuse(_("The UBL invoice has no totals (LegalMonetaryTotal)"))
    line_tag = "cac:InvoiceLine" if kind == "invoice" else "cac:CreditNoteLine"
    quantity_tag = "cbc:InvoicedQuantity" if kind == "invoice" else "cbc:CreditedQuantity"
    lines = [SupplierLine(name=_text(line, "cac:Item/cbc:Name", ns),
                          quantity=_decimal(_text(line, quantity_tag, ns) or "1", "quantity"),
                          net=_decimal(_text(line, "cbc:LineExtensionAmount", ns), "line net amount (BT-131)"))
             for line in root.findall(line_tag, ns)]
    currency = _text(root, "cbc:DocumentCurrencyCode", ns)
    taxes: list[SupplierTax] = []
    tax_total = Decimal(0)
    for total in root.findall("cac:TaxTotal", ns):
        amount = total.find("cbc:TaxAmount", ns)
        if amount is not None and (amount.get("currencyID") in (None, currency)):
            tax_total = _decimal(amount.text, "VAT total (BT-110)")
            for sub in total.findall("cac:TaxSubtotal", ns):
                taxes.append(SupplierTax(
                    category=_text(sub, "cac:TaxCategory/cbc:ID", ns) or "S",
                    rate=_decimal(_text(sub, "cac:TaxCategory/cbc:Percent", ns), "VAT rate", required=False),
                    base=_decimal(_text(sub, "cbc:TaxableAmount", ns), "VAT base (BT-116)"),
                    amount=_decimal(_text(sub, "cbc:TaxAmount", ns), "VAT amount (BT-117)")))
    return SupplierInvoice(
        syntax="UBL", container=container, kind=kind, number=_text(root, "cbc:ID", ns),
        issue_date=_date(_text(root, "cbc:IssueDate", ns), None), currency=currency, seller_name=name,
        seller_tax_number=tax_number, seller_country=country, lines=lines, taxes=taxes,
        line_total=_decimal(_text(totals, "cbc:LineExtensionAmount", ns), "sum of line nets (BT-106)"),
        allowances=_decimal(_text(totals, "cbc:AllowanceTotalAmount", ns), "allowances", required=False),
        charges=_decimal(_text(totals, "cbc:ChargeTotalAmount", ns), "charges", required=False),
        tax_exclusive=_decimal(_text(totals, "cbc:TaxExclusiveAmount", ns), "total without VAT (BT-109)"),
        tax_total=tax_total,
        grand_total=_decimal(_text(totals, "cbc:TaxInclusiveAmount", ns), "total with VAT (BT-112)"),
    )


def arithmetic_problems(invoice: SupplierInvoice) -> list[str]:
    """Where the invoice's own totals disagree (EN 16931 BR-CO-10, -13, -14, -15). The VAT bases are not
    required to add up to the net: a Canadian invoice charges GST and QST on the same base."""
    problems = []
    line_sum = sum((line.net for line in invoice.lines), Decimal(0))
    if invoice.lines and line_sum != invoice.line_total:
        problems.append(f"BR-CO-10: the lines add up to {line_sum}, the invoice says {invoice.line_total} (BT-106)")
    expected = invoice.line_total - invoice.allowances + invoice.charges
    if expected != invoice.tax_exclusive:
        problems.append(f"BR-CO-13: the total without VAT should be {expected}, the invoice says "
                        f"{invoice.tax_exclusive} (BT-109)")
    breakdown = sum((t.amount for t in invoice.taxes), Decimal(0))
    if breakdown != invoice.tax_total:
        problems.append(f"BR-CO-14: the VAT breakdown adds up to {breakdown}, the invoice says {invoice.tax_total} "
                        "(BT-110)")
    if invoice.tax_exclusive + invoice.tax_total != invoice.grand_total:
        problems.append(f"BR-CO-15: {invoice.tax_exclusive} + {invoice.tax_total} is not the total with VAT "
                        f"{invoice.grand_total} (BT-112)")
    return problems


def read(content: bytes) -> SupplierInvoice:
    """Read and check a supplier e-invoice; ValidationFailed (naming `file` and the rule) when it cannot be used."""
    if not content:
        raise _refuse(_("The file is empty"))
    xml, container = xml_of(content)
    root = _parse_xml(xml)
    if root.tag == CII_ROOT:
        invoice = _cii(root, container)
    elif root.tag in UBL_ROOTS:
        invoice = _ubl(root, container, UBL_ROOTS[root.tag])
    else:
        raise _refuse(_("This XML is not an e-invoice in CII (Factur-X, ZUGFeRD, XRechnung) or UBL (Peppol, "
                      "XRechnung)"))
    if not invoice.seller_name and not invoice.seller_tax_number:
        raise _refuse(_("The e-invoice names no seller (BT-27, BT-31): who is it from?"))
    if not invoice.number:
        raise _refuse(_("The e-invoice has no number (BT-1)"))
    if not invoice.currency:
        raise _refuse(_("The e-invoice has no currency (BT-5)"))
    if invoice.kind == "credit_note":
        raise _refuse(_("This is a credit note from the supplier: a refund is not a negative expense; record it "
                      "against the expense it refunds"))
    problems = arithmetic_problems(invoice)
    if problems:
        raise ValidationFailed([FieldError("file", _("The e-invoice's totals do not add up: %(problems)s", problems="; ".join(problems)))])
    if invoice.tax_exclusive <= 0:
        raise _refuse(_("The e-invoice's total without VAT is not above zero"))
    return invoice
