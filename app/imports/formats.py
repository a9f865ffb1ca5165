"""Imports, pure: the formats Counterfoil reads, as column names per kind of file.

Each source maps Counterfoil's fields (the generic CSV's own header, see docs/import.md) to the names its
program writes in its header. A file's source and kind are detected from its header; the mapping found
is shown and can be changed (and is then kept for the next file of that source and kind).

Invoice Ninja, InvoicePlane and FreshBooks: written from their documented export and import columns as
known without access to their sites while this was made (docs/import.md says so); a column named
otherwise is mapped by hand once, and that mapping is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from app.common.i18n import N_, _

CLIENTS, ITEMS, INVOICES, LINES, CREDIT_NOTES, PAYMENTS = ("clients", "items", "invoices", "lines",
                                                           "credit_notes", "payments")
KINDS = (CLIENTS, ITEMS, INVOICES, PAYMENTS)
FILE_KINDS = (CLIENTS, ITEMS, INVOICES, LINES, CREDIT_NOTES, PAYMENTS)
SOURCES = ("csv", "counterfoil", "invoiceninja", "invoiceplane", "freshbooks")
SOURCE_LABELS = {"csv": N_("Counterfoil's generic CSV"), "counterfoil": N_("Counterfoil's own export"),
                 "invoiceninja": "Invoice Ninja v5", "invoiceplane": "InvoicePlane", "freshbooks": "FreshBooks"}
KIND_LABELS = {CLIENTS: N_("clients"), ITEMS: N_("items"), INVOICES: N_("invoices"), LINES: N_("invoice lines"),
               CREDIT_NOTES: N_("credit notes"), PAYMENTS: N_("payments")}

# Counterfoil's fields per kind of file: the generic CSV's header (docs/import.md explains each).
FIELDS: dict[str, tuple[str, ...]] = {
    CLIENTS: ("source_id", "code", "name", "contact_name", "first_name", "last_name", "email", "phone",
              "address_line1", "address_line2", "postal_code", "city", "region", "country", "currency",
              "tax_number", "buyer_reference", "language", "status", "notes"),
    ITEMS: ("source_id", "code", "name", "kind", "description", "unit", "unit_price", "taxes", "tax_name",
            "tax_rate", "category"),
    INVOICES: ("doc_type", "source_id", "number", "status", "issue_date", "due_date", "client_source_id",
               "client_code", "client_name", "currency", "notes", "terms", "discount_percent", "credits_number",
               "subtotal", "tax_total", "total", "paid", "cancel_reason",
               "position", "item_code", "description", "quantity", "unit", "unit_price", "line_discount_percent",
               "taxes", "tax_name", "tax_rate", "tax_name2", "tax_rate2"),
    LINES: ("document_source_id", "number", "position", "item_code", "description", "quantity", "unit",
            "unit_price", "line_discount_percent", "taxes", "tax_name", "tax_rate"),
    CREDIT_NOTES: ("source_id", "number", "issue_date", "credits_number", "client_source_id", "client_code",
                   "client_name", "currency", "notes", "subtotal", "tax_total", "total"),
    PAYMENTS: ("source_id", "payment_date", "invoice_number", "invoice_source_id", "client_source_id",
               "client_name", "amount", "currency", "method", "reference", "note", "status", "reversal_date",
               "reversal_reason"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    CLIENTS: ("name",), ITEMS: ("name",), INVOICES: ("number", "issue_date"), LINES: ("number",),
    CREDIT_NOTES: ("number", "issue_date", "total"), PAYMENTS: ("payment_date", "amount"),
}
MONEY_FIELDS = ("unit_price", "quantity", "subtotal", "tax_total", "total", "paid", "amount", "tax_rate", "tax_rate2",
                "discount_percent", "line_discount_percent")
DATE_FIELDS = ("issue_date", "due_date", "payment_date", "reversal_date")

# source -> kind -> field -> the names that source's header uses for it
ALIASES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "counterfoil": {
        CLIENTS: {"source_id": ("client_id",)},
        INVOICES: {"source_id": ("document_id",), "client_source_id": ("client_id",)},
        LINES: {"document_source_id": ("document_id",), "line_discount_percent": ("discount_percent",)},
        CREDIT_NOTES: {"source_id": ("document_id",), "client_source_id": ("client_id",),
                       "credits_number": ("invoice_number",)},
        PAYMENTS: {"source_id": ("payment_id",), "client_source_id": ("client_id",)},
    },
    "invoiceninja": {
        CLIENTS: {"source_id": ("Client ID", "client.id"), "code": ("Client Number", "client.number"),
                  "name": ("Client Name", "client.name"), "first_name": ("Contact First Name",),
                  "last_name": ("Contact Last Name",), "email": ("Contact Email", "Client Email"),
                  "phone": ("Client Phone", "Contact Phone"), "address_line1": ("Client Address 1", "Address 1"),
                  "address_line2": ("Client Address 2", "Address 2"), "postal_code": ("Client Postal Code",),
                  "city": ("Client City",), "region": ("Client State",), "country": ("Client Country",),
                  "currency": ("Client Currency", "Currency"), "tax_number": ("Client VAT Number", "VAT Number"),
                  "notes": ("Client Public Notes",)},
        ITEMS: {"code": ("Product Key", "product.product_key"), "name": ("Product Key",),
                "description": ("Product Notes", "Notes"), "unit_price": ("Product Price", "Price", "Cost"),
                "tax_name": ("Product Tax Name 1", "Tax Name 1"), "tax_rate": ("Product Tax Rate 1", "Tax Rate 1")},
        INVOICES: {"source_id": ("Invoice ID",), "number": ("Invoice Number", "invoice.number"),
                   "issue_date": ("Invoice Date", "invoice.date"), "due_date": ("Invoice Due Date", "Due Date"),
                   "status": ("Invoice Status", "Status"), "client_name": ("Client Name", "client.name"),
                   "client_code": ("Client Number",), "currency": ("Currency", "Client Currency"),
                   "total": ("Invoice Amount", "Amount"), "paid": ("Invoice Paid to Date", "Paid to Date"),
                   "notes": ("Invoice Public Notes", "Public Notes"), "terms": ("Invoice Terms", "Terms"),
                   "item_code": ("Item Product", "Product"), "description": ("Item Notes", "Item Description"),
                   "unit_price": ("Item Cost", "Item Price"), "quantity": ("Item Quantity", "Quantity"),
                   "line_discount_percent": ("Item Discount",), "tax_name": ("Item Tax Name 1", "Item Tax1 Name"),
                   "tax_rate": ("Item Tax Rate 1", "Item Tax1 Rate"), "tax_name2": ("Item Tax Name 2",),
                   "tax_rate2": ("Item Tax Rate 2",)},
        PAYMENTS: {"source_id": ("Payment Number", "payment.number"), "payment_date": ("Payment Date", "Date"),
                   "amount": ("Payment Amount", "Amount"), "method": ("Payment Type", "Type"),
                   "reference": ("Payment Transaction Reference", "Transaction Reference"),
                   "invoice_number": ("Invoice Number",), "client_name": ("Client Name",), "currency": ("Currency",),
                   "note": ("Payment Private Notes", "Private Notes"), "status": ("Payment Status",)},
    },
    "invoiceplane": {
        CLIENTS: {"name": ("client_name",), "address_line1": ("client_address_1",),
                  "address_line2": ("client_address_2",), "city": ("client_city",), "region": ("client_state",),
                  "postal_code": ("client_zip",), "country": ("client_country",), "phone": ("client_phone",),
                  "email": ("client_email",), "tax_number": ("client_vat_id",), "status": ("client_active",)},
        ITEMS: {"code": ("product_sku",), "name": ("product_name",), "description": ("product_description",),
                "unit_price": ("product_price",), "tax_rate": ("tax_rate_percent",)},
        INVOICES: {"client_name": ("client_name",), "issue_date": ("invoice_date_created",),
                   "due_date": ("invoice_date_due",), "number": ("invoice_number",), "terms": ("invoice_terms",)},
        LINES: {"number": ("invoice_number",), "tax_rate": ("item_tax_rate",), "item_code": ("item_name",),
                "description": ("item_description",), "quantity": ("item_quantity",), "unit_price": ("item_price",)},
        PAYMENTS: {"invoice_number": ("invoice_number",), "method": ("payment_method",),
                   "payment_date": ("payment_date",), "amount": ("payment_amount",), "note": ("payment_note",)},
    },
    "freshbooks": {
        CLIENTS: {"source_id": ("Client ID",), "name": ("Organization", "Company Name"),
                  "first_name": ("First Name",), "last_name": ("Last Name",), "email": ("Email",),
                  "phone": ("Phone", "Business Phone"), "address_line1": ("Street", "Address Line 1"),
                  "address_line2": ("Street 2", "Address Line 2"), "city": ("City",),
                  "region": ("Province/State", "State"), "postal_code": ("Postal Code", "Zip Code", "ZIP"),
                  "country": ("Country",), "currency": ("Currency",), "tax_number": ("Tax Number", "VAT Number")},
        ITEMS: {"name": ("Item Name", "Name"), "description": ("Description",), "unit_price": ("Rate",),
                "tax_name": ("Tax 1", "Tax 1 Type")},
        INVOICES: {"client_name": ("Client Name", "Client"), "number": ("Invoice #", "Invoice Number"),
                   "issue_date": ("Date Issued", "Invoice Date"), "due_date": ("Due Date",),
                   "status": ("Invoice Status", "Status"), "item_code": ("Item Name",),
                   "description": ("Item Description", "Description"), "unit_price": ("Rate", "Unit Cost"),
                   "quantity": ("Quantity", "Qty"), "line_discount_percent": ("Discount Percentage",),
                   "tax_name": ("Tax 1 Type", "Tax 1 Name"), "tax_name2": ("Tax 2 Type", "Tax 2 Name"),
                   "currency": ("Currency",), "total": ("Invoice Total", "Total")},
        PAYMENTS: {"source_id": ("Payment ID",), "payment_date": ("Date", "Payment Date"),
                   "client_name": ("Client", "Client Name"), "invoice_number": ("Invoice #", "Invoice Number"),
                   "amount": ("Amount",), "currency": ("Currency",), "method": ("Method", "Payment Method"),
                   "reference": ("Reference", "Transaction ID"), "note": ("Notes",)},
    },
}
# The columns that tell a file apart: all must be present for the (source, kind) to be detected.
SIGNATURES: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("counterfoil", CLIENTS, frozenset({"client_id", "code", "name", "buyer_reference"})),
    ("counterfoil", LINES, frozenset({"document_id", "position", "net"})),
    ("counterfoil", INVOICES, frozenset({"document_id", "number", "client_code", "credited", "balance"})),
    ("counterfoil", CREDIT_NOTES, frozenset({"document_id", "number", "invoice_number", "client_code"})),
    ("counterfoil", PAYMENTS, frozenset({"payment_id", "applied", "excess"})),
    ("invoiceninja", INVOICES, frozenset({"Invoice Number", "Invoice Date", "Client Name"})),
    ("invoiceninja", PAYMENTS, frozenset({"Payment Date", "Payment Amount"})),
    ("invoiceninja", ITEMS, frozenset({"Product Key", "Product Price"})),
    ("invoiceninja", CLIENTS, frozenset({"Client Name", "Client Address 1"})),
    ("invoiceplane", LINES, frozenset({"invoice_number", "item_name", "item_price"})),
    ("invoiceplane", INVOICES, frozenset({"invoice_number", "invoice_date_created", "client_name"})),
    ("invoiceplane", PAYMENTS, frozenset({"invoice_number", "payment_date", "payment_amount"})),
    ("invoiceplane", CLIENTS, frozenset({"client_name", "client_address_1"})),
    ("invoiceplane", ITEMS, frozenset({"product_name", "product_price"})),
    ("freshbooks", INVOICES, frozenset({"Invoice #", "Date Issued", "Client Name"})),
    ("freshbooks", PAYMENTS, frozenset({"Invoice #", "Amount", "Method"})),
    ("freshbooks", CLIENTS, frozenset({"Organization", "First Name", "Last Name"})),
    ("csv", INVOICES, frozenset({"number", "issue_date", "description"})),
    ("csv", PAYMENTS, frozenset({"payment_date", "amount"})),
    ("csv", ITEMS, frozenset({"name", "unit_price"})),
    ("csv", CLIENTS, frozenset({"name"})),
)
# Invoice Ninja's JSON export: its lists by key.
JSON_KINDS = {"clients": CLIENTS, "products": ITEMS, "invoices": INVOICES, "credits": CREDIT_NOTES,
              "payments": PAYMENTS}
# Invoice Ninja's numeric status ids (JSON) and words (CSV); InvoicePlane's and FreshBooks' words.
STATUS_WORDS = {
    "1": "draft", "2": "issued", "3": "issued", "4": "issued", "5": "cancelled", "6": "cancelled",
    "draft": "draft", "sent": "sent", "viewed": "sent", "approved": "issued", "partial": "issued",
    "partially paid": "issued", "paid": "issued", "overdue": "issued", "issued": "issued", "auto-paid": "issued",
    "cancelled": "cancelled", "canceled": "cancelled", "void": "cancelled", "reversed": "cancelled",
    "disputed": "issued", "outstanding": "issued", "unpaid": "issued", "retainer": "issued",
}
# Invoice Ninja's currency ids in its JSON (the common ones; another one is named in the preview).
NINJA_CURRENCIES = {"1": "USD", "2": "GBP", "3": "EUR", "4": "ZAR", "5": "DKK", "6": "ILS", "7": "SEK", "8": "KES",
                    "9": "CAD", "10": "PHP", "11": "INR", "12": "AUD", "13": "SGD", "14": "NOK", "15": "NZD",
                    "17": "CHF"}
PAYMENT_METHODS = {"bank transfer": "bank_transfer", "bank_transfer": "bank_transfer", "ach": "bank_transfer",
                   "wire": "bank_transfer", "sepa": "bank_transfer", "credit card": "card", "card": "card",
                   "visa": "card", "mastercard": "card", "debit": "card", "cash": "cash", "check": "cheque",
                   "cheque": "cheque", "paypal": "paypal", "other": "other"}


def norm(name: str) -> str:
    """A header name compared loosely: "Invoice #" and "invoice_#" and "INVOICE #" are one."""
    return re.sub(r"[^a-z0-9#]", "", (name or "").lower())


def detect(header: Iterable[str]) -> tuple[str, str] | None:
    """(source, kind) of a CSV header, or None when no known format fits."""
    exact = {h.strip() for h in header}
    for source, kind, columns in SIGNATURES:   # as the program writes them (Invoice Ninja's "Client Name"
        if columns <= exact:                   # and InvoicePlane's "client_name" are told apart)
            return source, kind
    present = {norm(h) for h in exact}
    for source, kind, columns in SIGNATURES:
        if all(norm(c) in present for c in columns):
            return source, kind
    return None


def auto_mapping(source: str, kind: str, header: Iterable[str]) -> dict[str, str]:
    """Counterfoil's field -> the file's column, for every field found (by alias, then by its own name)."""
    by_norm: dict[str, str] = {}
    for column in header:
        by_norm.setdefault(norm(column), column)
    aliases = ALIASES.get(source, {}).get(kind, {})
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for field in FIELDS[kind]:
        for candidate in (*aliases.get(field, ()), field):
            found = by_norm.get(norm(candidate))
            if found is not None and (found not in taken or field in ("name", "code")):
                mapping[field] = found
                taken.add(found)
                break
    return mapping


def check_mapping(kind: str, mapping: Mapping[str, str], header: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """A mapping the user edited: unknown fields and columns not in the file are refused, by name."""
    columns = set(header)
    clean: dict[str, str] = {}
    problems = []
    for field, column in mapping.items():
        if field not in FIELDS[kind]:
            problems.append(_("mapping: %(field)r is not a field of %(kind)s (%(fields)s)", field=field,
                              kind=_(KIND_LABELS[kind]), fields=", ".join(FIELDS[kind])))
        elif column in ("", None):
            continue
        elif column not in columns:
            problems.append(_("mapping: the file has no column %(column)r (for %(field)s)", column=column, field=field))
        else:
            clean[field] = column
    return clean, problems


def missing_required(kind: str, mapping: Mapping[str, str]) -> list[str]:
    needed = list(REQUIRED[kind])
    if kind == CLIENTS and "name" not in mapping and ("first_name" in mapping or "last_name" in mapping):
        needed.remove("name")
    return [f for f in needed if f not in mapping]
