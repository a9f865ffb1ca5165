"""Peppol BIS Billing 3.0: an issued invoice or credit note as a UBL 2.1 Invoice or CreditNote. Pure.

The same document, business and client as the Factur-X (CII) XML of app.render.logic, in the syntax
the Peppol network carries, with what Peppol adds to EN 16931: the customization and profile ids,
an electronic address (EndpointID) for the seller and the buyer, and a buyer reference or an order
reference on every document.

How the document's figures become EN 16931 figures:
- a line's net (BT-131) is its quantity x price less its own discount, written as a line allowance;
  a negative line is a negative quantity at a positive price (BR-27);
- the document discount, which the totals spread over the lines, is a document-level allowance
  (BG-20) per VAT category and rate, so each breakdown's taxable amount is exactly the base its tax
  was computed on;
- the tax of each breakdown is the document's own figure (each tax computed once on its base);
- nothing paid later is in the XML (no prepaid amount): the issued e-invoice never changes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.common.addressing.logic import NOT_PEPPOL
from app.common.i18n import N_, _
from app.common.logic import FieldError, ValidationFailed
from app.documents import logic as documents_logic
from app.documents.logic import TaxAmount
from app.documents.records import DocumentView, LineView
from app.money import minor_digits, round_money
from app.render.logic import (
    CREDIT_NOTE,
    INVOICE,
    facturx_problem,
    snapshot_of,
    unit_code,
    vat_in_accounting_currency,
    xml_bytes,
)
from app.taxes.logic import tax_registration

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
# What a breakdown of each category must say about why no VAT is charged (BR-E-10, BR-AE-10, BR-IC-10,
# BR-G-10, BR-O-10): the VATEX code where the category has one, and a text (the tax's own legal note
# when it has one).
EXEMPTION_CODES = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}
EXEMPTION_TEXTS = {"E": "Exempt from VAT", "AE": "Reverse charge", "K": "Intra-community supply",
                   "G": "Export outside the EU", "O": "Not subject to VAT"}
RATED = ("S", "L", "M")
# EAS schemes that are an entity's legal registration (BT-30) as well as its address: an enterprise
# number, a Chamber of Commerce or organisation number. Any other ICD scheme (a GLN, a DUNS number) can
# still identify the seller (BT-29); a VAT-number scheme (99xx) is neither.
LEGAL_REGISTERS = frozenset({"0002", "0007", "0009", "0037", "0106", "0151", "0183", "0184", "0190", "0192",
                             "0195", "0208", "0211"})  # the categories whose rate is the tax's; every other one is at zero (O has none)
DISCOUNT_REASON_CODE = "95"  # UNCL 5189: discount
# Characters XML 1.0 cannot carry at all; older data may hold them (they are refused on input now).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

REFUSED_DETAIL = N_("This document cannot be a Peppol BIS invoice yet: receivers would reject it.")


class UblUnavailable(ValueError):
    """The document has no EN 16931 form at all (a draft, a quote, a compound tax): HTTP 409."""


@dataclass(frozen=True)
class UblLine:
    """A document line as EN 16931 sees it."""

    line: LineView
    quantity: Decimal
    price: Decimal  # never negative (BR-27)
    net: Decimal  # BT-131: quantity x price less the line's own discount, before the document discount
    adjustment: Decimal  # quantity x price (two decimals) less the net: a line allowance (>0) or charge (<0)
    category: str
    rate: Decimal


def _dec_text(value: Decimal) -> str:
    value = value.normalize()
    if value == value.to_integral():
        value = value.quantize(Decimal(1))
    return format(value, "f")


def _amount(value: Decimal, currency: str) -> str:
    return str(round_money(value, currency))


def _two_places(value: Decimal) -> Decimal:
    """An amount at two decimals at most, the most EN 16931 carries (BR-DEC): line adjustments."""
    return round_money(value, "EUR")


def category_of(line: LineView, taxes: Mapping[str, TaxAmount]) -> tuple[str, Decimal]:
    """A line's VAT category and rate: its tax's, and O (not subject to VAT) for a line with no tax."""
    if not line.taxes:
        return "O", Decimal(0)
    tax = taxes[line.taxes[0]]
    category = tax.category or "S"
    return category, (tax.rate if category in RATED else Decimal(0))


def ubl_lines(document: DocumentView) -> list[UblLine]:
    taxes = {t.code: t for t in document.taxes}
    currency = document.currency
    out = []
    for line in document.lines:
        quantity, price = line.quantity, line.unit_price
        if price < 0:
            quantity, price = -quantity, -price
        if document.discount_percent:  # the stored net has the document discount in it; BT-131 has not
            net = documents_logic.line_net(documents_logic.Line(description="", quantity=quantity, unit_price=price,
                                                                discount_percent=line.discount_percent), currency)
        else:
            net = line.net
        category, rate = category_of(line, taxes)
        out.append(UblLine(line=line, quantity=quantity, price=price, net=net,
                           adjustment=_two_places(quantity * price) - net, category=category, rate=rate))
    return out


def _party_values(frozen: Mapping[str, Any], live: Mapping[str, Any] | None) -> dict[str, Any]:
    """The party as frozen at issue; its electronic address from today's record when the frozen one has none.

    The address is where the document is delivered, not what it says: an invoice issued before its
    buyer's Peppol id was known must still reach it."""
    party = dict(frozen)
    if not (party.get("electronic_address") and party.get("electronic_address_scheme")) and live:
        party["electronic_address"] = live.get("electronic_address") or ""
        party["electronic_address_scheme"] = live.get("electronic_address_scheme") or ""
    return party


