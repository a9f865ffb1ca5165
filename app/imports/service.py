"""Moving in: an upload is read and checked against the books into a preview (nothing written but the
preview itself); applying it writes every client, item, document, payment and ledger entry in one
transaction, or nothing. The same rows imported again are matched (by their id in the source, else by
their number) and change nothing.

Writing is bulk: the rows are inserted with `executemany` on the writer's own connection, inside
`write_transaction()` (so the audit trail's triggers record every row and the seal closes it at commit,
labelled "import"). Ids are given here, from the table's highest, since the writer holds the file.

Imported issued documents are frozen as Counterfoil's own are at issue (number, dates, lines, totals,
tax breakdown, the business and client snapshot) and carry their ledger entry; their document of record
(the PDF) is made on first use, like that of documents issued before records were kept (app.render), so
that importing 100,000 invoices does not print 100,000 PDFs.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import secrets
import shutil
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.audit import service as audit_service
from app.audit.logic import Head
from app.clients import logic as clients_logic
from app.common.i18n import _
from app.common.logic import Conflict, FieldError, NotFound, ValidationFailed, fold_text
from app.db.engine import write_transaction
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.documents.records import tax_as_json
from app.imports import formats, logic, parsing
from app.imports.tables import ImportJob, ImportKey, ImportMapping
from app.money import from_minor, to_minor
from app.settings import service as settings_service
from app.taxes import service as taxes_service
from app.taxes.logic import TaxRate

log = logging.getLogger("counterfoil.imports")
INVOICE, CREDIT_NOTE = documents_logic.INVOICE, documents_logic.CREDIT_NOTE
MAX_BYTES_ENV = "COUNTERFOIL_IMPORT_MAX_BYTES"
FOLDER = "imports"
Progress = Callable[[str, int, int], None]


def max_bytes() -> int:
    """The largest upload read (200 MiB unless COUNTERFOIL_IMPORT_MAX_BYTES says otherwise)."""
    try:
        return int(os.environ.get(MAX_BYTES_ENV, "")) or parsing.DEFAULT_MAX_BYTES
    except ValueError:
        return parsing.DEFAULT_MAX_BYTES


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _few_collections() -> Iterator[None]:
    """While an import reads, plans or writes: no cyclic garbage collection. Its hundreds of thousands of
    records hold no reference cycles, and the collector would walk all of them again at every full
    collection (a quarter of a large preview's time); they are freed by their reference counts as ever,
    and the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- reading the files ------------------------------------------------------------------------------

@dataclass
class FileInfo:
    name: str
    source: str
    kind: str
    dialect: parsing.Dialect
    header: list[str]
    mapping: dict[str, str]
    rows: int

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "source_label": formats.SOURCE_LABELS.get(self.source, ""),
                "kind": self.kind, "kind_label": formats.KIND_LABELS.get(self.kind, self.kind),
                "dialect": self.dialect.as_json(), "dialect_shown": self.dialect.described(), "header": self.header,
                "mapping": self.mapping, "fields": list(formats.FIELDS.get(self.kind, ())), "rows": self.rows}


@dataclass
class Analysis:
    files: list[FileInfo]
    batch: logic.Batch


# Columns holding dates in any known format (to settle one date format for all files of an upload).
DATE_COLUMNS = {formats.norm(c) for source in formats.ALIASES.values() for kind in source.values()
                for field_name, columns in kind.items() if field_name in formats.DATE_FIELDS for c in columns} | \
    {formats.norm(f) for f in formats.DATE_FIELDS}


