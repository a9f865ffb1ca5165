"""Expenses on a project over HTTP against a real SQLite file: linked through the expense API (one
transaction with the expense) or from the project page, refused for another client's project, shown on
the project page and in its summary, billed by time to invoice and freed when the draft is deleted."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Config
from tests.http.support import count, field_errors, make_client
from tests.http.test_expenses import canada, expense_body


@pytest.fixture
def ca(config: Config, owner: dict[str, Any]) -> None:
    canada()


@pytest.fixture
def project(api, ca) -> dict[str, Any]:
    client = make_client(currency="CAD")
    response = api.post("/api/v1/projects", json={"client_id": client.id, "name": "Bakery shop fit", "code": "FIT",
                                                  "hourly_rate": "90.00", "budget_amount": "1000.00"})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_expense_goes_on_its_clients_project_through_the_api(api, project, config):
    pid, client_id = project["id"], project["client_id"]
    made = api.post("/api/v1/expenses", json=expense_body(billable=True, client_id=client_id, project_id=pid))
    assert made.status_code == 201, made.text
    expense = made.json()
    assert expense["project_id"] == pid
    assert api.get(f"/api/v1/expenses/{expense['id']}").json()["project_id"] == pid
    assert [e["project_id"] for e in api.get("/api/v1/expenses").json()["items"]] == [pid]
    # Off the project, and back on it, by PATCH.
    assert api.patch(f"/api/v1/expenses/{expense['id']}", json={"project_id": None}).json()["project_id"] is None
    assert api.patch(f"/api/v1/expenses/{expense['id']}", json={"project_id": pid}).json()["project_id"] == pid
    # A PATCH without project_id leaves the link alone.
    assert api.patch(f"/api/v1/expenses/{expense['id']}", json={"description": "Shelves"}).json()["project_id"] == pid
    summary = api.get(f"/api/v1/projects/{pid}/summary").json()
    assert summary["expenses_total"] == expense["total"] and summary["expenses_count"] == 1
    # The money budget counts the expense's net: 100.00 of 1000.00.
    assert summary["budget_amount_used_percent"] == 10
    assert count(config, "audit_entry", "entity = 'project_expense'") >= 3


def test_another_clients_project_is_refused_and_nothing_is_written(api, project, config):
    other = make_client(name="Harbour Cafe", currency="CAD")
    theirs = api.post("/api/v1/expenses", json=expense_body(billable=True, client_id=other.id)).json()
    before = count(config, "expense")
    refused = api.post("/api/v1/expenses", json=expense_body(billable=True, client_id=other.id,
                                                              project_id=project["id"]))
    assert refused.status_code == 422 and "Harbour Cafe" in field_errors(refused)["project_id"]
    assert count(config, "expense") == before   # the expense was not made either: one transaction
    changed = api.patch(f"/api/v1/expenses/{theirs['id']}", json={"description": "Changed", "project_id": project["id"]})
    assert changed.status_code == 422 and "project_id" in field_errors(changed)
    assert api.get(f"/api/v1/expenses/{theirs['id']}").json()["description"] == "Printer paper"
    missing = api.post("/api/v1/expenses", json=expense_body(project_id=424242))
    assert missing.status_code == 422 and "project_id" in field_errors(missing)
    assert count(config, "project_expense") == 0
    # An expense without a client is the business's own cost: it may go on any project.
    own = api.post("/api/v1/expenses", json=expense_body(project_id=project["id"]))
    assert own.status_code == 201 and own.json()["project_id"] == project["id"]


def test_time_to_invoice_bills_the_projects_expenses_and_deleting_the_draft_frees_them(api, project, config):
    pid, client_id = project["id"], project["client_id"]
    api.post("/api/v1/time-entries", json={"project_id": pid, "date": "2026-03-09", "minutes": 120})
    billable = api.post("/api/v1/expenses", json=expense_body(
        billable=True, client_id=client_id, project_id=pid, description="Shelving", markup_percent="10")).json()
    api.post("/api/v1/expenses", json=expense_body(client_id=client_id, project_id=pid, description="Own lunch"))
    api.post("/api/v1/expenses", json=expense_body(billable=True, client_id=client_id, project_id=pid,
                                                   date="2026-04-02", description="Next month"))
    kept = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-03-01", "to": "2026-03-31",
                                                             "include_expenses": False})
    assert kept.status_code == 201, kept.text
    assert [line["unit"] for line in kept.json()["lines"]] == ["h"]
    assert api.get(f"/api/v1/expenses/{billable['id']}").json()["billed_state"] == "unbilled"
    assert api.delete(f"/api/v1/invoices/{kept.json()['id']}").status_code == 204

    made = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-03-01", "to": "2026-03-31"})
    assert made.status_code == 201, made.text
    draft = made.json()
    lines = draft["lines"]
    assert len(lines) == 2 and lines[0]["unit"] == "h"
    assert lines[1]["description"].startswith("Shelving") and lines[1]["unit_price"] == "110.00"
    on = api.get(f"/api/v1/expenses/{billable['id']}").json()
    assert (on["billed_state"], on["billed_document_id"]) == ("on_draft", draft["id"])
    # Only expenses left in April: the draft bills them alone.
    april = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-04-01", "to": "2026-04-30"})
    assert april.status_code == 201 and [line["description"][:10] for line in april.json()["lines"]] == ["Next month"]
    nothing = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-03-01", "to": "2026-03-31"})
    assert nothing.status_code == 422 and "from" in field_errors(nothing)

    assert api.delete(f"/api/v1/invoices/{draft['id']}").status_code == 204
    freed = api.get(f"/api/v1/expenses/{billable['id']}").json()
    assert (freed["billed_state"], freed["billed_document_id"], freed["project_id"]) == ("unbilled", None, pid)
    issued_draft = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-03-01", "to": "2026-03-31"}).json()
    assert api.post(f"/api/v1/invoices/{issued_draft['id']}/issue").status_code == 200
    assert api.get(f"/api/v1/expenses/{billable['id']}").json()["billed_state"] == "billed"


def test_the_project_page_shows_adds_and_takes_off_expenses(api, browser, project, config):
    pid, client_id = project["id"], project["client_id"]
    empty = browser.get(f"/projects/{pid}")
    assert empty.status_code == 200 and "No expenses on this project" in empty.text
    expense = api.post("/api/v1/expenses", json=expense_body(billable=True, client_id=client_id,
                                                             description="Display case")).json()
    offered = browser.get(f"/projects/{pid}").text
    assert "Add an expense" in offered and f'<option value="{expense["id"]}"' in offered
    added = browser.post(f"/projects/{pid}/expenses", data={"expense_id": str(expense["id"])},
                         follow_redirects=False)
    assert added.status_code == 303
    shown = browser.get(f"/projects/{pid}").text
    assert "Display case" in shown and "billable, unbilled" in shown and f'href="/expenses/{expense["id"]}"' in shown
    assert "Add an expense" not in shown   # nothing of the client's left to add
    assert f'href="/projects/{pid}#expenses"' in browser.get(f"/expenses/{expense['id']}").text
    preview = browser.get(f"/projects/{pid}/invoice?from=2026-03-01&to=2026-03-31").text
    assert "plan-expenses" in preview and "Display case" in preview
    billed = browser.post(f"/projects/{pid}/invoice", data={"from": "2026-03-01", "to": "2026-03-31",
                                                            "group_by": "task"}, follow_redirects=False)
    assert billed.status_code == 303 and billed.headers["location"].startswith("/documents/")
    assert "on a draft" in browser.get(f"/projects/{pid}").text
    bad = browser.post(f"/projects/{pid}/expenses", data={"expense_id": "x"}, follow_redirects=False)
    assert bad.status_code == 303 and "not added" in bad.cookies.get("counterfoil_flash", "").replace("%20", " ")
    taken = browser.post(f"/projects/{pid}/expenses/{expense['id']}/remove", follow_redirects=False)
    assert taken.status_code == 303
    assert count(config, "project_expense") == 0 and count(config, "expense") == 1