def parties(document: DocumentView, settings: Mapping[str, Any], client: Mapping[str, Any] | None
            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(seller, buyer) as the XML writes them."""
    snapshot = snapshot_of(document.snapshot, settings, client)
    return _party_values(snapshot["business"], settings), _party_values(snapshot["client"], client)


def ubl_problems(document: DocumentView, seller: Mapping[str, Any], buyer: Mapping[str, Any]) -> list[FieldError]:
    """What Peppol BIS or EN 16931 would reject in this document, each naming the field to fix; empty when
    it can be made. (A draft or a document EN 16931 cannot express at all is `facturx_problem`'s.)"""
    problems: list[FieldError] = []
    currency = document.currency
    if minor_digits(currency) > 2:
        problems.append(FieldError("currency", _(
            "%(currency)s amounts have %(digits)s decimals; EN 16931 carries at most two (BR-DEC), so a document "
            "in it has no e-invoice", currency=currency, digits=minor_digits(currency))))
    if not (seller.get("electronic_address") and seller.get("electronic_address_scheme")):
        problems.append(FieldError("settings.electronic_address", _(
            "Your electronic address (Peppol participant id, BT-34) is missing: set it and its scheme in Settings, "
            "E-invoicing (PEPPOL-EN16931-R020)")))
    if not (buyer.get("electronic_address") and buyer.get("electronic_address_scheme")):
        problems.append(FieldError("client.electronic_address", _(
            "The client's electronic address (Peppol participant id, BT-49) is missing. Set it on the client "
            "(Clients, Edit, E-invoicing) (PEPPOL-EN16931-R010)")))
    seller_scheme = seller.get("electronic_address_scheme") or ""
    if seller_scheme in NOT_PEPPOL:
        problems.append(FieldError("settings.electronic_address_scheme", _(
            "Your electronic address is of scheme %(scheme)s, which no Peppol participant uses: give its Peppol id "
            "(PEPPOL-EN16931-CL008)", scheme=seller_scheme)))
    buyer_scheme = buyer.get("electronic_address_scheme") or ""
    if buyer_scheme in NOT_PEPPOL:
        problems.append(FieldError("client.electronic_address_scheme", _(
            "The client's electronic address is of scheme %(scheme)s, which no Peppol participant uses: give its "
            "Peppol id (PEPPOL-EN16931-CL008)", scheme=buyer_scheme)))
    if not (seller.get("country") or "").strip():
        problems.append(FieldError("settings.country", _("Your country is missing: set it in Settings (BR-09)")))
    if not (buyer.get("country") or "").strip():
        problems.append(FieldError("client.country", _(
            "The client's country is missing (BR-11) (an issued document keeps the client as it was when issued)")
            if document.snapshot else _("The client's country is missing (BR-11)")))
    lines = ubl_lines(document)
    categories = {ln.category for ln in lines}
    untaxed = [ln.line.position for ln in lines if ln.category == "O"]
    if "O" in categories and len(categories) > 1:
        positions = ", ".join(str(p) for p in untaxed)
        problems.append(FieldError("lines", _(
            "Line %(positions)s has no tax (not subject to VAT, category O) while other lines are taxed; EN 16931 "
            "allows no other VAT category beside O (BR-O-11). Give the line an exempt or zero-rated tax with its "
            "legal note, or invoice it on its own.", positions=positions)))
    for tax in document.taxes:
        category = tax.category or "S"
        if category == "S" and tax.rate <= 0:
            problems.append(FieldError(f"taxes.{tax.code}", _(
                "Tax %(code)s is standard-rated (S) at 0 %%; a zero rate is category Z (BR-S-05)", code=tax.code)))
    seller_vat = tax_registration(seller.get("tax_number") or "")
    buyer_vat = tax_registration(buyer.get("tax_number") or "")
    seller_has_vat = seller_vat is not None and seller_vat[1] == "VA"
    buyer_has_vat = buyer_vat is not None and buyer_vat[1] == "VA"
    if categories & {"AE", "K", "G"} and not seller_has_vat:
        problems.append(FieldError("settings.tax_number", _(
            "Reverse charge, intra-community supplies and exports need your VAT number with its country prefix "
            "(BR-AE-02, BR-IC-02, BR-G-02)")))
    if categories & {"AE", "K"} and not buyer_has_vat:
        problems.append(FieldError("client.tax_number", _(
            "Reverse charge and intra-community supplies need the client's VAT number with its country prefix "
            "(BR-AE-03, BR-IC-03) (an issued document keeps the client as it was when issued)")
            if document.snapshot else _(
            "Reverse charge and intra-community supplies need the client's VAT number with its country prefix "
            "(BR-AE-03, BR-IC-03)")))
    # BR-CO-26: the seller is identified by an identifier (BT-29), a legal registration (BT-30) or a VAT
    # identifier (BT-31); an invoice with untaxed (O) lines carries no VAT identifier (BR-O-02).
    identified = (bool((seller.get("registration_number") or "").strip())
                  or (seller.get("electronic_address_scheme") or "").startswith("0")
                  or (seller_has_vat and categories != {"O"}))
    if not identified:
        problems.append(FieldError("settings.registration_number", _(
            "Your registration number (or VAT number) is missing: a buyer identifies the seller by one of them "
            "(BR-CO-26)")))
    return problems


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _el(parent: ET.Element, tag: str, text: Any = None, **attrib: str) -> ET.Element:
    prefix, name = tag.split(":")
    element = ET.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrib)
    if text is not None:
        element.text = _clean(str(text))
    return element


def _money(parent: ET.Element, tag: str, value: Decimal, currency: str) -> None:
    _el(parent, tag, _amount(value, currency), currencyID=currency)


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _tax_category(parent: ET.Element, tag: str, category: str, rate: Decimal, reason: str = "") -> None:
    node = _el(parent, tag)
    _el(node, "cbc:ID", category)
    if category != "O":
        _el(node, "cbc:Percent", _dec_text(rate))
    if reason:
        if category in EXEMPTION_CODES:
            _el(node, "cbc:TaxExemptionReasonCode", EXEMPTION_CODES[category])
        _el(node, "cbc:TaxExemptionReason", reason[:1000])
    _el(_el(node, "cac:TaxScheme"), "cbc:ID", "VAT")


def _party(parent: ET.Element, tag: str, party: Mapping[str, Any], *, seller: bool, with_vat: bool) -> None:
    node = _el(_el(parent, tag), "cac:Party")
    endpoint_scheme = party["electronic_address_scheme"]
    _el(node, "cbc:EndpointID", party["electronic_address"], schemeID=endpoint_scheme)
    legal_id = (party.get("registration_number") or "").strip() if seller else ""
    if seller and endpoint_scheme.startswith("0") and (legal_id or endpoint_scheme not in LEGAL_REGISTERS):
        # BT-29: an ICD-registered address (a GLN, a DUNS number) identifies the seller too.
        _el(_el(node, "cac:PartyIdentification"), "cbc:ID", party["electronic_address"], schemeID=endpoint_scheme)
    name = party.get("name") or ""
    _el(_el(node, "cac:PartyName"), "cbc:Name", name)
    address = _el(node, "cac:PostalAddress")
    for key, element in (("address_line1", "cbc:StreetName"), ("address_line2", "cbc:AdditionalStreetName"),
                         ("city", "cbc:CityName"), ("postal_code", "cbc:PostalZone"),
                         ("region", "cbc:CountrySubentity")):
        if party.get(key):
            _el(address, element, party[key])
    _el(_el(address, "cac:Country"), "cbc:IdentificationCode", (party.get("country") or "").upper())
    registration = tax_registration(party.get("tax_number") or "")
    if registration is not None and ((registration[1] == "VA" and with_vat) or (registration[1] == "FC" and seller)):
        scheme = _el(node, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", registration[0])
        # BT-31/BT-48 is the VAT identifier; a seller's other tax registration (BT-32) is any other scheme.
        _el(_el(scheme, "cac:TaxScheme"), "cbc:ID", "VAT" if registration[1] == "VA" else "TAX")
    legal = _el(node, "cac:PartyLegalEntity")
    _el(legal, "cbc:RegistrationName", name)
    if seller and not legal_id and endpoint_scheme in LEGAL_REGISTERS:
        # An address in a legal register (0208 enterprise number, 0106 KvK...) is the legal registration itself.
        _el(legal, "cbc:CompanyID", party["electronic_address"], schemeID=endpoint_scheme)
    elif legal_id:
        _el(legal, "cbc:CompanyID", legal_id)
    contact_name = "" if seller else (party.get("contact_name") or "")
    if contact_name or party.get("phone") or party.get("email"):
        contact = _el(node, "cac:Contact")
        if contact_name:
            _el(contact, "cbc:Name", contact_name)
        if party.get("phone"):
            _el(contact, "cbc:Telephone", party["phone"])
        if party.get("email"):
            _el(contact, "cbc:ElectronicMail", party["email"])


def buyer_reference_of(document: DocumentView, buyer: Mapping[str, Any]) -> str:
    """BT-10. Peppol requires a buyer reference or an order reference (PEPPOL-EN16931-R003): the client's
    own reference when it gave one, else its account with the seller (the client code), else the number."""
    return ((buyer.get("buyer_reference") or "").strip() or (buyer.get("code") or "").strip()
            or document.client_code or document.number or "")


def ubl_xml(document: DocumentView, *, settings: Mapping[str, Any], client: Mapping[str, Any] | None) -> bytes:
    """The Peppol BIS Billing 3.0 UBL of an issued invoice (Invoice) or credit note (CreditNote).

    `client` is the client as it is today (its electronic address stands in for a missing frozen one).
    Raises UblUnavailable when the document has no EN 16931 form, ValidationFailed (naming each field)
    when Peppol would reject it."""
    problem = facturx_problem(document)
    if problem and (document.doc_type not in (INVOICE, CREDIT_NOTE) or document.status == "draft"):
        raise UblUnavailable(problem)
    seller, buyer = parties(document, settings, client)
    # Peppol's own refusals name their field (a three-decimal currency, an untaxed line beside taxed
    # ones among them); what else keeps the document from any EN 16931 form comes after.
    problems = ubl_problems(document, seller, buyer)
    if problems:
        raise ValidationFailed(problems, detail=_(REFUSED_DETAIL))
    if problem:
        raise UblUnavailable(problem)
    credit_note = document.doc_type == CREDIT_NOTE
    kind = "CreditNote" if credit_note else "Invoice"
    for prefix, uri in (("cac", NS["cac"]), ("cbc", NS["cbc"])):
        ET.register_namespace(prefix, uri)
    ET.register_namespace("", NS["cn" if credit_note else "inv"])
    currency = document.currency
    taxes = {t.code: t for t in document.taxes}
    lines = ubl_lines(document)
    all_untaxed = all(ln.category == "O" for ln in lines)

    root = ET.Element(f"{{{NS['cn' if credit_note else 'inv']}}}{kind}")
    _el(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
    _el(root, "cbc:ProfileID", PROFILE_ID)
    _el(root, "cbc:ID", document.number)
    _el(root, "cbc:IssueDate", _day(document.issue_date))
    if document.due_date and not credit_note:
        _el(root, "cbc:DueDate", _day(document.due_date))
    _el(root, f"cbc:{kind}TypeCode", "381" if credit_note else "380")
    note = document.notes.strip()
    if note:  # one note at most (PEPPOL-EN16931-R002)
        _el(root, "cbc:Note", note)
    _el(root, "cbc:DocumentCurrencyCode", currency)
    # BT-6/BT-111 (app.fx): an EU seller's VAT in its accounting currency, at the rate frozen at issue.
    tax_currency, _accounting_total = vat_in_accounting_currency(document, seller, document.tax_total)
    if tax_currency:
        _el(root, "cbc:TaxCurrencyCode", tax_currency)
    _el(root, "cbc:BuyerReference", buyer_reference_of(document, buyer))
    if credit_note and document.invoice_number:
        _el(_el(_el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference"), "cbc:ID",
            document.invoice_number)
    _party(root, "cac:AccountingSupplierParty", seller, seller=True, with_vat=not all_untaxed)
    _party(root, "cac:AccountingCustomerParty", buyer, seller=False, with_vat=not all_untaxed)
    if any(ln.category == "K" for ln in lines):  # BR-IC-11, BR-IC-12: when and where the goods went
        delivery = _el(root, "cac:Delivery")
        _el(delivery, "cbc:ActualDeliveryDate", _day(document.issue_date))
        _el(_el(_el(_el(delivery, "cac:DeliveryLocation"), "cac:Address"), "cac:Country"),
            "cbc:IdentificationCode", (buyer.get("country") or "").upper())
    iban = re.sub(r"\s+", "", seller.get("bank_iban") or "")
    if iban and not credit_note:
        means = _el(root, "cac:PaymentMeans")
        # 58: SEPA credit transfer (euros to an IBAN); 30: any other credit transfer.
        _el(means, "cbc:PaymentMeansCode", "58" if currency == "EUR" else "30")
        _el(means, "cbc:PaymentID", document.number)
        account = _el(means, "cac:PayeeFinancialAccount")
        _el(account, "cbc:ID", iban)
        if seller.get("bank_account_holder"):
            _el(account, "cbc:Name", seller["bank_account_holder"])
        if seller.get("bank_bic"):
            _el(_el(account, "cac:FinancialInstitutionBranch"), "cbc:ID", seller["bank_bic"])
    if credit_note:
        # A credit note is settled against the invoice or the client's account, never by the invoice's terms.
        terms = (f"Credit for invoice {document.invoice_number}, settled against its balance"
                 if document.invoice_number else "Credit to the buyer's account")
    else:
        terms = document.terms.strip()
    if terms:
        _el(_el(root, "cac:PaymentTerms"), "cbc:Note", terms[:1000])

    # The document discount, per VAT category and rate: what the lines' nets lost to it (BG-20).
    groups: dict[tuple[str, Decimal], list[UblLine]] = {}
    for ln in lines:
        groups.setdefault((ln.category, ln.rate), []).append(ln)
    reasons: dict[tuple[str, Decimal], str] = {}
    amounts: dict[tuple[str, Decimal], Decimal] = {}
    for tax in taxes.values():
        category = tax.category or "S"
        key = (category, tax.rate if category in RATED else Decimal(0))
        amounts[key] = amounts.get(key, Decimal(0)) + tax.amount
        if tax.note.strip():
            reasons.setdefault(key, tax.note.strip())
    allowances: dict[tuple[str, Decimal], Decimal] = {}
    for key, members in groups.items():
        allowance = sum((ln.net for ln in members), Decimal(0)) - sum((ln.line.net for ln in members), Decimal(0))
        if allowance:
            allowances[key] = allowance
    percent = _dec_text(document.discount_percent)
    for (category, rate), allowance in allowances.items():
        node = _el(root, "cac:AllowanceCharge")
        _el(node, "cbc:ChargeIndicator", "false")
        _el(node, "cbc:AllowanceChargeReasonCode", DISCOUNT_REASON_CODE)
        _el(node, "cbc:AllowanceChargeReason", f"Document discount {percent} %")
        _money(node, "cbc:Amount", allowance, currency)
        _tax_category(node, "cac:TaxCategory", category, rate)

    tax_total = sum(amounts.values(), Decimal(0))
    total_node = _el(root, "cac:TaxTotal")
    _money(total_node, "cbc:TaxAmount", tax_total, currency)
    for key, members in groups.items():
        category, rate = key
        base = sum((ln.line.net for ln in members), Decimal(0))
        subtotal = _el(total_node, "cac:TaxSubtotal")
        _money(subtotal, "cbc:TaxableAmount", base, currency)
        _money(subtotal, "cbc:TaxAmount", amounts.get(key, Decimal(0)), currency)
        reason = (reasons.get(key) or EXEMPTION_TEXTS[category]) if category in EXEMPTION_TEXTS else ""
        _tax_category(subtotal, "cac:TaxCategory", category, rate, reason)
    if tax_currency:
        accounting_total = vat_in_accounting_currency(document, seller, tax_total)[1]
        if accounting_total is not None:
            _money(_el(root, "cac:TaxTotal"), "cbc:TaxAmount", accounting_total, tax_currency)

    line_total = sum((ln.net for ln in lines), Decimal(0))
    allowance_total = sum(allowances.values(), Decimal(0))
    exclusive = line_total - allowance_total
    inclusive = exclusive + tax_total
    payable = round_money(inclusive, currency)
    summary = _el(root, "cac:LegalMonetaryTotal")
    _money(summary, "cbc:LineExtensionAmount", line_total, currency)
    _money(summary, "cbc:TaxExclusiveAmount", exclusive, currency)
    _money(summary, "cbc:TaxInclusiveAmount", inclusive, currency)
    if allowance_total:
        _money(summary, "cbc:AllowanceTotalAmount", allowance_total, currency)
    if payable != inclusive:  # BT-114: only when the amount due is rounded away from the total
        _money(summary, "cbc:PayableRoundingAmount", payable - inclusive, currency)
    _money(summary, "cbc:PayableAmount", payable, currency)

    line_kind = "CreditNoteLine" if credit_note else "InvoiceLine"
    quantity_tag = "cbc:CreditedQuantity" if credit_note else "cbc:InvoicedQuantity"
    for ln in lines:
        node = _el(root, f"cac:{line_kind}")
        _el(node, "cbc:ID", ln.line.position)
        _el(node, quantity_tag, _dec_text(ln.quantity), unitCode=unit_code(ln.line.unit))
        _money(node, "cbc:LineExtensionAmount", ln.net, currency)
        if ln.adjustment:
            discount = ln.line.discount_percent != 0
            charge = not discount and ln.adjustment < 0
            adjustment = _el(node, "cac:AllowanceCharge")
            _el(adjustment, "cbc:ChargeIndicator", "true" if charge else "false")
            if discount:
                _el(adjustment, "cbc:AllowanceChargeReasonCode", DISCOUNT_REASON_CODE)
                _el(adjustment, "cbc:AllowanceChargeReason", f"Discount {_dec_text(ln.line.discount_percent)} %")
            else:  # the price has more decimals than the currency: the net is rounded to it
                _el(adjustment, "cbc:AllowanceChargeReason", "Rounding")
            _el(adjustment, "cbc:Amount", str(abs(ln.adjustment) if charge else ln.adjustment), currencyID=currency)
        item = _el(node, "cac:Item")
        name = _clean(ln.line.name).strip()
        if name:  # a catalogue item's line: its name, and its description when it says more (BT-153, BT-154)
            if described := _clean(ln.line.shown_description).strip():
                _el(item, "cbc:Description", described)
            _el(item, "cbc:Name", name[:200])
        else:
            description = _clean(ln.line.description).strip()
            if "\n" in description:
                _el(item, "cbc:Description", description)
            _el(item, "cbc:Name", (description.splitlines()[0][:200] if description else "") or "-")
        _tax_category(item, "cac:ClassifiedTaxCategory", ln.category, ln.rate)
        _el(_el(node, "cac:Price"), "cbc:PriceAmount", _dec_text(ln.price), currencyID=currency)
    return xml_bytes(root)
