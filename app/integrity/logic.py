"""`counterfoil check`: the books must agree. Pure checks over plain rows."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.documents import logic as documents_logic
from app.documents.records import LineView, taxes_from_json
from app.money import from_minor, to_minor
from app.reminders import logic as reminders_logic
from app.taxes.logic import TaxRate


@dataclass(frozen=True)
class Break:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _name(doc: Mapping[str, Any]) -> str:
    return doc["number"] or f"draft {documents_logic.TYPE_LABELS[doc['doc_type']].lower()} #{doc['id']}"


def check_document(doc: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], current_rates: Mapping[str, TaxRate]
                   ) -> list[Break]:
    """Totals recomputed from the lines equal the stored ones (issued documents use their frozen rates)."""
    breaks = []
    where = _name(doc)
    currency = doc["currency"]
    if doc["total_minor"] != doc["subtotal_minor"] + doc["tax_total_minor"]:
        breaks.append(Break(where, "total is not subtotal + taxes"))
    if imported_total(doc):
        # History kept as the program it came from totalled it, the user having accepted the difference
        # (app.imports): its lines are kept for the record, its totals are the source's.
        return breaks
    if doc["subtotal_minor"] != sum(line["net_minor"] for line in lines):
        breaks.append(Break(where, "subtotal is not the sum of the line nets"))
    frozen = taxes_from_json(doc["taxes_json"])
    if doc["status"] != "draft":
        rates = {t.code: TaxRate(t.code, t.name, t.rate, t.compound, t.note, t.category) for t in frozen}
        if sum(to_minor(t.amount, currency) for t in frozen) != doc["tax_total_minor"]:
            breaks.append(Break(where, "the tax breakdown does not add up to the tax total"))
    else:
        rates = dict(current_rates)
    calc_lines = []
    for view in (LineView.from_row(row, currency) for row in lines):
        if any(code not in rates for code in view.taxes):
            breaks.append(Break(where, f"line {view.position} uses a tax that is not in the document's breakdown"))
            return breaks
        calc_lines.append(documents_logic.as_line(view.as_input()))
    totals = documents_logic.compute_totals(calc_lines, rates, currency, Decimal(doc["discount_percent"]))
    for line, net in zip(lines, totals.nets, strict=False):
        if to_minor(net, currency) != line["net_minor"]:
            breaks.append(Break(where, f"line {line['position']} net is {from_minor(line['net_minor'], currency)}, "
                                       f"recomputed {net}"))
    if to_minor(totals.total, currency) != doc["total_minor"]:
        breaks.append(Break(where, f"total is {from_minor(doc['total_minor'], currency)}, recomputed {totals.total}"))
    # A draft's total may be below zero while a deducted deposit outweighs the rest (it is not in the books).
    for name in ("paid_minor", "credited_minor", "total_minor"):
        if doc[name] < 0 and doc["doc_type"] != "credit_note" and (name != "total_minor" or doc["status"] != "draft"):
            breaks.append(Break(where, f"{name.removesuffix('_minor')} is negative"))
    if doc["doc_type"] == "invoice" and doc["status"] != "draft" and \
            doc["total_minor"] - doc["paid_minor"] - doc["credited_minor"] < 0:
        breaks.append(Break(where, "more was paid and credited than the invoice's total"))
    return breaks


def imported_total(doc: Mapping[str, Any]) -> bool:
    """A document imported with the source's total kept ("imported total"): its snapshot says so."""
    text = doc.get("snapshot_json") or ""
    if '"imported"' not in text or doc.get("status") == "draft":
        return False
    try:
        return (json.loads(text).get("imported") or {}).get("total") == "imported"
    except ValueError:
        return False


def check_allocations(invoices: Iterable[Mapping[str, Any]], applied_by_invoice: Mapping[int, int],
                      credited_by_invoice: Mapping[int, int]) -> list[Break]:
    breaks = []
    for doc in invoices:
        where = _name(doc)
        if doc["paid_minor"] != applied_by_invoice.get(doc["id"], 0):
            breaks.append(Break(where, f"paid is {from_minor(doc['paid_minor'], doc['currency'])} but live payments "
                                       f"and applied credit make {from_minor(applied_by_invoice.get(doc['id'], 0), doc['currency'])}"))
        if doc["credited_minor"] != credited_by_invoice.get(doc["id"], 0):
            breaks.append(Break(where, f"credited is {from_minor(doc['credited_minor'], doc['currency'])} but its "
                                       f"credit notes make {from_minor(credited_by_invoice.get(doc['id'], 0), doc['currency'])}"))
    return breaks


