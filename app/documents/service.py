"""Quotes, invoices and credit notes: each user action is one transaction through the writer."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Sum

from app.audit import service as audit_service
from app.catalog import logic as catalog_logic
from app.catalog import service as catalog_service
from app.catalog.tables import Item
from app.clients import service as clients_service
from app.clients.records import ClientView
from app.clients.tables import Client
from app.common.i18n import N_, _
from app.common.logic import (
    MAX_ID,
    TRIGRAM,
    Conflict,
    FieldError,
    NotFound,
    Page,
    PageOf,
    SearchQuery,
    ValidationFailed,
    clean_idempotency_key,
    control_problem,
    glob_pattern,
    id_of,
    parse_search,
    storable_id,
    trigram_query,
)
from app.db.columns import column_values
from app.db.datafolder import DataFolderProblem
from app.db.engine import (
    DB,
    Snapshot,
    cached,
    in_write_transaction,
    one_snapshot,
    require_write_transaction,
    write_transaction,
    writer_busy,
)
from app.documents import logic
from app.documents.logic import CREDIT_NOTE, INVOICE, QUOTE
from app.documents.records import (
    DocumentBaseTotal,
    DocumentSummary,
    DocumentTotals,
    DocumentView,
    EventView,
    LineView,
    tax_as_json,
)
from app.documents.tables import (
    MAX_SEARCH_TERMS,
    SEARCH_VOCABULARY,
    TALLY_KEY,
    TALLY_OF_DOCUMENTS,
    TALLY_SUMS,
    CreateRequest,
    Document,
    DocumentEvent,
    DocumentLine,
    DocumentRecord,
    DocumentTally,
    NumberSeries,
    SearchTally,
    SearchTerm,
)
from app.fx import service as fx_service
from app.ledger import service as ledger_service
from app.money import MoneyError, check_active_currency, from_minor, to_minor
from app.settings import logic as settings_logic
from app.settings import service as settings_service
from app.settings.service import today  # the business's date, in its time zone: overdue and expiry follow it
from app.taxes import logic as taxes_logic
from app.taxes import service as taxes_service

SORTS = {"date": "issue_date", "number": "number", "total": "total_minor", "due": "due_date", "client": "client_name"}
# The sorts whose column every index a search's sums read carries, and never NULL: the sums' pass also
# finds the lowest and highest value among the rows found, where the page's walk of the sort's index
# then starts ("b-2021" sorted by date walked 50,000 entries of the years after 2021 before its first row).
SPANNED_SORTS = ("issue_date", "total_minor")


def _now() -> datetime:
    return datetime.now(UTC)


async def _event(document_id: int, kind: str, detail: str = "", actor: int | None = None) -> None:
    await DocumentEvent.insert(DocumentEvent(document=document_id, at=_now(), kind=kind, detail=detail, actor=actor))


# -- reading ------------------------------------------------------------------

async def _lines(document_id: int) -> list[dict[str, Any]]:
    return await DocumentLine.select().where(DocumentLine.document == document_id).order_by(DocumentLine.position)


def _summary_query() -> Any:
    """The columns a DocumentSummary is built from: what the lists show, none of the wide text columns."""
    return Document.select(
        Document.id, Document.doc_type, Document.number, Document.status, Document.client, Document.currency,
        Document.issue_date, Document.due_date, Document.valid_until, Document.subtotal_minor,
        Document.tax_total_minor, Document.total_minor, Document.paid_minor, Document.credited_minor,
        Document.client.name.as_alias("client_name"), Document.invoice, Document.invoice.number.as_alias("invoice_number"),
        Document.created_at,
    )


def _document_query() -> Any:
    """The columns of a DocumentView, with the names and numbers it shows of what it refers to."""
    return Document.select(*Document.all_columns(), Document.client.name.as_alias("client_name"),
                           Document.client.code.as_alias("client_code"),
                           Document.invoice.number.as_alias("invoice_number"),
                           Document.converted_invoice.number.as_alias("converted_invoice_number"),
                           Document.source_quote.number.as_alias("source_quote_number"))


async def get_document(document_id: int, doc_type: str | None = None, *, with_lines: bool = True) -> DocumentView:
    """One document; `with_lines=False` leaves its lines out (an empty tuple) when only the header counts."""
    row = await _document_query().where(Document.id == document_id).first() if storable_id(document_id) else None
    if row is None or (doc_type is not None and row["doc_type"] != doc_type):
        raise NotFound(_("%(kind)s %(id)s", kind=_(logic.TYPE_LABELS.get(doc_type or "", N_("Document"))), id=document_id))
    return DocumentView.from_rows(row, await _lines(document_id) if with_lines else [], await today())


async def get_documents(document_ids: Sequence[int], doc_type: str) -> list[DocumentView]:
    """Several documents of one type with their lines, as get_document returns them, in the order
    of `document_ids`, in two queries (the batch ZIP and print read hundreds). Ids that are gone
    or of another type are left out."""
    if not document_ids:
        return []
    rows = await _document_query().where(Document.id.is_in(list(document_ids)), Document.doc_type == doc_type)
    lines: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for line in await DocumentLine.select().where(DocumentLine.document.is_in(list(lines))).order_by(
            DocumentLine.document).order_by(DocumentLine.position):
        lines[line["document"]].append(line)
    today_ = await today()
    by_id = {row["id"]: DocumentView.from_rows(row, lines[row["id"]], today_) for row in rows}
    return [by_id[i] for i in document_ids if i in by_id]


async def history(document_id: int) -> list[EventView]:
    rows = await DocumentEvent.select().where(DocumentEvent.document == document_id).order_by(DocumentEvent.at) \
        .order_by(DocumentEvent.id)
    return [EventView.from_row(row) for row in rows]


async def related(document_id: int) -> list[DocumentSummary]:
    """Credit notes against this invoice (and the invoice a credit note belongs to)."""
    rows = await _summary_query().where(Document.invoice == document_id).order_by(Document.id)
    today_ = await today()
    return [DocumentSummary.from_row(row, today_) for row in rows]



def _status_clause(doc_type: str, status: str, today_: date, *, indexed: bool = True) -> WhereRaw:
    """The condition of a status filter; `indexed=False` keeps SQLite from leading with the status
    index (a "+" before the column: the same value, no index), when another index leads."""
    day = today_.isoformat()
    column = "document.status" if indexed else "+document.status"
    if doc_type == INVOICE:
        if status == "paid" and not indexed:
            return WhereRaw(logic.paid_invoice_sql())
        columns = logic.InvoiceColumns.of("document")
        return WhereRaw(logic.invoice_status_sql(status, today_, columns if indexed else
                                                 dataclasses.replace(columns, status=column)))
    if doc_type == QUOTE:
        if status == "expired":
            return WhereRaw(f"{column} = 'issued' AND document.valid_until < {{}}", day)
        if status == "issued":
            return WhereRaw(f"{column} = 'issued' AND (document.valid_until IS NULL OR document.valid_until >= {{}})",
                            day)
    return WhereRaw(f"{column} = {{}}", status)




def candidates_lead(conditions: Sequence[Any]) -> bool:
    """Whether a search's few candidate rows lead the query (their ids in a JSON array)."""
    return any(isinstance(c, WhereRaw) and "json_each" in c.querystring.template for c in conditions)


def _filters(doc_type: str, lead: str, *, status: str, client_id: int | None, date_from: date | None,
             date_to: date | None, today_: date) -> list[Any]:
    """The conditions of a list's filters, written so that the index `lead` (logic.list_lead) leads."""
    led_elsewhere = lead in (logic.LEAD_CLIENT, logic.LEAD_OPEN)
    by_type = lead in (logic.LEAD_ORDER, logic.LEAD_STATUS)   # else "+": the doc_type indexes must not lead
    out: list[Any] = [Document.doc_type == doc_type if by_type else WhereRaw("+document.doc_type = {}", doc_type)]
    if lead == logic.LEAD_OPEN:
        out.append(WhereRaw(logic.open_invoice_terms_sql()))
    if status:
        # Only a stored status leads by its index; "paid" (most invoices) is read with the date or order.
        out.append(_status_clause(doc_type, status, today_, indexed=lead == logic.LEAD_STATUS))
    if client_id is not None:
        out.append(Document.client == client_id)
    day = "+document.issue_date" if led_elsewhere else "document.issue_date"
    if date_from:
        out.append(WhereRaw(f"{day} >= {{}}", date_from.isoformat()))
    if date_to:
        out.append(WhereRaw(f"{day} <= {{}}", date_to.isoformat()))
    return out


# Search as you type over 100,000 documents (DESIGN.md: under 30 ms). Every word of the
# folded query must be a substring of the folded search_text (the rule of
# app.common.logic.matches); how the rows are found depends on how many match:
# - a few (at most SPARSE_LIMIT): the trigram index (document_search) names them, read in one
#   short query, and the page, the count and the sums then read those rows alone. A word of three
#   letters or more is its own trigrams in a row; a word of one or two letters is any of the
#   trigrams that start with it (the index holds each text followed by two spaces, so there is one
#   wherever the word occurs), read from the index's vocabulary;
# - many (a word in most rows, "client" in every one): the page is found by walking the index of
#   its order (every list index carries search_text), until it is full; the count and sums come
#   from one scan of the narrow money index (which carries search_text too), summing the rows that
#   match or, when most do, those that do not and subtracting them from the totals of the list
#   without a search (cached).
# Either way the rows are exactly those a LIKE over every row finds.
SPARSE_LIMIT = 4000
MOST = 0.5  # when more than this share of the rows match, sum those that do not and subtract
# A short word is first tried on the newest SAMPLE documents: in more than COMMON of them (a
# letter, a syllable), it is in thousands of documents, which are found by walking, not named.
# A rarer one is looked up in the vocabulary, up to SHORT_WORD_TERMS trigrams (a letter followed
# by anything has more: it is common too).
SAMPLE = 2000
COMMON = 0.02
SHORT_WORD_TERMS = 64
MAX_SEARCH = 200   # characters of a search, as the list's PDFs and prints take (app.batch.logic.MAX_SEARCH)


def _words_sql(words: Sequence[str]) -> WhereRaw:
    """Every word a substring of the search text: a GLOB each (app.common.logic.glob_pattern), the cheapest
    exact test SQLite has for the 100,000 texts a broad search reads."""
    return WhereRaw(" AND ".join(["document.search_text GLOB {}"] * len(words)), *map(glob_pattern, words))


async def _indexed(fts_query: str) -> dict[str, Any]:
    """The first SPARSE_LIMIT + 1 documents of the search index that match `fts_query`: how many (`n`),
    the last id (`last`) and their ids as one string (`ids`)."""
    if not fts_query:
        return {"n": 0, "last": None, "ids": ""}
    return (await Document.raw(
        "SELECT count(*) AS n, max(id) AS last, group_concat(id) AS ids FROM ("
        "SELECT rowid AS id FROM document_search WHERE document_search MATCH {} LIMIT {})",
        fts_query, SPARSE_LIMIT + 1))[0]


async def _short_word_terms(doc_type: str, word: str) -> tuple[list[str] | None, float]:
    """The trigrams of the search index that start with `word` (one or two letters): every document
    holding the word holds one of them. None when the word is common (with the share of the sampled
    documents holding it), or has more trigrams than SHORT_WORD_TERMS."""
    sampled = (await Document.raw(
        "SELECT count(*) AS n, coalesce(sum(search_text GLOB {}), 0) AS found FROM (SELECT document.search_text "
        "FROM document INDEXED BY document_type_date WHERE doc_type = {} ORDER BY issue_date DESC, id DESC LIMIT {})",
        glob_pattern(word), doc_type, SAMPLE))[0]
    share = sampled["found"] / sampled["n"] if sampled["n"] else 0.0
    if share > COMMON:
        return None, share
    # Terms are compared as UTF-8 bytes, which sort as the characters do: the last character is
    # the highest term of three characters that starts with the word.
    highest = word + chr(0x10FFFF) * (TRIGRAM - len(word))
    rows = await Document.raw(f"SELECT term, doc FROM temp.{SEARCH_VOCABULARY} WHERE term >= {{}} AND term <= {{}} "
                              "LIMIT {}", word, highest, SHORT_WORD_TERMS + 1)
    # A NUL would end the index's query string early (app.common.logic.parse_search): such a text is
    # searched by walking instead.
    if len(rows) > SHORT_WORD_TERMS or any(row["doc"] > SPARSE_LIMIT or "\x00" in row["term"] for row in rows):
        return None, share
    return [row["term"] for row in rows], share