def check_options(source: str, kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The user's choices, checked (each problem names its field)."""
    errors = []
    if source not in ("auto", *formats.SOURCES):
        errors.append(FieldError("source", _("source: one of auto, %(sources)s", sources=", ".join(formats.SOURCES))))
    if kind not in ("auto", *formats.KINDS):
        errors.append(FieldError("kind", _("kind: one of auto, %(kinds)s", kinds=", ".join(formats.KINDS))))
    clean: dict[str, Any] = {"accept_totals": bool(options.get("accept_totals"))}
    try:
        clean["dialect"] = parsing.check_overrides(dict(options.get("dialect") or {}))
    except ValueError as error:
        errors.append(FieldError("dialect", str(error)))
    mapping = options.get("mapping") or {}
    if not isinstance(mapping, Mapping) or not all(
            isinstance(v, str) or (isinstance(v, Mapping) and all(isinstance(c, str) for c in v.values()))
            for v in mapping.values()):
        errors.append(FieldError("mapping", _("mapping: an object of Counterfoil field -> column name")))
    else:
        clean["mapping"] = dict(mapping)
    if errors:
        raise ValidationFailed(errors)
    return clean


async def _saved_mapping(source: str, kind: str) -> dict[str, str] | None:
    row = await ImportMapping.select(ImportMapping.mapping_json).where(ImportMapping.key == f"{source}:{kind}").first()
    return json.loads(row["mapping_json"]) if row else None


async def analyse(files: Sequence[tuple[str, bytes]], *, source: str, kind: str, options: Mapping[str, Any],
                  default_currency: str) -> Analysis:
    """Every file read, its format detected (or as the user said), its rows mapped into records."""
    overrides = options.get("dialect") or {}
    tables = [parsing.read_table(name, data, overrides) for name, data in files]
    batch = logic.Batch()
    infos: list[FileInfo] = []
    line_tables = []
    json_tables = [t for t in tables if t.json_records is not None]
    for table in json_tables:
        infos += _read_ninja_json(table, batch, default_currency)
    # One program writes its dates one way: a format that reads the dates of every file is taken for all
    # (a file whose dates are all ambiguous, 04/02/2025, follows the others).
    date_columns = [(table, [i for i, column in enumerate(table.header) if formats.norm(column) in DATE_COLUMNS])
                    for table in tables]
    all_dates = [row[i] for table, columns in date_columns for row in table.rows[:2000] for i in columns]
    if all_dates and "date_format" not in overrides:
        overrides = {**overrides, "date_format": parsing.detect_date_format(all_dates)}
    for table in tables:
        if table.json_records is not None:
            continue
        detected = formats.detect(table.header)
        file_source = source if source != "auto" else (detected[0] if detected else "csv")
        file_kind = kind if kind != "auto" and (detected is None or detected[1] not in (formats.LINES,
                                                                                      formats.CREDIT_NOTES)) \
            else (detected[1] if detected else "")
        if not file_kind:
            raise parsing.FileRefused(_("%(name)s: its columns are not those of a known export; choose the kind "
                                        "(clients, items, invoices or payments) and map its columns.",
                                        name=table.name))
        mapping = formats.auto_mapping(file_source, file_kind, table.header)
        saved = await _saved_mapping(file_source, file_kind)
        if saved:
            mapping.update({f: c for f, c in saved.items() if c in table.header})
        wanted = (options.get("mapping") or {})
        # A mapping per file name (the page sends one per file), or one mapping for every file.
        per_file = wanted.get(table.name) or {} if any(isinstance(v, dict) for v in wanted.values()) else wanted
        if per_file and all(isinstance(v, str) for v in per_file.values()):
            clean, problems = formats.check_mapping(file_kind, per_file, table.header)
            if problems:
                raise ValidationFailed([FieldError("mapping", p) for p in problems])
            mapping.update(clean)
            for f, c in per_file.items():
                if c == "":
                    mapping.pop(f, None)
        missing = formats.missing_required(file_kind, mapping)
        position = {column: i for i, column in enumerate(table.header)}
        money = [row[position[mapping[f]]] for row in table.rows[:2000] for f in formats.MONEY_FIELDS if f in mapping]
        dates = [row[position[mapping[f]]] for row in table.rows[:2000] for f in formats.DATE_FIELDS if f in mapping]
        parsing.settle_dialect(table, money, dates, overrides)
        info = FileInfo(table.name, file_source, file_kind, table.dialect, table.header, mapping, 0)
        infos.append(info)
        if missing:
            batch.problems.append(logic.Problem(table.name, 1, _("No column for %(fields)s: map one to it.",
                                                                 fields=", ".join(missing))))
            _count_rows(table, info, batch)
            continue
        if file_kind == formats.LINES:
            line_tables.append((table, info))
            continue
        # Read as it comes: the file's rows are never all held at once, only the records they make.
        batch.add(logic.read_records(file_kind, table.name, table.numbered(), mapping, table.dialect,
                                     default_currency=default_currency, source=file_source, header=table.header))
        _count_rows(table, info, batch, counted=True)
    for table, info in line_tables:
        batch.problems += logic.attach_lines(batch.documents, table.name, table.numbered(), info.mapping,
                                             table.dialect, source=info.source, header=table.header)
        _count_rows(table, info, batch)
    return Analysis(infos, batch)


def _count_rows(table: parsing.Table, info: FileInfo, batch: logic.Batch, *, counted: bool = False) -> None:
    """Once a file is read through: its row count, and the problems its reading found (ragged rows, formulas)."""
    for _row in table.numbered():   # a file left unread (no mapping) is still read for its problems
        pass
    info.rows = table.count
    if not counted:
        batch.rows_read += table.count
    batch.problems += [logic.Problem(table.name, row, message) for row, message in table.problems]


def _read_ninja_json(table: parsing.Table, batch: logic.Batch, default_currency: str) -> list[FileInfo]:
    records = table.json_records or {}
    clients = {str(c.get("id")): c for c in records.get("clients", [])}
    invoices = {str(i.get("id")): i for i in records.get("invoices", [])}
    infos = []
    dialect = parsing.Dialect(encoding=table.dialect.encoding)
    for key, kind in formats.JSON_KINDS.items():
        if key not in records:
            continue
        rows = logic.ninja_json_rows(kind, records[key], clients, invoices)
        identity = {f: f for f in formats.FIELDS[kind]}
        read_kind = kind
        batch.add(logic.read_records(read_kind, f"{table.name}#{key}", enumerate(rows, start=1),
                                     identity, dialect, default_currency=default_currency, source="invoiceninja"))
        infos.append(FileInfo(f"{table.name}#{key}", "invoiceninja", kind, dialect, [], identity, len(rows)))
    if not infos:
        raise parsing.FileRefused(_("%(name)s holds none of clients, products, invoices, credits or payments.",
                                    name=table.name))
    return infos


# -- checking against the books --------------------------------------------------------------------

@dataclass
class Books:
    """What the database holds that an import must agree with (read once per preview or apply)."""

    settings: dict[str, Any]
    rates: dict[str, TaxRate]
    clients: dict[int, dict[str, Any]]
    client_by_code: dict[str, int]
    client_by_name: dict[str, int]
    item_by_code: dict[str, int]
    item_by_name: dict[str, int]
    documents: dict[str, dict[str, Any]]        # number -> row
    keys: dict[str, int]                         # import_key.key -> target id
    series: dict[tuple[str, int], dict[str, int]]
    own_issued: list[dict[str, Any]]


async def _books(source: str) -> Books:
    from app.catalog.tables import Item
    from app.clients.tables import Client
    from app.documents.tables import Document, NumberSeries

    settings = await settings_service.get_settings()
    rates = await taxes_service.rates_by_code()
    client_rows = await Client.select(*[getattr(Client, c) for c in ("id", "code", "name", *SNAPSHOT_CLIENT)])
    clients = {r["id"]: r for r in client_rows}
    by_name: dict[str, int] = {}
    for r in client_rows:
        by_name.setdefault(fold_text(r["name"]), r["id"])
    items = await Item.select(Item.id, Item.code, Item.name)
    docs = await Document.select(Document.id, Document.number, Document.doc_type, Document.client, Document.currency,
                                 Document.total_minor, Document.paid_minor, Document.credited_minor,
                                 Document.issue_date, Document.status, Document.issued_at).where(
        Document.number.is_not_null())
    keys = {r["key"]: r["target_id"] for r in await ImportKey.select(ImportKey.key, ImportKey.target_id).where(
        ImportKey.key.like(f"%:{source}:%"))}
    series = {(r["doc_type"], r["year"]): r for r in await NumberSeries.select()}
    return Books(settings, rates, clients, {r["code"].lower(): r["id"] for r in client_rows}, by_name,
                 {r["code"].lower(): r["id"] for r in items}, {fold_text(r["name"]): r["id"] for r in items},
                 {r["number"]: r for r in docs}, keys, series,
                 [{"doc_type": r["doc_type"], "number": r["number"], "issue_date": r["issue_date"],
                   "issued_at": r["issued_at"], "id": r["id"]} for r in docs if r["doc_type"] != "quote"])


SNAPSHOT_CLIENT = ("contact_name", "email", "phone", "address_line1", "address_line2", "postal_code", "city", "region",
                   "country", "tax_number", "language", "buyer_reference", "electronic_address_scheme",
                   "electronic_address", "currency")


@dataclass(frozen=True, slots=True)
class Figures:
    """A document's totals as the import writes them: minor units, and the tax breakdown as stored. A
    hundred thousand documents' Totals, each with its Decimals and tax objects, would hold three times
    the memory until the apply."""

    nets: tuple[int, ...]
    subtotal: int
    tax_total: int
    total: int
    taxes_json: str

    @classmethod
    def of(cls, totals: documents_logic.Totals, currency: str) -> Figures:
        return cls(tuple(to_minor(net, currency) for net in totals.nets), to_minor(totals.subtotal, currency),
                   to_minor(totals.tax_total, currency), to_minor(totals.total, currency),
                   json.dumps([tax_as_json(t) for t in totals.taxes]))


@dataclass(slots=True)
class NewDocument:
    record: logic.DocumentRecord
    client_ref: Any                  # an existing client's id, or the NewClient it will be
    totals: Figures
    imported_total: bool
    paid_minor: int = 0
    credited_minor: int = 0
    invoice_ref: Any = None          # a credit note: the invoice it credits (an id, or a NewDocument)
    cancellation: bool = False
    number: str | None = None
    id: int = 0


@dataclass(slots=True)
class NewClient:
    record: logic.ClientRecord
    code: str
    id: int = 0


@dataclass(slots=True)
class NewPayment:
    record: logic.PaymentRecord
    client_ref: Any
    invoice_ref: Any                 # an existing invoice's id, a NewDocument, or None (client credit)
    currency: str
    amount_minor: int
    applied_minor: int
    invoice_number: str
    id: int = 0


@dataclass
class Plan:
    clients: list[NewClient] = field(default_factory=list)
    items: list[logic.ItemRecord] = field(default_factory=list)
    documents: list[NewDocument] = field(default_factory=list)
    payments: list[NewPayment] = field(default_factory=list)
    existing_paid: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    existing_credited: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    series: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)
    problems: list[logic.Problem] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    source: str = "csv"

    def errors(self) -> list[logic.Problem]:
        return [p for p in self.problems if p.level == logic.ERROR]

    def confirmations(self) -> list[logic.Problem]:
        return [p for p in self.problems if p.level == logic.CONFIRM]


def _key(entity: str, source: str, source_id: str) -> str:
    return f"{entity}:{source}:{source_id}"[:300]