def check_ledgers(ledger: Mapping[tuple[int, str], int], expected: Mapping[tuple[int, str], int],
                  credit: Mapping[tuple[int, str], int], client_names: Mapping[int, str]) -> list[Break]:
    """Ledger balance = invoices - credit notes - live payments + refunds; client credit never below zero."""
    breaks = []
    for key in sorted(set(ledger) | set(expected)):
        client_id, currency = key
        where = f"client {client_names.get(client_id, client_id)} ({currency})"
        if ledger.get(key, 0) != expected.get(key, 0):
            breaks.append(Break(where, f"ledger balance {from_minor(ledger.get(key, 0), currency)} differs from the "
                                       f"documents and payments ({from_minor(expected.get(key, 0), currency)})"))
    for (client_id, currency), amount in credit.items():
        if amount < 0:
            breaks.append(Break(f"client {client_names.get(client_id, client_id)} ({currency})",
                                f"client credit is negative ({from_minor(amount, currency)})"))
    return breaks


TallyKey = tuple[str, str, int, str, str, str]   # doc_type, status, settled, currency, base_currency, month


def check_tally(stored: Mapping[TallyKey, Sequence[int]], recomputed: Mapping[TallyKey, Sequence[int]], *,
                search: str | None = None) -> list[Break]:
    """The running sums of the documents (document_tally) equal the sums recomputed from the documents:
    the lists' counts and footers read them. A key whose sums are all zero is as good as no key. `search`: the
    words of a kept search, whose running sums (search_tally) are those of the documents holding them."""
    breaks = []
    found = f" holding “{search}”" if search is not None else ""
    for key in sorted(set(stored) | set(recomputed)):
        have = tuple(stored.get(key, ()) or (0,) * 6)
        want = tuple(recomputed.get(key, ()) or (0,) * 6)
        if have != want:
            doc_type, status, settled, currency, base_currency, month = key
            breaks.append(Break(f"running sums of the {doc_type} documents{found}, "
                                f"{status}{' settled' if settled else ''}, "
                                f"{currency} (base {base_currency or 'none'}), {month}",
                                f"count and money (count, total, paid, credited, base total, rated) {list(have)} "
                                f"differ from the documents' {list(want)}: lists would show wrong counts and footers"))
    return breaks

PaymentTallyKey = tuple[str, str, str, str]   # method, status, currency, month


def check_payment_tally(stored: Mapping[PaymentTallyKey, Sequence[int]],
                        recomputed: Mapping[PaymentTallyKey, Sequence[int]]) -> list[Break]:
    """The running sums of the payments (payment_tally) equal the sums recomputed from the payments: the
    payments list's count and footer read them. A key whose sums are all zero is as good as no key."""
    breaks = []
    for key in sorted(set(stored) | set(recomputed)):
        have = tuple(stored.get(key, ()) or (0, 0))
        want = tuple(recomputed.get(key, ()) or (0, 0))
        if have != want:
            method, status, currency, month = key
            breaks.append(Break(f"running sums of the payments, {method}, {status}, {currency}, {month}",
                                f"count and amount {list(have)} differ from the payments' {list(want)}: "
                                "the payments list would show a wrong count and footer"))
    return breaks


def trigram_count(text: str) -> int:
    """How many trigrams the search index holds for a text (its tokenizer's: one at each character but the
    last two)."""
    return max(0, len(text) - 2)


