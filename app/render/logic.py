"""What goes into a PDF: the template data of a document or statement, the EPC payment QR
payload, the Factur-X (EN 16931, CII) XML and its XMP metadata. Pure: no I/O.

Everything the templates print is formatted here, with Babel for the document's
locale, so a Typst template only lays out strings (and the print view shows the
same strings). Money stays Decimal until it becomes text.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import NumberPattern, format_currency, format_decimal, format_percent, parse_pattern

from app.clients.logic import is_leitweg_id
from app.common.i18n import L_, _
from app.common.logic import FieldError, ValidationFailed, filename_part
from app.common.units.logic import unit_in
from app.documents import logic as documents_logic
from app.documents.logic import TaxAmount
from app.documents.records import DocumentView, LineView, Snapshot
from app.fx import logic as fx_logic
from app.ledger.logic import LINE_PHRASES, line_text
from app.money import decimal_places, from_minor, minor_digits, round_money
from app.receivables.logic import StatementView
from app.settings import logic as settings_logic
from app.taxes.logic import tax_label, tax_note, tax_registration

QUOTE, INVOICE, CREDIT_NOTE, STATEMENT = "quote", "invoice", "credit_note", "statement"
TEMPLATES = {INVOICE: "invoice.typ", QUOTE: "quote.typ", CREDIT_NOTE: "credit-note.typ", STATEMENT: "statement.typ"}
ACCENTS = {INVOICE: "#1d4f7c", QUOTE: "#0f6e63", CREDIT_NOTE: "#9a4a12", STATEMENT: "#4b3a8c"}
LANGUAGES = ("en", "fr", "de")
FACTURX_FILENAME = "factur-x.xml"
EPC_MAX_AMOUNT = Decimal("999999999.99")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice", "quote": "Quote", "credit_note": "Credit note", "statement": "Statement of account",
        "number": "Number", "issue_date": "Date", "due_date": "Due date", "valid_until": "Valid until",
        "bill_to": "Bill to", "quote_for": "Prepared for", "credit_to": "Credit to", "client_code": "Client no.",
        "currency": "Currency", "reference": "Reference", "credits_invoice": "Credit note for invoice {number}",
        "from_quote": "Quote", "tax_id": "VAT no.", "reg_no": "Reg. no.", "buyer_reference": "Your reference: {reference}",
        "pos": "#", "description": "Description", "qty": "Qty", "unit": "Unit", "unit_price": "Unit price",
        "discount": "Disc.", "tax": "Tax", "amount": "Amount",
        "subtotal": "Subtotal", "total": "Total", "paid": "Paid", "credited": "Credited",
        "balance_due": "Balance due", "total_credit": "Total credit", "total_quote": "Total",
        "tax_summary": "Tax summary", "rate": "Rate", "base": "Taxable amount", "tax_amount": "Tax",
        "discount_note": "Includes a document discount of {percent}",
        "payment": "Payment", "payment_due": "Please pay {amount} by {date}.", "payment_now": "Please pay {amount}.",
        "paid_in_full": "Paid in full. Thank you.",
        "account_holder": "Account holder", "bank": "Bank", "iban": "IBAN", "bic": "BIC",
        "bank_institution": "Institution", "bank_transit": "Transit", "bank_routing": "Routing (ABA)",
        "bank_account_number": "Account",
        "payment_reference": "Reference", "scan_to_pay": "Scan to pay with your banking app",
        "acceptance": "Accepted by the client", "name_date": "Name and date", "signature": "Signature",
        "notes": "Notes", "terms": "Terms", "quote_validity": "This quote is valid until {date}.",
        "page": "Page", "of": "of", "continued": "continued", "continued_next": "Continued on the next page",
        "draft": "DRAFT", "cancelled": "CANCELLED", "cancelled_note": "Cancelled: {reason}",
        "phone": "Tel.", "email": "Email", "web": "Web",
        # statements
        "statement_date": "Statement date", "statement_for": "Client", "period": "Period", "opening_balance": "Opening balance",
        "closing_balance": "Closing balance", "date": "Date", "kind": "Type", "debit": "Debit", "credit": "Credit",
        "balance": "Balance", "amount_due": "Amount due", "aging": "Aging of the open balance",
        "aging_current": "Not yet due", "aging_1_30": "1-30 days", "aging_31_60": "31-60 days",
        "aging_61_90": "61-90 days", "aging_over_90": "Over 90 days", "summary": "Summary",
        "invoiced": "Invoiced", "received": "Payments and credits", "no_entries": "No movements in this period.",
        "kind_invoice": "Invoice", "kind_payment": "Payment", "kind_credit_note": "Credit note",
        "kind_refund": "Refund", "kind_reversal": "Reversal", "kind_adjustment": "Adjustment",
        "kind_credit": "Credit applied", "kind_opening": "Opening balance",
        "kind_reminder_charge": "Reminder fee", "kind_reminder_cancelled": "Reminder cancelled",
        "kind_charge_payment": "Fee paid", "kind_credit_to_charges": "Credit to fee",
        "kind_credit_applied": "Credit applied", "kind_cancellation": "Cancellation",
    },
    "fr": {
        "invoice": "Facture", "quote": "Devis", "credit_note": "Avoir", "statement": "Relevé de compte",
        "number": "Numéro", "issue_date": "Date", "due_date": "Échéance", "valid_until": "Valable jusqu’au",
        "bill_to": "Facturé à", "quote_for": "Établi pour", "credit_to": "Avoir pour", "client_code": "N° client",
        "currency": "Devise", "reference": "Référence", "credits_invoice": "Avoir sur la facture {number}",
        "from_quote": "Devis", "tax_id": "N° TVA", "reg_no": "Immatriculation", "buyer_reference": "Votre référence\u00a0: {reference}",
        "pos": "#", "description": "Désignation", "qty": "Qté", "unit": "Unité", "unit_price": "Prix unitaire",
        "discount": "Remise", "tax": "TVA", "amount": "Montant HT",
        "subtotal": "Total HT", "total": "Total TTC", "paid": "Déjà réglé", "credited": "Avoirs",
        "balance_due": "Reste à payer", "total_credit": "Total de l’avoir", "total_quote": "Total TTC",
        "tax_summary": "Récapitulatif des taxes", "rate": "Taux", "base": "Base HT", "tax_amount": "Montant",
        "discount_note": "Remise de {percent} incluse",
        "payment": "Règlement", "payment_due": "Merci de régler {amount} avant le {date}.",
        "payment_now": "Merci de régler {amount}.", "paid_in_full": "Facture acquittée. Merci.",
        "account_holder": "Titulaire", "bank": "Banque", "iban": "IBAN", "bic": "BIC",
        "bank_institution": "Institution", "bank_transit": "Transit", "bank_routing": "Routage (ABA)",
        "bank_account_number": "Compte",
        "payment_reference": "Référence", "scan_to_pay": "Scannez pour payer avec votre application bancaire",
        "acceptance": "Bon pour accord", "name_date": "Nom et date", "signature": "Signature",
        "notes": "Remarques", "terms": "Conditions", "quote_validity": "Ce devis est valable jusqu’au {date}.",
        "page": "Page", "of": "sur", "continued": "suite", "continued_next": "Suite à la page suivante",
        "draft": "BROUILLON", "cancelled": "ANNULÉE", "cancelled_note": "Annulée : {reason}",
        "phone": "Tél.", "email": "E-mail", "web": "Web",
        "statement_date": "Date du relevé", "statement_for": "Client", "period": "Période", "opening_balance": "Solde d’ouverture",
        "closing_balance": "Solde de clôture", "date": "Date", "kind": "Type", "debit": "Débit", "credit": "Crédit",
        "balance": "Solde", "amount_due": "Montant dû", "aging": "Ancienneté du solde",
        "aging_current": "Non échu", "aging_1_30": "1 à 30 jours", "aging_31_60": "31 à 60 jours",
        "aging_61_90": "61 à 90 jours", "aging_over_90": "Plus de 90 jours", "summary": "Synthèse",
        "invoiced": "Facturé", "received": "Règlements et avoirs", "no_entries": "Aucun mouvement sur la période.",
        "kind_invoice": "Facture", "kind_payment": "Règlement", "kind_credit_note": "Avoir",
        "kind_refund": "Remboursement", "kind_reversal": "Annulation", "kind_adjustment": "Ajustement",
        "kind_credit": "Crédit imputé", "kind_opening": "Solde d’ouverture",
        "kind_reminder_charge": "Frais de relance", "kind_reminder_cancelled": "Relance annulée",
        "kind_charge_payment": "Frais réglés", "kind_credit_to_charges": "Crédit sur frais",
        "kind_credit_applied": "Crédit imputé", "kind_cancellation": "Annulation de facture",
    },
    "de": {
        "invoice": "Rechnung", "quote": "Angebot", "credit_note": "Gutschrift", "statement": "Kontoauszug",
        "number": "Nummer", "issue_date": "Datum", "due_date": "Fällig am", "valid_until": "Gültig bis",
        "bill_to": "Rechnungsempfänger", "quote_for": "Angebot für", "credit_to": "Gutschrift für",
        "client_code": "Kundennr.", "currency": "Währung", "reference": "Bezug",
        "credits_invoice": "Gutschrift zur Rechnung {number}", "from_quote": "Angebot", "tax_id": "USt-IdNr.",
        "reg_no": "Registernr.", "buyer_reference": "Ihr Zeichen: {reference}",
        "pos": "Pos.", "description": "Beschreibung", "qty": "Menge", "unit": "Einheit", "unit_price": "Einzelpreis",
        "discount": "Rabatt", "tax": "USt.", "amount": "Betrag",
        "subtotal": "Zwischensumme (netto)", "total": "Gesamtbetrag", "paid": "Bezahlt", "credited": "Gutgeschrieben",
        "balance_due": "Offener Betrag", "total_credit": "Gutschriftsbetrag", "total_quote": "Gesamtbetrag",
        "tax_summary": "Steuerübersicht", "rate": "Satz", "base": "Netto", "tax_amount": "Steuer",
        "discount_note": "Enthält einen Rabatt von {percent}",
        "payment": "Zahlung", "payment_due": "Bitte überweisen Sie {amount} bis zum {date}.",
        "payment_now": "Bitte überweisen Sie {amount}.", "paid_in_full": "Vollständig bezahlt. Vielen Dank.",
        "account_holder": "Kontoinhaber", "bank": "Bank", "iban": "IBAN", "bic": "BIC",
        "bank_institution": "Institut", "bank_transit": "Filiale (Transit)", "bank_routing": "Routing (ABA)",
        "bank_account_number": "Konto",
        "payment_reference": "Verwendungszweck", "scan_to_pay": "Mit der Banking-App scannen und bezahlen",
        "acceptance": "Auftrag erteilt", "name_date": "Name und Datum", "signature": "Unterschrift",
        "notes": "Anmerkungen", "terms": "Bedingungen", "quote_validity": "Dieses Angebot ist gültig bis {date}.",
        "page": "Seite", "of": "von", "continued": "Fortsetzung", "continued_next": "Fortsetzung auf der nächsten Seite",
        "draft": "ENTWURF", "cancelled": "STORNIERT", "cancelled_note": "Storniert: {reason}",
        "phone": "Tel.", "email": "E-Mail", "web": "Web",
        "statement_date": "Datum", "statement_for": "Kunde", "period": "Zeitraum", "opening_balance": "Anfangssaldo",
        "closing_balance": "Endsaldo", "date": "Datum", "kind": "Art", "debit": "Soll", "credit": "Haben",
        "balance": "Saldo", "amount_due": "Offener Betrag", "aging": "Fälligkeitsstruktur",
        "aging_current": "Noch nicht fällig", "aging_1_30": "1–30 Tage", "aging_31_60": "31–60 Tage",
        "aging_61_90": "61–90 Tage", "aging_over_90": "Über 90 Tage", "summary": "Übersicht",
        "invoiced": "Berechnet", "received": "Zahlungen und Gutschriften",
        "no_entries": "Keine Buchungen in diesem Zeitraum.",
        "kind_invoice": "Rechnung", "kind_payment": "Zahlung", "kind_credit_note": "Gutschrift",
        "kind_refund": "Erstattung", "kind_reversal": "Storno", "kind_adjustment": "Korrektur",
        "kind_credit": "Verrechnetes Guthaben", "kind_opening": "Anfangssaldo",
        "kind_reminder_charge": "Mahngebühr", "kind_reminder_cancelled": "Mahnung storniert",
        "kind_charge_payment": "Gebühr bezahlt", "kind_credit_to_charges": "Guthaben auf Gebühr",
        "kind_credit_applied": "Verrechnetes Guthaben", "kind_cancellation": "Stornierung",
    },
}

# A statement's lines, worded from each ledger entry's kind and references (app.ledger.logic.line_text) in
# the client's language; English is app.ledger.logic.LINE_PHRASES itself (gettext's source for pages).
LINE_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "invoice": "Facture {number}", "credit_note": "Avoir {number}",
        "credit_note_on_account": "Avoir {number} (à valoir)", "cancellation": "Avoir {number}, annulant la facture",
        "payment": "Règlement, {method}", "kept_as_credit": "{amount} portés au crédit du compte",
        "reversal": "Règlement du {date} annulé",
        "credit_applied": "{amount} de crédit client imputés sur {number}",
        "refund": "Remboursement du crédit client, {method}",
        "reminder_charge": "{title} {number} ({invoices}) : frais {fee}, intérêts {interest}",
        "reminder_cancelled": "{title} {number} annulée",
        "credit_to_charges": "{amount} de crédit client imputés sur les frais et intérêts de {number}",
        "charge_payment": "Règlement des frais et intérêts de {number}, {method}",
        "method_bank_transfer": "virement", "method_card": "carte bancaire", "method_cash": "espèces",
        "method_cheque": "chèque", "method_paypal": "PayPal", "method_other": "autre moyen",
    },
    "de": {
        "invoice": "Rechnung {number}", "credit_note": "Gutschrift {number}",
        "credit_note_on_account": "Gutschrift {number} (als Guthaben)",
        "cancellation": "Gutschrift {number}, Stornierung der Rechnung",
        "payment": "Zahlung, {method}", "kept_as_credit": "{amount} als Guthaben verbucht",
        "reversal": "Zahlung vom {date} storniert",
        "credit_applied": "{amount} Guthaben mit {number} verrechnet",
        "refund": "Erstattung von Guthaben, {method}",
        "reminder_charge": "{title} {number} ({invoices}): Gebühr {fee}, Zinsen {interest}",
        "reminder_cancelled": "{title} {number} storniert",
        "credit_to_charges": "{amount} Guthaben mit Gebühr und Zinsen zu {number} verrechnet",
        "charge_payment": "Zahlung von Gebühr und Zinsen zu {number}, {method}",
        "method_bank_transfer": "Überweisung", "method_card": "Karte", "method_cash": "bar",
        "method_cheque": "Scheck", "method_paypal": "PayPal", "method_other": "sonstige",
    },
}
for _language, _lines in {"en": LINE_PHRASES, **LINE_LABELS}.items():
    LABELS[_language].update({f"line_{key}": text for key, text in _lines.items()})

AGING_BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")


# -- locale and formatting ----------------------------------------------------------

def language_of(language: str | None, default_locale: str | None = None) -> str:
    """The document language: the client's, else the business locale's, else English."""
    for candidate in (language, default_locale):
        lang = (candidate or "").replace("-", "_").split("_")[0].lower()
        if lang in LABELS:
            return lang
    return "en"


@lru_cache(maxsize=256)
def _known_locale(name: str) -> bool:
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def document_locale(language: str | None, country: str | None = None, default_locale: str | None = None) -> str:
    """The Babel locale for numbers, money and dates.

    The document language, with the client's country when Babel knows the pair
    (fr + CA -> fr_CA: `1 234,50 $`; en + US -> en_US: `$1,234.50`), else with the
    business locale's region when it speaks the same language, else the bare language.
    """
    lang = language_of(language, default_locale)
    candidates = []
    if country:
        candidates.append(f"{lang}_{country.strip().upper()}")
    business = (default_locale or "").replace("-", "_")
    if business.split("_")[0].lower() == lang:
        candidates.append(business)
    candidates.append(lang)
    for name in candidates:
        if _known_locale(name):
            return name
    return "en"


@lru_cache(maxsize=64)
def _parsed(locale: str) -> Locale:
    return Locale.parse(locale)


def _loc(locale: str | Locale) -> Locale:
    """Babel parses a locale name on every call; a document formats ~100 values in one locale."""
    return _parsed(locale) if isinstance(locale, str) else locale


@lru_cache(maxsize=64)
def _pattern(pattern: str) -> NumberPattern:
    """Babel parses a number pattern on every call; a document formats ~60 numbers in a few patterns."""
    return parse_pattern(pattern)


def labels_for(language: str) -> dict[str, str]:
    return dict(LABELS.get(language, LABELS["en"]))


def money(amount: Decimal, currency: str, locale: str) -> str:
    """`1.234,50 €` (de), `1 234,50 $` (fr_CA), `$1,234.50` (en_US): the amount with its currency."""
    return format_currency(round_money(amount, currency), currency, locale=_loc(locale))


def amount_text(amount: Decimal, currency: str, locale: str) -> str:
    """The amount with the currency's decimals and the locale's separators, no symbol (table cells)."""
    digits = minor_digits(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(round_money(amount, currency), format=_pattern(pattern), locale=_loc(locale))


def _plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (100, not 1E+2)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def number_text(value: Decimal, locale: str, max_places: int = 4) -> str:
    return format_decimal(_plain(value), format=_pattern("#,##0." + "#" * max_places), locale=_loc(locale))


def price_text(value: Decimal, currency: str, locale: str) -> str:
    """A unit price: at least the currency's decimals, up to four if the price has them."""
    digits = minor_digits(currency)
    value = _plain(value)
    places = max(digits, decimal_places(value))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=_pattern(pattern), locale=_loc(locale))