def plan_import(batch: logic.Batch, books: Books, *, source: str, accept_totals: bool) -> Plan:
    """What applying would write, and every problem per row, from the records and the books."""
    plan = Plan(problems=list(batch.problems), source=source)
    problem = plan.problems.append
    default_currency = books.settings.get("default_currency") or "EUR"
    # clients
    taken_codes = set(books.client_by_code)
    batch_clients: dict[str, Any] = {}   # "id:<source id>", "code:<code>", "name:<folded>" -> id or NewClient
    auto_codes = [code for code in taken_codes]
    for client_row in batch.clients:
        existing = None
        if client_row.source_id:
            existing = books.keys.get(_key("client", source, client_row.source_id))
        if existing is None and client_row.values["code"]:
            existing = books.client_by_code.get(client_row.values["code"].lower())
            if existing is not None and fold_text(books.clients[existing]["name"]) != fold_text(client_row.values["name"]):
                problem(logic.Problem(client_row.file, client_row.row, _(
                    "The code %(code)s is already %(name)s's in Counterfoil.", code=client_row.values["code"],
                    name=books.clients[existing]["name"])))
                continue
        if existing is None and not client_row.values["code"] and not client_row.source_id:
            existing = books.client_by_name.get(fold_text(client_row.values["name"]))
        target: Any
        if existing is not None:
            plan.unchanged["clients"] += 1
            target = existing
        else:
            code = client_row.values["code"]
            if not code or code.lower() in taken_codes:
                code = clients_logic.next_client_code(auto_codes)
            taken_codes.add(code.lower())
            auto_codes.append(code)
            target = NewClient(client_row, code)
            plan.clients.append(target)
        if client_row.source_id:
            batch_clients[f"id:{client_row.source_id}"] = target
        batch_clients.setdefault(f"code:{(client_row.values['code'] or '').lower()}", target)
        batch_clients.setdefault(f"name:{fold_text(client_row.values['name'])}", target)

    def client_for(file: str, row: int, source_id: str, code: str, name: str, what: str) -> Any:
        if source_id:
            found = batch_clients.get(f"id:{source_id}") or books.keys.get(_key("client", source, source_id))
            if found is not None:
                return found
        if code:
            found = batch_clients.get(f"code:{code.lower()}") or books.client_by_code.get(code.lower())
            if found is not None:
                return found
        if name:
            found = batch_clients.get(f"name:{fold_text(name)}") or books.client_by_name.get(fold_text(name))
            if found is not None:
                return found
        problem(logic.Problem(file, row, _("%(what)s: the client %(client)s is neither in the file nor in "
                                           "Counterfoil; import the clients first.", what=what,
                                           client=name or code or source_id)))
        return None

    # items
    seen_items: set[str] = set()
    for item in batch.items:
        code = item.values["code"]
        if (item.source_id and _key("item", source, item.source_id) in books.keys) or \
                (code and code.lower() in books.item_by_code) or fold_text(item.values["name"]) in books.item_by_name:
            plan.unchanged["items"] += 1
            continue
        if fold_text(item.values["name"]) in seen_items:
            problem(logic.Problem(item.file, item.row, _("The item %(name)s is in the file twice.",
                                                         name=item.values["name"])))
            continue
        seen_items.add(fold_text(item.values["name"]))
        codes = []
        for ref in item.values["taxes"]:
            resolved = logic.resolve_tax((ref, None), books.rates)
            if resolved is None:
                problem(logic.Problem(item.file, item.row, _("Unknown tax %(tax)s: add it in Settings, Taxes, or map "
                                                             "it to one there.", tax=ref)))
            else:
                codes.append(resolved)
        item.values["taxes"] = tuple(codes)
        plan.items.append(item)
    # documents: invoices first, then credit notes (they credit invoices), each in date order
    by_number: dict[str, NewDocument] = {}
    order = sorted(batch.documents, key=lambda d: (d.doc_type != INVOICE, d.issue_date, d.number))
    credited_invoices: set[str] = set()
    for record in order:
        label = record.number
        if record.source_id and _key("document", source, record.source_id) in books.keys:
            plan.unchanged["documents"] += 1
            continue
        same_number = books.documents.get(record.number)
        if same_number is not None:
            if same_number["doc_type"] == record.doc_type and same_number["issue_date"] == record.issue_date:
                plan.unchanged["documents"] += 1   # the same document, imported before without an id
            else:
                problem(logic.Problem(record.file, record.row, _(
                    "The number %(number)s is already used in Counterfoil by a %(kind)s of %(date)s.",
                    number=record.number, kind=documents_logic.TYPE_LABELS.get(same_number["doc_type"], "").lower(),
                    date=same_number["issue_date"].isoformat())))
            continue
        if record.number in by_number:
            problem(logic.Problem(record.file, record.row, _("The number %(number)s is in the file twice.",
                                                             number=record.number)))
            continue
        client = client_for(record.file, record.row, record.client_source_id, record.client_code,
                            record.client_name, label)
        if client is None:
            continue
        client_currency = (books.clients[client]["currency"] if isinstance(client, int)
                           else client.record.values["currency"])
        if not record.currency or record.currency not in _known():
            record.currency = record.currency or client_currency or default_currency
        bad_tax = False
        for index, line in enumerate(record.lines):
            codes = []
            for ref in line.tax_refs:
                resolved = logic.resolve_tax(ref, books.rates)
                if resolved is None:
                    problem(logic.Problem(record.file, record.row, _(
                        "%(number)s, line %(line)s: unknown tax %(tax)s; add it in Settings, Taxes (with its "
                        "rate) and import again.", number=label, line=index + 1, tax=logic.tax_label(ref))))
                    bad_tax = True
                else:
                    codes.append(resolved)
            line.taxes = logic.shared(tuple(dict.fromkeys(codes)))
        if bad_tax:
            continue
        invoice_ref: Any = None
        if record.doc_type == CREDIT_NOTE and record.credits_number:
            invoice_ref = by_number.get(record.credits_number)
            if invoice_ref is None:
                found = books.documents.get(record.credits_number)
                invoice_ref = found["id"] if found and found["doc_type"] == INVOICE else None
            if invoice_ref is None:
                problem(logic.Problem(record.file, record.row, _(
                    "Credit note %(number)s credits invoice %(invoice)s, which is neither in the file nor in "
                    "Counterfoil.", number=label, invoice=record.credits_number)))
                continue
            if isinstance(invoice_ref, NewDocument) and not record.lines and invoice_ref.record.total is not None \
                    and record.total is not None and abs(record.total) == invoice_ref.record.total:
                # A cancellation (Counterfoil's credit_notes.csv has no lines): the invoice's lines, reversed.
                record.lines = list(invoice_ref.record.lines)
            credited_invoices.add(record.credits_number)
        if not record.lines:
            amount = record.subtotal if record.subtotal is not None else record.total
            if amount is None:
                problem(logic.Problem(record.file, record.row, _("%(number)s has neither lines nor a total.",
                                                                 number=label)))
                continue
            fitting = _taxes_that_fit(record, invoice_ref, books.rates)
            # tax_refs too: a plan made again from these records (at apply) resolves the same taxes
            record.lines = [logic.LineRecord(description=_("As imported: %(number)s", number=record.number),
                                             quantity=Decimal(1), unit_price=abs(amount),
                                             discount_percent=Decimal(0), taxes=fitting,
                                             tax_refs=tuple((code, None) for code in fitting))]
        try:
            recomputed = logic.recompute(record, books.rates)
        except (ArithmeticError, ValueError) as error:
            problem(logic.Problem(record.file, record.row, _("%(number)s cannot be totalled: %(error)s",
                                                             number=label, error=str(error))))
            continue
        imported_total = False
        if recomputed.differs and record.status != "draft":
            imported_total = accept_totals
            problem(logic.Problem(record.file, record.row, _(
                "%(number)s: the source's total %(source)s differs from the lines' %(computed)s %(currency)s; "
                "accept it to keep the source's total (marked \"imported total\").", number=label,
                source=logic.money_text(record.total, record.currency), computed=recomputed.totals.total,
                currency=record.currency), logic.WARNING if accept_totals else logic.CONFIRM))
        new = NewDocument(record, client, Figures.of(recomputed.totals, record.currency), imported_total,
                          invoice_ref=invoice_ref)
        total_minor = _total_minor(new)
        if record.doc_type == INVOICE and total_minor < 0 and record.status != "draft":
            problem(logic.Problem(record.file, record.row, _("%(number)s: an issued invoice below zero; import it "
                                                             "as a credit note.", number=label)))
            continue
        if invoice_ref is not None:
            if isinstance(invoice_ref, NewDocument):
                if invoice_ref.record.currency != record.currency:
                    problem(logic.Problem(record.file, record.row, _("Credit note %(number)s is not in its invoice's "
                                                                     "currency.", number=label)))
                    continue
                open_minor = _total_minor(invoice_ref) - invoice_ref.credited_minor
                if total_minor > open_minor:
                    problem(logic.Problem(record.file, record.row, _(
                        "Credit note %(number)s credits more than invoice %(invoice)s has open.", number=label,
                        invoice=record.credits_number)))
                    continue
                invoice_ref.credited_minor += total_minor
                if record.total is not None and abs(record.total) == invoice_ref.record.total \
                        and invoice_ref.record.status == "cancelled":
                    new.cancellation = True
            else:
                row = next(r for r in books.documents.values() if r["id"] == invoice_ref)
                if total_minor > row["total_minor"] - row["paid_minor"] - row["credited_minor"] \
                        - plan.existing_credited[invoice_ref]:
                    problem(logic.Problem(record.file, record.row, _(
                        "Credit note %(number)s credits more than invoice %(invoice)s has open.", number=label,
                        invoice=record.credits_number)))
                    continue
                plan.existing_credited[invoice_ref] += total_minor
        by_number[record.number] = new
        plan.documents.append(new)
    # a cancelled invoice without its credit note in the file gets one, as Counterfoil's cancel makes it
    for new in list(plan.documents):
        record = new.record
        if record.doc_type == INVOICE and record.status == "cancelled" and record.number not in credited_invoices:
            if new.credited_minor:
                problem(logic.Problem(record.file, record.row, _("%(number)s is cancelled but partly credited.",
                                                                 number=record.number)))
                continue
            note = logic.DocumentRecord(
                file=record.file, row=record.row, doc_type=CREDIT_NOTE, source_id="", status="issued",
                number=f"{record.number}-CANCEL"[:60], issue_date=record.issue_date, due_date=None,
                client_source_id=record.client_source_id, client_code=record.client_code,
                client_name=record.client_name, currency=record.currency, credits_number=record.number,
                notes=_("Cancels invoice %(number)s (cancelled in the program it came from)", number=record.number),
                total=record.total, lines=list(record.lines), discount_percent=record.discount_percent)
            cancel = NewDocument(note, new.client_ref, new.totals, new.imported_total, invoice_ref=new,
                                 cancellation=True)
            new.credited_minor = _total_minor(new)
            plan.documents.append(cancel)
    # payments, in date order: each applied to its invoice's open amount, the rest kept as client credit
    paid_minor: dict[int, int] = defaultdict(int)
    existing_by_id = {r["id"]: r for r in books.documents.values()} if batch.payments else {}
    seen_keys: dict[str, int] = defaultdict(int)
    has_payments = bool(batch.payments)
    for pay in sorted(batch.payments, key=lambda p: (p.payment_date, p.row)):
        base = pay.source_id or "|".join((pay.payment_date.isoformat(), pay.invoice_number,
                                             str(pay.amount), pay.reference, pay.client_name))
        seen_keys[base] += 1
        key_text = base if pay.source_id else f"{base}|{seen_keys[base]}"
        pay.source_id = key_text
        if _key("payment", source, key_text) in books.keys:
            plan.unchanged["payments"] += 1
            continue
        invoice: Any = None
        if pay.invoice_number:
            invoice = by_number.get(pay.invoice_number)
            if invoice is None:
                found = books.documents.get(pay.invoice_number)
                invoice = found["id"] if found and found["doc_type"] == INVOICE else None
            if invoice is None:
                problem(logic.Problem(pay.file, pay.row, _(
                    "The payment is for invoice %(number)s, which is neither in the file nor in Counterfoil.",
                    number=pay.invoice_number)))
                continue
        if invoice is None:
            client = client_for(pay.file, pay.row, pay.client_source_id, "", pay.client_name,
                                _("Payment of %(date)s", date=pay.payment_date.isoformat()))
            if client is None:
                continue
            currency = pay.currency or default_currency
            open_minor, number, issued = 0, "", None
        elif isinstance(invoice, NewDocument):
            client, currency, number = invoice.client_ref, invoice.record.currency, invoice.record.number
            open_minor = _total_minor(invoice) - invoice.credited_minor - invoice.paid_minor
            issued = invoice.record.issue_date
            if invoice.record.status in ("draft", "cancelled"):
                problem(logic.Problem(pay.file, pay.row, _("The payment is for %(number)s, which is %(status)s.",
                                                                 number=number, status=invoice.record.status)))
                continue
        else:
            row = existing_by_id[invoice]
            client, currency, number, issued = row["client"], row["currency"], row["number"], row["issue_date"]
            open_minor = row["total_minor"] - row["paid_minor"] - row["credited_minor"] - paid_minor[invoice] \
                - plan.existing_credited[invoice]
        if pay.currency and pay.currency != currency:
            problem(logic.Problem(pay.file, pay.row, _("The payment is in %(paid)s, invoice %(number)s in "
                                                             "%(currency)s.", paid=pay.currency, number=number,
                                                             currency=currency)))
            continue
        if pay.amount <= 0:
            continue   # named when read
        if issued is not None and pay.payment_date < issued:
            problem(logic.Problem(pay.file, pay.row, _("The payment of %(date)s is dated before invoice "
                                                             "%(number)s (%(issued)s).", date=pay.payment_date.isoformat(),
                                                             number=number, issued=issued.isoformat())))
            continue
        try:
            amount_minor = to_minor(pay.amount, currency)
        except ValueError as error:
            problem(logic.Problem(pay.file, pay.row, str(error)))
            continue
        live = pay.status == "live"
        applied = min(amount_minor, max(open_minor, 0)) if invoice is not None else 0
        if pay.applied is not None and invoice is not None:
            applied = min(applied, to_minor(pay.applied, currency))
        if live and invoice is not None:
            if isinstance(invoice, NewDocument):
                invoice.paid_minor += applied
            else:
                paid_minor[invoice] += applied
        plan.payments.append(NewPayment(pay, client, invoice, currency, amount_minor, applied,
                                        number))
    for invoice_id, applied_minor in paid_minor.items():
        plan.existing_paid[invoice_id] += applied_minor
    if not has_payments:
        for new in plan.documents:
            record = new.record
            if record.doc_type == INVOICE and record.paid and record.paid > 0 and record.status != "cancelled":
                problem(logic.Problem(record.file, record.row, _(
                    "%(number)s was paid %(paid)s in the source: import its payments too, or it shows as open.",
                    number=record.number, paid=logic.money_text(record.paid, record.currency)), logic.WARNING))
    _plan_series(plan, books, problem)
    return plan