def trigrams_of(texts: Iterable[str]) -> Counter[str]:
    """How often each trigram occurs in all the texts together, as the search index counts them."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text[i:i + 3] for i in range(len(text) - 2))
    return counts


SHOWN_BREAKS = 5   # a search index out of step names a few documents and trigrams, then how many more


def check_search_index(sizes: Mapping[int, int], texts: Mapping[int, str], stored_terms: Mapping[str, int],
                       terms: Mapping[str, int]) -> list[Break]:
    """The documents' search index (document_search, kept by triggers) against their texts: each document
    indexed once with as many trigrams as its text has (`sizes`, from the index, against `texts`, each
    as the index is given it), and each trigram as often as the texts hold it (`stored_terms` against
    `terms`). A document missing from it is not found by a search; one left stale is found by words it
    no longer holds."""
    breaks = []
    wrong = [i for i in sorted(set(sizes) | set(texts)) if sizes.get(i) != (trigram_count(texts[i]) if i in texts else None)]
    for document_id in wrong[:SHOWN_BREAKS]:
        if document_id not in texts:
            problem = "is in the search index but not among the documents"
        elif document_id not in sizes:
            problem = "is missing from the search index: searches do not find it"
        else:
            problem = (f"has {sizes[document_id]} trigrams in the search index for the {trigram_count(texts[document_id])} "
                       "of its text: searches find it by what it no longer says")
        breaks.append(Break(f"document {document_id}", problem))
    drifted = [term for term in sorted(set(stored_terms) | set(terms)) if stored_terms.get(term, 0) != terms.get(term, 0)]
    if drifted and not wrong:
        shown = ", ".join(f"{term!r} {stored_terms.get(term, 0)} times for {terms.get(term, 0)}"
                          for term in drifted[:SHOWN_BREAKS])
        breaks.append(Break("search index", f"trigrams out of step with the documents' texts: {shown}"
                                            f"{f' and {len(drifted) - SHOWN_BREAKS} more' if len(drifted) > SHOWN_BREAKS else ''}"))
    if len(wrong) > SHOWN_BREAKS:
        breaks.append(Break("search index", f"{len(wrong) - SHOWN_BREAKS} more documents out of step with it"))
    return breaks


def check_numbering(issued: Iterable[Mapping[str, Any]], series: Iterable[Mapping[str, Any]]) -> list[Break]:
    """Each series: as many numbers issued as the counter moved, none twice."""
    breaks = []
    seen: dict[str, int] = {}
    count: dict[tuple[str, int], int] = defaultdict(int)
    for doc in issued:
        if doc["number"] in seen:
            breaks.append(Break(doc["number"], "number used twice"))
        seen[doc["number"]] = doc["id"]
        count[(doc["doc_type"], doc["issue_date"].year)] += 1
    expected = {(s["doc_type"], s["year"]): s["next_seq"] - s["start_seq"] for s in series}
    for key in sorted(set(count) | set(expected)):
        if count.get(key, 0) != expected.get(key, 0):
            breaks.append(Break(f"{documents_logic.TYPE_LABELS[key[0]]} numbers {key[1]}",
                                f"{count.get(key, 0)} issued but the series advanced by {expected.get(key, 0)}: "
                                "a number is missing"))
    return breaks


def check_event_entries(expected: Mapping[tuple[str, str], tuple[int, int]],
                        found: Mapping[tuple[str, str], tuple[int, int]]) -> list[Break]:
    """Every money event (payment, reversal, credit applied, refund) has its one ledger entry, of its amount.

    Keys are (where, kind); values are (how many entries, their amount in minor units). The balance
    check alone misses an allocation's entry (it moves nothing) or two deleted entries that cancel out.
    """
    breaks = []
    for key in sorted(set(expected) | set(found)):
        where, kind = key
        want, have = expected.get(key, (0, 0)), found.get(key, (0, 0))
        if want != have:
            breaks.append(Break(where, f"{have[0]} {kind} ledger entr{'y' if have[0] == 1 else 'ies'} of "
                                       f"{have[1]} minor units, expected {want[0]} of {want[1]}"))
    return breaks


def check_reminders(reminders: Sequence[Mapping[str, Any]], live_items: Sequence[Mapping[str, Any]],
                    payments: Sequence[Mapping[str, Any]], entries: Sequence[Mapping[str, Any]]) -> list[Break]:
    """Reminders: no (invoice, level) pair twice among the live items; each reminder's fee and interest is one
    `reminder_charge` ledger entry of their sum, a cancelled one's one `reminder_cancelled` entry, and the money
    and credit paid towards them `charge_payment` and `credit_to_charges` entries of the same sums, which add up
    to what the reminder says was paid."""
    breaks = [Break(where, what) for where, what in reminders_logic.unique_pairs_problems(
        (item["invoice"], item["level"], item["number"]) for item in live_items)]
    found = {(row["number"], row["kind"]): (row["n"], row["s"]) for row in entries}
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    by_id = {row["id"]: row for row in reminders}
    paid: dict[int, int] = defaultdict(int)
    for row in payments:
        reminder = by_id.get(row["reminder"])
        if reminder is None:
            continue
        kind = "credit_to_charges" if row["source"] == "credit" else "charge_payment"
        expected[(reminder["number"], kind)] = (row["n"], row["s"])
        paid[row["reminder"]] += row["s"]
    for row in reminders:
        charges = row["fee_minor"] + row["interest_minor"]
        if charges:
            expected[(row["number"], "reminder_charge")] = (1, charges)
            if row["status"] == "cancelled":
                expected[(row["number"], "reminder_cancelled")] = (1, charges)
        if row["charges_paid_minor"] != paid.get(row["id"], 0):
            breaks.append(Break(row["number"], f"{row['charges_paid_minor']} minor units of its fee and interest are "
                                               f"marked paid, its payments make {paid.get(row['id'], 0)}"))
    breaks.extend(check_event_entries(expected, found))
    return breaks