async def _probe(doc_type: str, query: SearchQuery) -> tuple[str | None, float, list[str]]:
    """The ids of the documents that may match when they are few (a JSON array); else None and a guess of
    the share that match. Then the words, the rarest first as far as the lookups tell (a scan tests them
    in that order, and most rows fail the first test: "client 42" tests "42" first).

    Each word is looked up alone, the longest first, until one is found in few documents:
    "client 421" is answered by the rare "421", not by intersecting it with "client", which is
    in every row. The other words are tested on those few rows. The ids come back as one string
    (thousands of rows would cost more in Python than in SQLite).
    """
    shares: dict[str, float] = {}
    words = sorted(set(query.words), key=len, reverse=True)
    for word in words:
        if len(word) >= TRIGRAM:
            found = await _indexed(trigram_query([word]))
        else:
            terms, sampled = await _short_word_terms(doc_type, word)
            if terms is None:
                shares[word] = sampled
                continue
            found = await _indexed(" OR ".join('"' + term.replace('"', '""') + '"' for term in terms))
        if found["n"] <= SPARSE_LIMIT:
            return f"[{found['ids'] or ''}]", 0.0, words
        # The index returns rowids in order: SPARSE_LIMIT + 1 matches among the first `last` rows.
        shares[word] = found["n"] / found["last"]
    return None, min(shares.values(), default=1.0), sorted(words, key=lambda word: shares.get(word, 1.0))


def _new_sums() -> dict[str, int]:
    return {"n": 0, "summed": 0, "total": 0, "paid": 0, "credited": 0, "owed": 0, "base": 0, "unrated": 0}


def _add_groups(doc_type: str, base: str, groups: Sequence[Mapping[str, Any]], out: dict[str, dict[str, int]]) -> None:
    """Add rows grouped by (currency, status, base_currency), each with n, total, paid, credited,
    total_base and rated, into per-currency sums (see _sums)."""
    for row in groups:
        sums = out.setdefault(row["currency"], _new_sums())
        sums["n"] += row["n"]
        if not logic.summed_in_footer(doc_type, row["status"]):
            continue
        total, paid, credited = row["total"] or 0, row["paid"] or 0, row["credited"] or 0
        sums["summed"] += row["n"]
        sums["total"] += total
        sums["paid"] += paid
        sums["credited"] += credited
        sums["owed"] += total - paid - credited
        if row["currency"] == base:
            sums["base"] += total
        elif row["base_currency"] == base:
            sums["base"] += row["total_base"] or 0
            sums["unrated"] += row["n"] - row["rated"]
        else:
            sums["unrated"] += row["n"]


def _source(conditions: Sequence[Any]) -> str:
    """What a list query reads: the partial index of open invoices alone when its terms are among the
    conditions (logic.open_invoice_terms_sql), else the documents through whichever index leads."""
    open_terms = logic.open_invoice_terms_sql()
    if any(isinstance(c, WhereRaw) and c.querystring.template == open_terms for c in conditions):
        return logic.OPEN_INVOICES_SOURCE
    return "document"


def _where(conditions: Sequence[Any]) -> tuple[str, list[Any]]:
    """The conditions as one SQL template (a placeholder each) and their query strings."""
    return " AND ".join("{}" for _ in conditions) or "1", [condition.querystring for condition in conditions]


def _reads_money_index(conditions: Sequence[Any], lead: str | None) -> bool:
    """Whether _sums_and_span reads `conditions`' rows from the narrow money index (a broad search's sums, the
    scan of every entry of a type): neither the open invoices' index, nor a stored status' nor a period's."""
    return (_source(conditions) == "document"
            and not (lead == logic.LEAD_STATUS and not candidates_lead(conditions))
            and not any(isinstance(c, WhereRaw) and c.querystring.template.startswith("document.issue_date")
                        for c in conditions)
            and not candidates_lead(conditions))


async def _sums(doc_type: str, conditions: Sequence[Any], lead: str | None = None) -> dict[str, dict[str, int]]:
    return (await _sums_and_span(doc_type, conditions, lead))[0]


async def _sums_and_span(doc_type: str, conditions: Sequence[Any], lead: str | None = None, column: str | None = None,
                         within: Sequence[WhereRaw] = (), base: str | None = None
                         ) -> tuple[dict[str, dict[str, int]], tuple[Any, Any] | None]:
    """_sums, and with a `column` (one of SPANNED_SORTS) the lowest and highest value it holds among the
    rows (None when there are none), read in the same pass.

    Count and money of the documents matching `conditions`, per currency, in one pass. `n` counts
    every row; the money (and `summed`, how many rows it adds up) only the documents a footer sums
    (logic.SUMMED_STATUSES: never drafts or cancelled invoices). `base` sums their totals in the base
    currency at the rates frozen at issue, `unrated` counts those it had to leave out (no rate yet, or
    frozen against an earlier base currency); a document in the base currency is its own total. `lead`
    (logic.list_lead), when the conditions were written for it, names the index their rows are read from.
    `within` (a part of _money_parts, for conditions that read the narrow money index) reads only that part of it:
    the ranges of the index it names, each read and grouped alone (UNION ALL: _add_groups adds their rows up).
    `base`: the base currency, when the caller has read it."""
    base = base or await fx_service.base_currency()
    where, args = _where(conditions)
    source = _source(conditions)
    if within and not _reads_money_index(conditions, lead):
        raise ValueError("a part of the money index for conditions that do not read it")
    if source == "document" and lead == logic.LEAD_STATUS and not candidates_lead(conditions):
        # A stored status' few rows (the drafts), from the index that carries what they sum and search by:
        # SQLite would scan the money index of every document, which is in the order of the GROUP BY.
        source = "document INDEXED BY document_status_type"
    elif source == "document" and any(isinstance(c, WhereRaw) and c.querystring.template.startswith("document.issue_date")
                                    for c in conditions):
        # A period led by the date index (_filters): its rows, not a walk of the whole money index, which
        # SQLite would take for being covering.
        source = "document INDEXED BY document_type_date"
    elif source == "document":
        # The narrow money index (a broad search's sums): the paid invoices' condition read from its money.
        paid = logic.paid_invoice_sql()
        conditions = [WhereRaw(logic.paid_invoice_money_sql()) if isinstance(c, WhereRaw)
                      and c.querystring.template == paid else c for c in conditions]
        if within:
            source = f"document INDEXED BY {MONEY_INDEX}"
        where, args = _where(conditions)
    if column is not None and column not in SPANNED_SORTS:
        raise ValueError(f"no span of {column!r}")
    spanned = f"min(document.{column}) AS low, max(document.{column}) AS high, " if column else ""
    select = ("SELECT document.currency AS currency, document.status AS status, document.base_currency AS base_currency, "
              f"{spanned}count(*) AS n, sum(document.total_minor) AS total, sum(document.paid_minor) AS paid, "
              "sum(document.credited_minor) AS credited, sum(document.total_base_minor) AS total_base, "
              f"count(document.total_base_minor) AS rated FROM {source} WHERE {{}} "
              "GROUP BY document.currency, document.status, document.base_currency")
    ranges = [_where([*conditions, part]) for part in within] or [(where, args)]
    groups = await Document.raw(" UNION ALL ".join(select.format(where) for where, _ in ranges),
                                *[arg for _, args in ranges for arg in args])
    out: dict[str, dict[str, int]] = {}
    _add_groups(doc_type, base, groups, out)
    span = (min(row["low"] for row in groups), max(row["high"] for row in groups)) if column and groups else None
    return out, span


async def _tally_sums(doc_type: str, tallied: str, lead: str, *, status: str, date_from: date | None,
                      date_to: date | None, today_: date, kept: tuple[str, WhereRaw] | None = None
                      ) -> dict[str, dict[str, int]] | None:
    """What _sums gives for a list without client or search whose status filter the running sums answer
    (`tallied`, logic.tally_condition): the whole months of its period from document_tally, the days
    around them from the documents (a month's few hundred rows at most, through the date index).
    `kept`: the same for a broad search (its search_key and its words' condition), the months from its kept sums
    (search_tally); None when they are not kept. The statement that reads them also tells whether they are:
    read apart, a kept search dropped in between (a newer one kept, an import) would read as no documents."""
    base = await fx_service.base_currency()
    split = logic.split_period(date_from, date_to)
    out: dict[str, dict[str, int]] = {}
    if split.months:
        months = "".join(f" AND month {op} {{}}" for op, bound in ((">=", split.first_month), ("<=", split.last_month))
                         if bound is not None)
        bounds = [bound for bound in (split.first_month, split.last_month) if bound is not None]
        select = ("SELECT currency, status, base_currency, sum(n) AS n, sum(total_minor) AS total, "
                  "sum(paid_minor) AS paid, sum(credited_minor) AS credited, sum(total_base_minor) AS total_base, "
                  "sum(rated) AS rated FROM {} GROUP BY currency, status, base_currency")
        if kept is None:
            groups = await DocumentTally.raw(select.format(f"document_tally WHERE {tallied}{months}"), *bounds)
        else:
            term = "(SELECT id FROM search_term WHERE words = {})"
            groups = await DocumentTally.raw(
                select.format(f"search_tally WHERE term = {term} AND {tallied}{months}")
                + f" UNION ALL SELECT NULL, NULL, NULL, {term} IS NOT NULL, 0, 0, 0, 0, 0", kept[0], *bounds, kept[0])
            (marker,) = [row for row in groups if row["currency"] is None]
            if not marker["n"]:
                return None
            groups = [row for row in groups if row["currency"] is not None]
        _add_groups(doc_type, base, groups, out)
    for first, last in split.edges:
        edge = await _sums(doc_type, [*_filters(doc_type, lead, status=status, client_id=None, date_from=first,
                                                date_to=last, today_=today_), *([kept[1]] if kept is not None else [])],
                           lead)
        for currency, sums in edge.items():
            into = out.setdefault(currency, _new_sums())
            for key, value in sums.items():
                into[key] += value
    return {currency: sums for currency, sums in out.items() if sums["n"]}


# -- the kept sums of broad searches (SearchTerm, SearchTally) ----------------------------------------------
# A broad search's exact count and footer test every document's text (~30 ms of CPU at 100,000 invoices), at
# each first view after a change. A search asked again is one a user works with: once its sums had to be read
# so SEARCH_KEPT_AFTER times, they are kept in search_tally, which triggers keep in step with every write in its
# transaction, and its list reads its count and footer there, as the lists without a search read document_tally.
# The term is made in the background, after the answer: one write reading every document once (~0.1 s at
# 100,000), which a save meanwhile waits for. It waits until no broad search was read from the documents for
# KEEP_WHEN_QUIET_S: while a user types, each keystroke's search has the second core to itself.
SEARCH_KEPT_AFTER = 2
SEARCHES_COUNTED = 256     # how many searches' counts are remembered (the least recently counted forgotten)
KEEP_WHEN_QUIET_S = 0.5
_times_read: OrderedDict[tuple[str, str], int] = OrderedDict()
_to_keep: OrderedDict[tuple[str, str], tuple[str, ...]] = OrderedDict()   # the oldest first, as they are kept
_last_read = 0.0   # time.monotonic() of the last broad search read from the documents
_keeping: set[asyncio.Task[None]] = set()   # referenced while they run (the loop keeps only weak ones)
log = logging.getLogger("counterfoil")


def search_key(words: Sequence[str]) -> str:
    """A search's key among the kept ones: its distinct words, sorted, joined by a space."""
    return " ".join(sorted(set(words)))


async def keep_search_sums(words: Sequence[str]) -> int:
    """Keep the sums of a search of `words` from now on: its SearchTerm, and its running sums filled from the
    documents, in one write (the triggers keep them from its commit on). The oldest kept search gives way when
    MAX_SEARCH_TERMS are kept. Returns the term's id (that of the one kept already, if any)."""
    distinct = sorted(set(words))
    if not distinct or any("\x00" in word for word in distinct):
        raise ValueError(f"no sums to keep for the search {words!r}")
    key = search_key(distinct)
    patterns = [glob_pattern(word) for word in distinct]
    async with write_transaction():
        found = await SearchTerm.raw("SELECT id FROM search_term WHERE words = {}", key)
        if found:
            return int(found[0]["id"])
        oldest = "SELECT id FROM search_term ORDER BY id DESC LIMIT -1 OFFSET {}"
        await SearchTally.raw(f"DELETE FROM search_tally WHERE term IN ({oldest})", MAX_SEARCH_TERMS - 1)
        await SearchTerm.raw(f"DELETE FROM search_term WHERE id IN ({oldest})", MAX_SEARCH_TERMS - 1)
        await SearchTerm.raw("INSERT INTO search_term (words, patterns) VALUES ({}, {})", key, json.dumps(patterns))
        (made,) = await SearchTerm.raw("SELECT id FROM search_term WHERE words = {}", key)
        # The documents the triggers would have added one by one: those whose text the term's patterns match,
        # read from the narrow money index, which holds every column summed (~0.1 s at 100,000 documents; a
        # test of each text against the patterns' JSON would read the wide rows).
        await SearchTally.raw(
            f"INSERT INTO search_tally (term, {', '.join((*TALLY_KEY, *TALLY_SUMS))}) SELECT {{}}, {TALLY_OF_DOCUMENTS} "
            f"FROM document INDEXED BY {MONEY_INDEX} WHERE {{}} GROUP BY 2, 3, 4, 5, 6, 7",
            made["id"], _words_sql(distinct).querystring)
    return int(made["id"])