def _taxes_that_fit(record: logic.DocumentRecord, invoice_ref: Any, rates: Mapping[str, TaxRate]) -> tuple[str, ...]:
    """A document without lines (Counterfoil's credit_notes.csv has none) becomes one line of its subtotal;
    the taxes of that line are the ones that give its tax total: the credited invoice's, else any one rate."""
    if record.subtotal is None or record.tax_total is None or record.tax_total == 0:
        return ()
    candidates: list[tuple[str, ...]] = []
    if isinstance(invoice_ref, NewDocument):
        candidates += list(dict.fromkeys(line.taxes for line in invoice_ref.record.lines if line.taxes))
    candidates += [(code,) for code, rate in sorted(rates.items()) if rate.rate and not rate.compound]
    line = documents_logic.Line("", Decimal(1), abs(record.subtotal))
    for codes in candidates:
        if not all(code in rates for code in codes):
            continue
        totals = documents_logic.compute_totals([documents_logic.Line("", line.quantity, line.unit_price,
                                                                      tax_codes=codes)], rates, record.currency)
        if totals.tax_total == abs(record.tax_total):
            return codes
    return ()


def _known() -> frozenset[str]:
    from app.money import known_currencies
    return known_currencies()


def _total_minor(new: NewDocument) -> int:
    record = new.record
    if new.imported_total and record.total is not None:
        return to_minor(abs(record.total) if record.doc_type == CREDIT_NOTE else record.total, record.currency)
    return new.totals.total


def _plan_series(plan: Plan, books: Books, problem: Callable[[logic.Problem], None]) -> None:
    """Numbers: each (type, year) series counts the imported numbers and continues after the highest in
    Counterfoil's own pattern; the dates of a series never go backwards (`counterfoil check`)."""
    numbered = [n for n in plan.documents if n.record.status != "draft"]
    per_series: dict[tuple[str, int], list[str]] = defaultdict(list)
    for new in numbered:
        per_series[(new.record.doc_type, new.record.issue_date.year)].append(new.record.number)
    for (doc_type, year), numbers in per_series.items():
        pattern = books.settings.get(documents_logic.PATTERN_FIELDS[doc_type]) or \
            documents_logic.DEFAULT_PATTERNS[doc_type]
        plan.series[(doc_type, year)] = logic.series_after_import(pattern, year, numbers, books.series.get(
            (doc_type, year)))
    if not books.own_issued or not numbered:
        return
    years = set(per_series)
    own = [d for d in books.own_issued if (d["doc_type"], d["issue_date"].year) in years]
    if not own:
        return
    imported = [{"doc_type": n.record.doc_type, "number": n.record.number, "issue_date": n.record.issue_date,
                 "issued_at": _issued_at(n.record.issue_date), "id": 10**12 + i} for i, n in enumerate(numbered)]
    before = {found[0] for found in documents_logic.series_going_backwards([dict(d) for d in own])}
    rows = {n.record.number: n.record for n in numbered}
    for number, day, previous, previous_day in documents_logic.series_going_backwards(own + imported):
        if number in before:
            continue
        record = rows.get(number) or rows.get(previous)
        if record is not None:
            problem(logic.Problem(record.file, record.row, _(
                "%(number)s (%(day)s) would put the %(year)s series' dates backwards next to %(previous)s "
                "(%(previous_day)s) already issued in Counterfoil.", number=number, day=day, year=day[:4],
                previous=previous, previous_day=previous_day)))


