"""Imports through HTTP against a real SQLite file: each format's sample, the preview and its problems,
apply (all or nothing), a re-import changing nothing, numbering after imported history, every bad input
(a clear message, nothing written, the uploaded file removed), the page, and `counterfoil check` after."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.config import Config
from app.integrity.service import run_checks
from app.taxes import service as taxes_service
from tests.conftest import run
from tests.http.support import count, create_via_api

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
BOOKS = ("client", "catalog_item", "document", "document_line", "payment", "ledger_entry")


@pytest.fixture(autouse=True)
def taxes(config: Config) -> None:
    run(taxes_service.apply_preset("canada"))
    run(taxes_service.apply_preset("germany"))


def upload(api: Any, *names: str, contents: list[tuple[str, bytes]] | None = None, **fields: str) -> Any:
    files = [("file", (name, (FIXTURES / name).read_bytes(), "text/csv")) for name in names]
    files += [("file", (name, data, "text/csv")) for name, data in contents or []]
    return api.post("/api/v1/imports", files=files, data=fields)


def books(config: Config) -> dict[str, int]:
    return {table: count(config, table) for table in BOOKS}


def uploads_left(config: Config) -> list[Path]:
    folder = config.data_dir / "imports"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def holds(config: Config) -> None:
    assert [str(b) for b in run_checks(config.database_path)] == []


def apply(api: Any, job_id: int, **body: Any) -> Any:
    return api.post(f"/api/v1/imports/{job_id}/apply", json=body or None)


@pytest.mark.parametrize("names, expected", [
    (("clients.csv", "items.csv", "invoices.csv", "payments.csv"),
     {"clients": 2, "items": 2, "invoices": 2, "lines": 3, "payments": 2}),
    (("invoiceninja_clients.csv", "invoiceninja_invoices.csv"), {"clients": 2, "invoices": 2, "lines": 2}),
    (("invoiceninja.json",), {"clients": 1, "items": 1, "invoices": 1, "payments": 1}),
    (("invoiceplane_clients.csv", "invoiceplane_invoices.csv", "invoiceplane_invoice_items.csv",
      "invoiceplane_payments.csv"), {"clients": 1, "invoices": 1, "lines": 2, "payments": 1}),
    (("freshbooks_clients.csv", "freshbooks_invoices.csv", "freshbooks_payments.csv"),
     {"clients": 1, "invoices": 2, "lines": 2, "payments": 1}),
])
def test_each_format_previews_applies_and_a_reimport_changes_nothing(api: Any, config: Config, names: tuple[str, ...],
                                                                     expected: dict[str, int]):
    response = upload(api, *names)
    assert response.status_code == 201, response.text
    job = response.json()
    preview = job["preview"]
    assert preview["can_apply"], preview["problems"]
    assert all(f["source"] != "" and f["dialect_shown"]["encoding"] for f in preview["files"])
    assert {k: preview["counts"][k] for k in expected} == expected
    assert count(config, "document") == 0   # a preview writes nothing to the books
    applied = apply(api, job["id"])
    assert applied.status_code == 200, applied.text
    assert {k: applied.json()["summary"][k] for k in expected} == expected
    assert uploads_left(config) == []
    holds(config)
    before = books(config)
    again = upload(api, *names).json()
    assert again["preview"]["counts"]["invoices"] == 0 and again["preview"]["counts"]["clients"] == 0
    assert apply(api, again["id"]).status_code == 200
    assert books(config) == before
    holds(config)


def test_the_formats_are_detected_and_shown(api: Any):
    job = upload(api, "invoiceplane_invoices.csv", "invoiceplane_invoice_items.csv", "invoiceplane_clients.csv").json()
    files = {f["name"]: f for f in job["preview"]["files"]}
    items = files["invoiceplane_invoice_items.csv"]
    assert (items["source"], items["kind"]) == ("invoiceplane", "lines")
    assert items["dialect"]["decimal"] == "," and items["dialect"]["date_format"] == "%d.%m.%Y"
    assert items["dialect_shown"]["date_format"] == "DD.MM.YYYY"
    fresh = upload(api, "freshbooks_invoices.csv", "freshbooks_clients.csv").json()
    assert fresh["preview"]["files"][0]["dialect"]["date_format"] == "%m/%d/%Y"
    first = fresh["preview"]["rows"]["documents"][0]
    assert (first["number"], first["issue_date"], first["total"]) == ("0000101", "2025-03-14", "840.00")


def test_encodings_separators_and_decimal_commas_are_detected_and_can_be_overridden(api: Any, config: Config):
    text = "name;city;currency\r\nMüller & Söhne;Köln;EUR\r\n"
    for encoding, label in (("cp1252", "Windows-1252"), ("utf-8-sig", "UTF-8 with byte-order mark")):
        job = upload(api, contents=[("kunden.csv", text.encode(encoding))], kind="clients").json()
        shown = job["preview"]["files"][0]["dialect_shown"]
        assert (shown["encoding"], shown["separator"]) == (label, "semicolon")
        assert job["preview"]["rows"]["clients"][0]["name"] == "Müller & Söhne"
    kept = len(uploads_left(config))
    forced = upload(api, contents=[("kunden.csv", text.encode("cp1252"))], kind="clients", encoding="utf-8")
    assert forced.status_code == 422 and "cannot be read as UTF-8" in forced.json()["detail"]
    assert len(uploads_left(config)) == kept   # the refused upload is not kept
    comma = upload(api, contents=[("p.csv", b"name,unit_price\r\nBeratung,\"1.234,50\"\r\n")], kind="items").json()
    assert comma["preview"]["files"][0]["dialect"]["decimal"] == ","
    assert comma["preview"]["rows"]["items"][0]["unit_price"] == "1234.50"
    point = upload(api, contents=[("p.csv", b"name,unit_price\r\nBeratung,\"1.234,50\"\r\n")], kind="items",
                   decimal=".").json()
    assert point["preview"]["files"][0]["dialect"]["decimal"] == "."


def test_a_mapping_is_editable_and_kept_for_the_next_file_of_that_source(api: Any):
    content = b"Kunde,Ort\r\nAcme,Toronto\r\n"
    job = upload(api, contents=[("a.csv", content)], kind="clients").json()
    assert not job["preview"]["can_apply"]
    assert "name" in job["preview"]["problems"][0]["message"]
    mapped = upload(api, contents=[("a.csv", content)], kind="clients",
                    mapping=json.dumps({"name": "Kunde", "city": "Ort"})).json()
    assert mapped["preview"]["can_apply"] and mapped["preview"]["rows"]["clients"][0]["name"] == "Acme"
    assert apply(api, mapped["id"]).status_code == 200
    later = upload(api, contents=[("b.csv", b"Kunde,Ort\r\nBeta,Halifax\r\n")], kind="clients").json()
    assert later["preview"]["can_apply"] and later["preview"]["files"][0]["mapping"]["name"] == "Kunde"
    bad = upload(api, contents=[("a.csv", content)], kind="clients", mapping=json.dumps({"name": "Nope"}))
    assert bad.status_code == 422 and "Nope" in bad.text


BAD_ROWS = {
    "ragged": ("name,city\r\nAcme,Toronto\r\nBeta,Halifax,extra\r\n", "clients", "has 3 fields, the header has 2"),
    "formula": ("name,city\r\n=HYPERLINK(\"http://x\"),Toronto\r\n", "clients", "spreadsheet formula"),
    "currency": ("number,issue_date,client_name,description,quantity,unit_price,currency\r\n"
                 "A-1,2025-01-02,Acme,Work,1,10.00,XYZ\r\n", "invoices", "unknown currency XYZ"),
    "client": ("number,issue_date,client_name,description,quantity,unit_price\r\n"
               "A-1,2025-01-02,Nobody Ltd,Work,1,10.00\r\n", "invoices", "Nobody Ltd is neither in the file"),
    "tax": ("number,issue_date,client_name,description,quantity,unit_price,taxes\r\n"
            "A-1,2025-01-02,Acme,Work,1,10.00,NOPE\r\n", "invoices", "unknown tax NOPE"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_row_is_named_and_nothing_is_written(api: Any, config: Config, case: str):
    content, kind, message = BAD_ROWS[case]
    run(_client("Acme"))
    before = books(config)
    job = upload(api, contents=[(f"{case}.csv", content.encode())], kind=kind).json()
    assert not job["preview"]["can_apply"]
    assert any(message in p["message"] and p["row"] >= 2 for p in job["preview"]["problems"]), job["preview"]
    refused = apply(api, job["id"])
    assert refused.status_code == 422 and "nothing was imported" in refused.json()["detail"]
    assert books(config) == before
    assert api.delete(f"/api/v1/imports/{job['id']}").status_code == 204
    assert uploads_left(config) == []


def test_a_negative_quantity_is_refused_where_the_source_writes_none(api: Any, config: Config):
    content = (FIXTURES / "invoiceninja_invoices.csv").read_text().replace("750.00,2,", "750.00,-2,")
    job = upload(api, "invoiceninja_clients.csv", contents=[("in.csv", content.encode())]).json()
    assert any("negative quantity" in p["message"] for p in job["preview"]["problems"])
    assert not job["preview"]["can_apply"] and count(config, "document") == 0


async def _client(name: str) -> None:
    from app.clients import service
    await service.create_client({"name": name, "currency": "CAD"})


@pytest.mark.parametrize("content, message", [
    (b"", "empty (0 bytes)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary data"),
    (b"PK\x03\x04broken", "damaged"),
])
def test_an_unreadable_file_is_refused_whole_and_nothing_is_kept(api: Any, config: Config, content: bytes,
                                                                 message: str):
    response = upload(api, contents=[("x.csv", content)])
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert [e["field"] for e in response.json()["errors"]] == ["file"]
    assert uploads_left(config) == [] and count(config, "import_job") == 0


def test_a_file_above_the_limit_is_refused_with_the_limit_named(api: Any, config: Config,
                                                                monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COUNTERFOIL_IMPORT_MAX_BYTES", "100")
    response = upload(api, "invoiceninja_invoices.csv")
    assert response.status_code == 422
    assert "100 bytes can be imported at once" in response.json()["detail"]
    assert uploads_left(config) == [] and count(config, "import_job") == 0


def test_a_total_that_differs_is_kept_only_when_accepted_and_marked(api: Any, config: Config):
    content = (FIXTURES / "invoices.csv").read_text().replace("1023.75", "1024.50")
    job = upload(api, "clients.csv", contents=[("invoices.csv", content.encode())]).json()
    assert job["preview"]["counts"]["confirmations"] == 1
    assert apply(api, job["id"]).status_code == 409 and count(config, "document") == 0
    accepted = apply(api, job["id"], accept_totals=True)
    assert accepted.status_code == 200 and accepted.json()["summary"]["imported_totals"] == 1
    invoice = api.get("/api/v1/invoices", params={"q": "OLD-2025-001"}).json()["items"][0]
    assert invoice["total"] == "1024.50"
    holds(config)


def test_imported_history_keeps_numbers_and_statuses_and_own_numbering_continues(api: Any, config: Config):
    lines = ("number,status,issue_date,due_date,client_name,description,quantity,unit_price,taxes\r\n"
             "INV-2026-0041,sent,2026-10-01,2027-01-31,Acme,Work,1,100.00,GST\r\n"
             "INV-2026-0042,cancelled,2026-10-05,2026-11-04,Acme,Work,1,50.00,GST\r\n"
             "OLD-7,sent,2026-10-07,2026-11-06,Acme,Other numbering,1,10.00,\r\n")
    payments = "payment_date,invoice_number,amount\r\n2026-10-15,INV-2026-0041,60.00\r\n"
    run(_client("Acme"))
    job = upload(api, contents=[("inv.csv", lines.encode()), ("pay.csv", payments.encode())]).json()
    assert job["preview"]["can_apply"], job["preview"]["problems"]
    assert apply(api, job["id"]).status_code == 200
    listed = {i["number"]: i for i in api.get("/api/v1/invoices", params={"per_page": 50}).json()["items"]}
    assert listed["INV-2026-0041"]["status"] == "partial" and listed["INV-2026-0041"]["balance"] == "45.00"
    assert listed["INV-2026-0042"]["status"] == "cancelled" and listed["OLD-7"]["status"] in ("sent", "overdue")
    holds(config)
    client_id = listed["OLD-7"]["client_id"]
    own = create_via_api(api, "invoices", {"client_id": client_id, "lines": [
        {"description": "New work", "quantity": "1", "unit_price": "10.00"}]})
    assert own["number"] == "INV-2026-0043"
    holds(config)


def test_a_duplicate_number_is_a_problem_of_its_row(api: Any, config: Config):
    run(_client("Acme"))
    first = "number,issue_date,client_name,description,quantity,unit_price\r\nA-1,2025-01-02,Acme,Work,1,10.00\r\n"
    assert apply(api, upload(api, contents=[("a.csv", first.encode())]).json()["id"]).status_code == 200
    other = first.replace("2025-01-02", "2025-02-03")
    job = upload(api, contents=[("b.csv", other.encode())]).json()
    assert any("already used" in p["message"] for p in job["preview"]["problems"])


def test_only_the_owner_imports(staff_browser: Any):
    assert staff_browser.get("/imports").status_code == 403


def test_the_page_uploads_previews_and_applies(browser: Any, config: Config):
    page = browser.get("/imports")
    assert page.status_code == 200 and 'href="/imports"' in page.text and "Nothing imported yet" in page.text
    files = [("file", (n, (FIXTURES / n).read_bytes(), "text/csv")) for n in ("clients.csv", "invoices.csv")]
    response = browser.post("/imports", files=files, data={"source": "auto", "kind": "auto"}, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert "Import preview" in response.text and "OLD-2025-001" in response.text and "Zoë Ångström Design" in response.text
    job_id = int(str(response.url).rstrip("/").rsplit("/", 1)[-1])
    revised = browser.post(f"/imports/{job_id}/revise", data={"source": "csv", "date_format": "%Y-%m-%d",
                                                              "map:1:notes": "description"}, follow_redirects=True)
    assert revised.status_code == 200
    done = browser.post(f"/imports/{job_id}/apply", data={}, follow_redirects=True)
    assert done.status_code == 200 and "Imported" in done.text
    assert count(config, "document") == 2
    bad = browser.post("/imports", files=[("file", ("x.csv", b"", "text/csv"))], data={})
    assert bad.status_code == 422 and "0 bytes" in bad.text
    holds(config)


def test_the_preview_reads_in_the_users_language_and_locale(browser: Any, config: Config):
    """A German user sees the preview's amounts, dates and choice lists the German way (issue 15)."""
    assert browser.post("/account/language", data={"language": "de_DE"}, follow_redirects=False).status_code == 303
    files = [("file", (n, (FIXTURES / n).read_bytes(), "text/csv")) for n in ("clients.csv", "invoices.csv")]
    page = browser.post("/imports", files=files, data={"source": "auto", "kind": "auto"}, follow_redirects=True).text
    assert "1.023,75" in page and "1023.75" not in page, "the amounts as the locale writes them"
    assert "01.03.2025" in page and "2025-03-01" not in page
    assert "Generisches CSV von Counterfoil" in page and "Komma" in page and "Versendet" in page
    assert "Summe laut Quelle" in page and "Source total" not in page
    assert "Counterfoil's generic CSV" not in page and ">comma<" not in page


def test_an_import_that_would_put_a_series_backwards_is_refused_naming_the_row(api: Any, config: Config):
    from datetime import date

    from app.clients import service as clients_service
    from app.documents import service as documents_service

    async def backdated() -> None:
        client = await clients_service.create_client({"name": "Acme", "currency": "CAD"})
        draft = await documents_service.create_document("invoice", {"client_id": client.id, "lines": [
            {"description": "Work", "quantity": "1", "unit_price": "10.00"}]})
        await documents_service.issue(draft.id, issue_date=date(2026, 11, 1), backdate=True)
    run(backdated())
    later = ("number,issue_date,client_name,description,quantity,unit_price\r\n"
             "OLD-1,2026-11-15,Acme,Work,1,10.00\r\n")
    job = upload(api, contents=[("a.csv", later.encode())]).json()
    assert not job["preview"]["can_apply"]
    assert any("backwards" in p["message"] and p["row"] == 2 for p in job["preview"]["problems"])
    earlier = later.replace("2026-11-15", "2026-10-15")
    job = upload(api, contents=[("b.csv", earlier.encode())]).json()
    assert job["preview"]["can_apply"], job["preview"]["problems"]
    assert apply(api, job["id"]).status_code == 200
    holds(config)