async def forget_kept_searches() -> None:
    """Drop every kept search, inside the caller's write of many documents at once (the import): each kept search
    costs each document written ~5 µs (24 of them: 163 µs a document instead of 48, at 100,000 documents). A
    search asked again twice is kept again."""
    require_write_transaction("forget_kept_searches()")
    await SearchTally.raw("DELETE FROM search_tally")
    await SearchTerm.raw("DELETE FROM search_term")
    for place in [place for place in _times_read if place[0] == DB.path]:
        del _times_read[place]


async def _keep_in_background(words: tuple[str, ...]) -> None:
    try:
        await audit_service.as_system("search sums", keep_search_sums(words))
    except (DataFolderProblem, sqlite3.Error, OSError) as error:   # a read-only start, a full disk: the search's
        log.info("the sums of a search are not kept: %s", error)   # sums are read from the documents as before
    except Exception:
        log.exception("keeping the sums of a search failed")


async def _keep_when_quiet() -> None:
    """Keep the searches waiting to be kept, one after the other, each once the broad searches paused."""
    while _to_keep:
        wait = _last_read + KEEP_WHEN_QUIET_S - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
            continue
        (path, _key), words = _to_keep.popitem(last=False)
        if path == DB.path:   # else a data folder no longer open (tests)
            await _keep_in_background(words)


def _counted_by_reading(words: tuple[str, ...]) -> None:
    """Note that a broad search's sums were read from the documents; the SEARCH_KEPT_AFTER-th time, keep them."""
    global _last_read
    _last_read = time.monotonic()
    place = (DB.path, search_key(words))
    times = _times_read.pop(place, 0) + 1
    _times_read[place] = times
    while len(_times_read) > SEARCHES_COUNTED:
        _times_read.popitem(last=False)
    if times != SEARCH_KEPT_AFTER:
        return
    _to_keep[place] = words
    while len(_to_keep) > MAX_SEARCH_TERMS:
        _to_keep.popitem(last=False)
    loop = asyncio.get_running_loop()
    if not any(not task.done() and task.get_loop() is loop for task in _keeping):
        task = loop.create_task(_keep_when_quiet())
        _keeping.add(task)
        task.add_done_callback(_keeping.discard)


def _search_first(unsearched: Sequence[Any], words: WhereRaw) -> list[Any]:
    """A broad search's conditions for a scan of every row: the words tested right after the type. SQLite
    tests a WHERE's terms in the order written, and a search word tells most rows apart for less than the
    status filters' arithmetic (the paid invoices' sums: 265 million instructions with the words last,
    203 million first, at 100,000 invoices)."""
    return [*unsearched[:1], words, *unsearched[1:]]


def _unmatched(words: WhereRaw) -> WhereRaw:
    """The rows a search's words do not match."""
    return WhereRaw(f"NOT ({words.querystring.template})", *words.querystring.args)


# A broad search's exact sums read every entry of a type in the narrow money index; its page walks the index of
# its order. Both are read at once, on readers of their own that read one snapshot (app.db.engine.one_snapshot),
# and the sums in two halves of the money index, split where half its entries of the type lie: with a core free
# beside the one serving, the answer comes sooner (the server's CPU time grows a little: the readers' round
# trips, each half's bounds; on a machine with no core free, nothing is won). MONEY_SPLIT_KEY is what a split
# point is made of: the money index's leading columns after the type.
MONEY_INDEX = "document_type_money"
MONEY_SPLIT_KEY = ("currency", "status", "base_currency", "due_date")
SPLIT_FROM = 20_000        # entries of a type from which the sums are read in two halves
SPLIT_DRIFT = 0.25         # a split point is found again once the type's entries changed by this share
EARLY_PAGE = 0.6           # a page up to this share of a broad search's guessed count is read beside its sums
_split_points: dict[tuple[str, str], tuple[int, tuple[Any, ...] | None]] = {}