def _issued_at(day: date) -> datetime:
    """When an imported document counts as issued: the start of its issue date (the series' order)."""
    return datetime.combine(day, clock(0, 0), tzinfo=UTC)


# -- the preview --------------------------------------------------------------------------------

def preview_of(analysis: Analysis, plan: Plan) -> dict[str, Any]:
    """What the page and the API show: formats, mappings, first rows as they will be stored, problems."""
    errors = plan.errors()
    rows_clients = [{"code": c.code, "name": c.record.values["name"], "email": c.record.values["email"],
                     "country": c.record.values["country"], "currency": c.record.values["currency"]}
                    for c in plan.clients[:logic.PREVIEW_ROWS]]
    rows_documents = [{"type": documents_logic.TYPE_LABELS[d.record.doc_type], "number": d.record.number,
                       "status": d.record.status, "issue_date": d.record.issue_date.isoformat(),
                       "due_date": d.record.due_date.isoformat() if d.record.due_date else "",
                       "client": _client_name(d.client_ref, plan), "currency": d.record.currency,
                       "lines": len(d.record.lines), "total": str(from_minor(d.totals.total, d.record.currency)),
                       "source_total": logic.money_text(d.record.total, d.record.currency),
                       "imported_total": d.imported_total}
                      for d in plan.documents[:logic.PREVIEW_ROWS]]
    rows_payments = [{"date": p.record.payment_date.isoformat(), "invoice": p.invoice_number,
                      "amount": logic.money_text(p.record.amount, p.currency), "currency": p.currency,
                      "method": p.record.method, "status": p.record.status}
                     for p in plan.payments[:logic.PREVIEW_ROWS]]
    rows_items = [{"code": i.values["code"], "name": i.values["name"], "unit_price": str(i.values["unit_price"]),
                   "taxes": " ".join(i.values["taxes"])} for i in plan.items[:logic.PREVIEW_ROWS]]
    return {
        "files": [f.as_json() for f in analysis.files],
        "counts": {"rows": analysis.batch.rows_read, "clients": len(plan.clients), "items": len(plan.items),
                   "invoices": sum(1 for d in plan.documents if d.record.doc_type == INVOICE),
                   "credit_notes": sum(1 for d in plan.documents if d.record.doc_type == CREDIT_NOTE),
                   "lines": sum(len(d.record.lines) for d in plan.documents), "payments": len(plan.payments),
                   "unchanged": dict(plan.unchanged), "errors": len(errors),
                   "confirmations": len(plan.confirmations()),
                   "warnings": sum(1 for p in plan.problems if p.level == logic.WARNING)},
        "rows": {"clients": rows_clients, "items": rows_items, "documents": rows_documents, "payments": rows_payments},
        "problems": [p.as_json() for p in sorted(plan.problems, key=lambda p: (p.level != logic.ERROR, p.file, p.row))
                     [:logic.MAX_PROBLEMS_KEPT]],
        "series": [{"doc_type": k[0], "year": k[1], "next_seq": v["next_seq"]} for k, v in sorted(plan.series.items())],
        "can_apply": not errors,
    }


def _client_name(ref: Any, plan: Plan) -> str:
    if isinstance(ref, NewClient):
        return str(ref.record.values["name"])
    return f"#{ref}"


# -- jobs -------------------------------------------------------------------------------------------

def _job_dir(data_dir: Path, folder: str) -> Path:
    return data_dir / FOLDER / folder


def _store(data_dir: Path, folder: str, files: Sequence[tuple[str, bytes]]) -> None:
    target = _job_dir(data_dir, folder)
    target.mkdir(parents=True, exist_ok=True)
    for index, (_name, data) in enumerate(files):
        (target / f"{index:03d}").write_bytes(data)
    (target / "names.json").write_text(json.dumps([name for name, _data in files]), encoding="utf-8")


def _load(data_dir: Path, folder: str) -> list[tuple[str, bytes]]:
    target = _job_dir(data_dir, folder)
    try:
        names = json.loads((target / "names.json").read_text(encoding="utf-8"))
        return [(name, (target / f"{index:03d}").read_bytes()) for index, name in enumerate(names)]
    except (OSError, ValueError):
        raise Conflict(_("The uploaded file of this import is gone; upload it again.")) from None


def _remove(data_dir: Path, folder: str) -> None:
    shutil.rmtree(_job_dir(data_dir, folder), ignore_errors=True)


def _refused(error: parsing.FileRefused) -> ValidationFailed:
    return ValidationFailed([FieldError("file", error.message)], detail=error.message)


# The records read for the latest preview, kept for its apply (reading 400,000 rows again would double the
# time of a large import): one import at a time, keyed by what was read and how.
_read_cache: dict[str, Any] = {}


@dataclass
class _CheckedPlan:
    """The plan a preview made, with the trail's head read before the books were: its apply writes it
    as it is when nothing but this import's own job was written since (app.audit.service.unchanged_since,
    asked inside the apply's transaction), and makes it again against the books otherwise."""

    key: str
    accept_totals: bool
    mark: Head
    analysis: Analysis
    plan: Plan


_plan_cache: dict[str, _CheckedPlan] = {}


def _reading_key(folder: str, source: str, kind: str, options: Mapping[str, Any]) -> str:
    return json.dumps([folder, source, kind, options.get("dialect"), options.get("mapping")], sort_keys=True)


FilesOrLoader = Sequence[tuple[str, bytes]] | Callable[[], Sequence[tuple[str, bytes]]]


async def _analyse_and_plan(files: FilesOrLoader, source: str, kind: str, options: Mapping[str, Any], *,
                            folder: str = "") -> tuple[Analysis, Plan]:
    """The upload read (or its records as the last preview read them) and planned against the books;
    `files` may be a function that loads them, called only when they must be read again."""
    with _few_collections():
        return await _read_and_plan(files, source, kind, options, folder=folder)


async def _read_and_plan(files: FilesOrLoader, source: str, kind: str, options: Mapping[str, Any], *,
                         folder: str) -> tuple[Analysis, Plan]:
    books_source = source
    settings = await settings_service.get_settings()
    key = _reading_key(folder, source, kind, options)
    cached = _read_cache.get(key) if folder else None
    _read_cache.clear()
    _plan_cache.clear()
    if cached is not None:
        analysis = cached
    else:
        analysis = await analyse(files() if callable(files) else files, source=source, kind=kind, options=options,
                                 default_currency=settings.get("default_currency") or "EUR")
    if books_source == "auto":
        books_source = analysis.files[0].source if analysis.files else "csv"
    mark = await audit_service.current_head() or Head(0, "", "")
    books = await _books(books_source)
    accept_totals = bool(options.get("accept_totals"))
    plan = plan_import(analysis.batch, books, source=books_source, accept_totals=accept_totals)
    if folder:
        _read_cache[key] = analysis
        _plan_cache[folder] = _CheckedPlan(key, accept_totals, mark, analysis, plan)
    return analysis, plan


def _checked_plan(folder: str, source: str, kind: str, options: Mapping[str, Any]) -> _CheckedPlan | None:
    """The plan the preview of this upload made with these options, if it is the last one made and could be
    written (a plan with problems is made again: the books may have changed to solve them)."""
    checked = _plan_cache.get(folder)
    if checked is None or checked.key != _reading_key(folder, source, kind, options) or \
            checked.accept_totals != bool(options.get("accept_totals")) or checked.plan.errors() or \
            checked.plan.confirmations():
        return None
    return checked


