"""Document search through the trigram index (document_search) against the real SQLite file.

Whatever path the service takes (a few candidates named by the index, or many found by
walking and scanning the narrow indexes), the rows, the count and the sums are those of
the rule app.common.logic.matches applied to every document's search_text. The index
follows every write (create, edit, issue, delete, client rename) and a database from
before the index (an old backup) gets it filled by the migration.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from app.backup import service as backup_service
from app.clients import service as clients_service
from app.common.logic import Page, matches, parse_search
from app.config import Config
from app.db.lifecycle import open_database
from app.documents import service
from app.documents.logic import summed_in_footer
from app.documents.piccolo_migrations import documents_2026_12_05t22_30_00_000000 as search_migration
from tests.conftest import run

QUERIES = [
    "zoe", "ZOË", "zo", "z", "e", "tremblay", "zoe tremblay", "tremblay zoe", "café", "cafe 50%", "50%", "%",
    "off_ltd", "_", "ubersetzung", "übersetzung", "logo", "logo birch", "birch", "b", "bi", "design", "ign",
    '"quoted"', 'say "hi', "inv-", "inv", "0001", "nothing-like-this", "lo go", "e e", "ø", "soren",
    "logo z", "logo bi", "zo design", "hosting e",  # a short word the index cannot look up beside a long one
    "lo\x00go", "log\x00", "\x00", "zoe\ttremblay", 'NEAR(logo', "logo*", "logo AND birch", "-logo", "^logo",
]


def line(description: str, unit_price: str = "100.00") -> dict[str, Any]:
    return {"description": description, "quantity": "1", "unit_price": unit_price, "taxes": []}


@pytest.fixture
def book(config: Config) -> dict[str, Any]:
    """Clients with accented and awkward names, drafts and issued invoices, two currencies, a quote."""
    zoe = run(clients_service.create_client({"name": "Zoë Tremblay Design", "currency": "CAD"}))
    cafe = run(clients_service.create_client({"name": "Café 50% off_ltd", "currency": "EUR"}))
    birch = run(clients_service.create_client({"name": "Birch Søren", "currency": "CAD"}))
    made = []
    for client, descriptions, price in [
        (zoe, ["Logo design", "Übersetzung"], "120.00"), (zoe, ["Website"], "80.00"),
        (cafe, ['Menu "quoted" say "hi'], "55.50"), (cafe, ["Logo refresh"], "10.00"),
        (birch, ["Logo", "Signage"], "300.00"), (birch, ["e"], "1.00"), (birch, ["Hosting"], "20.00"),
    ]:
        made.append(run(service.create_document("invoice", {"client_id": client.id,
                                                            "lines": [line(d, price) for d in descriptions]})))
    for document in made[:5]:
        run(service.issue(document.id))
    run(service.create_document("quote", {"client_id": zoe.id, "lines": [line("Logo quote")]}))
    return {"zoe": zoe, "cafe": cafe, "birch": birch, "documents": made}


def expected(config: Config, doc_type: str, q: str, status_sql: str = "1") -> tuple[list[int], dict[str, tuple]]:
    """The ids (newest first) and per-currency (count, total, balance) the rule gives, read straight from the file:
    the sums of the documents a footer sums only (issued, unpaid or paid; never drafts or cancelled)."""
    connection = sqlite3.connect(config.database_path)
    try:
        rows = connection.execute(
            f"SELECT id, search_text, currency, status, total_minor, paid_minor, credited_minor FROM document "
            f"WHERE doc_type = ? AND {status_sql} ORDER BY issue_date DESC, id DESC", (doc_type,)).fetchall()
    finally:
        connection.close()
    query = parse_search(q)
    found = [row for row in rows if matches(query, row[1])]
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, _, currency, status, total, paid, credited in found:
        if summed_in_footer(doc_type, status):
            sums[currency][0] += 1
            sums[currency][1] += total
            sums[currency][2] += total - paid - credited
    return [row[0] for row in found], {currency: tuple(values) for currency, values in sums.items()}


def listed(doc_type: str, q: str, **filters: Any) -> tuple[list[int], dict[str, tuple], int]:
    result = run(service.list_documents(doc_type, q=q, page=Page(1, 500), **filters))
    sums = {t.currency: (t.total, t.balance) for t in result.extra["totals"]}
    return [row.id for row in result.items], sums, result.total


def as_minor(sums: dict[str, tuple]) -> dict[str, tuple]:
    return {currency: (int(total * 100), int(balance * 100)) for currency, (total, balance) in sums.items()}


def search_index_ok(config: Config) -> None:
    """FTS5's own check, comparing the index with the text in `document` (raises when they differ)."""
    connection = sqlite3.connect(config.database_path)
    try:
        connection.execute("INSERT INTO document_search (document_search, rank) VALUES ('integrity-check', 1)")
    finally:
        connection.close()


# sparse: the index names the candidates; many-direct and many-complement: the scans, forced
# here with a limit of zero candidates (and the share that picks the complement forced too).
# A short word in more than COMMON of the sampled documents is taken for common (in this small
# book, every short word): "short words by their trigrams" never does, so that the index's
# vocabulary names their candidates.
PATHS = {"sparse": (4000, 0.5, 0.02), "many, matching rows summed": (0, 2.0, 0.02),
         "many, the rest subtracted": (0, -1.0, 0.02), "short words by their trigrams": (4000, 0.5, 1.0)}