async def _split_point(doc_type: str) -> tuple[Any, ...] | None:
    """The money index's key (MONEY_SPLIT_KEY) at the middle of the entries of `doc_type`, None below SPLIT_FROM.
    Kept while the number of entries stays within SPLIT_DRIFT of what it was: any key splits the entries into
    two parts that together hold each once (_money_parts), the middle one into halves."""
    (tally,) = await DocumentTally.raw("SELECT coalesce(sum(n), 0) AS n FROM document_tally WHERE doc_type = {}",
                                       doc_type)
    entries, place = int(tally["n"]), (DB.path, doc_type)
    known = _split_points.get(place)
    if known is not None and abs(entries - known[0]) <= SPLIT_DRIFT * known[0]:
        return known[1]
    point = None
    if entries >= SPLIT_FROM:
        columns = ", ".join(MONEY_SPLIT_KEY)
        rows = await Document.raw(f"SELECT {columns} FROM document INDEXED BY {MONEY_INDEX} WHERE doc_type = {{}} "
                                  f"ORDER BY doc_type, {columns} LIMIT 1 OFFSET {{}}", doc_type, entries // 2)
        point = tuple(rows[0][column] for column in MONEY_SPLIT_KEY) if rows else None
    _split_points[place] = (entries, point)
    return point


def _money_parts(point: tuple[Any, ...] | None) -> list[list[WhereRaw]]:
    """The two parts of a type's entries in the money index that a split `point` (a MONEY_SPLIT_KEY) makes, each
    as the ranges of the index it holds: every range an equality on the leading columns and a bound on the next,
    which SQLite seeks and ends on one column (a row value's bound, (a, b, c) < (x, y, z), costs each entry a
    comparison of them all: 15 % more for the whole pass). Below the point also the point's own key with no due
    date (NULL: below any date in the index); from the point on, the rest. Without a point, one part: all."""
    if point is None:
        return [[]]
    low: list[WhereRaw] = []
    high: list[WhereRaw] = []
    *leading, due = point
    columns = MONEY_SPLIT_KEY if due is not None else MONEY_SPLIT_KEY[:-1]
    for n, column in enumerate(columns):
        same = "".join(f"document.{before} = {{}} AND " for before in columns[:n])
        last = n == len(columns) - 1
        low.append(WhereRaw(f"{same}document.{column} < {{}}", *point[:n + 1]))
        high.append(WhereRaw(f"{same}document.{column} {'>=' if last else '>'} {{}}", *point[:n + 1]))
    if due is not None:
        same = " AND ".join(f"document.{column} = {{}}" for column in MONEY_SPLIT_KEY[:-1])
        low.append(WhereRaw(f"{same} AND document.due_date IS NULL", *leading))
    return [low, high]


def _added(parts: Sequence[tuple[dict[str, dict[str, int]], tuple[Any, Any] | None]]
           ) -> tuple[dict[str, dict[str, int]], tuple[Any, Any] | None]:
    """The sums (and spans) of parts that hold each row once, added up."""
    out: dict[str, dict[str, int]] = {}
    for sums, _span in parts:
        for currency, part in sums.items():
            into = out.setdefault(currency, _new_sums())
            for name, value in part.items():
                into[name] += value
    spans = [span for _sums, span in parts if span is not None]
    return out, (min(low for low, _ in spans), max(high for _, high in spans)) if spans else None


def _less(everything: Mapping[str, Mapping[str, int]], left_out: Mapping[str, Mapping[str, int]]
          ) -> dict[str, dict[str, int]]:
    """The sums of all the rows less those of some of them (per currency; a currency left with none is left out)."""
    out = {}
    for currency, sums in everything.items():
        left = {name: value - left_out.get(currency, {}).get(name, 0) for name, value in sums.items()}
        if left["n"]:
            out[currency] = left
    return out


async def _broad_sums_and_page(snapshot: Snapshot, doc_type: str, scanned: Sequence[Any], lead: str,
                               column: str | None, walk: Callable[[], Awaitable[Any]] | None
                               ) -> tuple[tuple[dict[str, dict[str, int]], tuple[Any, Any] | None], Any]:
    """The sums (and span of `column`) of the rows of `scanned` and, when `walk` is given, the page it reads:
    at once, on the snapshot's readers; the sums of the money index in halves (_money_parts)."""
    point = await _split_point(doc_type) if lead == logic.LEAD_ORDER and _reads_money_index(scanned, lead) else None
    parts = _money_parts(point)
    base = await fx_service.base_currency()   # read once, not by each part

    async def part_sums(part: Sequence[WhereRaw]) -> tuple[dict[str, dict[str, int]], tuple[Any, Any] | None]:
        return await _sums_and_span(doc_type, scanned, lead, column, part, base)
    reads: list[Callable[[], Awaitable[Any]]] = [functools.partial(part_sums, part) for part in parts]
    results = await snapshot.together(*reads, *([walk] if walk else []))
    return _added(results[:len(parts)]), (results[-1] if walk else None)


async def list_documents(doc_type: str, *, status: str = "", client_id: int | None = None,
                         date_from: date | None = None, date_to: date | None = None, q: str = "",
                         sort: str = "date", descending: bool = True, page: Page = Page(),
                         totals: bool = True) -> PageOf[DocumentSummary]:
    """One page of a list with the count and per-currency sums of all it holds. `totals=False` (the pages,
    which then ask list_totals in a second request) leaves the count and sums of a broad search out:
    they read every document's search text, the page itself only as many as it shows. The page then
    says, in `extra["deferred"]`, that they are left out and, in `extra["more"]`, whether a next page has rows."""
    allowed = set(logic.STATUSES[doc_type]) | ({"open"} if doc_type == INVOICE else set())
    errors = []
    if status and status not in allowed:
        errors.append(FieldError("status", _("status must be one of: %(join)s", join=', '.join(sorted(allowed)))))
    if sort not in SORTS:
        errors.append(FieldError("sort", _("sort must be one of: %(join)s", join=', '.join(SORTS))))
    if date_from and date_to and date_to < date_from:
        errors.append(FieldError("to", _("The end of the period is before its start")))
    if client_id is not None and not storable_id(client_id):
        errors.append(FieldError("client_id", _("client_id must be a whole number from 1 to %(MAX_ID)s", MAX_ID=MAX_ID)))
    if len(" ".join(q.split())) > MAX_SEARCH:
        # Each word is looked up in the index: a pasted page of text would be hundreds of lookups. The limit
        # and its message are those of the list's PDFs and prints (app.batch.logic).
        errors.append(FieldError("q", _("Search: at most %(MAX_SEARCH)s characters.", MAX_SEARCH=MAX_SEARCH)))
    if errors:
        raise ValidationFailed(errors)
    today_ = await today()
    lead = logic.list_lead(doc_type, status, client=client_id is not None)
    unsearched = _filters(doc_type, lead, status=status, client_id=client_id, date_from=date_from, date_to=date_to,
                          today_=today_)
    query = parse_search(q)
    conditions, most_match = unsearched, False
    span: tuple[Any, Any] | None = None
    words = WhereRaw("1")
    if not query.empty:
        candidates, share, rarest_first = await _probe(doc_type, query)
        words = _words_sql(rarest_first)
        if candidates is not None:
            # "+" keeps SQLite from walking the other indexes: the few candidates lead.
            led = _filters(doc_type, logic.LEAD_CLIENT, status=status, client_id=client_id, date_from=date_from,
                           date_to=date_to, today_=today_)
            conditions = [*led, WhereRaw("document.id IN (SELECT value FROM json_each({}))", candidates), words]
        else:
            conditions = [*unsearched, words]
            most_match = share > MOST
    # The sums of the whole filtered set: from the running sums where they answer, else read from the
    # documents; either way kept until the data changes.
    key = ("documents", doc_type, status, client_id, date_from, date_to, today_)
    tallied = logic.tally_condition(doc_type, status) if client_id is None else None
    searched_broadly = not query.empty and not candidates_lead(conditions)
    kept_sums = None
    if searched_broadly and tallied is not None:
        kept = (search_key(query.words), words)
        kept_sums = await cached((*key, q, "kept"), lambda: _tally_sums(
            doc_type, tallied, lead, status=status, date_from=date_from, date_to=date_to, today_=today_, kept=kept))
    if not totals and searched_broadly and kept_sums is None:
        rows, more = await _page_rows(conditions, lead, sort, descending, page, None,
                                      period=bool(date_from or date_to))
        return PageOf(items=[DocumentSummary.from_row(row, today_) for row in rows],
                      total=page.offset + len(rows) + more, page=page,
                      extra={"totals": [], "base_total": None, "deferred": True, "more": more})
    if tallied is not None:
        def plain() -> Awaitable[dict[str, dict[str, int]] | None]:
            return _tally_sums(doc_type, tallied, lead, status=status, date_from=date_from, date_to=date_to,
                               today_=today_)
    else:
        def plain() -> Awaitable[dict[str, dict[str, int]] | None]:
            return _sums(doc_type, unsearched, lead)
    shown: list[dict[str, Any]] | None = None
    if query.empty:
        sums = await cached((*key, q), plain)
    elif kept_sums is not None:
        sums = kept_sums
    elif candidates_lead(conditions):
        sums = await cached((*key, q), lambda: _sums(doc_type, conditions, lead))
    else:
        # A broad search: its exact sums and its page, all of one snapshot: the page and the count beside it agree
        # even when a commit comes in between. When the sums read every entry of the type in the money index,
        # they are read in halves beside the page (_broad_sums_and_page); a status', a client's or a period's
        # rows (a few thousand at most) are read on one reader, one after the other.
        scanned = _search_first(unsearched, _unmatched(words) if most_match else words)
        whole_type = lead == logic.LEAD_ORDER and _reads_money_index(scanned, lead)
        async with one_snapshot() if whole_type else one_snapshot(1) as snapshot:
            # Fewer than half the rows match, maybe all far from the start of a date's or total's order: the
            # sums' pass also reads where they lie, and the page's walk starts there (after the sums).
            column = SORTS[sort] if not most_match and SORTS[sort] in SPANNED_SORTS and lead == logic.LEAD_ORDER \
                else None
            # When most rows match, those that do not are summed and taken from the sums of the list
            # without a search (cached).
            everything = await cached((*key, ""), plain) if most_match else None
            # The page is read from its start at the same time as the sums when it lies before the middle
            # (a page past the middle is read from the end, which needs the count): page 1, or, when most
            # rows match, a page before EARLY_PAGE of the count the probe's share tells.
            early = page.offset == 0 or (everything is not None and page.offset <= EARLY_PAGE * share * _count(everything))
            period = bool(date_from or date_to)
            walk = (functools.partial(_page_rows, conditions, lead, sort, descending, page, None, period=period)
                    if whole_type and column is None and not period and early else None)
            walked: list[tuple[list[dict[str, Any]], bool]] = []

            async def broad() -> tuple[dict[str, dict[str, int]], tuple[Any, Any] | None]:
                (found, found_span), page_read = await _broad_sums_and_page(snapshot, doc_type, scanned, lead, column,
                                                                            walk)
                if page_read is not None:
                    walked.append(page_read)
                if tallied is not None:
                    _counted_by_reading(query.words)
                return (_less(everything, found) if everything is not None else found), found_span
            sums, span = await cached((*key, q, column), broad)
            if walked:
                shown = walked[0][0]
            else:
                shown, _more = await _page_rows(conditions, lead, sort, descending, page, _count(sums), period=period,
                                               span=span)
    count = _count(sums)
    if shown is None:
        shown, _more = await _page_rows(conditions, lead, sort, descending, page, count,
                                        period=bool(date_from or date_to))
    rows = shown
    # The footer: per currency, the money of the documents it sums (none: a list of drafts shows no sums).
    footer = [DocumentTotals(currency=currency, total=from_minor(sums[currency]["total"], currency),
                             paid=from_minor(sums[currency]["paid"], currency),
                             credited=from_minor(sums[currency]["credited"], currency),
                             balance=from_minor(sums[currency]["owed"], currency), count=sums[currency]["summed"])
              for currency in sorted(sums) if sums[currency]["summed"]]
    return PageOf(items=[DocumentSummary.from_row(row, today_) for row in rows],
                  total=count, page=page,
                  extra={"totals": footer, "base_total": await _footer_base_total(footer, sums)})


def _count(sums: Mapping[str, Mapping[str, int]]) -> int:
    """How many documents a list holds, from its sums (all currencies)."""
    return sum(row["n"] for row in sums.values())


async def _page_rows(conditions: Sequence[Any], lead: str, sort: str, descending: bool, page: Page,
                     count: int | None, *, period: bool, span: tuple[Any, Any] | None = None
                     ) -> tuple[list[dict[str, Any]], bool]:
    """One page of a list, in two reads: the ids of its rows (through the indexes alone, skipping the
    rows before the page without reading them), then those rows with the names they show. A page past
    the middle is counted from the end, in the other order: the last page skips nothing. With no count
    (a broad search whose count is left out) one row more is read, to tell whether a next page has rows."""
    if count is not None and page.offset >= count:
        return [], False
    size = page.per_page + 1 if count is None else min(page.per_page, count - page.offset)
    from_end = count is not None and page.offset > count // 2
    ascending = descending if from_end else not descending
    offset = count - page.offset - size if count is not None and from_end else page.offset
    column = SORTS[sort]
    walks = logic.sort_walks_index(lead, sort, period=period, rows=count) and not candidates_lead(conditions)
    way = "ASC" if ascending else "DESC"
    if span is not None and walks and column in SPANNED_SORTS:
        # Every row found lies within `span` (_sums_and_span): the walk of the sort's index seeks its start.
        conditions = [*conditions, WhereRaw(f"document.{column} >= {{}} AND document.{column} <= {{}}", *span)]
    where, args = _where(conditions)
    if column == "client_name" and walks:
        # Client by client in name order (client_name), each one's documents from document_client_type:
        # SQLite would otherwise read every document to sort them by a name in another table.
        source = "client CROSS JOIN document ON document.client = client.id"
        order = f"client.name {way}, client.id {way}, document.issue_date {way}"
    elif column == "client_name":
        source = f"{_source(conditions)} LEFT JOIN client ON client.id = document.client"
        order = f"client.name {way}, document.client {way}, +document.issue_date {way}"
    else:
        # Walking the sort's index, or (few rows) the filter's index finds the rows and they are sorted:
        # "+" keeps SQLite from walking the sort's index then (it would read every document to find them).
        source = _source(conditions)
        order = f"{'' if walks else '+'}document.{column} {way}"
    found = await Document.raw(f"SELECT document.id AS id FROM {source} WHERE {where} "
                               f"ORDER BY {order}, document.id {way} LIMIT {{}} OFFSET {{}}", *args, size, offset)
    ids = [row["id"] for row in found]
    more = count is None and len(ids) > page.per_page
    ids = ids[:page.per_page]
    if from_end:
        ids.reverse()
    if not ids:
        return [], False
    by_id = {row["id"]: row for row in await _summary_query().where(Document.id.is_in(ids))}
    return [by_id[i] for i in ids if i in by_id], more


async def _footer_base_total(totals: Sequence[DocumentTotals], sums: Mapping[str, Mapping[str, int]]
                             ) -> DocumentBaseTotal | None:
    """A list footer's line in the base currency, at the rates frozen at issue: only when it sums some
    other currency than the base (a list in the base currency alone needs none)."""
    base = await fx_service.base_currency()
    if not totals or all(t.currency == base for t in totals):
        return None
    summed = [sums[t.currency] for t in totals]
    return DocumentBaseTotal(currency=base, total=from_minor(sum(s["base"] for s in summed), base),
                             left_out=sum(s["unrated"] for s in summed))


def _sum(column: str) -> Sum:
    return Sum(getattr(Document, column), alias=column.removesuffix("_minor"))


# -- writing ------------------------------------------------------------------

async def _resolve(doc_type: str, values: logic.DocumentInput, *, current: Mapping[str, Any] | None = None
                   ) -> tuple[dict[str, Any], list[dict[str, Any]], logic.Totals]:
    """Check the references (client, items, taxes, invoice) and compute the draft's totals."""
    errors: list[FieldError] = []
    settings = await settings_service.get_settings()
    client_id = values.client_id if values.client_id is not None else (current or {}).get("client")
    client = await Client.select().where(Client.id == client_id).first() if client_id is not None else None
    if client is None:
        errors.append(FieldError("client_id", _("Unknown client %(client_id)s", client_id=client_id) if client_id else _("Choose a client")))
    currency = values.currency or (current or {}).get("currency") or (client or {}).get("currency") \
        or settings["default_currency"]
    today_ = await today()
    errors.extend(logic.unconfirmed_dates(values, today_, current))
    issue_date = values.issue_date or (current or {}).get("issue_date") or today_
    # lines: item defaults first, then what was typed
    item_ids = {line["item_id"] for line in values.lines if line.get("item_id")}
    items = {row["id"]: row for row in await Item.select().where(Item.id.is_in(list(item_ids)))} if item_ids else {}
    rates = await taxes_service.rates_by_code()
    lines: list[dict[str, Any]] = []
    for index, line in enumerate(values.lines):
        if line.get("item_id") and line["item_id"] not in items:
            errors.append(FieldError(f"lines[{index}].item_id", _("Line %(value)s: unknown catalogue item %(item_id)s", value=index + 1, item_id=line['item_id'])))
        for code in line["taxes"]:
            if code not in rates:
                errors.append(FieldError(f"lines[{index}].taxes", _("Line %(number)s: unknown tax code %(code)s",
                                                                   number=index + 1, code=repr(code))))
        lines.append(line)
    document: dict[str, Any] = {"client": client_id, "currency": currency, "issue_date": issue_date,
                                "discount_percent": logic.decimal_text(values.discount_percent)
                                if "discount_percent" in values.given or current is None
                                else (current or {}).get("discount_percent", "0")}
    discount = Decimal(document["discount_percent"])
    if doc_type == INVOICE:
        terms_days: int | None
        if values.terms_days is not None:
            terms_days = values.terms_days
        elif current is not None:
            terms_days = current.get("terms_days")
        else:
            terms_days = settings["payment_terms_days"]
        if values.due_date is not None:
            due = values.due_date
        elif current is not None and current.get("due_date") and not ({"terms_days", "issue_date"} & values.given):
            due = current["due_date"]
        else:
            due = logic.due_date_for(issue_date, terms_days or 0)
        if due < issue_date:
            errors.append(FieldError("due_date", _("The due date cannot be before the issue date")))
        document["due_date"], document["terms_days"] = due, terms_days
    elif doc_type == QUOTE:
        if values.valid_until is not None:
            valid = values.valid_until
        elif current is not None and current.get("valid_until") and "issue_date" not in values.given:
            valid = current["valid_until"]
        else:
            valid = logic.due_date_for(issue_date, settings.get("quote_validity_days") or 30)
        if valid < issue_date:
            errors.append(FieldError("valid_until", _("A quote cannot expire before its issue date")))
        document["valid_until"] = valid
    if doc_type == CREDIT_NOTE:
        invoice_id = values.invoice_id if "invoice_id" in values.given else (current or {}).get("invoice")
        if invoice_id is not None:
            invoice = await Document.select().where((Document.id == invoice_id) & (Document.doc_type == INVOICE)).first()
            if invoice is None:
                errors.append(FieldError("invoice_id", _("Unknown invoice %(invoice_id)s", invoice_id=invoice_id)))
            elif invoice["status"] in ("draft", "cancelled"):
                errors.append(FieldError("invoice_id", _("A credit note can only credit an issued invoice")))
            elif client is not None and invoice["client"] != client["id"]:
                errors.append(FieldError("invoice_id", _("The invoice belongs to another client")))
            elif invoice["currency"] != currency:
                errors.append(FieldError("currency", _("The credit note must be in the invoice's currency (%(currency)s)", currency=invoice['currency'])))
        document["invoice"] = invoice_id
    for name in ("notes", "terms", "footer"):
        if name in values.given or current is None:
            document[name] = getattr(values, name)
    if current is None:
        if not document.get("terms") and doc_type == INVOICE:
            document["terms"] = settings.get("default_terms") or (
                f"Payment due within {document['terms_days']} days." if document.get("terms_days") else "")
        if not document.get("footer"):
            document["footer"] = settings.get("invoice_footer") or ""
    if errors:
        raise ValidationFailed(errors)
    for line in lines:
        item = items.get(line.get("item_id")) if line.get("item_id") else None
        if item is not None:
            # The item fills what the user left empty.
            line["description"] = line["description"] or item["description"] or item["name"]
            line["unit"] = line["unit"] or item["unit"]
            line["name"] = line.get("name") or item["name"]
    totals = logic.compute_totals([logic.as_line(line) for line in lines], rates, currency, discount)
    document["subtotal_minor"] = to_minor(totals.subtotal, currency)
    document["tax_total_minor"] = to_minor(totals.tax_total, currency)
    document["total_minor"] = to_minor(totals.total, currency)
    document["taxes_json"] = json.dumps([tax_as_json(t) for t in totals.taxes])
    document["search_text"] = logic.search_text_of((current or {}).get("number"), (client or {}).get("name", ""),
                                                   logic.line_texts(lines))
    return document, lines, totals


async def _write_lines(document_id: int, lines: Sequence[dict[str, Any]], totals: logic.Totals, currency: str) -> None:
    await DocumentLine.delete().where(DocumentLine.document == document_id)
    if lines:
        await DocumentLine.insert(*[
            DocumentLine(document=document_id, position=i + 1, item=line.get("item_id"), name=line.get("name") or "",
                         description=line["description"],
                         quantity=logic.decimal_text(line["quantity"]), unit=line["unit"],
                         unit_price=logic.price_text(line["unit_price"]),
                         discount_percent=logic.decimal_text(line["discount_percent"]),
                         tax_codes=" ".join(line["taxes"]), net_minor=to_minor(net, currency))
            for i, (line, net) in enumerate(zip(lines, totals.nets, strict=False))
        ])


async def tax_advice(client_id: Any = None) -> logic.TaxAdvice:
    """The business, the client (None or unknown: a client in the business's place) and the defined rates,
    as the rules by place of supply read them for a draft's new lines."""
    settings = await settings_service.get_settings()
    client = None
    if id_of(client_id) is not None:
        client = await Client.select(Client.country, Client.region, Client.tax_number).where(
            Client.id == id_of(client_id)).first()
    return logic.TaxAdvice(
        seller=logic.party_of(settings, pst_registrations=settings_logic.pst_registrations(settings)),
        client=logic.party_of(client), rates=await taxes_service.rates_by_code())


async def suggest_taxes(client_id: int, item_id: int | None = None) -> taxes_logic.Suggestion:
    """`GET /api/v1/taxes/suggest`: the taxes a line for this client (and item) gets by default, and why."""
    await clients_service.get_client(client_id)   # NotFound for an unknown client
    if item_id is not None and not storable_id(item_id):
        raise NotFound(_("Item %(id)s", id=item_id))
    item = await catalog_service.get_item(item_id) if item_id is not None else None
    return (await tax_advice(client_id)).defaults(item)


async def item_price(item: Mapping[str, Any], currency: str | None, day: date | None) -> tuple[Decimal | None, str]:
    """An item's price for a line in `currency`: its unit price in the business currency, its own price in
    that currency (`prices`), or the unit price converted at the day's rates with the hint saying so
    ("converted at 1 CAD = 0.6712 EUR"); None when there is neither (the line asks for a price). A
    business with no exchange rate on record at all takes the unit price as it is."""
    unit_price = catalog_logic.e4_to_price(item["unit_price_e4"]) if "unit_price_e4" in item else item["unit_price"]
    business = (await settings_service.get_settings()).get("default_currency") or "EUR"
    if not currency or currency == business:
        return unit_price, ""
    own = catalog_logic.prices_of(item)
    if currency in own:
        return own[currency], ""
    converted = await fx_service.price_in(unit_price, business, currency, day or await today())
    if converted is None and not await fx_service.rate_count():
        # No exchange rate was ever entered: the business bills in one currency whatever the setting says
        # (as before app.fx); the unit price is taken as it is.
        return unit_price, ""
    if converted is None:
        return None, (f"no {currency} price for this item and no {business}/{currency} rate on or before "
                      f"{(day or await today()).isoformat()}: enter a price")
    return converted


async def _line_currency(data: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> str | None:
    """The currency the lines of a document being saved will be in: the one given, the draft's, or the client's."""
    if data.get("currency"):
        return str(data["currency"]).strip().upper()
    if current is not None:
        return str(current["currency"])
    client_id = data.get("client_id")
    if id_of(client_id) is not None:
        client = await Client.select(Client.currency).where(Client.id == id_of(client_id)).first()
        if client and client["currency"]:
            return str(client["currency"])
    return None


def _day_of(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


async def fill_from_items(raw_lines: list[Any], client_id: Any = None, *, currency: str | None = None,
                          day: date | None = None) -> list[Any]:
    """For JSON and forms: a line with an item_id takes the item's description, unit and price where it
    left them out. In another currency than the business's the price is the item's own price in it, or the
    converted one (`item_price`); with neither the line is refused, asking for a price. A line that leaves
    out `taxes` (from the catalogue or typed) gets the item's own codes, else the rules by place of supply
    for the client (TaxAdvice); `"taxes": []` stays untaxed."""
    item_ids = set()
    for line in raw_lines:
        if isinstance(line, Mapping) and line.get("item_id") not in (None, ""):
            try:
                item_id = int(line["item_id"])
            except (TypeError, ValueError):
                continue
            if 1 <= item_id <= MAX_ID:  # any other is refused by clean_line, naming the line
                item_ids.add(item_id)
    if not any(isinstance(line, Mapping) and line.get("taxes") is None for line in raw_lines) and not item_ids:
        return raw_lines
    items = {row["id"]: row for row in await Item.select().where(Item.id.is_in(list(item_ids)))} if item_ids else {}
    advice = await tax_advice(client_id)
    filled: list[Any] = []
    missing: list[FieldError] = []
    for line in raw_lines:
        if not isinstance(line, Mapping):
            filled.append(line)
            continue
        item = None
        if line.get("item_id") not in (None, ""):
            try:
                item = items.get(int(line["item_id"]))
            except (TypeError, ValueError):
                item = None
        line = dict(line)
        if item is not None:
            if line.get("description") in (None, ""):
                line["description"] = item["description"] or item["name"]
            if line.get("name") in (None, ""):
                line["name"] = item["name"]
            if line.get("unit") in (None, ""):
                line["unit"] = item["unit"]
            if line.get("unit_price") in (None, ""):
                price, hint = await item_price(item, currency, day)
                if price is None:
                    missing.append(FieldError(f"lines[{len(filled)}].unit_price", _("Line %(number)s: %(hint)s", number=len(filled) + 1, hint=hint)))
                else:
                    line["unit_price"] = str(price)
        if line.get("taxes") is None:
            line["taxes"] = list(advice.defaults(item).codes)
        filled.append(line)
    if missing:
        raise ValidationFailed(missing)
    return filled


async def create_document(doc_type: str, data: Mapping[str, Any], *, actor: int | None = None,
                          idempotency_key: str | None = None) -> DocumentView:
    """A new draft. The same idempotency key returns the draft it made the first time, never a second one."""
    key = clean_idempotency_key(idempotency_key)
    data = dict(data)
    data["lines"] = await fill_from_items(list(data.get("lines") or []), data.get("client_id"),
                                          currency=await _line_currency(data), day=_day_of(data.get("issue_date")))
    values = logic.clean_document(data, doc_type)
    async with write_transaction():
        if key is not None:
            existing = await CreateRequest.select(CreateRequest.document, CreateRequest.document.doc_type).where(
                CreateRequest.key == key).first()
            if existing is not None:
                if existing["document.doc_type"] != doc_type:
                    raise Conflict(_("This idempotency key was already used for another kind of document."))
                return await get_document(existing["document"])
        document, lines, totals = await _resolve(doc_type, values)
        now = _now()
        row = Document(doc_type=doc_type, status="draft", created_at=now, updated_at=now, created_by=actor, **document)
        await row.save()
        if key is not None:
            await CreateRequest.insert(CreateRequest(key=key, document=row.id, created_at=now))
        await _write_lines(row.id, lines, totals, document["currency"])
        await _event(row.id, "created", actor=actor)
        # Read back inside the transaction: the reply is what this write made, whatever else is being read.
        return await get_document(row.id)


async def update_draft(document_id: int, data: Mapping[str, Any], *, partial: bool = True,
                       actor: int | None = None) -> DocumentView:
    data = dict(data)
    if "lines" in data:
        current_row = await Document.select(Document.currency, Document.issue_date, Document.client).where(
            Document.id == document_id).first() if storable_id(document_id) else None
        client_id = data.get("client_id")
        if client_id in (None, "") and current_row is not None:
            client_id = current_row["client"]
        data["lines"] = await fill_from_items(
            list(data.get("lines") or []), client_id, currency=await _line_currency(data, current_row),
            day=_day_of(data.get("issue_date")) or (current_row["issue_date"] if current_row else None))
    async with write_transaction():
        current = await Document.select().where(Document.id == document_id).first()
        if current is None:
            raise NotFound(_("Document %(document_id)s", document_id=document_id))
        logic.check_editable(current["doc_type"], current["status"])
        values = logic.clean_document(data, current["doc_type"], partial=partial)
        if "lines" not in values.given:
            values.lines = await _copy_lines(document_id, current["currency"])
        document, lines, totals = await _resolve(current["doc_type"], values, current=current)
        document["updated_at"] = _now()
        await Document.update(column_values(document)).where(Document.id == document_id)
        await _write_lines(document_id, lines, totals, document["currency"])
    return await get_document(document_id)


async def delete_draft(document_id: int) -> None:
    async with write_transaction():
        current = await Document.select(Document.doc_type, Document.status).where(Document.id == document_id).first()
        if current is None:
            raise NotFound(_("Document %(document_id)s", document_id=document_id))
        logic.check_editable(current["doc_type"], current["status"])
        await Document.update({Document.converted_invoice: None}).where(Document.converted_invoice == document_id)
        await Document.delete().where(Document.id == document_id)


async def _next_number(doc_type: str, issue_date: date) -> str:
    settings = await settings_service.get_settings()
    pattern = settings.get(logic.PATTERN_FIELDS[doc_type]) or logic.DEFAULT_PATTERNS[doc_type]
    series = await NumberSeries.select().where(
        (NumberSeries.doc_type == doc_type) & (NumberSeries.year == issue_date.year)).first()
    if series is None:
        seq = 1
        await NumberSeries.insert(NumberSeries(doc_type=doc_type, year=issue_date.year, next_seq=2, start_seq=1))
    else:
        seq = series["next_seq"]
        await NumberSeries.update({NumberSeries.next_seq: seq + 1}).where(NumberSeries.id == series["id"])
    number = logic.format_number(pattern, issue_date, seq)
    if await Document.exists().where(Document.number == number):
        # Only possible after a pattern change that collides with old numbers: refuse, never reuse.
        raise Conflict(_("The next number %(number)s is already taken (the numbering pattern was changed to one used before); change the pattern in Settings, Numbering.", number=number))
    return number


# What else must happen inside the issuing transaction, once the number is given: app.render makes the
# document of record (its PDF) there, so a document that cannot be printed is never issued.
IssueHook = Callable[[int], Awaitable[None]]
_issue_hooks: list[IssueHook] = []
# What may be done before the write lock is taken, on the document as issuing it will make it (see
# `issue`): app.render renders the document of record there, so the lock is not held while Typst works.
IssuePreparer = Callable[[DocumentView], AbstractAsyncContextManager[None]]
_issue_preparers: list[IssuePreparer] = []


def register_issue_hook(hook: IssueHook) -> None:
    if hook not in _issue_hooks:
        _issue_hooks.append(hook)


def register_issue_preparer(preparer: IssuePreparer) -> None:
    if preparer not in _issue_preparers:
        _issue_preparers.append(preparer)


class _Preview(Exception):
    """Ends the transaction of `issue_preview` (rolled back) with the document as it would be issued."""

    def __init__(self, view: DocumentView):
        super().__init__("issue preview")
        self.view = view


async def issue_preview(document_id: int, *, now: datetime, actor: int | None = None,
                        issue_date: date | None = None, backdate: bool = False) -> DocumentView:
    """The document exactly as `issue(..., now=now)` would make it if nothing changes meanwhile: the issue is
    made in a transaction that is then rolled back (nothing is kept, no number is used, no trail entry).
    Raises what issuing would refuse. The issue hooks do not run."""
    try:
        async with write_transaction():
            await _issue_in_transaction(document_id, actor, issue_date=issue_date, backdate=backdate, now=now,
                                        hooks=False)
            raise _Preview(await get_document(document_id))
    except _Preview as preview:
        return preview.view


async def latest_issued_date(doc_type: str, year: int) -> tuple[date | None, str | None]:
    """The latest issue date (and its number) of a series: the type's issued documents of `year`."""
    row = await Document.select(Document.issue_date, Document.number).where(
        (Document.doc_type == doc_type) & (Document.number.is_not_null())
        & (Document.issue_date >= date(year, 1, 1)) & (Document.issue_date <= date(year, 12, 31))
    ).order_by(Document.issue_date, ascending=False).order_by(Document.id, ascending=False).first()
    return (row["issue_date"], row["number"]) if row else (None, None)


async def _issue_in_transaction(document_id: int, actor: int | None, *, ledger_kind: str | None = None,
                                einvoice_rules: bool = True, issue_date: date | None = None,
                                backdate: bool = False, now: datetime | None = None, hooks: bool = True) -> None:
    # The number, the credited amount of the invoice credited, the ledger entry and the document of
    # record move together: if any fails (the PDF cannot be made), nothing is issued.
    require_write_transaction("issuing a document")
    current = await Document.select().where(Document.id == document_id).first()
    if current is None:
        raise NotFound(_("Document %(document_id)s", document_id=document_id))
    client = await Client.select().where(Client.id == current["client"]).first()
    if client is None:  # the foreign key keeps it; a None here is a broken database
        raise NotFound(_("Client %(client)s", client=current['client']))
    line_count = await DocumentLine.count().where(DocumentLine.document == document_id)
    logic.check_can_issue(current["doc_type"], current["status"], line_count, client["status"])
    logic.check_invoice_total(current["doc_type"], from_minor(current["total_minor"], current["currency"]))
    # Numbers follow dates: the document is dated today unless back-dated on purpose, and never before
    # the latest date already issued in its series.
    dated = logic.issue_date_of(issue_date, backdate, await today())
    latest, latest_number = await latest_issued_date(current["doc_type"], dated.day.year)
    logic.check_series_order(current["doc_type"], dated.day, latest, latest_number)
    dates = logic.dates_on_issue(current["doc_type"], current, dated.day)
    current = {**current, **dates}
    if einvoice_rules:
        settings = await settings_service.get_settings()
        logic.check_reverse_charge(
            current["doc_type"], [t.get("category") or "S" for t in json.loads(current["taxes_json"] or "[]")],
            seller_tax_number=settings.get("tax_number"), buyer_tax_number=client.get("tax_number"),
            facturx_enabled=bool(settings.get("facturx_enabled", True)))
    if current["doc_type"] == CREDIT_NOTE and current["invoice"] is not None:
        invoice = await Document.select().where(Document.id == current["invoice"]).first()
        if invoice is None:  # the foreign key keeps it; a None here is a broken database
            raise NotFound(_("Invoice %(invoice)s", invoice=current['invoice']))
        if invoice["status"] in ("draft", "cancelled"):
            raise Conflict(_("The invoice this credit note belongs to is not open any more."))
        open_amount = from_minor(invoice["total_minor"] - invoice["paid_minor"] - invoice["credited_minor"],
                                 invoice["currency"])
        logic.check_credit_fits(from_minor(current["total_minor"], current["currency"]), open_amount,
                                invoice["number"])
        await Document.update({Document.credited_minor: Document.credited_minor + current["total_minor"],
                               Document.updated_at: _now()}).where(Document.id == invoice["id"])
        await _event(invoice["id"], "credited", f"{from_minor(current['total_minor'], current['currency'])} "
                     f"{current['currency']}", actor)
    elif current["doc_type"] == CREDIT_NOTE and current["total_minor"] <= 0:
        raise Conflict(_("A credit note must credit an amount above zero."))
    number = await _next_number(current["doc_type"], current["issue_date"])
    # The bank account for the document's currency is frozen with the business (app.fx).
    settings = await fx_service.settings_for_currency(await settings_service.get_settings(), current["currency"])
    lines = await _lines(document_id)
    now = now or _now()
    # The rate of the issue date is frozen with the document (app.fx): its total in the base currency
    # never moves with later rates. Without a rate it is still issued, its base total unknown for now.
    frozen = await fx_service.freeze(current["currency"], current["issue_date"], current["total_minor"])
    await Document.update({
        Document.base_currency: frozen.base_currency,
        Document.exchange_rate: str(frozen.rate) if frozen.rate is not None else None,
        Document.total_base_minor: frozen.total_base_minor,
        **{getattr(Document, name): value for name, value in dates.items()},
        Document.number: number, Document.status: "issued", Document.issued_at: now, Document.updated_at: now,
        Document.snapshot_json: json.dumps(logic.snapshot(settings, client)),
        Document.search_text: logic.search_text_of(number, client["name"], logic.line_texts(lines)),
    }).where(Document.id == document_id)
    await _event(document_id, "issued", number + (f" (back-dated to {dated.day.isoformat()})" if dated.backdated
                                                  else ""), actor)
    if current["doc_type"] in (INVOICE, CREDIT_NOTE):
        # The client's account moves in the same transaction as the number is given.
        is_invoice = current["doc_type"] == INVOICE
        await ledger_service.append(
            client_id=current["client"], currency=current["currency"], entry_date=current["issue_date"],
            kind=ledger_kind or current["doc_type"], document_id=document_id, number=number,
            debit_minor=current["total_minor"] if is_invoice else 0,
            credit_minor=0 if is_invoice else current["total_minor"],
            description=(f"Invoice {number}" if is_invoice else
                         f"Credit note {number}" + (" (on account)" if current["invoice"] is None else "")),
            refs={} if is_invoice else {"on_account": current["invoice"] is None}, actor=actor)
    if current["doc_type"] == CREDIT_NOTE and current["invoice"] is not None:
        await _event(current["invoice"], "credit note", number, actor)
    for hook in _issue_hooks if hooks else ():
        await hook(document_id)


async def issue(document_id: int, *, actor: int | None = None, issue_date: date | None = None,
                backdate: bool = False) -> DocumentView:
    """Assign the next number and freeze, in one BEGIN IMMEDIATE transaction (gapless numbers). The
    document is dated today, or `issue_date` when `backdate` says the earlier date is meant.

    The slow part of issuing (rendering the document of record) is done before the write lock is taken,
    on `issue_preview`'s document: the issuing transaction then only checks that the document came out
    the same (the same number, date and data; the preparers compare) and keeps what was made. Inside a
    caller's transaction (no preview is possible there), and while another write holds the writer (a
    burst of issues: the previews would all see the same next number and each render twice), everything
    happens in the transaction, as it did before."""
    now = _now()
    async with AsyncExitStack() as prepared:
        if _issue_preparers and not in_write_transaction() and not writer_busy():
            view = await issue_preview(document_id, now=now, actor=actor, issue_date=issue_date, backdate=backdate)
            for preparer in _issue_preparers:
                await prepared.enter_async_context(preparer(view))
        async with write_transaction():
            await _issue_in_transaction(document_id, actor, issue_date=issue_date, backdate=backdate, now=now)
            return await get_document(document_id)
    raise AssertionError("unreachable")   # the transaction returns or raises


async def _fill_base_totals(currency: str) -> None:
    """A rate of `currency` was just entered: documents issued in it while no rate on or before their
    date was known get the rate their date now has (app.fx calls this in the writing transaction)."""
    waiting = await Document.select(Document.id, Document.issue_date, Document.total_minor).where(
        (Document.currency == currency) & (Document.status != "draft") & Document.exchange_rate.is_null())
    for row in waiting:
        frozen = await fx_service.freeze(currency, row["issue_date"], row["total_minor"])
        if frozen.rate is not None:
            await Document.update({Document.base_currency: frozen.base_currency,
                                   Document.exchange_rate: str(frozen.rate),
                                   Document.total_base_minor: frozen.total_base_minor}).where(Document.id == row["id"])


fx_service.register_rate_hook(_fill_base_totals)


async def base_totals(doc_type: str = INVOICE, *, open_only: bool = False, date_from: date | None = None,
                      date_to: date | None = None) -> Any:
    """Issued documents' totals (or open balances) per currency and in the base currency, at the rates
    frozen at issue (app.fx.logic.BaseTotal; `left_out` counts those with no rate yet). Cancelled ones
    are not counted.

    Summed in SQL by currency (and, in another currency than the base, by rate or day and amount, since
    each amount is converted and rounded on its own): the dashboard reads a few groups, not every
    invoice. The open invoices come from their partial index (document_open_invoice)."""
    base = await fx_service.base_currency()
    # An invoice is never "accepted" (a quote's status): its live ones are the open filter's, and so its index's.
    live = (logic.live_invoice_sql() if doc_type == INVOICE
            else "status IN ('issued', 'sent', 'accepted')")
    amount = logic.open_amount_sql() if open_only else "total_minor"
    conditions = [f"doc_type = '{doc_type}'", live] + ([f"{amount} > 0"] if open_only else [])
    params: list[Any] = [base, base, base, base]   # the four {} of the query below, in their order
    if date_from is not None:
        conditions.append("issue_date >= {}")
        params.append(date_from.isoformat())
    if date_to is not None:
        conditions.append("issue_date <= {}")
        params.append(date_to.isoformat())
    # Led by the narrowest index (SQLite would walk the whole money index for being covering); the row itself
    # is read only for an amount in another currency (its rate), after the CASE's first test.
    if open_only and doc_type == INVOICE:
        source = "document INDEXED BY document_open_invoice"
    elif date_from is not None or date_to is not None:
        source = "document INDEXED BY document_type_date"
    else:
        source = "document"
    frozen = ("CASE WHEN currency != {} AND base_currency = {} AND exchange_rate IS NOT NULL "
              "AND exchange_rate != '' THEN exchange_rate END")
    # The base currency's amounts are one group with no rate, day or amount each: summed from the index
    # alone. Only the other currencies' rows are read for their rates (5,000 open invoices' rows read
    # for nothing took 14 ms of the dashboard; issue 21). The same groups as one query over both gave.
    in_base = await Document.raw(
        f"SELECT currency, sum({amount}) AS summed, count(*) AS n FROM {source} "
        f"WHERE {' AND '.join(conditions)} AND currency = {{}} GROUP BY currency", *params[4:], base)
    groups = await Document.raw(
        f"SELECT currency, frozen, CASE WHEN currency = {{}} OR frozen IS NOT NULL THEN NULL ELSE issue_date END "
        f"AS day, CASE WHEN currency = {{}} THEN NULL ELSE amount END AS each, sum(amount) AS summed, "
        f"count(*) AS n FROM (SELECT currency, issue_date, {amount} AS amount, {frozen} AS frozen "
        f"FROM {source} WHERE {' AND '.join(conditions)} AND currency != {{}}) GROUP BY currency, frozen, day, each",
        *params, base)
    return await fx_service.grouped_base_total(
        [*((row["currency"], row["summed"], None, None, None, row["n"]) for row in in_base),
         *((row["currency"], row["summed"], _as_date(row["day"]), row["frozen"], row["each"], row["n"])
           for row in groups)])


def _as_date(value: Any) -> date | None:
    return value if isinstance(value, date) or value is None else date.fromisoformat(str(value))


# -- the document of record ------------------------------------------------------------------

async def document_record(document_id: int) -> dict[str, Any] | None:
    """The stored PDF's row of an issued document (sha256, size, origin, made_at), or None."""
    row = await DocumentRecord.select().where(DocumentRecord.document == document_id).first()
    return dict(row) if row else None


async def served_record(document_id: int) -> dict[str, Any] | None:
    """What serving an issued document's stored PDF needs, in one read by primary keys: its type,
    number and the client name it was issued to (for the file's name), and its record's sha256. None
    for a draft, an unknown id, or a document issued before records were kept that has none yet."""
    if not storable_id(document_id):
        return None
    rows = await DocumentRecord.raw(
        "SELECT document.id, document.doc_type, document.number, document_record.sha256, "
        "coalesce(CASE WHEN json_valid(document.snapshot_json) "
        "THEN json_extract(document.snapshot_json, '$.client.name') END, client.name) AS client_name "
        "FROM document_record JOIN document ON document.id = document_record.document "
        "JOIN client ON client.id = document.client WHERE document_record.document = {}", document_id)
    return dict(rows[0]) if rows else None


async def unless_recorded(sha256: str, forget: Callable[[], None]) -> None:
    """Call `forget` (it removes a record file) unless a document's record is the file of that hash (two
    documents that print alike share one). Under the writer: no issuing transaction is open meanwhile that
    could be recording it."""
    async with write_transaction():
        if not await DocumentRecord.raw("SELECT 1 FROM document_record WHERE sha256 = {} LIMIT 1", sha256):
            forget()


async def document_records(document_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not document_ids:
        return {}
    rows = await DocumentRecord.select().where(DocumentRecord.document.is_in(list(document_ids)))
    return {row["document"]: dict(row) for row in rows}


async def keep_document_record(document_id: int, *, sha256: str, size: int, origin: str = "issue") -> dict[str, Any]:
    """Record the stored PDF of an issued document, once: a document already recorded keeps its first
    record (returned), whatever is asked later. In the caller's transaction, or its own."""
    async with write_transaction():
        existing = await document_record(document_id)
        if existing is not None:
            return existing
        status = await Document.select(Document.status).where(Document.id == document_id).first()
        if status is None:
            raise NotFound(_("Document %(document_id)s", document_id=document_id))
        if status["status"] == "draft":
            raise Conflict(_("A draft has no document of record: it is made when the document is issued."))
        await DocumentRecord.insert(DocumentRecord(document=document_id, kind="pdf", sha256=sha256, size=size,
                                                   origin=origin, made_at=_now()))
        found = await document_record(document_id)
        assert found is not None
        return found


async def keep_document_records(records: Sequence[tuple[int, str, int]], *, origin: str = "first use"
                                ) -> list[dict[str, Any]]:
    """`keep_document_record` for many documents (id, sha256, size) in one transaction: a ZIP's first
    renders commit once a batch instead of once a document. Returns each one's record, in order."""
    async with write_transaction():
        return [await keep_document_record(document_id, sha256=sha256, size=size, origin=origin)
                for document_id, sha256, size in records]


async def mark_sent(document_ids: Sequence[int], *, actor: int | None = None) -> list[int]:
    """Mark issued documents as sent by hand; returns the ids that changed. Drafts are refused."""
    changed = []
    unknown = [i for i in document_ids if not storable_id(i)]
    if unknown:
        raise NotFound(_("Document %(unknown)s", unknown=unknown[0]))
    async with write_transaction():
        rows = await Document.select(Document.id, Document.status, Document.number, Document.doc_type).where(
            Document.id.is_in(list(document_ids))) if document_ids else []
        found = {row["id"]: row for row in rows}
        missing = [i for i in document_ids if i not in found]
        if missing:
            raise NotFound(_("Document %(missing)s", missing=missing[0]))
        for row in rows:
            if row["status"] == "draft":
                raise Conflict(_("Issue the draft before marking it as sent."))
            if row["status"] == "cancelled":
                raise Conflict(_("%(number)s is cancelled.", number=row['number']))
        now = _now()
        for row in rows:
            if logic.sending_makes_it_sent(row["doc_type"], row["status"]):
                await Document.update({Document.status: "sent", Document.sent_at: now}).where(Document.id == row["id"])
                changed.append(row["id"])
            else:
                await Document.update({Document.sent_at: now}).where(Document.id == row["id"])
            await _event(row["id"], "sent", "marked as sent by hand", actor)
    return changed


async def record_emailed(document_id: int, to: str, *, actor: int | None = None) -> None:
    """The outbox delivered the document to `to` (inside its delivery transaction): an issued invoice
    becomes sent, as mark_sent does by hand, and the history says it was emailed and to whom."""
    async with write_transaction():
        row = await Document.select(Document.doc_type, Document.status).where(Document.id == document_id).first()
        if row is None:
            raise NotFound(_("Document %(document_id)s", document_id=document_id))
        if logic.sending_makes_it_sent(row["doc_type"], row["status"]):
            await Document.update({Document.status: "sent", Document.sent_at: _now()}).where(Document.id == document_id)
        await _event(document_id, "emailed", f"to {to}", actor)


async def _copy_lines(source_id: int, currency: str) -> list[dict[str, Any]]:
    """A document's lines as the input of another (or of the same draft when only its header changes)."""
    return [LineView.from_row(row, currency).as_input() for row in await _lines(source_id)]


async def cancel(document_id: int, reason: str, *, actor: int | None = None, issue_date: date | None = None,
                 backdate: bool = False) -> DocumentView:
    """Void an issued invoice: a credit note for its full amount is issued in the same transaction, dated
    today, or `issue_date` when `backdate` says the earlier date is meant (numbers follow dates)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", _("Say why the invoice is cancelled (it is kept on record)"))])
    if len(reason) > 500:
        raise ValidationFailed([FieldError("reason", _("The reason is too long (at most 500 characters)"))])
    if problem := control_problem(reason, "The reason"):
        raise ValidationFailed([FieldError("reason", problem)])
    async with write_transaction():
        invoice = await Document.select().where((Document.id == document_id) & (Document.doc_type == INVOICE)).first()
        if invoice is None:
            raise NotFound(_("Invoice %(document_id)s", document_id=document_id))
        logic.check_can_cancel(invoice["status"], from_minor(invoice["paid_minor"], invoice["currency"]),
                               from_minor(invoice["credited_minor"], invoice["currency"]))
        credit = await create_document(CREDIT_NOTE, {
            "client_id": invoice["client"], "currency": invoice["currency"], "invoice_id": invoice["id"],
            "issue_date": (issue_date or await today()).isoformat(),
            "lines": await _copy_lines(invoice["id"], invoice["currency"]),
            "discount_percent": invoice["discount_percent"],
            "notes": f"Cancels invoice {invoice['number']}: {reason}", "confirm_date": backdate,
        }, actor=actor)
        if to_minor(credit.subtotal, credit.currency) != invoice["subtotal_minor"]:
            raise Conflict(_("The invoice's lines cannot be credited as they are; credit it by hand instead."))
        # The credit note reverses what was invoiced: the invoice's frozen tax breakdown, even if a
        # rate has changed since it was issued.
        await Document.update({Document.tax_total_minor: invoice["tax_total_minor"],
                               Document.total_minor: invoice["total_minor"],
                               Document.taxes_json: invoice["taxes_json"]}).where(Document.id == credit.id)
        # A cancellation must always be possible: the e-invoice rules were checked when the invoice was issued.
        await _issue_in_transaction(credit.id, actor, ledger_kind="cancellation", einvoice_rules=False,
                                    issue_date=issue_date, backdate=backdate)
        await Document.update({Document.status: "cancelled", Document.cancelled_at: _now(),
                               Document.cancel_reason: reason}).where(Document.id == invoice["id"])
        await _event(invoice["id"], "cancelled", reason, actor)
    return await get_document(document_id)


async def decide_quote(document_id: int, action: str, *, actor: int | None = None) -> DocumentView:
    async with write_transaction():
        quote = await get_document(document_id, QUOTE, with_lines=False)
        logic.check_quote_transition(action, quote.status, quote.shown_status)
        status = {"accept": "accepted", "decline": "declined"}[action]
        await Document.update({Document.status: status, Document.decided_at: _now()}).where(Document.id == document_id)
        await _event(document_id, status, actor=actor)
    return await get_document(document_id)


async def convert_quote(document_id: int, *, actor: int | None = None) -> DocumentView:
    """An issued or accepted quote becomes a draft invoice carrying its lines; the quote records it."""
    async with write_transaction():
        quote = await get_document(document_id, QUOTE)
        logic.check_quote_transition("convert", quote.status, quote.shown_status)
        invoice = await create_document(INVOICE, {
            "client_id": quote.client_id, "currency": quote.currency,
            "lines": [line.as_input() for line in quote.lines],
            "discount_percent": quote.discount_percent, "notes": quote.notes,
        }, actor=actor)
        await Document.update({Document.source_quote: document_id}).where(Document.id == invoice.id)
        await Document.update({Document.status: "converted", Document.converted_invoice: invoice.id,
                               Document.decided_at: _now()}).where(Document.id == document_id)
        await _event(document_id, "converted", f"to draft invoice #{invoice.id}", actor)
        await _event(invoice.id, "created", f"from quote {quote.number}", actor)
    return await get_document(invoice.id)


async def duplicate(document_id: int, *, actor: int | None = None, as_type: str | None = None) -> DocumentView:
    """Any document into a new draft of the same type (today's date, same client and lines)."""
    source = await get_document(document_id)
    target = as_type or source.doc_type
    data: dict[str, Any] = {"client_id": source.client_id, "currency": source.currency,
                            "lines": [line.as_input() for line in source.lines],
                            "discount_percent": source.discount_percent,
                            "notes": source.notes, "terms": source.terms, "footer": source.footer}
    if target == CREDIT_NOTE and source.doc_type == INVOICE:
        data["invoice_id"] = document_id
        data["notes"] = f"Credit for invoice {source.number}"
        data["terms"] = ""   # the invoice's payment terms do not apply: a credit is settled, not paid
    async with write_transaction():
        copy = await create_document(target, data, actor=actor)
        await Document.update({Document.duplicated_from: document_id}).where(Document.id == copy.id)
        if target == source.doc_type:
            await _event(copy.id, "duplicated", f"from {source.number or f'draft #{document_id}'}", actor)
    return await get_document(copy.id)


async def credit_invoice(invoice_id: int, *, actor: int | None = None) -> DocumentView:
    """A draft credit note against an issued invoice, prefilled with its lines for the user to trim."""
    invoice = await get_document(invoice_id, INVOICE, with_lines=False)
    if invoice.status in ("draft", "cancelled"):
        raise Conflict(_("Only an issued invoice can be credited."))
    return await duplicate(invoice_id, actor=actor, as_type=CREDIT_NOTE)


async def statistics() -> dict[str, Any]:
    """Counts by status and money per currency, in one pass over the covering index (cached per data version)."""
    today_ = await today()
    return await cached(("statistics", today_), lambda: _statistics(today_))


async def _statistics(today_: date) -> dict[str, Any]:
    """What does not depend on today from the running sums (document_tally: the stored statuses, the paid
    invoices, the money), what does (issued, sent, partial, overdue) from the open invoices' partial index:
    never a pass over the 100,000 documents."""
    live = logic.live_invoice_sql()
    tallied = await DocumentTally.raw(
        "SELECT currency, "
        + ", ".join(f"sum(CASE WHEN status = '{status}' THEN n ELSE 0 END) AS n_{status}"
                    for status in logic.INVOICE_STATUSES if status not in (*logic.OWED_STATUSES, "paid"))
        + f", sum(CASE WHEN {live} AND settled = 1 THEN n ELSE 0 END) AS n_paid, "
        f"sum(CASE WHEN {live} THEN total_minor - credited_minor ELSE 0 END) AS revenue, "
        f"sum(CASE WHEN {live} THEN total_minor - paid_minor - credited_minor ELSE 0 END) AS outstanding "
        f"FROM document_tally WHERE doc_type = '{INVOICE}' GROUP BY currency ORDER BY currency")
    # Every row of the partial index is owed (issued or sent, money open): which of OWED_STATUSES it shows
    # today depends only on its stored status, whether it is late and whether anything was paid or credited.
    # Grouped by those in SQL and named here (invoice_status()'s rules), rather than each status's full
    # condition evaluated for each of 5,000 open invoices (issue 21).
    owed = await Document.raw(
        f"SELECT currency, status, coalesce(due_date < {{}}, 0) AS late, "
        f"(paid_minor <= 0 AND credited_minor <= 0) AS untouched, count(*) AS n, sum({logic.open_amount_sql()}) AS owed "
        f"FROM document INDEXED BY document_open_invoice WHERE doc_type = '{INVOICE}' AND {logic.owed_invoice_sql()} "
        "GROUP BY 1, 2, 3, 4", today_.isoformat())
    by_currency: dict[str, dict[str, int]] = {}
    for group in owed:
        shown = "overdue" if group["late"] else group["status"] if group["untouched"] else "partial"
        sums = by_currency.setdefault(group["currency"], {**{f"n_{status}": 0 for status in logic.OWED_STATUSES},
                                                          "overdue": 0})
        sums[f"n_{shown}"] += group["n"]
        if shown == "overdue":
            sums["overdue"] += group["owed"]
    counts = {status: 0 for status in logic.INVOICE_STATUSES}
    money = []
    for row in tallied:
        open_row = by_currency.get(row["currency"], {})
        for status in logic.INVOICE_STATUSES:
            counts[status] += (row.get(f"n_{status}") or 0) + (open_row.get(f"n_{status}") or 0)
        money.append({"currency": row["currency"], "revenue": from_minor(row["revenue"] or 0, row["currency"]),
                      "outstanding": from_minor(row["outstanding"] or 0, row["currency"]),
                      "overdue": from_minor(open_row.get("overdue") or 0, row["currency"])})
    return {"counts": counts, "amounts": money, "today": today_}


async def numbering(year: int) -> list[dict[str, Any]]:
    """Per type: the pattern and the next number for the year (for the settings page)."""
    settings = await settings_service.get_settings()
    rows = {r["doc_type"]: r for r in await NumberSeries.select().where(NumberSeries.year == year)}
    out = []
    for doc_type in (INVOICE, QUOTE, CREDIT_NOTE):
        pattern = settings.get(logic.PATTERN_FIELDS[doc_type]) or logic.DEFAULT_PATTERNS[doc_type]
        next_seq = rows[doc_type]["next_seq"] if doc_type in rows else 1
        out.append({"doc_type": doc_type, "label": logic.TYPE_LABELS[doc_type], "pattern": pattern, "next_seq": next_seq,
                    "example": logic.format_number(pattern, date(year, 1, 1), next_seq)})
    return out


async def set_next_number(doc_type: str, year: int, next_seq: Any) -> None:
    """Start a series further on (users moving from another program); never backwards, so never reused."""
    if doc_type not in logic.TYPES:
        raise ValidationFailed([FieldError("doc_type", _("Unknown document type"))])
    try:
        wanted = int(str(next_seq).strip())
    except ValueError:
        raise ValidationFailed([FieldError(f"{doc_type}_next", _("The next number must be a whole number"))]) from None
    if not 1 <= wanted <= 99_999_999:
        raise ValidationFailed([FieldError(f"{doc_type}_next", _("The next number must be between 1 and 99,999,999"))])
    async with write_transaction():
        series = await NumberSeries.select().where((NumberSeries.doc_type == doc_type) & (NumberSeries.year == year)).first()
        if series is not None and series["next_seq"] != series["start_seq"]:
            # Jumping ahead after numbers were issued would leave a gap in the series.
            raise ValidationFailed([FieldError(f"{doc_type}_next", _("%(TYPE_LABELS)s numbers were already issued in %(year)s; the series continues at %(next_seq)s", TYPE_LABELS=logic.TYPE_LABELS[doc_type], year=year, next_seq=series['next_seq']))])
        if series is None:
            await NumberSeries.insert(NumberSeries(doc_type=doc_type, year=year, next_seq=wanted, start_seq=wanted))
        else:
            await NumberSeries.update({NumberSeries.next_seq: wanted, NumberSeries.start_seq: wanted}).where(
                NumberSeries.id == series["id"])


async def record_event(document_id: int, kind: str, detail: str = "", actor: int | None = None) -> None:
    """For other domains (payments, mail): add to a document's history inside their transaction."""
    await _event(document_id, kind, detail, actor)


async def add_paid(invoice_id: int, delta_minor: int) -> None:
    """Payments and credit applications move an invoice's paid amount, in the caller's write transaction."""
    require_write_transaction("add_paid")
    await Document.update({Document.paid_minor: Document.paid_minor + delta_minor,
                           Document.updated_at: _now()}).where(Document.id == invoice_id)


async def documents_of_client(client_id: int) -> int:
    """Every document of the client, drafts too: each one keeps the client from being deleted."""
    return await Document.count().where(Document.client == client_id)


async def documents_of_item(item_id: int) -> int:
    return await DocumentLine.count().where(DocumentLine.item == item_id)


async def client_documents(client_id: int, limit: int = 20) -> list[DocumentSummary]:
    rows = await _summary_query().where(Document.client == client_id).order_by(Document.issue_date, ascending=False) \
        .order_by(Document.id, ascending=False).limit(limit)
    today_ = await today()
    return [DocumentSummary.from_row(row, today_) for row in rows]


async def _client_renamed(client_id: int, name: str) -> None:
    """The search text names the client, as the lists show it: follow a new name (drafts and issued alike)."""
    documents = await Document.select(Document.id, Document.number, Document.search_text) \
        .where(Document.client == client_id)
    if not documents:
        return
    descriptions: dict[int, list[str]] = {}
    lines = await DocumentLine.select(DocumentLine.document, DocumentLine.name, DocumentLine.description) \
        .where(WhereRaw("document IN (SELECT id FROM document WHERE client = {})", client_id)) \
        .order_by(DocumentLine.document).order_by(DocumentLine.position)
    for line in lines:
        descriptions.setdefault(line["document"], []).extend(logic.line_texts([line]))
    for document in documents:
        text = logic.search_text_of(document["number"], name, descriptions.get(document["id"], []))
        if text != document["search_text"]:
            await Document.update({Document.search_text: text}).where(Document.id == document["id"])


clients_service.register_usage_check(documents_of_client)
clients_service.register_rename_hook(_client_renamed)
catalog_service.register_usage_check(documents_of_item)


# -- the editor ---------------------------------------------------------------

async def picker_items(include_ids: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Catalogue items the editor offers (active ones, plus any inactive item already on the document)."""
    condition: Combinable = Item.active == True  # noqa: E712
    include_ids = [i for i in include_ids if storable_id(i)]
    if include_ids:
        condition = condition | Item.id.is_in(include_ids)
    rows = await Item.select(Item.id, Item.code, Item.name, Item.description, Item.unit, Item.unit_price_e4,
                             Item.default_tax_codes, Item.active, Item.kind, Item.tax_category, Item.prices_json
                             ).where(condition).order_by(Item.code)
    for row in rows:
        row["label"] = logic.item_label(row)
        row["unit_price"] = catalog_logic.e4_to_price(row["unit_price_e4"])
    return rows


async def apply_item_picks(lines: list[dict[str, Any]], items: Sequence[Mapping[str, Any]] | None = None, *,
                           advice: logic.TaxAdvice | None = None, currency: str | None = None, day: Any = None
                           ) -> tuple[list[dict[str, Any]], list[int], dict[int, str]]:
    """Lines from the editor whose item field now names another catalogue item take that item's
    description, unit, price and taxes (with `advice`: the defaults for the draft's client, else the
    item's own codes); an emptied item field unlinks the line (its text stays). In another currency the
    price is `item_price`'s, its hint in the line's `price_hint`; with no price in that currency and no
    rate the price is left empty and the line asks for one.

    Returns the lines, the indexes that were filled, and the indexes whose item text matches nothing.
    """
    if items is None:
        items = await picker_items([i for ln in lines if (i := id_of(ln.get("item_id"))) is not None])
    by_id = {str(item["id"]): item for item in items}
    out, picked, unknown = [], [], {}
    for index, line in enumerate(lines):
        text = str(line.get("item") or "").strip()
        current = by_id.get(str(line.get("item_id") or ""))
        if not text:
            out.append({**line, "item_id": ""})
            continue
        if current is not None and text == current["label"]:
            out.append(line)
            continue
        item = logic.match_item(text, items)
        if item is None:
            unknown[index] = f"Line {index + 1}: no catalogue item matches “{text}”; pick one from the list or clear the field"
            out.append(line)
        elif current is not None and item["id"] == current["id"]:
            out.append({**line, "item": item["label"]})
        else:
            taxes = list(advice.defaults(item).codes) if advice is not None else None
            price, hint = await item_price(item, currency, _day_of(day))
            filled = logic.fill_from_item(line, item, price if price is not None else Decimal(0), taxes)
            if price is None:
                filled["unit_price"] = ""
                unknown[index] = _("Line %(number)s: %(hint)s", number=index + 1, hint=hint)
            elif hint:
                filled["price_hint"] = hint
            out.append(filled)
            picked.append(index)
    return out, picked, unknown


async def preview(doc_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the editor shows while the user types: each line's net and the document's totals,
    computed by logic.compute_totals exactly as a save would, without writing anything.

    Lenient: a line that cannot be read yet (no price, quantity "abc") is left out of the totals
    and its problem reported; fields still empty are not complained about. `data` holds the header
    fields and `lines` as the editor sends them (logic.lines_from_form).
    """
    settings = await settings_service.get_settings()
    errors: dict[str, str] = {}
    currency = None
    if str(data.get("currency") or "").strip():
        try:
            currency = check_active_currency(str(data["currency"]))
        except MoneyError as error:
            errors["currency"] = f"Currency: {error}"
    if currency is None:
        client = None
        if id_of(data.get("client_id")) is not None:
            client = await Client.select(Client.currency).where(Client.id == id_of(data["client_id"])).first()
        currency = (client or {}).get("currency") or settings["default_currency"]
    discount_errors: list[FieldError] = []
    discount = logic.clean_percent(data.get("discount_percent"), "discount_percent", "Document discount",
                                   discount_errors)
    errors.update({e.field: e.message for e in discount_errors})
    rates = await taxes_service.rates_by_code()
    rows: list[dict[str, Any]] = []
    computed: list[tuple[int, logic.Line]] = []
    for index, raw in enumerate(data.get("lines") or []):
        row: dict[str, Any] = {"net": None, "errors": []}
        rows.append(row)
        if logic.line_is_blank(raw):
            continue
        line_errors: list[FieldError] = []
        cleaned = logic.clean_line(raw, index, line_errors)
        unknown = [code for code in cleaned["taxes"] if code not in rates]
        for code in unknown:
            line_errors.append(FieldError(f"lines[{index}].taxes", _("Line %(number)s: unknown tax code %(code)s",
                                                                   number=index + 1, code=repr(code))))
        for line_error in line_errors:
            name = line_error.field.rpartition(".")[2]
            if str(raw.get(name) or "").strip() or name == "taxes":
                row["errors"].append(line_error.message)
        if any(not e.field.endswith(".description") for e in line_errors):
            continue
        computed.append((index, logic.as_line(cleaned)))
    totals = logic.compute_totals([line for _index, line in computed], rates, currency, discount)
    for (index, _line), net in zip(computed, totals.nets, strict=False):
        rows[index]["net"] = net
    return {"currency": currency, "lines": rows, "totals": totals, "errors": errors,
            "complete": len(computed) == sum(1 for raw in data.get("lines") or [] if not logic.line_is_blank(raw))}


async def einvoice_warnings(client: ClientView | None, tax_codes: Sequence[str]) -> dict[str, Any]:
    """What the editor (and a draft's page) warns about before issuing: reverse charge without the
    client's or the business's VAT number. `blocks_issue` when Factur-X is on (issuing is refused then)."""
    rates = await taxes_service.rates_by_code()
    settings = await settings_service.get_settings()
    problems = logic.reverse_charge_problems(
        [rates[code].category for code in tax_codes if code in rates],
        seller_tax_number=settings.get("tax_number"),
        buyer_tax_number=None if client is None else client.tax_number)
    return {"problems": problems, "blocks_issue": bool(settings.get("facturx_enabled", True)),
            "client_id": None if client is None else client.id}


async def credit_targets(client_id: int, currency: str | None = None) -> list[DocumentSummary]:
    """Issued invoices of a client that a credit note can still credit (open balance above zero)."""
    query = _summary_query().where(
        (Document.client == client_id) & (Document.doc_type == INVOICE)
        & WhereRaw(logic.owed_invoice_sql(logic.InvoiceColumns.of("document"))))
    if currency:
        query = query.where(Document.currency == currency)
    rows = await query.order_by(Document.issue_date, ascending=False).order_by(Document.id, ascending=False)
    today_ = await today()
    return [DocumentSummary.from_row(row, today_) for row in rows]



async def set_number_patterns(data: Mapping[str, Any], *, actor: int | None = None) -> None:
    """Check the numbering patterns given in `data` (`{type}_number_pattern`) and have settings store them."""
    patterns = logic.clean_number_patterns(data)
    if patterns:
        await settings_service.store_number_patterns(patterns, actor_id=actor)


async def save_numbering(year: int, data: Mapping[str, Any], *, actor: int | None = None) -> None:
    """Settings, Numbering: the three patterns and where each series starts in `year`, all or nothing.

    `data` holds `{type}_number_pattern` and `{type}_next` (the next number); a next number left
    as it is does not count as a change.
    """
    current = {row["doc_type"]: row["next_seq"] for row in await numbering(year)}
    errors: list[FieldError] = []
    async with write_transaction():
        for doc_type in logic.TYPES:
            wanted = str(data.get(f"{doc_type}_next") or "").strip()
            if not wanted or wanted == str(current[doc_type]):
                continue
            try:
                await set_next_number(doc_type, year, wanted)
            except ValidationFailed as failed:
                errors.extend(failed.errors)
        try:
            await set_number_patterns(data, actor=actor)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        if errors:
            raise ValidationFailed(errors)  # rolls the whole section back