async def create_preview(files: Sequence[tuple[str, bytes]], *, data_dir: Path, source: str = "auto",
                         kind: str = "auto", options: Mapping[str, Any] | None = None,
                         actor: int | None = None) -> dict[str, Any]:
    """Read the upload and answer its preview (with an id); refuses an unreadable file, keeping nothing."""
    clean = check_options(source, kind, options or {})
    if not files:
        raise ValidationFailed([FieldError("file", _("file: choose a file to import"))])
    limit = max_bytes()
    folder = secrets.token_hex(12)
    try:
        unpacked = [part for name, data in files for part in parsing.unpack(name, data, limit=limit)]
        analysis, plan = await _analyse_and_plan(unpacked, source, kind, clean, folder=folder)
    except parsing.FileRefused as error:
        raise _refused(error) from None
    _store(data_dir, folder, unpacked)
    preview = preview_of(analysis, plan)
    try:
        async with write_transaction():
            job = ImportJob(folder=folder, filename=", ".join(name for name, _d in files)[:255],
                            size=sum(len(d) for _n, d in files), source=source, kind=kind,
                            options_json=json.dumps(clean), preview_json=json.dumps(preview), status="preview",
                            created_at=_now(), created_by=actor)
            await job.save()
            # The upload is recorded in the trail (the job's row is working state, not audited).
            await audit_service.record("import", "import_job", job.id, note=f"preview of {job.filename}",
                                       changes={"counts": preview["counts"]})
    except BaseException:
        _remove(data_dir, folder)
        raise
    return _job_view(job.id, "preview", preview, source, kind, clean, job.filename)


def _job_view(job_id: int, status: str, preview: Mapping[str, Any], source: str, kind: str,
              options: Mapping[str, Any], filename: str, summary: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"id": job_id, "status": status, "filename": filename, "source": source, "kind": kind,
            "options": options, "preview": preview, "summary": summary or {}}


async def get_job(job_id: int) -> dict[str, Any]:
    row = await ImportJob.select().where(ImportJob.id == job_id).first()
    if row is None:
        raise NotFound(_("Import %(job_id)s", job_id=job_id))
    return _job_view(row["id"], row["status"], json.loads(row["preview_json"]), row["source"], row["kind"],
                     json.loads(row["options_json"]), row["filename"], json.loads(row["summary_json"]))


async def recent_jobs(limit: int = 10) -> list[dict[str, Any]]:
    rows = await ImportJob.select(ImportJob.id, ImportJob.filename, ImportJob.status, ImportJob.created_at,
                                  ImportJob.applied_at, ImportJob.summary_json).order_by(
        ImportJob.id, ascending=False).limit(limit)
    return [{**r, "summary": json.loads(r.pop("summary_json"))} for r in rows]


async def revise(job_id: int, *, data_dir: Path, source: str | None = None, kind: str | None = None,
                 options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The preview again, with another mapping, dialect or source (nothing else is written)."""
    row = await ImportJob.select().where(ImportJob.id == job_id).first()
    if row is None:
        raise NotFound(_("Import %(job_id)s", job_id=job_id))
    if row["status"] != "preview":
        raise Conflict(_("This import was already %(status)s.", status=row["status"]))
    source = source or row["source"]
    kind = kind or row["kind"]
    clean = check_options(source, kind, options if options is not None else json.loads(row["options_json"]))
    try:
        analysis, plan = await _analyse_and_plan(lambda: _load(data_dir, row["folder"]), source, kind, clean,
                                                 folder=row["folder"])
    except parsing.FileRefused as error:
        raise _refused(error) from None
    preview = preview_of(analysis, plan)
    async with write_transaction():
        await ImportJob.update({ImportJob.options_json: json.dumps(clean), ImportJob.preview_json: json.dumps(preview),
                                ImportJob.source: source, ImportJob.kind: kind}).where(ImportJob.id == job_id)
        await audit_service.record("import", "import_job", job_id, note=f"preview of {row['filename']} read again",
                                   changes={"options": clean})
    return _job_view(job_id, "preview", preview, source, kind, clean, row["filename"])


async def discard(job_id: int, *, data_dir: Path) -> None:
    """Forget an import that was not applied, and its uploaded file."""
    async with write_transaction():
        row = await ImportJob.select(ImportJob.folder, ImportJob.status).where(ImportJob.id == job_id).first()
        if row is None:
            raise NotFound(_("Import %(job_id)s", job_id=job_id))
        if row["status"] == "preview":
            await ImportJob.update({ImportJob.status: "discarded"}).where(ImportJob.id == job_id)
            await audit_service.record("import", "import_job", job_id, note="discarded; nothing was written")
    _read_cache.clear()
    _plan_cache.clear()
    _remove(data_dir, row["folder"])


async def apply(job_id: int, *, data_dir: Path, accept_totals: bool | None = None, actor: int | None = None,
                progress: Progress | None = None) -> dict[str, Any]:
    """Write the import in one transaction, or nothing: refused while a row has a problem, or while a total
    differs and is not accepted. Answers what was written."""
    row = await ImportJob.select().where(ImportJob.id == job_id).first()
    if row is None:
        raise NotFound(_("Import %(job_id)s", job_id=job_id))
    if row["status"] != "preview":
        raise Conflict(_("This import was already %(status)s.", status=row["status"]))
    options = json.loads(row["options_json"])
    if accept_totals is not None:
        options["accept_totals"] = accept_totals
    started = time.monotonic()
    folder = row["folder"]
    checked = _checked_plan(folder, row["source"], row["kind"], options)
    while True:
        if checked is not None:
            analysis, plan = checked.analysis, checked.plan
        else:
            try:
                analysis, plan = await _analyse_and_plan(lambda: _load(data_dir, folder), row["source"], row["kind"],
                                                         options, folder=folder)
            except parsing.FileRefused as error:
                raise _refused(error) from None
        errors = plan.errors()
        if errors:
            raise ValidationFailed([FieldError("file", _("%(file)s, row %(row)s: %(message)s", file=p.file, row=p.row, message=p.message)) for p in errors[:20]],
                                   detail=_("%(count)s row(s) have problems; nothing was imported.", count=len(errors)))
        if plan.confirmations():
            raise Conflict(_("%(count)s total(s) differ from their lines; accept the imported totals to keep them, or "
                             "correct the file. Nothing was imported.", count=len(plan.confirmations())))
        read_s = time.monotonic() - started
        settings = await settings_service.get_settings()
        try:
            with audit_service.labelled("import"), _few_collections():
                async with write_transaction() as transaction:
                    # The preview's plan is written only if the books are still those it was made against
                    # (asked inside the transaction: nothing can be written in between).
                    if checked is not None and not await audit_service.unchanged_since(checked.mark, "import_job",
                                                                                        job_id):
                        raise _BooksMoved
                    await documents_service.forget_kept_searches()
                    connection = transaction.connection
                    writing = time.monotonic()
                    seal_step = audit_service.sealing_steps(transaction)
                    summary = await connection._execute(functools.partial(
                        _write, connection._conn, plan, settings, job_id, actor, progress, seal_step))
                    summary["seconds_writing"] = round(time.monotonic() - writing, 2)
                    for info in analysis.files:
                        if info.header:
                            await _save_mapping(info.source, info.kind, info.mapping)
                    summary["seconds_reading"] = round(read_s, 2)
                    summary["seconds"] = round(time.monotonic() - started, 2)
                    summary["plan_of_preview"] = checked is not None
                    await ImportJob.update({ImportJob.status: "applied", ImportJob.applied_at: _now(),
                                            ImportJob.summary_json: json.dumps(summary)}).where(ImportJob.id == job_id)
                    sealing = time.monotonic()
                # The audit trail's seal runs at the commit: what the writing's steps left, hashed into the chain.
                summary["seconds_sealing"] = round(time.monotonic() - sealing, 2)
        except _BooksMoved:
            checked = None   # written meanwhile: planned again against the books as they are now
            continue
        break
    _read_cache.clear()
    _plan_cache.clear()
    _remove(data_dir, folder)
    log.info("import %s applied: %s", job_id, summary)
    return summary


class _BooksMoved(Exception):
    """Something was written since the preview's plan was made: it is made again."""


async def _save_mapping(source: str, kind: str, mapping: Mapping[str, str]) -> None:
    key = f"{source}:{kind}"
    if await ImportMapping.exists().where(ImportMapping.key == key):
        await ImportMapping.update({ImportMapping.mapping_json: json.dumps(dict(mapping)),
                                    ImportMapping.updated_at: _now()}).where(ImportMapping.key == key)
    else:
        await ImportMapping.insert(ImportMapping(key=key, mapping_json=json.dumps(dict(mapping)), updated_at=_now()))


async def saved_mappings() -> dict[str, dict[str, str]]:
    return {r["key"]: json.loads(r["mapping_json"]) for r in await ImportMapping.select()}


# -- writing (in the writer's thread, inside write_transaction) --------------------------------------

def _next_id(cursor: sqlite3.Cursor, table: str) -> int:
    return int(cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0])