def percent_text(rate: Decimal, locale: str) -> str:
    """A rate given in percent (19, 5.5, 9.975) as the locale writes it: `19 %`, `5,5 %`, `19%`."""
    return format_percent(_plain(Decimal(rate)) / 100, locale=_loc(locale), decimal_quantization=False)


def date_text(value: date | str | None, locale: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format="medium", locale=_loc(locale))


def iban_text(iban: str) -> str:
    compact = re.sub(r"\s+", "", iban or "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or "0"))


# -- EPC QR ("GiroCode") ------------------------------------------------------------

def epc_payload(*, name: str, iban: str, amount: Decimal, reference: str, bic: str = "",
                currency: str = "EUR") -> str | None:
    """The EPC069-12 v2 payload (BCD/002, UTF-8, SEPA credit transfer), or None when it cannot apply.

    Only for euros, an IBAN, and an amount between 0.01 and 999,999,999.99. The
    invoice number goes in the unstructured remittance field (structured is for RF references).
    """
    iban = re.sub(r"\s+", "", iban or "").upper()
    if currency != "EUR" or not iban or amount is None:
        return None
    amount = round_money(_dec(amount), "EUR")
    if not Decimal("0.01") <= amount <= EPC_MAX_AMOUNT:
        return None
    name = " ".join((name or "").split())[:70]
    if not name:
        return None
    lines = ["BCD", "002", "1", "SCT", re.sub(r"\s+", "", bic or "").upper(), name, iban, f"EUR{amount}", "", "",
             " ".join((reference or "").split())[:140]]
    payload = "\n".join(lines).rstrip("\n")
    return payload if len(payload.encode("utf-8")) <= 331 else None


# -- address blocks ---------------------------------------------------------------

def address_lines(party: Mapping[str, Any]) -> list[str]:
    """Street lines, then the city line as the country writes it (`Toronto ON M5V 2T6`, `75011 Paris`)."""
    postal, city, region = (party.get(k) or "" for k in ("postal_code", "city", "region"))
    country = (party.get("country") or "").upper()
    lines = [party.get("address_line1") or "", party.get("address_line2") or ""]
    if country in ("CA", "US", "AU"):
        lines.append(" ".join(p for p in (city, region, postal) if p))
    elif country in ("GB", "IE"):
        lines += [city, region, postal]
    else:
        lines += [" ".join(p for p in (postal, city) if p), region]
    return [line for line in lines if line]


# How each country names a business's tax number on its documents (issue 16): the country's own term,
# whatever the document's language, so a Canadian invoice in German still says GST/HST and never
# USt-IdNr. Per language where the country has two (Canada, Belgium); "" falls back to the document
# language's generic label ("VAT no.").
TAX_NUMBER_LABELS: dict[str, dict[str, str]] = {
    "CA": {"en": "GST/HST No.", "fr": "N° TPS/TVH"},
    "CA-QST": {"en": "QST No.", "fr": "N° TVQ"},
    "CA-BOTH": {"en": "GST/HST and QST Nos.", "fr": "N° TPS/TVH et TVQ"},
    "US": {"": "EIN"},
    "DE": {"": "USt-IdNr."},
    "DE-LOCAL": {"": "Steuernummer"},
    "AT": {"": "UID-Nr."},
    "CH": {"": "MWST-Nr."},
    "FR": {"": "N° TVA"},
    "BE": {"fr": "N° TVA", "": "Btw-nr."},
    "NL": {"": "Btw-id"},
    "LU": {"": "N° TVA"},
    "IT": {"": "Partita IVA"},
    "ES": {"": "NIF-IVA"},
    "GB": {"": "VAT Reg. No."},
    "AU": {"": "ABN"},
}
_QST_NUMBER = re.compile(r"\bTQ\s*\d{4}\b", re.I)
_GST_NUMBER = re.compile(r"\bRT\s*\d{4}\b", re.I)


def tax_number_label(country: str | None, number: str, lang: str, fallback: str) -> str:
    """The label of a tax number as its country writes it: `GST/HST No.` (a Canadian business number, RT),
    `QST No.` (Québec's, TQ), `USt-IdNr.` (a German VAT id; `Steuernummer` for a local one), `N° TVA`,
    `EIN`...; `fallback` (the document language's "VAT no.") for a country without its own."""
    key = (country or "").upper()
    if key == "CA":
        qst, gst = bool(_QST_NUMBER.search(number or "")), bool(_GST_NUMBER.search(number or ""))
        key = "CA-BOTH" if qst and gst else "CA-QST" if qst else "CA"
    elif key == "DE" and tax_registration(number or "") is not None and not (number or "").strip().upper().startswith("DE"):
        key = "DE-LOCAL"
    labels = TAX_NUMBER_LABELS.get(key)
    if not labels:
        return fallback
    return labels.get(lang) or labels.get("") or labels.get("en") or fallback


def report_locale(settings: Mapping[str, Any]) -> str:
    """The locale of the reports' numbers and dates (their words are English): the business's, so an accountant
    reads 1.234,50 in Germany and 1,234.50 in Canada."""
    return document_locale("en", settings.get("country"), settings.get("default_locale"))


def paper_of(settings: Mapping[str, Any]) -> str:
    """The Typst paper of the PDFs: US Letter in Canada and the US, A4 elsewhere, or what Settings chose."""
    return "us-letter" if settings_logic.paper_size(settings) == "letter" else "a4"


def _country_name(code: str, locale: str = "en") -> str:
    if not code:
        return ""
    try:
        name: str = _loc(locale).territories.get(code.upper(), code.upper())
        return name
    except (UnknownLocaleError, ValueError):
        return code.upper()


def _party_lines(party: Mapping[str, Any], locale: str) -> list[str]:
    lines = address_lines(party)
    country = _country_name(party.get("country") or "", locale)
    return lines + ([country] if country else [])


def _reference_line(buyer: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    """The buyer's reference (BT-10) under its address, when it has one: `Leitweg-ID: 04011000-…-06`."""
    reference = (buyer.get("buyer_reference") or "").strip()
    if not reference:
        return []
    if is_leitweg_id(reference):
        return [f"Leitweg-ID: {reference}"]
    return [labels["buyer_reference"].format(reference=reference)]


# -- documents ---------------------------------------------------------------------

def snapshot_of(frozen: Snapshot | None, settings: Mapping[str, Any], client: Mapping[str, Any] | None) -> Snapshot:
    """The frozen business and client of an issued document; a draft's from today's settings and client."""
    if frozen:
        return frozen
    return documents_logic.snapshot(settings, client or {})


# -- what cannot be printed --------------------------------------------------------------

_CLIENT_FIELDS = (("name", "name"), ("contact_name", "contact"), ("address_line1", "address"),
                  ("address_line2", "address (line 2)"), ("postal_code", "postal code"), ("city", "city"),
                  ("region", "province / state"), ("email", "email"), ("tax_number", "tax number"),
                  ("code", "code"), ("buyer_reference", "buyer reference"))


def field_holding(text: str, document: DocumentView, data: Mapping[str, Any]) -> tuple[str, str]:
    """Which field of a document (or of what it prints: the client, the business) holds `text`, as
    (field name, words for it). The document's own fields first, then its frozen client and business;
    ("document", ...) when none does (a template's own text)."""
    for index, line in enumerate(document.lines):
        if text in line.name:
            return f"lines[{index}].name", f"Line {index + 1}'s name"
        if text in line.description:
            return f"lines[{index}].description", f"Line {index + 1}'s description"
        if text in line.unit:
            return f"lines[{index}].unit", f"Line {index + 1}'s unit"
    for name in ("notes", "terms", "footer"):
        if text in (getattr(document, name) or ""):
            return name, f"The {name}"
    snapshot = document.snapshot or {}
    client = snapshot.get("client") or {}
    for name, words in _CLIENT_FIELDS:
        if text in str(client.get(name) or ""):
            return f"client.{name}", f"The client's {words}"
    for name, value in (client or {}).items():
        if isinstance(value, str) and text in value:
            return f"client.{name}", f"The client's {name.replace('_', ' ')}"
    for name, value in (snapshot.get("business") or {}).items():
        if isinstance(value, str) and text in value:
            return f"settings.{name}", f"Your business's {name.replace('_', ' ')} (Settings)"
    if text in (data.get("footer_text") or ""):
        return "settings.invoice_footer", "The footer (Settings)"
    return "document", "The document"


def _character_name(ch: str) -> str:
    kinds = {"Co": "a private-use character", "Cn": "an unassigned code point", "Cc": "a control character"}
    return unicodedata.name(ch, "") or kinds.get(unicodedata.category(ch), "a character without a name")


def unprintable_message(label: str, text: str, font: str) -> str:
    names = ", ".join(f"U+{ord(ch):04X} {_character_name(ch)}" for ch in text[:4])
    return (f"{label} holds \u201c{text}\u201d ({names}), which no bundled font can print (Typst tried {font}). "
            "Change that text and issue again; nothing was issued.")


def pdf_filename(document: DocumentView) -> str:
    """`INV-2026-0007_Globex.pdf`, `INV-2026-0008_Søren-Hansen.pdf` (letters kept, in any script); a draft
    is `Invoice-draft-12_Globex.pdf`."""
    client = (document.snapshot or {}).get("client", {}).get("name") or document.client_name
    return pdf_filename_of(document.doc_type, document.id, document.number, client)


def pdf_filename_of(doc_type: str, document_id: int, number: str | None, client_name: str | None) -> str:
    """pdf_filename from the few fields it reads (serving a stored PDF reads only these)."""
    number = number or f"{doc_type.replace('_', '-').title()}-draft-{document_id}"
    client = client_name or ""
    name = filename_part(number) + (f"_{filename_part(client)}" if filename_part(client) else "")
    return f"{name}.pdf"


def watermark_of(document: DocumentView, labels: Mapping[str, str]) -> str:
    """A draft says so across the page. An issued document prints as it was issued, always: a later
    cancellation is told by its credit note, not by a stamp on the document of record."""
    return labels["draft"] if document.status == "draft" else ""


def document_data(document: DocumentView, *, settings: Mapping[str, Any],
                  client: Mapping[str, Any] | None = None, logo: str | None = None,
                  facturx: bool = False) -> dict[str, Any]:
    """The template data of a quote, invoice or credit note (also the print view's context)."""
    kind = document.doc_type
    snapshot = snapshot_of(document.snapshot, settings, client)
    business, buyer = snapshot["business"], snapshot["client"]
    lang = language_of(buyer.get("language"), settings.get("default_locale"))
    locale = document_locale(lang, buyer.get("country"), settings.get("default_locale"))
    labels = labels_for(lang)
    currency = document.currency

    def m(value: Decimal) -> str:
        return money(value, currency, locale)

    taxes = document.taxes
    lines_in = document.lines
    discounts = any(ln.discount_percent != 0 for ln in lines_in)
    codes = {code for ln in lines_in for code in ln.taxes}
    show_tax = len(codes) > 1 or (bool(codes) and any(not ln.taxes for ln in lines_in))
    show_unit = any(ln.unit.strip() for ln in lines_in)
    lines = []
    for ln in lines_in:
        lines.append({
            "pos": str(ln.position),
            # The item's name in bold, its description under it (not repeated when it is only the name).
            "name": ln.name,
            "description": ln.shown_description,
            "qty": number_text(ln.quantity, locale),
            "unit": unit_in(ln.unit, lang, ln.quantity),
            "price": price_text(ln.unit_price, currency, locale),
            "discount": percent_text(ln.discount_percent, locale) if ln.discount_percent else "",
            "tax": ", ".join(ln.taxes),
            "amount": amount_text(ln.net, currency, locale),
        })

    widths = column_widths(lines, labels, {"discount": discounts, "tax": show_tax, "unit": show_unit})
    tax_rows = [{"name": tax_label(t, lang), "code": t.code, "rate": percent_text(t.rate, locale), "base": m(t.base),
                 "amount": m(t.amount), "category": t.category} for t in taxes]
    # The document of record: what was issued, whatever was paid or credited since (payments are told by
    # a receipt or the client's statement, never by the invoice).
    total = document.total
    totals: list[dict[str, str]] = [{"label": labels["subtotal"], "value": m(document.subtotal), "style": ""}]
    for t in taxes:
        totals.append({"label": tax_label(t, lang), "value": m(t.amount), "style": ""})
    total_label = {INVOICE: labels["total"], QUOTE: labels["total_quote"], CREDIT_NOTE: labels["total_credit"]}[kind]
    totals.append({"label": total_label, "value": m(total), "style": "total"})
    due: dict[str, str] | None = None

    meta: list[list[str]] = []
    meta.append([labels["issue_date"], date_text(document.issue_date, locale)])
    if kind == INVOICE and document.due_date:
        meta.append([labels["due_date"], date_text(document.due_date, locale)])
    if kind == QUOTE and document.valid_until:
        meta.append([labels["valid_until"], date_text(document.valid_until, locale)])
    if kind == CREDIT_NOTE and document.invoice_number:
        meta.append([labels["reference"], document.invoice_number])
    if kind == INVOICE and document.source_quote_number:
        meta.append([labels["from_quote"], document.source_quote_number])
    if buyer.get("code"):
        meta.append([labels["client_code"], buyer["code"]])
    if buyer.get("tax_number"):
        meta.append([tax_number_label(buyer.get("country"), buyer["tax_number"], lang, labels["tax_id"]),
                     buyer["tax_number"]])

    payment = None
    if kind == INVOICE and document.status != "draft":
        payment = _payment_block(document, business, labels, locale, total)

    notes = document.notes
    tax_notes = []
    for t in taxes:
        note = tax_note(t, lang)
        if note and note not in tax_notes:
            tax_notes.append(note)
    if document.discount_percent:
        tax_notes.append(labels["discount_note"].format(percent=percent_text(document.discount_percent, locale)))
    terms = document.terms
    if kind == QUOTE and document.valid_until:
        terms = "\n".join(p for p in (labels["quote_validity"].format(date=date_text(document.valid_until, locale)),
                                      terms) if p)
    footer_text = document.footer or (settings.get("invoice_footer") or "" if kind != QUOTE else "")

    title = labels[kind]
    recipient_label = {INVOICE: labels["bill_to"], QUOTE: labels["quote_for"], CREDIT_NOTE: labels["credit_to"]}[kind]
    return {
        "kind": kind, "lang": lang, "locale": locale, "accent": ACCENTS[kind], "labels": labels,
        "title": title, "number": document.number or "", "currency": currency,
        "watermark": watermark_of(document, labels),
        "watermark_kind": "draft", "paper": paper_of(settings),
        "pdf_title": " ".join(p for p in (title, document.number or "", "—", business.get("name") or "") if p),
        "business": _business_block(business, labels, locale, logo),
        "client": {"label": recipient_label, "name": buyer.get("name") or "", "contact": buyer.get("contact_name") or "",
                   "lines": _party_lines(buyer, locale) + _reference_line(buyer, labels), "email": buyer.get("email") or ""},
        "meta": meta,
        "columns": {"discount": discounts, "tax": show_tax, "unit": show_unit}, "widths": widths,
        "lines": lines,
        "tax_rows": tax_rows,
        "totals": totals, "due": due, "payment": payment,
        "notes": notes, "tax_notes": tax_notes, "terms": terms, "footer_text": footer_text,
        "facturx": facturx,
    }


# Inter at the table's sizes: a tabular digit is about 0.6 em (1.9 mm at 8.8 pt), an
# upper-case header letter about 0.75 em of 7 pt with tracking (1.85 mm); a cell adds 2.8 mm of inset.
_DIGIT_MM, _LETTER_MM, _HEADER_MM, _INSET_MM = 1.95, 1.75, 1.9, 3.0


def _width(values: list[str], header: str, per_char: float = _DIGIT_MM) -> float:
    longest = max((len(v) for v in values), default=0)
    return round(max(longest * per_char, len(header) * _HEADER_MM) + _INSET_MM, 1)


def column_widths(lines: list[dict[str, str]], labels: Mapping[str, str], columns: Mapping[str, bool]) -> dict[str, float]:
    """Fixed widths (mm) for the line table's narrow columns: Typst lays out fixed columns
    several times faster than `auto` ones, and these only hold short formatted strings."""
    widths = {"pos": _width([ln["pos"] for ln in lines], labels["pos"]),
              "qty": _width([ln["qty"] for ln in lines], labels["qty"]),
              "price": _width([ln["price"] for ln in lines], labels["unit_price"]),
              "amount": _width([ln["amount"] for ln in lines], labels["amount"]) + 1}
    if columns.get("unit"):
        widths["unit"] = min(_width([ln["unit"] for ln in lines], labels["unit"], _LETTER_MM), 24)
    if columns.get("discount"):
        widths["discount"] = _width([ln["discount"] for ln in lines], labels["discount"])
    if columns.get("tax"):
        widths["tax"] = min(_width([ln["tax"] for ln in lines], labels["tax"], _LETTER_MM), 30)
    return widths


def _business_block(business: Mapping[str, Any], labels: Mapping[str, str], locale: str, logo: str | None) -> dict[str, Any]:
    ids = []
    if business.get("tax_number"):
        label = tax_number_label(business.get("country"), business["tax_number"], locale.split("_")[0], labels["tax_id"])
        ids.append(f"{label} {business['tax_number']}")
    if business.get("registration_number"):
        ids.append(f"{labels['reg_no']} {business['registration_number']}")
    contact = []
    if business.get("phone"):
        contact.append(f"{labels['phone']} {business['phone']}")
    if business.get("email"):
        contact.append(business["email"])
    if business.get("website"):
        contact.append(business["website"])
    bank = []
    if business.get("bank_iban"):
        bank.append(f"IBAN {iban_text(business['bank_iban'])}")
        if business.get("bank_bic"):
            bank.append(f"BIC {business['bank_bic']}")
    bank.extend(_domestic_account_lines(business, labels))
    return {"name": business.get("name") or "", "tagline": business.get("tagline") or "",
            "lines": _party_lines(business, locale), "contact": contact, "ids": ids, "bank": bank,
            "logo": logo}


# A Canadian account (institution, transit, account) or a US one (ABA routing, account), app.fx; the
# labels in English where a language has none of its own.
DOMESTIC_ACCOUNT_LABELS = {"institution": "Institution", "transit": "Transit", "routing": "Routing (ABA)",
                           "account_number": "Account"}


def _domestic_account_rows(business: Mapping[str, Any], labels: Mapping[str, str]) -> list[list[str]]:
    rows = []
    for name in ("institution", "transit", "routing", "account_number"):
        value = business.get(f"bank_{name}")
        if value:
            rows.append([labels.get(f"bank_{name}", DOMESTIC_ACCOUNT_LABELS[name]), str(value)])
    return rows


def _domestic_account_lines(business: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    return [f"{label} {value}" for label, value in _domestic_account_rows(business, labels)]


def bank_rows(business: Mapping[str, Any], labels: Mapping[str, str], *, reference: str = "") -> list[list[str]]:
    """Where to pay, as an invoice, a statement and a reminder print it: the account holder, the bank, the IBAN
    and BIC or the domestic account (Canada, the US), and the reference to give; none without an account."""
    rows: list[list[str]] = []
    if not (business.get("bank_iban") or business.get("bank_account_number")):
        return rows
    rows.append([labels["account_holder"], business.get("bank_account_holder") or business.get("name") or ""])
    if business.get("bank_name"):
        rows.append([labels["bank"], business["bank_name"]])
    if business.get("bank_iban"):
        rows.append([labels["iban"], iban_text(business["bank_iban"])])
    if business.get("bank_bic"):
        rows.append([labels["bic"], business["bank_bic"]])
    rows.extend(_domestic_account_rows(business, labels))
    if reference:
        rows.append([labels["payment_reference"], reference])
    return rows


def _payment_block(document: DocumentView, business: Mapping[str, Any], labels: Mapping[str, str], locale: str,
                   balance: Decimal) -> dict[str, Any] | None:
    """How to pay the invoice's total, as issued (`balance`: its total; nothing to pay prints no block)."""
    currency = document.currency
    if balance <= 0:
        return None
    rows = bank_rows(business, labels, reference=document.number or "")
    if document.due_date:
        message = labels["payment_due"].format(amount=money(balance, currency, locale),
                                               date=date_text(document.due_date, locale))
    else:
        message = labels["payment_now"].format(amount=money(balance, currency, locale))
    qr = epc_payload(name=business.get("bank_account_holder") or business.get("name") or "",
                     iban=business.get("bank_iban") or "", bic=business.get("bank_bic") or "", amount=balance,
                     reference=document.number or "", currency=currency)
    return {"message": message, "rows": rows, "qr_payload": qr, "qr_svg": None,
            "qr_caption": labels["scan_to_pay"]}


# -- statements -------------------------------------------------------------------

STATEMENT_PHRASES = {"invoice": "", "credit_note": "", "cancellation": "", "payment": "{method}"}


def statement_data(data: Mapping[str, Any], *, settings: Mapping[str, Any], logo: str | None = None) -> dict[str, Any]:
    """The template data of a client statement, from the ledger's figures.

    `data`: client (name, address, language, country, code), currency, period_from,
    period_to, date, opening_balance, entries [{date, kind, number, description, debit,
    credit, balance?}], closing_balance?, aging {current, 1_30, 31_60, 61_90, over_90}.
    A missing running balance is computed from the opening balance; a missing closing
    balance is the last running balance.
    """
    client = data.get("client") or {}
    business = data.get("business") or snapshot_of(None, settings, None)["business"]
    lang = language_of(client.get("language"), settings.get("default_locale"))
    locale = document_locale(lang, client.get("country"), settings.get("default_locale"))
    labels = labels_for(lang)
    currency = data["currency"]

    def m(value: Any) -> str:
        return money(_dec(value), currency, locale)

    def a(value: Any) -> str:
        return amount_text(_dec(value), currency, locale) if value not in (None, "") and _dec(value) else ""

    def statement_phrase(key: str) -> str:
        """The ledger's line in words, less what the type and number columns beside it say: an invoice's or
        a credit note's line says nothing more, a payment's says how it was paid ("Bank transfer (ref)")."""
        return STATEMENT_PHRASES.get(key, labels[f"line_{key}"])

    running = _dec(data.get("opening_balance"))
    debit_total = credit_total = Decimal(0)
    entries = []
    for entry in data.get("entries") or []:
        debit, credit = _dec(entry.get("debit")), _dec(entry.get("credit"))
        debit_total += debit
        credit_total += credit
        running = _dec(entry["balance"]) if entry.get("balance") not in (None, "") else running + debit - credit
        kind = entry.get("kind") or ""
        description = line_text(kind, entry.get("number") or "", entry.get("refs"), entry.get("description") or "",
                                phrase=statement_phrase,
                                money=lambda minor: money(from_minor(minor, currency), currency, locale),
                                day=lambda text: date_text(text, locale))
        description = description[:1].upper() + description[1:]   # "virement (…)" begins the cell: "Virement (…)"
        entries.append({"date": date_text(entry.get("date"), locale),
                        "kind": labels.get(f"kind_{kind}", kind.replace("_", " ").capitalize()),
                        "number": entry.get("number") or "", "description": description,
                        "debit": a(debit), "credit": a(credit), "balance": amount_text(running, currency, locale)})
    closing = _dec(data["closing_balance"]) if data.get("closing_balance") not in (None, "") else running
    totals_row = [amount_text(debit_total, currency, locale), amount_text(credit_total, currency, locale),
                  amount_text(closing, currency, locale), amount_text(_dec(data.get("opening_balance")), currency, locale)]
    widths = {"date": _width([e["date"] for e in entries], labels["date"], _LETTER_MM),
              "kind": _width([e["kind"] for e in entries], labels["kind"], _LETTER_MM),
              "number": _width([e["number"] for e in entries], labels["number"], _LETTER_MM),
              "debit": _width([e["debit"] for e in entries] + totals_row[:1], labels["debit"]) + 1,
              "credit": _width([e["credit"] for e in entries] + totals_row[1:2], labels["credit"]) + 1,
              "balance": _width([e["balance"] for e in entries] + totals_row[2:], labels["balance"]) + 1}
    aging = data.get("aging") or {}
    buckets = [{"label": labels[f"aging_{key}"], "value": m(aging.get(key, 0))} for key in AGING_BUCKETS] if aging else []
    period = " – ".join(p for p in (date_text(data.get("period_from"), locale), date_text(data.get("period_to"), locale)) if p)
    meta = [[labels["statement_date"], date_text(data.get("date") or data.get("period_to"), locale)]]
    if period:
        meta.append([labels["period"], period])
    if client.get("code"):
        meta.append([labels["client_code"], client["code"]])
    meta.append([labels["currency"], currency])
    payment: dict[str, Any] | None = None
    if closing > 0:
        payment = {"message": labels["payment_now"].format(amount=m(closing)), "rows": [], "qr_payload": None,
                   "qr_svg": None, "qr_caption": labels["scan_to_pay"]}
        payment["rows"] = bank_rows(business, labels)
        if business.get("bank_iban"):
            payment["qr_payload"] = epc_payload(
                name=business.get("bank_account_holder") or business.get("name") or "", iban=business["bank_iban"],
                bic=business.get("bank_bic") or "", amount=closing, currency=currency,
                reference=" ".join(p for p in (labels["statement"], client.get("code") or client.get("name") or "") if p))
    return {
        "kind": STATEMENT, "lang": lang, "locale": locale, "accent": ACCENTS[STATEMENT], "labels": labels,
        "title": labels["statement"], "number": "", "currency": currency, "watermark": "", "watermark_kind": "",
        "paper": paper_of(settings),
        "pdf_title": f"{labels['statement']} — {client.get('name') or ''}",
        "business": _business_block(business, labels, locale, logo),
        "client": {"label": labels["statement_for"], "name": client.get("name") or "",
                   "contact": client.get("contact_name") or "", "lines": _party_lines(client, locale),
                   "email": client.get("email") or ""},
        "meta": meta,
        "opening": m(data.get("opening_balance")), "closing": m(closing),
        "opening_amount": amount_text(_dec(data.get("opening_balance")), currency, locale),
        "closing_amount": amount_text(closing, currency, locale),
        "summary": [[labels["opening_balance"], m(data.get("opening_balance"))], [labels["invoiced"], m(debit_total)],
                    [labels["received"], m(-credit_total)]],
        "entries": entries, "debit_total": a(debit_total), "credit_total": a(credit_total), "widths": widths,
        "aging": buckets, "payment": payment, "notes": data.get("notes") or "",
        "footer_text": settings.get("invoice_footer") or "", "tax_notes": [], "terms": "", "facturx": False,
    }


def statement_input(view: StatementView) -> dict[str, Any]:
    """The one way from a client's statement (app.receivables) to the data statement_data takes: the
    downloaded PDF and the emailed one are both built here, so they say the same, dated the same."""
    st = view.statement
    return {
        "client": view.client, "currency": view.currency, "period_from": st.date_from, "period_to": st.date_to,
        "date": view.statement_date, "opening_balance": st.opening, "closing_balance": st.closing,
        # aging keyed as the labels are: "1-30" -> "1_30", "over 90" -> "over_90"
        "aging": {key.replace("-", "_").replace(" ", "_"): value for key, value in st.aging.items()},
        "entries": [{"date": row.entry.entry_date, "kind": row.entry.kind, "number": row.entry.number,
                     "description": row.entry.description, "refs": row.entry.refs,
                     "debit": row.entry.debit, "credit": row.entry.credit,
                     "balance": row.balance} for row in st.rows],
    }


def statement_filename(view: StatementView) -> str:
    client = view.client
    code = filename_part(client.get("code") or "") or str(client.get("id") or "client")
    return f"Statement_{code}_{view.statement.date_from.isoformat()}_{view.statement.date_to.isoformat()}.pdf"


# -- Factur-X (EN 16931, CII D16B) ---------------------------------------------------

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
XRECHNUNG_GUIDELINE = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
VAT_CATEGORIES = {"S", "Z", "E", "AE", "K", "G", "O", "L", "M"}
EXEMPTION_REASONS = {
    "E": "Exempt from VAT", "AE": "Reverse charge", "K": "Intra-community supply",
    "G": "Export outside the EU", "O": "Not subject to VAT",
}
UNIT_CODES = {
    "h": "HUR", "hr": "HUR", "hrs": "HUR", "hour": "HUR", "hours": "HUR", "heure": "HUR", "heures": "HUR",
    "std": "HUR", "std.": "HUR", "stunde": "HUR", "stunden": "HUR",
    "d": "DAY", "day": "DAY", "days": "DAY", "jour": "DAY", "jours": "DAY", "j": "DAY", "tag": "DAY", "tage": "DAY",
    "week": "WEE", "weeks": "WEE", "semaine": "WEE", "woche": "WEE", "wk": "WEE",
    "month": "MON", "months": "MON", "mois": "MON", "monat": "MON", "mo": "MON",
    "year": "ANN", "years": "ANN", "an": "ANN", "jahr": "ANN",
    "min": "MIN", "minute": "MIN", "minutes": "MIN",
    "km": "KMT", "kg": "KGM", "g": "GRM", "m": "MTR", "m2": "MTK", "m²": "MTK", "m3": "MTQ", "l": "LTR",
    "pc": "H87", "pcs": "H87", "piece": "H87", "pieces": "H87", "pce": "H87", "stk": "H87", "stück": "H87",
    "unit": "C62", "units": "C62", "": "C62", "ea": "C62", "each": "C62", "forfait": "C62", "flat": "C62",
    "pauschal": "C62", "lump sum": "C62",
}


class FacturXUnavailable(ValueError):
    """The document cannot be expressed as an EN 16931 invoice (e.g. two taxes on a line)."""


def unit_code(unit: str) -> str:
    return UNIT_CODES.get((unit or "").strip().lower(), "C62")


def _amount(value: Decimal, currency: str) -> str:
    return str(round_money(_dec(value), currency))


def _rate(value: Any) -> str:
    return format(_plain(_dec(value)), "f")


# The EU member states: their sellers account for VAT in euros or their national currency (BT-6).
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
    "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
# The EU members whose VAT is accounted in their own currency; the others account in euros.
VAT_ACCOUNTING_CURRENCY = {"CZ": "CZK", "DK": "DKK", "HU": "HUF", "PL": "PLN", "RO": "RON", "SE": "SEK"}
# EN 16931 amounts carry at most two decimals (BR-DEC-*): a currency with more cannot be written.
EN16931_MAX_DECIMALS = 2


def _line_category(line: LineView, taxes: Mapping[str, TaxAmount]) -> str:
    """The line's VAT category (BT-151): its tax's, or O (not subject to VAT) for a line without tax."""
    return (taxes[line.taxes[0]].category or "S") if line.taxes and line.taxes[0] in taxes else "O"


def facturx_problem(document: DocumentView) -> str | None:
    """Why the document has no EN 16931 form, or None when it has one (the document page shows it)."""
    if document.doc_type not in (INVOICE, CREDIT_NOTE):
        return _("only invoices and credit notes are e-invoices")
    if document.status == "draft":
        return _("a draft is not an invoice yet")
    return einvoice_content_problem(document)


def einvoice_content_problem(document: DocumentView) -> str | None:
    """Why the document's content (currency, taxes, lines) has no EN 16931 form, drafts included: a draft's
    page says it before issuing."""
    digits = minor_digits(document.currency)
    if digits > EN16931_MAX_DECIMALS:
        return (_("%(currency)s amounts have %(digits)s decimals and EN 16931 allows %(EN16931_MAX_DECIMALS)s at most (rules BR-DEC)", currency=document.currency, digits=digits, EN16931_MAX_DECIMALS=EN16931_MAX_DECIMALS))
    for tax in document.taxes:
        if tax.compound:
            return _("tax %(code)s is compounded, which EN 16931 cannot express", code=tax.code)
        if (tax.category or "S") not in VAT_CATEGORIES:
            return _("tax %(code)s has no VAT category", code=tax.code)
    for line in document.lines:
        if len(line.taxes) > 1:
            return _("line %(position)s carries %(count)s taxes; EN 16931 allows one VAT rate per line", position=line.position, count=len(line.taxes))
    taxes = {t.code: t for t in document.taxes}
    untaxed = [line.position for line in document.lines if _line_category(line, taxes) == "O"]
    if untaxed and len(untaxed) < len(document.lines):
        return (_("line %(untaxed)s has no tax (not subject to VAT, category O) while other lines are taxed; EN 16931 allows no other VAT category beside O (rule BR-O-11): give that line a tax, e.g. an exempt one with its legal note, or invoice it on its own", untaxed=untaxed[0]))
    return None


def einvoice_warnings(document: DocumentView, settings: Mapping[str, Any] | None = None) -> list[str]:
    """What an e-invoice of this document leaves out though a receiver may expect it (the document page
    and the API say it): an EU seller invoicing in another currency owes the VAT total in its VAT
    accounting currency (BT-6, BT-111), which needs an exchange rate Counterfoil does not record yet."""
    if facturx_problem(document) is not None:
        return []
    business = snapshot_of(document.snapshot, settings or {}, None)["business"]
    country = (business.get("country") or "").upper()
    accounting = VAT_ACCOUNTING_CURRENCY.get(country, "EUR")
    if country in EU_COUNTRIES and document.currency != accounting and not (
            document.exchange_rate is not None and document.base_currency == accounting):
        return [f"Invoiced in {document.currency} by a seller in {country}: EN 16931 expects the VAT total also in "
                f"the VAT accounting currency (BT-6, BT-111: {accounting}), which needs the {accounting} exchange "
                f"rate of the issue date (base currency {accounting}, Settings, Exchange rates). Without it the "
                f"e-invoice gives the VAT in {document.currency} only; state the VAT in {accounting} to the buyer "
                f"if asked."]
    return []


# -- the EN 16931 semantic model ----------------------------------------------------
# One pure step gathers what an e-invoice says (named by the standard's business terms, BT-n, and
# groups, BG-n); a writer per syntax puts it into XML (CII below; UBL can be written from the same).

@dataclass(frozen=True)
class EParty:
    """The seller (BG-4) or the buyer (BG-7)."""

    name: str                          # BT-27 / BT-44
    identifier: str = ""               # BT-46 the buyer's identifier (the client code)
    legal_registration: str = ""       # BT-30 the seller's legal registration identifier
    vat_id: str = ""                   # BT-31 / BT-48 VAT identifier (scheme VA)
    tax_registration: str = ""         # BT-32 the seller's tax registration identifier (scheme FC)
    contact_name: str = ""             # BT-41 / BT-56 contact point (a person or a department)
    contact_phone: str = ""            # BT-42 / BT-57
    contact_email: str = ""            # BT-43 / BT-58
    address_line1: str = ""            # BT-35 / BT-50
    address_line2: str = ""            # BT-36 / BT-51
    city: str = ""                     # BT-37 / BT-52
    postal_code: str = ""              # BT-38 / BT-53
    region: str = ""                   # BT-39 / BT-54
    country: str = ""                  # BT-40 / BT-55
    electronic_address: str = ""       # BT-34 / BT-49
    electronic_address_scheme: str = ""  # its scheme (EAS code list: EM for an email address, 0088, 9930...)


@dataclass(frozen=True)
class ELine:
    """An invoice line (BG-25)."""

    id: str                 # BT-126
    name: str               # BT-153
    description: str        # BT-154
    quantity: Decimal       # BT-129 (below zero for a negative line: a price is never negative, BR-27)
    unit_code: str          # BT-130
    net_price: Decimal      # BT-146
    allowance: Decimal      # BT-136 the line discount (BG-27); below zero on a negative line it is a charge (BG-28)
    net_amount: Decimal     # BT-131 = quantity x price - allowance
    vat_category: str       # BT-151
    vat_rate: Decimal       # BT-152 (not written for category O)


@dataclass(frozen=True)
class EAllowance:
    """A document level allowance (BG-20), or a charge (BG-21) when `charge`: the document discount of one
    VAT category and rate (a charge where that group's lines add up below zero)."""

    amount: Decimal         # BT-92 / BT-99
    reason: str             # BT-97 / BT-104
    reason_code: str        # BT-98 (UNTDID 5189, 95 = discount) / BT-105
    vat_category: str       # BT-95 / BT-102
    vat_rate: Decimal       # BT-96 / BT-103
    charge: bool = False


@dataclass(frozen=True)
class EVat:
    """One VAT breakdown (BG-23) per category and rate."""

    category: str           # BT-118
    rate: Decimal           # BT-119
    taxable: Decimal        # BT-116
    amount: Decimal         # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_code: str = ""    # BT-121


@dataclass(frozen=True)
class EPayment:
    """Payment instructions (BG-16)."""

    means_code: str         # BT-81 (UNTDID 4461)
    means_text: str = ""    # BT-82
    remittance: str = ""    # BT-83
    iban: str = ""          # BT-84 as an IBAN
    account_id: str = ""    # BT-84 any other account identifier
    account_name: str = ""  # BT-85
    bic: str = ""           # BT-86


@dataclass(frozen=True)
class EInvoice:
    """What an EN 16931 invoice or credit note says, before any syntax."""

    specification: str      # BT-24
    number: str             # BT-1
    type_code: str          # BT-3: 380 invoice, 381 credit note
    issue_date: date        # BT-2
    currency: str           # BT-5
    notes: tuple[str, ...]  # BT-22
    buyer_reference: str    # BT-10 (a Leitweg-ID for a German public buyer)
    seller: EParty
    buyer: EParty
    delivery_date: date     # BT-72
    payment: EPayment | None  # BG-16
    terms: str              # BT-20
    due_date: date | None   # BT-9
    preceding_invoice: str  # BT-25
    lines: tuple[ELine, ...]
    allowances: tuple[EAllowance, ...]
    vat: tuple[EVat, ...]
    line_total: Decimal     # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal   # BT-108
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal      # BT-110
    grand_total: Decimal    # BT-112
    prepaid: Decimal        # BT-113
    due: Decimal            # BT-115
    # BT-6 and BT-111: an EU seller invoicing in another currency than its VAT accounting currency gives the
    # VAT total in that currency too, at the rate frozen at issue (app.fx); empty when not needed or unknown.
    tax_currency: str = ""
    tax_total_accounting: Decimal | None = None


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


def _seller_of(business: Mapping[str, Any]) -> EParty:
    registration = tax_registration(business.get("tax_number") or "")
    email = business.get("email") or ""
    return EParty(
        name=business.get("name") or "", legal_registration=business.get("registration_number") or "",
        vat_id=registration[0] if registration and registration[1] == "VA" else "",
        tax_registration=registration[0] if registration and registration[1] == "FC" else "",
        # The contact point is the one set for e-invoices; its phone and email default to the business's.
        contact_name=business.get("seller_contact_name") or "",
        contact_phone=business.get("seller_contact_phone") or business.get("phone") or "",
        contact_email=business.get("seller_contact_email") or email,
        address_line1=business.get("address_line1") or "", address_line2=business.get("address_line2") or "",
        city=business.get("city") or "", postal_code=business.get("postal_code") or "",
        region=business.get("region") or "", country=(business.get("country") or "").upper(),
        electronic_address=business.get("electronic_address") or email,
        electronic_address_scheme=business.get("electronic_address_scheme") or ("EM" if email else ""))


def _buyer_of(client: Mapping[str, Any]) -> EParty:
    registration = tax_registration(client.get("tax_number") or "")
    email = client.get("email") or ""
    return EParty(
        name=client.get("name") or "", identifier=client.get("code") or "",
        vat_id=registration[0] if registration and registration[1] == "VA" else "",
        contact_name=client.get("contact_name") or "", contact_phone=client.get("phone") or "", contact_email=email,
        address_line1=client.get("address_line1") or "", address_line2=client.get("address_line2") or "",
        city=client.get("city") or "", postal_code=client.get("postal_code") or "",
        region=client.get("region") or "", country=(client.get("country") or "").upper(),
        electronic_address=client.get("electronic_address") or email,
        electronic_address_scheme=client.get("electronic_address_scheme") or ("EM" if email else ""))


def _settlement_text(document: DocumentView) -> str:
    """How a credit note is settled (BT-20 and BT-82): against its invoice, else the buyer's account."""
    if document.invoice_number:
        return f"Credit for invoice {document.invoice_number}: deducted from the amount due, nothing to pay"
    return "Credit to the buyer's account: deducted from the next amount due, nothing to pay"


def _payment_of(document: DocumentView, business: Mapping[str, Any]) -> EPayment | None:
    """BG-16. An IBAN is a credit transfer to it (58, SEPA, in euros; 30 in another currency). Without one,
    the means chosen in Settings. A credit note is settled between the partners (97), not paid."""
    if document.doc_type == CREDIT_NOTE:
        return EPayment(means_code="97", means_text=_settlement_text(document))
    iban = re.sub(r"\s+", "", business.get("bank_iban") or "").upper()
    text = (business.get("payment_means_text") or "").strip()
    if iban:
        return EPayment(means_code="58" if document.currency == "EUR" else "30", means_text=text,
                        remittance=document.number or "", iban=iban,
                        account_name=business.get("bank_account_holder") or "", bic=business.get("bank_bic") or "")
    code = business.get("payment_means_code") or ""
    if not code:
        return None
    account = (business.get("payment_account_id") or "").strip() if code in ("30", "42") else ""
    return EPayment(means_code=code, means_text=text, remittance=document.number or "", account_id=account,
                    account_name=(business.get("bank_account_holder") or "") if account else "",
                    bic=(business.get("bank_bic") or "") if account else "")


def einvoice_of(document: DocumentView, *, settings: Mapping[str, Any] | None = None,
                client: Mapping[str, Any] | None = None, guideline: str = EN16931_GUIDELINE) -> EInvoice:
    """The EN 16931 content of an issued invoice or credit note. Raises FacturXUnavailable when it has none.

    Each line says price x quantity - line discount = line net (BT-131); the document discount is a
    document level allowance (BG-20) per VAT category and rate, so the lines add up to BT-106 and the
    breakdowns' taxable amounts to BT-109, the document's subtotal. The VAT amounts are the document's
    own (each tax computed once on its base). No prepaid amount: payments never change the issued XML.
    """
    problem = facturx_problem(document)
    if problem:
        raise FacturXUnavailable(problem)
    currency = document.currency
    frozen = snapshot_of(document.snapshot, settings or {}, client)
    # A document issued before a business field was frozen takes it from today's settings.
    business = {**{k: v for k, v in (settings or {}).items() if k not in frozen["business"]}, **frozen["business"]}
    buyer_fields = frozen["client"]
    taxes = {t.code: t for t in document.taxes}
    credit_note = document.doc_type == CREDIT_NOTE
    zero = round_money(Decimal(0), currency)

    lines: list[ELine] = []
    discounts: dict[tuple[str, Decimal], Decimal] = {}   # the document discount per category and rate
    for line in document.lines:
        quantity, price = line.quantity, line.unit_price
        if price < 0:  # BR-27: a price is never negative; a negative line is a negative quantity
            quantity, price = -quantity, -price
        category = _line_category(line, taxes)
        rate = taxes[line.taxes[0]].rate if category in ("S", "L", "M") else Decimal(0)
        # The line's net before the document discount, as app.documents rounds it.
        before_discount = documents_logic.line_net(
            documents_logic.Line(line.description, line.quantity, line.unit_price, line.discount_percent),
            currency)
        discounts[(category, rate)] = discounts.get((category, rate), Decimal(0)) + before_discount - line.net
        description = line.description.strip()
        # A catalogue item's line: the item's name (BT-153) and the description when it says more (BT-154).
        name = line.name.strip()[:200] or (description.splitlines()[0][:200] if description else "-")
        described = line.shown_description.strip() if line.name.strip() else (
            description if "\n" in description else "")
        lines.append(ELine(
            id=str(line.position), name=name,
            description=described, quantity=quantity, unit_code=unit_code(line.unit),
            net_price=price, allowance=round_money(quantity * price, currency) - before_discount,
            net_amount=before_discount, vat_category=category, vat_rate=rate))
    allowances = tuple(
        EAllowance(amount=abs(amount), charge=amount < 0, vat_category=category, vat_rate=rate,
                   reason_code="" if amount < 0 else "95",
                   reason=(f"Document discount of {_rate(document.discount_percent)}%"
                           + (" on lines adding up below zero" if amount < 0 else "")))
        for (category, rate), amount in discounts.items() if amount)

    # One breakdown per category and rate: the lines' nets less that group's share of the discount,
    # and the document's own tax amount (summed when two tax codes share category and rate).
    amounts: dict[tuple[str, Decimal], Decimal] = {}
    reasons: dict[tuple[str, Decimal], str] = {}
    for tax in taxes.values():
        category = tax.category or "S"
        key = (category, tax.rate if category in ("S", "L", "M") else Decimal(0))
        amounts[key] = amounts.get(key, Decimal(0)) + tax.amount
        if tax.note:
            reasons.setdefault(key, tax.note)
    bases: dict[tuple[str, Decimal], Decimal] = {}
    for line in document.lines:
        category = _line_category(line, taxes)
        key = (category, taxes[line.taxes[0]].rate if category in ("S", "L", "M") else Decimal(0))
        bases[key] = bases.get(key, Decimal(0)) + line.net
    vat = tuple(
        EVat(category=category, rate=rate, taxable=base, amount=amounts.get((category, rate), zero),
             exemption_reason=((reasons.get((category, rate)) or EXEMPTION_REASONS[category])[:500]
                               if category in EXEMPTION_REASONS else ""),
             exemption_code="VATEX-EU-AE" if category == "AE" else "")
        for (category, rate), base in bases.items())

    line_total = sum((line.net_amount for line in lines), zero)
    allowance_total = sum((a.amount for a in allowances if not a.charge), zero)
    charge_total = sum((a.amount for a in allowances if a.charge), zero)
    tax_exclusive = line_total - allowance_total + charge_total
    tax_total = sum((v.amount for v in vat), zero)
    grand_total = tax_exclusive + tax_total
    # Part of the document of record: what was invoiced, never what has been paid or credited since.
    prepaid = zero
    terms = document.terms.strip()
    if credit_note and not terms:  # BR-CO-25: an amount due needs terms or a due date; say how it is settled
        terms = _settlement_text(document)
    terms = terms[:1000]
    if terms.startswith("#") or "\n#" in terms:
        terms += "\n"   # XRechnung ends a discount line (#SKONTO#...#) with a line break (BR-DE-18)
    notes = [document.notes] + [t.note for t in taxes.values()]
    seller, buyer = _seller_of(business), _buyer_of(buyer_fields)
    if all(v.category == "O" for v in vat):
        # BR-O-02/04: a document not subject to VAT names no VAT identifier. The seller is then known by
        # its legal registration (BT-30) or, without one, its VAT number as its identifier (BT-29, BR-CO-26).
        seller = replace(seller, vat_id="", identifier=seller.identifier or ("" if seller.legal_registration
                                                                             else seller.vat_id))
        buyer = replace(buyer, vat_id="")
    tax_currency, accounting_total = vat_in_accounting_currency(document, business, tax_total)
    return EInvoice(
        specification=guideline, number=document.number or "", type_code="381" if credit_note else "380",
        issue_date=_as_date(document.issue_date), currency=currency,
        notes=tuple(dict.fromkeys(n.strip() for n in notes if n and n.strip())),
        buyer_reference=(buyer_fields.get("buyer_reference") or "").strip(),
        seller=seller, buyer=buyer, delivery_date=_as_date(document.issue_date),
        payment=_payment_of(document, business), terms=terms,
        due_date=None if credit_note or not document.due_date else _as_date(document.due_date),
        preceding_invoice=(document.invoice_number or "") if credit_note else "",
        lines=tuple(lines), allowances=allowances, vat=vat, line_total=line_total, allowance_total=allowance_total,
        charge_total=charge_total, tax_exclusive=tax_exclusive, tax_total=tax_total, grand_total=grand_total,
        prepaid=prepaid, due=grand_total - prepaid, tax_currency=tax_currency, tax_total_accounting=accounting_total)


def vat_in_accounting_currency(document: DocumentView, business: Mapping[str, Any], tax_total: Decimal
                               ) -> tuple[str, Decimal | None]:
    """BT-6 and BT-111: ("", None) unless the seller is in the EU and the document is not in its VAT
    accounting currency; then that currency and the VAT total in it, converted at the rate the document
    froze at issue when that rate is against the accounting currency (None while no rate is known)."""
    country = (business.get("country") or "").upper()
    accounting = VAT_ACCOUNTING_CURRENCY.get(country, "EUR")
    if country not in EU_COUNTRIES or document.currency == accounting:
        return "", None
    if document.exchange_rate is None or document.base_currency != accounting:
        return "", None
    return accounting, fx_logic.to_base(tax_total, document.exchange_rate, accounting)


# -- XRechnung: what KoSIT's rules ask beyond EN 16931 ---------------------------------------------

XRECHNUNG_DETAIL = ("This document cannot be an XRechnung that German public buyers accept (KoSIT's rules); "
                    "fix what is named below.")
BUYER_REFERENCE_DETAIL = ("XRechnung needs the buyer reference (BT-10, rule BR-DE-15): for a German public "
                          "authority, its Leitweg-ID.")
SETTINGS_PLACE = L_("Settings, E-invoices")   # read in the reader's language where a message names it
# XRechnung's way to state a discount for early payment in the terms (BT-20), one line each (BR-DE-18).
SKONTO_LINE = re.compile(r"#SKONTO#TAGE=[0-9]+#PROZENT=[0-9]+\.[0-9]{2}(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#")


def xrechnung_problems(invoice: EInvoice, *, issued: bool = True) -> list[FieldError]:
    """What KoSIT's XRechnung rules (BR-DE-*) would reject in this e-invoice; empty when it passes.

    The export refuses these instead of producing a file the buyer's portal turns away. `issued`:
    the document keeps the client and the business as they were at issue (their snapshot).
    """
    problems: list[FieldError] = []
    again = _("; an issued invoice keeps the client as it was when issued, so cancel this one and issue a new "
              "invoice to carry it") if issued else ""
    if not invoice.buyer_reference:
        problems.append(FieldError("buyer_reference", _("The client has no buyer reference (Leitweg-ID), rule BR-DE-15. Set it on the client (Clients, Edit, “Buyer reference (e.g. Leitweg-ID)”)%(again)s.", again=again)))
    seller = invoice.seller
    for field, value, rule, what in (
            ("seller_contact_name", seller.contact_name, "BR-DE-5", _("a contact person or department (BT-41)")),
            ("seller_contact_phone", seller.contact_phone, "BR-DE-6", _("a contact phone (BT-42)")),
            ("seller_contact_email", seller.contact_email, "BR-DE-7", _("a contact email (BT-43)")),
            ("city", seller.city, "BR-DE-3", _("your city (BT-37)")),
            ("postal_code", seller.postal_code, "BR-DE-4", _("your postal code (BT-38)"))):
        if not value.strip():
            problems.append(FieldError(f"settings.{field}", _("XRechnung needs %(what)s, rule %(rule)s: set it in %(place)s.", what=what, rule=rule,
                                         place=SETTINGS_PLACE if field.startswith('seller') else _('Settings'))))
    for field, value, rule, what in (("city", invoice.buyer.city, "BR-DE-8", _("the client's city (BT-52)")),
                                     ("postal_code", invoice.buyer.postal_code, "BR-DE-9",
                                      _("the client's postal code (BT-53)"))):
        if not value.strip():
            problems.append(FieldError(f"client.{field}", _("XRechnung needs %(what)s, rule %(rule)s: set it on the client%(again)s.", what=what, rule=rule, again=again)))
    payment = invoice.payment
    if payment is None:
        problems.append(FieldError("settings.payment_means_code", _("XRechnung needs payment instructions (BG-16, rule BR-DE-1): set an IBAN, or choose the payment means in %(SETTINGS_PLACE)s.", SETTINGS_PLACE=SETTINGS_PLACE)))
    elif payment.means_code in ("30", "58") and not (payment.iban or payment.account_id):
        problems.append(FieldError("settings.payment_account_id", _("A credit transfer needs the account it goes to (BT-84, rule BR-DE-23-a): set the IBAN or the account in %(SETTINGS_PLACE)s.", SETTINGS_PLACE=SETTINGS_PLACE)))
    skonto = [line.strip() for line in invoice.terms.splitlines() if line.strip().startswith("#")]
    if any(not SKONTO_LINE.fullmatch(line) for line in skonto):
        problems.append(FieldError("terms", _("A line of the terms starting with # must be a discount for early payment written as XRechnung says, e.g. #SKONTO#TAGE=14#PROZENT=2.00# (rule BR-DE-18)%(replace)s.", replace=again.replace('the client', 'the terms'))))
    taxed = any(v.category in ("S", "Z", "E", "AE", "K", "G", "L", "M") for v in invoice.vat)
    if taxed and not (seller.vat_id or seller.tax_registration):
        problems.append(FieldError("settings.tax_number", _("A taxed invoice names the seller's VAT or tax number "
                                   "(BT-31 or BT-32, rule BR-DE-16): set the tax number in Settings.")))
    return problems


# -- CII (UN/CEFACT Cross Industry Invoice D16B): Factur-X and XRechnung --------------------------

def _el(parent: ET.Element, tag: str, text: Any = None, **attrib: str) -> ET.Element:
    prefix, name = tag.split(":")
    element = ET.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrib)
    if text is not None:
        element.text = str(text)
    return element


def _date102(parent: ET.Element, tag: str, value: date | str) -> None:
    holder = _el(parent, tag)
    _el(holder, "udt:DateTimeString", _as_date(value).strftime("%Y%m%d"), format="102")


def _cii_party(parent: ET.Element, tag: str, party: EParty) -> None:
    node = _el(parent, tag)
    if party.identifier:
        _el(node, "ram:ID", party.identifier)
    _el(node, "ram:Name", party.name)
    if party.legal_registration:
        _el(_el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", party.legal_registration)
    if party.contact_name or party.contact_phone or party.contact_email:
        contact = _el(node, "ram:DefinedTradeContact")
        if party.contact_name:
            _el(contact, "ram:PersonName", party.contact_name)
        if party.contact_phone:
            _el(_el(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", party.contact_phone)
        if party.contact_email:
            _el(_el(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.contact_email)
    address = _el(node, "ram:PostalTradeAddress")
    if party.postal_code:
        _el(address, "ram:PostcodeCode", party.postal_code)
    if party.address_line1:
        _el(address, "ram:LineOne", party.address_line1)
    if party.address_line2:
        _el(address, "ram:LineTwo", party.address_line2)
    if party.city:
        _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country)
    if party.region:
        _el(address, "ram:CountrySubDivisionName", party.region)
    if party.electronic_address:
        _el(_el(node, "ram:URIUniversalCommunication"), "ram:URIID", party.electronic_address,
            schemeID=party.electronic_address_scheme)
    if party.vat_id:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if party.tax_registration:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_registration, schemeID="FC")


def _cii_tax(parent: ET.Element, category: str, rate: Decimal, *, tag: str = "ram:ApplicableTradeTax") -> None:
    node = _el(parent, tag)
    _el(node, "ram:TypeCode", "VAT")
    _el(node, "ram:CategoryCode", category)
    if category != "O":   # BR-O-05/06/07: no rate on a line or an allowance that is not subject to VAT
        _el(node, "ram:RateApplicablePercent", _rate(rate))


def _cii_allowance(parent: ET.Element, *, charge: bool, amount: Decimal, currency: str, reason: str,
                   reason_code: str = "") -> ET.Element:
    node = _el(parent, "ram:SpecifiedTradeAllowanceCharge")
    _el(_el(node, "ram:ChargeIndicator"), "udt:Indicator", "true" if charge else "false")
    _el(node, "ram:ActualAmount", _amount(amount, currency))
    if reason_code:
        _el(node, "ram:ReasonCode", reason_code)
    _el(node, "ram:Reason", reason)
    return node


def cii_xml(invoice: EInvoice) -> bytes:
    """The e-invoice in CII syntax (Factur-X EN 16931 profile, or XRechnung CII by its BT-24)."""
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    currency = invoice.currency
    root = ET.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice")
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", invoice.specification)
    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", invoice.number)
    _el(header, "ram:TypeCode", invoice.type_code)
    _date102(header, "ram:IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        _el(_el(header, "ram:IncludedNote"), "ram:Content", note)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in invoice.lines:
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.id)
        product = _el(item, "ram:SpecifiedTradeProduct")
        _el(product, "ram:Name", line.name)
        if line.description:
            _el(product, "ram:Description", line.description)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount",
            _rate(line.net_price) if line.net_price else "0")
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", _rate(line.quantity),
            unitCode=line.unit_code)
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        _cii_tax(settlement, line.vat_category, line.vat_rate)
        if line.allowance > 0:
            _cii_allowance(settlement, charge=False, amount=line.allowance, currency=currency,
                           reason="Line discount", reason_code="95")
        elif line.allowance < 0:  # the discount of a negative line makes it less negative
            _cii_allowance(settlement, charge=True, amount=-line.allowance, currency=currency,
                           reason="Line discount on a negative line")
        _el(_el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount",
            _amount(line.net_amount, currency))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    if invoice.buyer_reference:  # BT-10, e.g. a Leitweg-ID; mandatory in XRechnung (BR-DE-15)
        _el(agreement, "ram:BuyerReference", invoice.buyer_reference)
    _cii_party(agreement, "ram:SellerTradeParty", invoice.seller)
    _cii_party(agreement, "ram:BuyerTradeParty", invoice.buyer)
    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _date102(_el(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", invoice.delivery_date)

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    payment = invoice.payment
    if payment and payment.remittance:
        _el(settlement, "ram:PaymentReference", payment.remittance)
    if invoice.tax_currency:   # BT-6, before BT-5 in CII's order
        _el(settlement, "ram:TaxCurrencyCode", invoice.tax_currency)
    _el(settlement, "ram:InvoiceCurrencyCode", currency)
    if payment:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", payment.means_code)
        if payment.means_text:
            _el(means, "ram:Information", payment.means_text)
        if payment.iban or payment.account_id:
            account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
            if payment.iban:
                _el(account, "ram:IBANID", payment.iban)
            if payment.account_name:
                _el(account, "ram:AccountName", payment.account_name)
            if not payment.iban:
                _el(account, "ram:ProprietaryID", payment.account_id)
            if payment.bic:
                _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", payment.bic)
    for breakdown in invoice.vat:
        node = _el(settlement, "ram:ApplicableTradeTax")
        _el(node, "ram:CalculatedAmount", _amount(breakdown.amount, currency))
        _el(node, "ram:TypeCode", "VAT")
        if breakdown.exemption_reason:
            _el(node, "ram:ExemptionReason", breakdown.exemption_reason)
        _el(node, "ram:BasisAmount", _amount(breakdown.taxable, currency))
        _el(node, "ram:CategoryCode", breakdown.category)
        if breakdown.exemption_code:
            _el(node, "ram:ExemptionReasonCode", breakdown.exemption_code)
        _el(node, "ram:RateApplicablePercent", _rate(breakdown.rate))  # 0 for O too: XRechnung BR-DE-14
    for allowance in invoice.allowances:
        node = _cii_allowance(settlement, charge=allowance.charge, amount=allowance.amount, currency=currency,
                              reason=allowance.reason, reason_code=allowance.reason_code)
        _cii_tax(node, allowance.vat_category, allowance.vat_rate, tag="ram:CategoryTradeTax")
    if invoice.terms or invoice.due_date:
        payment_terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if invoice.terms:
            _el(payment_terms, "ram:Description", invoice.terms)
        if invoice.due_date:
            _date102(payment_terms, "ram:DueDateDateTime", invoice.due_date)
    summary = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summary, "ram:LineTotalAmount", _amount(invoice.line_total, currency))
    if invoice.charge_total:
        _el(summary, "ram:ChargeTotalAmount", _amount(invoice.charge_total, currency))
    if invoice.allowance_total:
        _el(summary, "ram:AllowanceTotalAmount", _amount(invoice.allowance_total, currency))
    _el(summary, "ram:TaxBasisTotalAmount", _amount(invoice.tax_exclusive, currency))
    _el(summary, "ram:TaxTotalAmount", _amount(invoice.tax_total, currency), currencyID=currency)
    if invoice.tax_currency and invoice.tax_total_accounting is not None:   # BT-111
        _el(summary, "ram:TaxTotalAmount", _amount(invoice.tax_total_accounting, invoice.tax_currency),
            currencyID=invoice.tax_currency)
    _el(summary, "ram:GrandTotalAmount", _amount(invoice.grand_total, currency))
    if invoice.prepaid:
        _el(summary, "ram:TotalPrepaidAmount", _amount(invoice.prepaid, currency))
    _el(summary, "ram:DuePayableAmount", _amount(invoice.due, currency))
    if invoice.preceding_invoice:
        _el(_el(settlement, "ram:InvoiceReferencedDocument"), "ram:IssuerAssignedID", invoice.preceding_invoice)
    return xml_bytes(root)


def xml_bytes(root: ET.Element) -> bytes:
    """The document indented, as UTF-8 with its declaration. The same bytes as `ET.tostring(root,
    encoding="UTF-8", xml_declaration=True)` in 60 % of the time: that one writes each piece through
    an encoding wrapper (a 20-line invoice's XML: 1.5 ms of the render, 0.9 ms this way)."""
    ET.indent(root)
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode").encode("utf-8", "xmlcharrefreplace")


def facturx_xml(document: DocumentView, *, settings: Mapping[str, Any] | None = None,
                client: Mapping[str, Any] | None = None, guideline: str = EN16931_GUIDELINE) -> bytes:
    """The CII XML of an issued invoice or credit note: Factur-X (EN 16931 profile) by default, XRechnung
    CII with its guideline, refused (ValidationFailed naming each field) where KoSIT would reject it."""
    invoice = einvoice_of(document, settings=settings, client=client, guideline=guideline)
    if guideline == XRECHNUNG_GUIDELINE:
        problems = xrechnung_problems(invoice, issued=bool(document.snapshot))
        if problems:
            detail = BUYER_REFERENCE_DETAIL if [p.field for p in problems] == ["buyer_reference"] else XRECHNUNG_DETAIL
            raise ValidationFailed(problems, detail=detail)
    return cii_xml(invoice)


def facturx_totals(xml: bytes) -> dict[str, Decimal]:
    """The header totals of a CII XML (for checks): line, charges, allowances, tax basis, tax, grand, prepaid, due."""
    root = ET.fromstring(xml)
    summary = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    out = {}
    for name in ("LineTotalAmount", "ChargeTotalAmount", "AllowanceTotalAmount", "TaxBasisTotalAmount",
                 "TaxTotalAmount", "GrandTotalAmount", "TotalPrepaidAmount", "DuePayableAmount"):
        node = summary.find(f"ram:{name}", NS) if summary is not None else None
        if node is None:
            out[name] = Decimal(0)
        elif node.text is None:
            raise ValueError(_("the CII element %(name)s is empty", name=name))
        else:
            out[name] = Decimal(node.text)
    return out


# -- PDF/A-3 XMP for Factur-X -------------------------------------------------------

FX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
_PDFA_NS = ('xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
            'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
            'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"')
FX_SCHEMA = (
    '<rdf:li rdf:parseType="Resource">'
    '<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>'
    f'<pdfaSchema:namespaceURI>{FX_NS}</pdfaSchema:namespaceURI>'
    '<pdfaSchema:prefix>fx</pdfaSchema:prefix><pdfaSchema:property><rdf:Seq>'
    + "".join(
        '<rdf:li rdf:parseType="Resource">'
        f'<pdfaProperty:name>{name}</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType>'
        '<pdfaProperty:category>external</pdfaProperty:category>'
        f'<pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>'
        for name, description in (
            ("DocumentFileName", "The name of the embedded XML document"),
            ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
            ("Version", "The actual version of the standard applying to the embedded XML document"),
            ("ConformanceLevel", "The conformance level of the embedded XML document"),
        ))
    + '</rdf:Seq></pdfaSchema:property></rdf:li>'
)
FX_PROPERTIES = (
    f'<rdf:Description rdf:about="" xmlns:fx="{FX_NS}">'
    '<fx:DocumentType>INVOICE</fx:DocumentType>'
    f'<fx:DocumentFileName>{FACTURX_FILENAME}</fx:DocumentFileName>'
    '<fx:Version>1.0</fx:Version><fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>'
    '</rdf:Description>'
)
_SCHEMAS_BAG = re.compile(r"<pdfaExtension:schemas>\s*<rdf:Bag>")


def xmp_with_facturx(xmp: bytes) -> bytes:
    """Typst's XMP packet plus the Factur-X extension schema and fx: properties (Factur-X 1.0, EN 16931).

    The schema joins the packet's existing pdfaExtension:schemas bag when there is one
    (a property may appear only once), else comes in its own description."""
    text = xmp.decode("utf-8")
    if FX_NS in text:
        return xmp
    if "</rdf:RDF>" not in text:
        raise ValueError(_("the XMP packet has no rdf:RDF element"))
    bag = _SCHEMAS_BAG.search(text)
    if bag:
        text = text[:bag.end()] + FX_SCHEMA + text[bag.end():]
        extra = FX_PROPERTIES
    else:
        extra = (f'<rdf:Description rdf:about="" {_PDFA_NS}><pdfaExtension:schemas><rdf:Bag>{FX_SCHEMA}'
                 '</rdf:Bag></pdfaExtension:schemas></rdf:Description>' + FX_PROPERTIES)
    return text.replace("</rdf:RDF>", extra + "</rdf:RDF>", 1).encode("utf-8")


_XREF_START = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER = re.compile(rb"trailer\s*<<(.*?)>>\s*startxref", re.S)
_METADATA_REF = re.compile(rb"/Metadata\s+(\d+)\s+(\d+)\s+R")


def _object_at(pdf: bytes, number: int, generation: int) -> int:
    """Offset of the last `N G obj` header (the objects Typst writes sit at line starts)."""
    header = b"%d %d obj" % (number, generation)
    position = len(pdf)
    while True:
        position = pdf.rfind(header, 0, position)
        if position < 0:
            raise ValueError(_("object %(number)s not found", number=number))
        if position == 0 or pdf[position - 1:position] in (b"\n", b"\r"):
            return position + len(header)


def _catalog_metadata(pdf: bytes, root_ref: tuple[int, int]) -> tuple[int, int, bytes]:
    """(object number, generation, current XMP bytes) of the catalog's metadata stream, from a plain PDF."""
    start = _object_at(pdf, *root_ref)
    end = pdf.find(b"endobj", start)
    ref = _METADATA_REF.search(pdf, start, end)
    if ref is None:
        raise ValueError(_("the catalog has no /Metadata"))
    number, generation = int(ref.group(1)), int(ref.group(2))
    start = _object_at(pdf, number, generation)
    stream = re.compile(rb"\s*<<(.*?)>>\s*stream\r?\n", re.S).match(pdf, start)
    if stream is None or b"/Filter" in stream.group(1):
        raise ValueError("metadata stream not found or compressed")
    length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", stream.group(1))
    if length is None:
        raise ValueError("metadata stream length is indirect")
    return number, generation, pdf[stream.end():stream.end() + int(length.group(1))]


def add_facturx_xmp(pdf: bytes) -> bytes:
    """Append an incremental update that replaces the XMP metadata stream with one carrying the
    Factur-X extension schema (PDF/A allows incremental updates). Raises ValueError when the PDF's
    structure is not the plain one Typst writes (classic xref table); the caller then falls back
    to a full rewrite."""
    tail = _XREF_START.search(pdf[-64:])
    trailer = _TRAILER.search(pdf[-2048:])
    if tail is None or trailer is None:
        raise ValueError("no classic trailer")
    entries = trailer.group(1)
    root = re.search(rb"/Root\s+(\d+)\s+(\d+)\s+R", entries)
    size = re.search(rb"/Size\s+(\d+)", entries)
    if root is None or size is None or b"/Prev" in entries or b"/Encrypt" in entries:
        raise ValueError("unsupported trailer")
    number, generation, xmp = _catalog_metadata(pdf, (int(root.group(1)), int(root.group(2))))
    new_xmp = xmp_with_facturx(xmp)
    body = pdf if pdf.endswith(b"\n") else pdf + b"\n"
    offset = len(body)
    obj = (b"%d %d obj\n<</Type/Metadata/Subtype/XML/Length %d>>\nstream\n" % (number, generation, len(new_xmp))
           + new_xmp + b"\nendstream\nendobj\n")
    xref_offset = offset + len(obj)
    kept = re.sub(rb"/Prev\s+\d+", b"", entries)
    xref = (b"xref\n0 1\n0000000000 65535 f\r\n%d 1\n%010d %05d n\r\n" % (number, offset, generation)
            + b"trailer\n<<" + kept + b"/Prev " + tail.group(1) + b">>\nstartxref\n%d\n%%%%EOF\n" % xref_offset)
    return body + obj + xref


_DARK_RUN = re.compile(rb"\x01+")


def qr_matrix_svg(matrix: Sequence[bytes | bytearray], scale: int = 4) -> str:
    """A QR matrix (rows of 0/1 bytes) as one SVG path of horizontal strokes, one per run of dark
    modules, as segno's SVG writer draws it; written here because segno's writer took as long as the
    encoding (1 ms per invoice, through a text stream written a few characters at a time)."""
    strokes = [f"M{run.start()} {y}.5h{run.end() - run.start()}"
               for y, row in enumerate(matrix) for run in _DARK_RUN.finditer(row)]
    size = len(matrix) * scale
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">'
            f'<path transform="scale({scale})" stroke="#000" d="{"".join(strokes)}"/></svg>')
