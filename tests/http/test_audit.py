"""The audit trail through HTTP and the command line, against real SQLite files.

Who acts and from where (a page, the API, the command line), the owner's page with its filters,
each record's history, the exports with their hashes, the API, and `counterfoil check` catching an
entry edited, deleted or slipped in with raw SQL, triggers dropped first, as an attacker would.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from app.audit import logic
from app.auth import service as auth_service
from app.clients import service as clients_service
from app.documents import service as documents_service
from app.payments import service as payments_service
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, run
from tests.http.conftest import _client
from tests.http.test_cli import PASSWORD, cli


def entries(database: Path, where: str = "1 = 1", *args: Any) -> list[dict[str, Any]]:
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(f"SELECT * FROM audit_entry WHERE {where} ORDER BY id", args)]
    finally:
        connection.close()


def invoice_with_payment() -> tuple[Any, Any]:
    async def make() -> tuple[Any, Any]:
        client = await clients_service.create_client({"name": "Maple Bakery", "currency": "CAD",
                                                      "email": "maple@example.com"})
        draft = await documents_service.create_document("invoice", {
            "client_id": client.id, "lines": [{"description": "Logo design", "quantity": "1",
                                               "unit_price": "400.00"}]})
        invoice = await documents_service.issue(draft.id)
        payment = await payments_service.record_payment(invoice.id, {"amount": "150.00", "reference": "CHQ 12"})
        return invoice, payment
    return run(make())


# -- who acts and from where -------------------------------------------------------------------------

def test_a_change_made_on_a_page_is_the_signed_in_user_s_from_the_page(browser, config, owner):
    response = browser.post("/clients", data={"name": "Birch & Co", "currency": "CAD"}, follow_redirects=False)
    assert response.status_code == 303
    [created] = entries(config.database_path, "entity = 'client' AND operation = 'insert'")
    assert (created["actor"], created["user_id"], created["actor_name"], created["origin"], created["action"]) == (
        f"user:{owner['id']}", owner["id"], OWNER_EMAIL, "page", "create")
    assert json.loads(created["changes"])["name"] == "Birch & Co"


def test_a_change_made_through_the_api_is_the_token_s(api, config, owner):
    response = api.post("/api/v1/clients", json={"name": "Scripted Ltd", "currency": "EUR"})
    assert response.status_code == 201
    [created] = entries(config.database_path, "entity = 'client'")
    token_id = run(auth_service.list_api_tokens())[0]["id"]
    assert (created["actor"], created["user_id"], created["origin"]) == (f"token:{token_id}", owner["id"], "api")
    assert OWNER_EMAIL in created["actor_name"]


def test_a_setting_changed_through_the_api_is_recorded_and_its_secret_is_not(api, config):
    response = api.patch("/api/v1/settings", json={"name": "Renamed Studio", "smtp_password": "hunter2 hunter2"})
    assert response.status_code == 200, response.text
    rows = entries(config.database_path, "action = 'setting change' AND actor LIKE 'token:%'")
    assert {row["entity"] for row in rows} == {"business_settings", "mail_settings"}
    mail = next(json.loads(row["changes"]) for row in rows
                if row["entity"] == "mail_settings" and row["operation"] == "update")
    assert mail["smtp_password"] == ["", "changed"]
    connection = sqlite3.connect(config.database_path)
    trail_text = "\n".join(row[0] or "" for row in connection.execute("SELECT changes FROM audit_entry"))
    connection.close()
    assert "hunter2" not in trail_text


def test_signing_in_and_failing_to_are_entries(anonymous, config, owner):
    anonymous.refresh_csrf("/login")
    failed = anonymous.post("/login", data={"email": OWNER_EMAIL, "password": "not it at all"})
    assert failed.status_code == 401
    anonymous.refresh_csrf("/login")
    assert anonymous.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD},
                          follow_redirects=False).status_code == 303
    rows = [(r["action"], r["actor"], r["origin"]) for r in entries(config.database_path, "entity IN "
                                                                    "('login_attempt', 'app_user') AND id > 2")]
    user = f"user:{owner['id']}"
    assert rows == [("login attempt", "anonymous", "page"), ("failed login", "anonymous", "page"),
                    ("login attempt", "anonymous", "page"), ("login", user, "page"), ("login", user, "page")]


# -- the owner's page ----------------------------------------------------------------------------------

def test_the_audit_page_is_for_the_owner_only(browser, staff_browser, anonymous, api, config):
    assert browser.get("/audit").status_code == 200
    assert staff_browser.get("/audit").status_code == 403
    assert staff_browser.get("/audit/export.csv").status_code == 403
    assert anonymous.get("/audit", follow_redirects=False).status_code == 303
    assert api.get("/audit").status_code == 403          # a token opens the API, not the pages
    assert staff_browser.get("/api/v1/audit").status_code == 403
    page = browser.get("/").text
    assert 'href="/audit"' in page and 'href="/audit"' not in staff_browser.get("/").text


def test_the_page_shows_who_changed_what_old_and_new_with_links(browser, config):
    invoice, _ = invoice_with_payment()
    run(clients_service.update_client(invoice.client_id, {"name": "Maple Bakery Inc.", "currency": "CAD"}))
    page = browser.get("/audit").text
    assert "<del>Maple Bakery</del> → <ins>Maple Bakery Inc.</ins>" in page
    assert f'href="/clients/{invoice.client_id}"' in page and f'href="/documents/{invoice.id}"' in page
    assert "<strong>issue</strong>" in page and "<strong>payment</strong>" in page and "<strong>balance</strong>" in page
    assert "password_hash" in page and "changed" in page and "$argon2" not in page   # the owner's setup entry


def test_the_page_filters_by_record_user_action_and_period(browser, config, owner, staff):
    invoice, _ = invoice_with_payment()
    only_issue = browser.get("/audit", params={"action": "issue"}).text
    assert "<strong>issue</strong>" in only_issue and "<strong>payment</strong>" not in only_issue
    by_record = browser.get("/audit", params={"entity": "document", "entity_id": invoice.id}).text
    assert f"Document {invoice.id}" in by_record and "Client " not in by_record
    assert f"Only record {invoice.id}" in by_record
    assert ">No entries match these filters.<" not in by_record
    future = browser.get("/audit", params={"from": "2099-01-01"}).text
    assert "No entries match these filters." in future
    by_user = browser.get("/audit", params={"user": owner["id"]}).text
    assert "Olivia" in by_user or OWNER_EMAIL in by_user
    bad = browser.get("/audit", params={"from": "yesterday", "action": "explode"})
    assert bad.status_code == 422 and "from must be a date" in bad.text and "unknown action" in bad.text


def test_the_page_goes_back_in_time_a_page_at_a_time(browser, config):
    async def many() -> None:
        for index in range(60):
            await clients_service.create_client({"name": f"Client {index:02d}", "currency": "CAD"})
    run(many())
    first = browser.get("/audit", params={"entity": "client"}).text
    assert "Client 59" in first and "Client 09" not in first
    older = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert older.startswith("/audit?") and "before=" in older and "entity=client" in older
    second = browser.get(older).text
    assert "Client 09" in second and "Client 59" not in second and 'rel="next"' not in second


# -- each record's history -------------------------------------------------------------------------

def test_a_document_shows_its_own_history_from_the_trail(browser, staff_browser, config):
    invoice, _ = invoice_with_payment()
    assert f'hx-get="/audit/history/document/{invoice.id}"' in browser.get(f"/documents/{invoice.id}").text
    assert "/audit/history/" not in staff_browser.get(f"/documents/{invoice.id}").text
    fragment = browser.get(f"/audit/history/document/{invoice.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    for what in ("<strong>issue</strong>", "<strong>create</strong>", "<strong>payment</strong>",
                 "<strong>ledger entry</strong>", "Document line", "Logo design"):
        assert what in fragment.text, what
    assert "<html" in browser.get(f"/audit/history/document/{invoice.id}").text
    assert staff_browser.get(f"/audit/history/document/{invoice.id}").status_code == 403


def test_a_client_and_a_payment_show_their_history(browser, config):
    invoice, payment = invoice_with_payment()
    run(payments_service.reverse_payment(payment.id, "The cheque bounced"))
    assert f'hx-get="/audit/history/client/{invoice.client_id}"' in browser.get(f"/clients/{invoice.client_id}").text
    assert f'href="/audit/history/payment/{payment.id}"' in browser.get("/payments").text
    history = browser.get(f"/audit/history/payment/{payment.id}").text
    assert "History of payment" in history and "<strong>payment</strong>" in history
    assert "<strong>reversal</strong>" in history
    assert "The cheque bounced" in history
    assert browser.get("/audit/history/Robert');DROP/1").status_code in (404, 422)


# -- exports -------------------------------------------------------------------------------------------

def test_the_json_lines_export_lets_anyone_recompute_the_chain(browser, config):
    invoice_with_payment()
    response = browser.get("/audit/export.jsonl")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    rows = [[line["hash"], line["prev_hash"], *(line["seq"] if name == "id" else
                                                  line["changes_text"] if name == "changes" else line[name]
                                                  for name in logic.CANONICAL_FIELDS)] for line in lines]
    report = logic.verify_chain(rows)
    assert report.ok and report.head_seq == len(lines)
    assert lines[-1]["hash"] == entries(config.database_path)[-1]["hash"]


def test_the_csv_export_has_every_entry_with_its_hashes_and_follows_the_filters(browser, config):
    invoice_with_payment()
    table = list(csv.reader(io.StringIO(browser.get("/audit/export.csv").content.decode("utf-8-sig"))))
    assert tuple(table[0]) == logic.CSV_HEADER
    stored = entries(config.database_path)
    assert [(int(r[0]), r[-1]) for r in table[1:]] == [(e["id"], e["hash"]) for e in stored]
    only = list(csv.reader(io.StringIO(browser.get("/audit/export.csv", params={"entity": "payment"}
                                                   ).content.decode("utf-8-sig"))))
    assert {r[8] for r in only[1:]} == {"payment"}
    assert browser.get("/audit/export.csv", params={"to": "soon"}).status_code == 422


# -- the API -----------------------------------------------------------------------------------------

def test_the_api_lists_entries_with_their_filters_and_pages(api, config, owner):
    invoice, _ = invoice_with_payment()
    body = api.get("/api/v1/audit", params={"entity": "document", "entity_id": invoice.id}).json()
    assert {item["action"] for item in body["items"]} >= {"create", "issue", "balance"}
    item = body["items"][0]
    assert set(item) >= {"seq", "at", "actor", "action", "entity", "entity_id", "changes", "hash", "prev_hash"}
    assert isinstance(item["changes"], dict)
    issued = api.get("/api/v1/audit", params={"action": "issue"}).json()["items"]
    assert [i["entity_id"] for i in issued] == [invoice.id]
    assert api.post("/api/v1/clients", json={"name": "By the script", "currency": "CAD"}).status_code == 201
    mine = api.get("/api/v1/audit", params={"actor": owner["id"]}).json()["items"]
    assert [i["entity"] for i in mine] == ["client"] and mine[0]["user_id"] == owner["id"]
    token = api.get("/api/v1/audit", params={"actor": mine[0]["actor"]}).json()["items"]
    assert token == mine and mine[0]["actor"].startswith("token:")
    first = api.get("/api/v1/audit", params={"limit": 3}).json()
    second = api.get("/api/v1/audit", params={"limit": 3, "before": first["next_before"]}).json()
    assert [i["seq"] for i in first["items"]] == [i["seq"] + 3 for i in second["items"]]
    assert api.get("/api/v1/audit", params={"from": "2099-01-01"}).json() == {"items": [], "next_before": None}


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-02-30"}, "from"), ({"to": "tomorrow"}, "to"), ({"action": "steal"}, "action"),
    ({"actor": "root"}, "actor"), ({"entity": "Document!"}, "entity"), ({"entity_id": "x"}, "entity_id"),
    ({"before": "-5"}, "before"), ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
])
def test_the_api_refuses_a_bad_filter_naming_it(api, params, field):
    response = api.get("/api/v1/audit", params=params)
    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}


def test_the_api_is_for_the_owner_s_tokens_only(api, config, owner, staff):
    read, _ = run(auth_service.create_api_token(owner["id"], "read only", scope="read"))
    staff_token, _ = run(auth_service.create_api_token(staff["id"], "staff"))
    with _client(config) as client:
        for token in (read, staff_token):
            assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"}).status_code == 403
            assert client.get("/api/v1/audit/verify",
                              headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert api.get("/api/v1/audit", params={"limit": 100000}).status_code == 400   # a page is bounded


def test_verify_through_the_api_and_the_page_names_the_first_broken_entry(api, browser, config):
    invoice_with_payment()
    assert api.get("/api/v1/audit/verify").json()["ok"] is True
    assert "The trail is whole" in browser.get("/audit/verify").text
    connection = sqlite3.connect(config.database_path)
    connection.execute("DROP TRIGGER audit_entry_no_update")
    connection.execute("UPDATE audit_entry SET changes = replace(changes, '150', '15') WHERE entity = 'payment'")
    seq = connection.execute("SELECT id FROM audit_entry WHERE entity = 'payment'").fetchone()[0]
    connection.commit()
    connection.close()
    body = api.get("/api/v1/audit/verify").json()
    assert body["ok"] is False and body["first_broken_seq"] == seq
    assert any(f"entry {seq}: its content does not match its hash" in p for p in body["problems"])
    assert any("audit_entry_no_update is missing" in p for p in body["problems"])
    assert f"The trail is broken at entry {seq}" in browser.get("/audit/verify").text


# -- the command line --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_books(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`counterfoil init` and `counterfoil demo`: sample books, each change in the trail."""
    data_dir = tmp_path_factory.mktemp("audited") / "data"
    password = data_dir.parent / "password"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    assert cli("init", "--data-dir", str(data_dir), "--owner-email", OWNER_EMAIL, "--password-file",
               str(password)).returncode == 0
    result = cli("demo", "--data-dir", str(data_dir), "--clients", "4", "--invoices", "8")
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.fixture
def books(demo_books: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(demo_books, copy)
    return copy


def test_the_demo_data_has_a_whole_trail_written_by_the_command_line(books):
    rows = entries(books / "counterfoil.sqlite")
    actions = {row["action"] for row in rows}
    assert {"create", "issue", "payment", "ledger entry", "setting change"} <= actions
    me = f"cli:{getpass.getuser()}"
    assert {row["actor"] for row in rows} == {me} and {row["origin"] for row in rows} == {"cli"}
    checked = cli("check", "--data-dir", str(books))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "audit trail is whole" in checked.stdout


def _tamper(books: Path, *statements: str) -> None:
    connection = sqlite3.connect(books / "counterfoil.sqlite")
    connection.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")   # as an attacker would
    connection.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def _middle_payment(books: Path) -> int:
    rows = entries(books / "counterfoil.sqlite", "entity = 'payment' AND operation = 'insert'")
    return rows[len(rows) // 2]["id"]


def _breaks(books: Path) -> tuple[int, list[str]]:
    result = cli("check", "--data-dir", str(books))
    return result.returncode, [line for line in result.stdout.splitlines() if line.startswith("BREAK audit trail")]


def test_check_names_an_edited_entry(books):
    seq = _middle_payment(books)
    _tamper(books, f"UPDATE audit_entry SET changes = replace(changes, '\"amount_minor\":', '\"amount_minor\":1') "
                   f"WHERE id = {seq}")
    code, breaks = _breaks(books)
    assert code == 1 and breaks[0] == f"BREAK audit trail: entry {seq}: its content does not match its hash: it was " \
                                      "changed after it was written"


def test_check_names_a_deleted_entry(books):
    seq = _middle_payment(books)
    _tamper(books, f"DELETE FROM audit_entry WHERE id = {seq}")
    code, breaks = _breaks(books)
    assert code == 1 and breaks[0] == f"BREAK audit trail: entry {seq}: missing: entry {seq} was deleted"


def test_check_names_an_entry_slipped_in(books):
    seq = _middle_payment(books)
    last = entries(books / "counterfoil.sqlite")[-1]["id"]
    # Make room by moving every later entry one up, then slip a payment in at `seq`, well hashed on its own.
    _tamper(books, f"UPDATE audit_entry SET id = id + {last} WHERE id >= {seq}",
            f"UPDATE audit_entry SET id = id - {last} + 1 WHERE id > {last}",
            "INSERT INTO audit_entry (id, at, operation, entity, entity_id, changes, actor, origin, action, prev_hash, "
            f"hash) SELECT {seq}, at, 'insert', 'payment', 999, '{{}}', actor, origin, 'payment', hash, 'x' "
            f"FROM audit_entry WHERE id = {seq - 1}")
    code, breaks = _breaks(books)
    assert code == 1 and breaks[0].startswith(f"BREAK audit trail: entry {seq}: ")


def test_check_names_a_change_made_with_the_triggers_off(books):
    connection = sqlite3.connect(books / "counterfoil.sqlite")
    document = connection.execute("SELECT id FROM document WHERE status != 'draft' LIMIT 1").fetchone()[0]
    connection.close()
    _tamper(books, "DROP TRIGGER audit_document_update",
            f"UPDATE document SET notes = 'quietly changed' WHERE id = {document}")
    code, breaks = _breaks(books)
    assert code == 1
    assert "BREAK audit trail: the table document has no audit trigger audit_document_update: its changes are not " \
           "being recorded" in breaks
    assert any(line.startswith(f"BREAK audit trail: document {document}: notes is 'quietly changed' but the audit "
                               "trail says") for line in breaks)


def test_audit_export_from_the_command_line(books, tmp_path):
    target = tmp_path / "trail.csv"
    result = cli("audit", "export", str(target), "--data-dir", str(books))
    assert result.returncode == 0, result.stderr
    stored = entries(books / "counterfoil.sqlite")
    assert f"{len(stored)} audit entries written to {target}" in result.stdout
    table = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert len(table) == len(stored) + 1 and table[1][-1] == stored[0]["hash"]
    lines = tmp_path / "trail.jsonl"
    day = stored[0]["at"][:10]
    assert cli("audit", "export", str(lines), "--from", day, "--to", day, "--data-dir", str(books)).returncode == 0
    assert len(lines.read_text(encoding="utf-8").splitlines()) == len(stored)
    again = cli("audit", "export", str(target), "--data-dir", str(books))
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = cli("audit", "export", str(tmp_path / "x.csv"), "--from", "01/12/2026", "--data-dir", str(books))
    assert bad.returncode == 1 and "--from: must be a date written YYYY-MM-DD" in bad.stderr
    assert cli("audit", "export", str(tmp_path / "none" / "x.csv"), "--data-dir", str(books)).returncode == 1


def test_a_token_made_on_the_command_line_is_the_command_line_s(books):
    created = cli("token", "create", "--name", "backup script", "--data-dir", str(books))
    assert created.returncode == 0
    [made] = entries(books / "counterfoil.sqlite", "entity = 'api_token'")
    assert (made["action"], made["actor"], made["origin"]) == ("token created", f"cli:{getpass.getuser()}", "cli")
    token = created.stdout.strip()
    assert token[12:] not in made["changes"] and json.loads(made["changes"])["token_hash"] == "changed"