def _write(connection: sqlite3.Connection, plan: Plan, settings: Mapping[str, Any], job_id: int,
           actor: int | None, progress: Progress | None,
           seal_step: Callable[[sqlite3.Connection], None] = lambda _connection: None) -> dict[str, Any]:
    cursor = connection.cursor()
    cursor.row_factory = None   # plain tuples: the writer's connection makes dict rows
    # A larger page cache while hundreds of thousands of rows go into a dozen indexes (the search index,
    # the list indexes, the audit trail's): SQLite's default 2 MB makes each insert read pages back.
    cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
    cursor.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
    try:
        return _write_rows(cursor, plan, settings, job_id, actor, progress, lambda: seal_step(connection))
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(cache)}")


IMPORT_CACHE_KIB = 64 * 1024


def _write_rows(cursor: sqlite3.Cursor, plan: Plan, settings: Mapping[str, Any], job_id: int, actor: int | None,
                progress: Progress | None, seal_step: Callable[[], None]) -> dict[str, Any]:
    # The time as the sqlite3 adapter (Piccolo's) writes it, adapted once, not once for each of the
    # hundreds of thousands of cells that carry it.
    adapt = sqlite3.adapters.get((datetime, sqlite3.PrepareProtocol))
    now = adapt(_now()) if adapt is not None else _now()
    source = plan.source
    keys: list[tuple[str, int, int]] = []
    total_rows = len(plan.clients) + len(plan.items) + len(plan.documents) + len(plan.payments)
    done = 0

    def report(step: str, count: int) -> None:
        nonlocal done
        done += count
        cursor.executemany("INSERT OR REPLACE INTO import_key (key, target_id, job) VALUES (?, ?, ?)", keys)
        keys.clear()
        # The audit trail's entries of the rows written so far are sealed now, in this transaction: what
        # the triggers record never piles up into a table as large as the import (app.audit.trail.seal_step).
        seal_step()
        if progress is not None:
            progress(step, done, total_rows)
    # clients
    next_client = _next_id(cursor, "client")
    client_rows = []
    for new_client in plan.clients:
        new_client.id = next_client
        next_client += 1
        v = new_client.record.values
        text, digits = clients_logic.search_keys(v["name"], new_client.code, v["email"], v["phone"], v["contact_name"])
        client_rows.append((new_client.id, new_client.code, v["name"], v["status"], v["contact_name"], v["email"], v["phone"],
                            v["address_line1"], v["address_line2"], v["postal_code"], v["city"], v["region"],
                            v["country"], v["currency"], v["language"], v["tax_number"], v["buyer_reference"], "", "",
                            v["notes"], text, digits, now, now, now if v["status"] == "archived" else None))
        if new_client.record.source_id:
            keys.append((_key("client", source, new_client.record.source_id), new_client.id, job_id))
    cursor.executemany(
        "INSERT INTO client (id, code, name, status, contact_name, email, phone, address_line1, address_line2, "
        "postal_code, city, region, country, currency, language, tax_number, buyer_reference, electronic_address, "
        "electronic_address_scheme, notes, search_text, search_digits, created_at, updated_at, archived_at) "
        f"VALUES ({', '.join('?' * 25)})", client_rows)
    report("clients", len(client_rows))
    # items
    from app.catalog.logic import item_search_text, price_to_e4
    next_item = _next_id(cursor, "catalog_item")
    item_rows = []
    codes = {r[0].lower() for r in cursor.execute("SELECT code FROM catalog_item")}
    for item in plan.items:
        v = item.values
        code = v["code"] or f"ITEM{next_item}"
        while code.lower() in codes:
            code = f"{code[:34]}-{next_item}"
        codes.add(code.lower())
        item_rows.append((next_item, code, v["name"], v["kind"], v["description"], v["unit"],
                          price_to_e4(v["unit_price"].quantize(Decimal("0.0001"))), " ".join(v["taxes"]),
                          v["category"], True, item_search_text(code, v["name"], v["category"], v["description"]),
                          now, now))
        if item.source_id:
            keys.append((_key("item", source, item.source_id), next_item, job_id))
        next_item += 1
    cursor.executemany(
        "INSERT INTO catalog_item (id, code, name, kind, description, unit, unit_price_e4, default_tax_codes, "
        "category, active, search_text, created_at, updated_at) VALUES (" + ", ".join("?" * 13) + ")", item_rows)
    report("items", len(item_rows))
    # documents, lines, events and ledger entries
    clients = {r[0]: r for r in cursor.execute(
        f"SELECT id, code, name, {', '.join(SNAPSHOT_CLIENT)} FROM client")} if plan.documents else {}
    client_fields = ("id", "code", "name", *SNAPSHOT_CLIENT)
    next_document = _next_id(cursor, "document")
    documents = sorted(plan.documents, key=lambda d: (d.record.doc_type != INVOICE, d.record.issue_date,
                                                      d.record.number))
    for new in documents:
        new.id = next_document
        next_document += 1
    business_json = json.dumps({f: settings.get(f) or "" for f in documents_logic.SNAPSHOT_BUSINESS_FIELDS})
    client_json: dict[int, str] = {}
    doc_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    ledger_rows: list[tuple[Any, ...]] = []
    written = [0, 0]   # lines, ledger entries
    next_line = _next_id(cursor, "document_line")
    for new in documents:
        record = new.record
        client_id = new.client_ref.id if isinstance(new.client_ref, NewClient) else new.client_ref
        client = dict(zip(client_fields, clients[client_id], strict=True))
        currency = record.currency
        draft = record.status == "draft"
        number = None if draft else record.number
        totals = new.totals
        subtotal, tax_total, total = totals.subtotal, totals.tax_total, totals.total
        if new.imported_total and record.total is not None:
            sign = -1 if record.doc_type == CREDIT_NOTE and record.total < 0 else 1
            total = to_minor(record.total * sign, currency)
            tax_total = to_minor(record.tax_total * sign, currency) if record.tax_total is not None else \
                total - subtotal
            subtotal = total - tax_total
        frozen_client = client_json.get(client_id)
        if frozen_client is None:
            frozen_client = client_json[client_id] = json.dumps(
                {f: client.get(f) or "" for f in documents_logic.SNAPSHOT_CLIENT_FIELDS})
        # The snapshot as json.dumps would write it, its two frozen parts made once (100,000 documents).
        snapshot_text = (f'{{"business": {business_json}, "client": {frozen_client}, "imported": '
                         + json.dumps({"source": source, "file": record.file, "row": record.row, "number": record.number,
                                       "job": job_id, "total": "imported" if new.imported_total else "recomputed"})
                         + "}")
        status = "cancelled" if record.status == "cancelled" and record.doc_type == INVOICE else \
            ("draft" if draft else ("sent" if record.status == "sent" and record.doc_type == INVOICE else "issued"))
        issued_at = None if draft else _issued_at(record.issue_date)
        invoice_id = None
        if new.invoice_ref is not None:
            invoice_id = new.invoice_ref.id if isinstance(new.invoice_ref, NewDocument) else new.invoice_ref
        descriptions = [line.description for line in record.lines]
        doc_rows.append((
            new.id, record.doc_type, number, status, client_id, currency, record.issue_date,
            record.due_date if record.doc_type == INVOICE else None, None,
            documents_logic.decimal_text(record.discount_percent), _notes(record, source), record.terms, "",
            subtotal, tax_total, total, new.paid_minor, new.credited_minor, totals.taxes_json,
            "" if draft else snapshot_text, invoice_id, record.cancel_reason if status == "cancelled" else "",
            documents_logic.search_text_of(number, client["name"], descriptions), issued_at,
            issued_at if status == "sent" else None, issued_at if status == "cancelled" else None, now, now, actor))
        for position, (line, net) in enumerate(zip(record.lines, totals.nets, strict=True), start=1):
            line_rows.append((next_line, new.id, position, line.description, documents_logic.decimal_text(line.quantity),
                              line.unit, documents_logic.price_text(line.unit_price),
                              documents_logic.decimal_text(line.discount_percent), " ".join(line.taxes),
                              net))
            next_line += 1
        event_rows.append((new.id, now, "imported", _("%(number)s from %(source)s (%(file)s, row %(row)s)",
                                                      number=record.number, source=formats.SOURCE_LABELS.get(source, source),
                                                      file=record.file, row=record.row), actor))
        if not draft:
            is_invoice = record.doc_type == INVOICE
            kind = "invoice" if is_invoice else ("cancellation" if new.cancellation else "credit_note")
            ledger_rows.append((client_id, currency, record.issue_date, kind, new.id, None, number,
                                (f"Invoice {number}" if is_invoice else f"Credit note {number}"
                                 + ("" if invoice_id else " (on account)")),
                                total if is_invoice else 0, 0 if is_invoice else total, 0, now, actor))
        if record.source_id:
            keys.append((_key("document", source, record.source_id), new.id, job_id))
        if len(doc_rows) >= WRITE_CHUNK:
            written = [a + b for a, b in zip(written, _flush_documents(cursor, doc_rows, line_rows, event_rows,
                                                                       ledger_rows), strict=True)]
            report("invoices", len(doc_rows))
            doc_rows.clear()
    written = [a + b for a, b in zip(written, _flush_documents(cursor, doc_rows, line_rows, event_rows, ledger_rows),
                                     strict=True)]
    report("invoices", len(doc_rows))
    # what payments and credit notes in this import move on documents already in Counterfoil
    moved: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for document_id, amount in plan.existing_paid.items():
        moved[document_id][0] += amount
    for document_id, amount in plan.existing_credited.items():
        moved[document_id][1] += amount
    cursor.executemany("UPDATE document SET paid_minor = paid_minor + ?, credited_minor = credited_minor + ?, "
                       "updated_at = ? WHERE id = ?", [(p, c, now, i) for i, (p, c) in moved.items()])
    # payments
    next_payment = _next_id(cursor, "payment")
    payment_rows: list[tuple[Any, ...]] = []
    payments_written = 0

    def flush_payments() -> None:
        nonlocal payments_written
        cursor.executemany(
            "INSERT INTO payment (id, client, invoice, currency, amount_minor, applied_minor, excess_minor, "
            "payment_date, method, reference, note, status, reversal_date, reversal_reason, created_at, created_by, "
            f"reversed_at) VALUES ({', '.join('?' * 17)})", payment_rows)
        written[1] += _insert_ledger(cursor, ledger_rows)
        payments_written += len(payment_rows)
        report("payments", len(payment_rows))
        payment_rows.clear()
    for payment in plan.payments:
        payment.id = next_payment
        next_payment += 1
        pay = payment.record
        client_id = payment.client_ref.id if isinstance(payment.client_ref, NewClient) else payment.client_ref
        invoice_id = None if payment.invoice_ref is None else (
            payment.invoice_ref.id if isinstance(payment.invoice_ref, NewDocument) else payment.invoice_ref)
        reversed_ = pay.status == "reversed"
        payment_rows.append((payment.id, client_id, invoice_id, payment.currency, payment.amount_minor,
                             payment.applied_minor, payment.amount_minor - payment.applied_minor, pay.payment_date,
                             pay.method, pay.reference, pay.note, pay.status,
                             pay.reversal_date if reversed_ else None, pay.reversal_reason if reversed_ else "",
                             now, actor, now if reversed_ else None))
        method = formats_method_label(pay.method)
        excess = payment.amount_minor - payment.applied_minor
        ledger_rows.append((client_id, payment.currency, pay.payment_date, "payment", invoice_id, payment.id,
                            payment.invoice_number, f"Payment, {method}" + (f" ({pay.reference})" if pay.reference
                                                                           else "")
                            + (" (imported; part kept as credit)" if excess else ""), 0, payment.amount_minor, 0, now,
                            actor))
        if reversed_:
            ledger_rows.append((client_id, payment.currency, pay.reversal_date, "reversal", invoice_id, payment.id,
                                payment.invoice_number, f"Payment of {pay.payment_date} reversed: "
                                f"{pay.reversal_reason}", payment.amount_minor, 0, 0, now, actor))
        keys.append((_key("payment", source, pay.source_id), payment.id, job_id))
        if len(payment_rows) >= WRITE_CHUNK:
            flush_payments()
    flush_payments()
    # the number series: they count the imported numbers and continue after them
    for (doc_type, year), values in plan.series.items():
        updated = cursor.execute("UPDATE number_series SET next_seq = ?, start_seq = ? WHERE doc_type = ? AND year = ?",
                                 (values["next_seq"], values["start_seq"], doc_type, year)).rowcount
        if not updated:
            cursor.execute("INSERT INTO number_series (doc_type, year, next_seq, start_seq) VALUES (?, ?, ?, ?)",
                           (doc_type, year, values["next_seq"], values["start_seq"]))
    cursor.executemany("INSERT OR REPLACE INTO import_key (key, target_id, job) VALUES (?, ?, ?)", keys)
    return {"clients": len(client_rows), "items": len(item_rows),
            "invoices": sum(1 for d in documents if d.record.doc_type == INVOICE),
            "credit_notes": sum(1 for d in documents if d.record.doc_type == CREDIT_NOTE), "lines": written[0],
            "payments": payments_written, "ledger_entries": written[1], "unchanged": dict(plan.unchanged),
            "imported_totals": sum(1 for d in documents if d.imported_total)}