@pytest.mark.parametrize("path", PATHS)
def test_every_path_finds_exactly_what_the_rule_finds(config, book, monkeypatch, path):
    limit, most, common = PATHS[path]
    monkeypatch.setattr(service, "SPARSE_LIMIT", limit)
    monkeypatch.setattr(service, "MOST", most)
    monkeypatch.setattr(service, "COMMON", common)
    for q in QUERIES:
        ids, sums = expected(config, "invoice", q)
        got_ids, got_sums, total = listed("invoice", q)
        assert got_ids == ids, q
        assert total == len(ids), q
        assert as_minor(got_sums) == {c: (s[1], s[2]) for c, s in sums.items()}, q
    # The quote is found among quotes only; filters combine with the search.
    assert listed("quote", "logo")[0] == expected(config, "quote", "logo")[0] != []
    for status, status_sql in [("draft", "status = 'draft'"), ("issued", "status = 'issued'")]:
        for q in ("logo", "e", "zoe", "nothing"):
            ids, sums = expected(config, "invoice", q, status_sql)
            got_ids, got_sums, total = listed("invoice", q, status=status)
            assert (got_ids, total) == (ids, len(ids)), (status, q)
            assert as_minor(got_sums) == {c: (s[1], s[2]) for c, s in sums.items()}, (status, q)
    zoe = book["zoe"].id
    assert listed("invoice", "logo", client_id=zoe)[0] == [book["documents"][0].id]


@pytest.mark.parametrize("path", PATHS)
def test_paging_through_a_search(config, book, monkeypatch, path):
    limit, most, common = PATHS[path]
    monkeypatch.setattr(service, "SPARSE_LIMIT", limit)
    monkeypatch.setattr(service, "MOST", most)
    monkeypatch.setattr(service, "COMMON", common)
    ids, _ = expected(config, "invoice", "e")
    pages = [run(service.list_documents("invoice", q="e", page=Page(n, 2))) for n in (1, 2, 3, 4)]
    assert [row.id for p in pages for row in p.items] == ids
    assert {p.total for p in pages} == {len(ids)}


def test_the_index_follows_every_write(config, book):
    zoe, birch = book["zoe"], book["birch"]

    def found(q: str) -> list[int]:
        return listed("invoice", q)[0]

    draft = run(service.create_document("invoice", {"client_id": zoe.id, "lines": [line("Kiln repair")]}))
    assert found("kiln") == [draft.id]
    search_index_ok(config)

    run(service.update_draft(draft.id, {"lines": [line("Pottery wheel")]}))
    assert found("kiln") == []
    assert found("pottery wheel") == [draft.id]
    search_index_ok(config)

    run(service.update_draft(draft.id, {"client_id": birch.id}))
    assert draft.id in found("birch soren pottery")
    assert draft.id not in found("zoe pottery")

    issued = run(service.issue(draft.id))
    assert issued.number and found(issued.number.lower()) == [draft.id]
    search_index_ok(config)

    other = run(service.create_document("invoice", {"client_id": zoe.id, "lines": [line("Glaze samples")]}))
    assert found("glaze") == [other.id]
    run(service.delete_draft(other.id))
    assert found("glaze") == []
    search_index_ok(config)

    # A client's new name is searched (the lists show it), the old one no more: drafts and issued alike.
    zoe_documents = {d.id for d in book["documents"][:2]}
    assert set(found("tremblay")) == zoe_documents
    run(clients_service.update_client(zoe.id, {"name": "Zoë Gagnon Studio"}, partial=True))
    assert found("tremblay") == []
    assert set(found("gagnon")) == zoe_documents
    assert set(found("zoe studio logo")) == {book["documents"][0].id}
    search_index_ok(config)
    # An edit that keeps the name rewrites nothing.
    before = sqlite3.connect(config.database_path).execute("SELECT id, search_text FROM document").fetchall()
    run(clients_service.update_client(zoe.id, {"email": "zoe@example.com"}, partial=True))
    assert sqlite3.connect(config.database_path).execute("SELECT id, search_text FROM document").fetchall() == before


def _as_before_the_index(database: Path) -> None:
    """Take the search index and the list indexes away, and forget the hand-written migration that
    makes them: a database from before it. Running it must build the index from the rows there."""
    connection = sqlite3.connect(database)
    try:
        for statement in search_migration.DROP:
            connection.execute(statement)
        connection.execute("DELETE FROM migration WHERE app_name = 'documents' AND name = ?", (search_migration.ID,))
        connection.commit()
        assert not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'document_search'").fetchall()
    finally:
        connection.close()


def test_an_older_database_gets_its_index_filled_by_the_migration(config, book):
    _as_before_the_index(config.database_path)
    run(open_database(config))
    search_index_ok(config)
    for q in ("logo", "zoe tremblay", "ubersetzung", "hosting"):
        assert listed("invoice", q)[0] == expected(config, "invoice", q)[0] != [], q


def test_an_older_backup_is_restored_with_its_index_filled(config, book, tmp_path):
    _as_before_the_index(config.database_path)
    bundle = tmp_path / "old.counterfoil"
    backup_service.export_bundle(config, bundle, "correct horse battery staple")
    target = Config(data_dir=tmp_path / "restored")
    result = backup_service.import_bundle(target, bundle, "correct horse battery staple")
    assert result.migrated
    search_index_ok(target)
    for q in ("logo birch", "zoe", "cafe 50%"):
        ids = listed("invoice", q)[0]
        assert ids == expected(target, "invoice", q)[0] != [], q