# Documents are written a few thousand at a time: their rows (each with its frozen snapshot) never all
# wait in memory together.
WRITE_CHUNK = 2000


def _flush_documents(cursor: sqlite3.Cursor, doc_rows: list[tuple[Any, ...]], line_rows: list[tuple[Any, ...]],
                     event_rows: list[tuple[Any, ...]], ledger_rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert the documents gathered so far with their lines, events and ledger entries; empty the lists
    of lines, events and entries (the caller empties the documents' after reporting them)."""
    cursor.executemany(
        "INSERT INTO document (id, doc_type, number, status, client, currency, issue_date, due_date, valid_until, "
        "discount_percent, notes, terms, footer, subtotal_minor, tax_total_minor, total_minor, paid_minor, "
        "credited_minor, taxes_json, snapshot_json, invoice, cancel_reason, search_text, issued_at, sent_at, "
        f"cancelled_at, created_at, updated_at, created_by) VALUES ({', '.join('?' * 29)})", doc_rows)
    cursor.executemany(
        "INSERT INTO document_line (id, document, position, description, quantity, unit, unit_price, "
        "discount_percent, tax_codes, net_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", line_rows)
    cursor.executemany("INSERT INTO document_event (document, at, kind, detail, actor) VALUES (?, ?, ?, ?, ?)",
                       event_rows)
    counts = [len(line_rows), _insert_ledger(cursor, ledger_rows)]
    line_rows.clear()
    event_rows.clear()
    return counts


def _insert_ledger(cursor: sqlite3.Cursor, ledger_rows: list[tuple[Any, ...]]) -> int:
    cursor.executemany(
        "INSERT INTO ledger_entry (client, currency, entry_date, kind, document_id, payment_id, number, description, "
        "debit_minor, credit_minor, amount_minor, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ledger_rows)
    count = len(ledger_rows)
    ledger_rows.clear()
    return count


def formats_method_label(method: str) -> str:
    from app.payments.logic import METHODS
    return METHODS.get(method, method)


def _notes(record: logic.DocumentRecord, source: str) -> str:
    if record.status == "draft" and record.number:
        return (record.notes + "\n\n" if record.notes else "") + _("Numbered %(number)s in %(source)s.",
                                                                   number=record.number,
                                                                   source=formats.SOURCE_LABELS.get(source, source))
    return record.notes


# -- the command line ------------------------------------------------------------------------------

def files_of(path: Path) -> list[tuple[str, bytes]]:
    """A file, or every CSV and JSON file of a folder (an unpacked export), read for an import."""
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".json", ".zip"))
        if not found:
            raise parsing.FileRefused(_("%(path)s holds no CSV, JSON or ZIP file.", path=str(path)))
        return [(p.name, p.read_bytes()) for p in found]
    limit = max_bytes()
    size = path.stat().st_size
    parsing.check_size(size, limit)
    return [(path.name, path.read_bytes())]


def problem_lines(problems: Iterable[Mapping[str, Any]], limit: int = 20) -> list[str]:
    out: list[str] = []
    for problem in problems:
        if len(out) >= limit:
            break
        out.append(f"{problem['file']}, row {problem['row']}: {problem['message']}")
    return out
