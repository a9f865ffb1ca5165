"""Recurring invoices through the API (/api/v1/recurring) against a real SQLite file: the clock is set by
`as_of` or by the test-only today (COUNTERFOIL_TEST_TODAY), never by sleeping."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings.service import TEST_TODAY_ENV
from tests.http.support import count, field_errors, make_client, make_item, query

HOSTING = {"description": "Managed hosting, {period}", "quantity": "1", "unit": "month", "unit_price": "120.00"}


@pytest.fixture(autouse=True)
def no_background_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test runs the profiles itself; the server's hourly job must not run them behind its back."""
    from app.exports import service as exports_service
    from app.mail import service as mail_service
    from app.recurring import service as recurring_service

    monkeypatch.setattr(recurring_service, "SCHEDULER_AUTOSTART", False)
    monkeypatch.setattr(mail_service, "WORKER_AUTOSTART", False)
    monkeypatch.setattr(exports_service, "SCHEDULER_AUTOSTART", False)


def profile_body(client: int, /, **changes: Any) -> dict[str, Any]:
    return {"client_id": client, "currency": "CAD", "lines": [HOSTING], "every": 1, "unit": "month",
            "day_of_month": 1, "start_date": "2027-01-01", "action": "issue", **changes}


def create_profile(api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/recurring", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def run_profiles(api, as_of: str | None = None) -> dict[str, Any]:
    response = api.post("/api/v1/recurring/run", json={"as_of": as_of} if as_of else {})
    assert response.status_code == 200, response.text
    return response.json()


def test_started_in_january_run_in_april_makes_january_to_april_once(api, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-04-10")
    client = make_client(language="en", country="GB")
    profile = create_profile(api, profile_body(client.id))
    assert profile["next_date"] == "2027-01-01" and profile["status"] == "active"

    made = run_profiles(api)["made"]
    assert [doc["issue_date"] for doc in made] == ["2027-01-01", "2027-02-01", "2027-03-01", "2027-04-01"]
    assert [doc["status"] for doc in made] == ["overdue", "overdue", "overdue", "issued"]   # due by the terms
    # Numbers follow the dates: the catch-up is made oldest first.
    assert [doc["number"] for doc in made] == sorted(doc["number"] for doc in made)
    assert [doc["lines"][0]["description"] for doc in made][:2] == [
        "Managed hosting, 1–31 January 2027", "Managed hosting, 1–28 February 2027"]
    assert [(doc["recurring_id"], doc["period_start"], doc["period_end"]) for doc in made][3] == (
        profile["id"], "2027-04-01", "2027-04-30")
    # Dated on the schedule's day, due by the terms from that day.
    assert made[0]["due_date"] == "2027-01-31"

    assert run_profiles(api)["made"] == []   # run again: nothing
    assert count(config, "document") == 4
    assert count(config, "recurring_run") == 4

    invoice = api.get(f"/api/v1/invoices/{made[1]['id']}").json()
    assert (invoice["recurring_id"], invoice["period_start"], invoice["period_end"]) == (
        profile["id"], "2027-02-01", "2027-02-28")
    answer = api.get(f"/api/v1/recurring/{profile['id']}").json()
    assert (answer["next_date"], answer["made"], answer["last_date"]) == ("2027-05-01", 4, "2027-04-01")
    periods = api.get(f"/api/v1/recurring/{profile['id']}/documents").json()
    assert [p["period_start"] for p in periods["items"]] == ["2027-04-01", "2027-03-01", "2027-02-01", "2027-01-01"]
    assert periods["items"][0]["document"]["number"] == made[3]["number"]


def test_an_invoice_not_made_by_a_profile_has_no_period(api):
    client = make_client()
    response = api.post("/api/v1/invoices", json={"client_id": client.id, "lines": [
        {"description": "Work", "quantity": "1", "unit_price": "10"}]})
    invoice = api.get(f"/api/v1/invoices/{response.json()['id']}").json()
    assert (invoice["recurring_id"], invoice["period_start"], invoice["period_end"]) == (None, None, None)


def test_as_of_sets_the_day_a_run_makes_up_to(api, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-05")
    client = make_client(language="de", country="DE")
    profile = create_profile(api, profile_body(client.id, action="draft", lines=[
        {**HOSTING, "description": "Wartung {month} {year}"}]))
    first = run_profiles(api, "2027-02-15")
    assert [(d["issue_date"], d["status"], d["number"]) for d in first["made"]] == [
        ("2027-01-01", "draft", None), ("2027-02-01", "draft", None)]
    assert first["made"][1]["lines"][0]["description"] == "Wartung Februar 2027"   # the client's language
    assert [d["issue_date"] for d in run_profiles(api, "2027-04-01")["made"]] == ["2027-03-01", "2027-04-01"]
    assert api.get(f"/api/v1/recurring/{profile['id']}").json()["next_date"] == "2027-05-01"


def test_a_deleted_draft_is_not_made_again(api, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-05")
    profile = create_profile(api, profile_body(make_client().id, action="draft"))
    [draft] = run_profiles(api)["made"]
    issued = api.post(f"/api/v1/invoices/{draft['id']}/issue").json()
    assert (issued["status"], issued["recurring_id"], issued["period_start"]) == ("issued", profile["id"], "2027-01-01")
    [draft] = run_profiles(api, "2027-02-01")["made"]
    assert api.delete(f"/api/v1/invoices/{draft['id']}").status_code == 204
    assert run_profiles(api)["made"] == []
    period, first = api.get(f"/api/v1/recurring/{profile['id']}/documents").json()["items"]
    assert (period["period_start"], period["document"]) == ("2027-02-01", None)
    assert first["document"]["number"] == issued["number"]


def test_quarterly_on_the_31st_clamps_and_ends_with_its_count(api, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2028-06-01")
    create_profile(api, profile_body(make_client().id, unit="quarter", day_of_month=31, start_date="2027-01-01",
                                     count=4))
    made = run_profiles(api)["made"]
    assert [d["issue_date"] for d in made] == ["2027-01-31", "2027-04-30", "2027-07-31", "2027-10-31"]
    assert [d["period_end"] for d in made][:2] == ["2027-04-29", "2027-07-30"]
    listed = api.get("/api/v1/recurring").json()["items"]
    assert [(p["status"], p["next_date"]) for p in listed] == [("finished", None)]
    assert api.get("/api/v1/recurring?status=finished").json()["total"] == 1


def test_a_paused_profile_skips_its_periods_unless_asked_to_catch_up(api, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-10")
    client = make_client()
    skipping = create_profile(api, profile_body(client.id))
    catching = create_profile(api, profile_body(client.id, lines=[{**HOSTING, "description": "Support {month}"}]))
    assert len(run_profiles(api)["made"]) == 2   # January of both
    for profile in (skipping, catching):
        paused = api.post(f"/api/v1/recurring/{profile['id']}/pause")
        assert paused.status_code == 200 and paused.json()["status"] == "paused"
        assert paused.json()["next_date"] is None
    assert api.post(f"/api/v1/recurring/{skipping['id']}/pause").status_code == 409
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-04-15")
    assert run_profiles(api)["made"] == []   # paused: nothing
    resumed = api.post(f"/api/v1/recurring/{skipping['id']}/resume").json()
    assert (resumed["status"], resumed["next_date"]) == ("active", "2027-05-01")
    api.post(f"/api/v1/recurring/{catching['id']}/resume", json={"catch_up": True})
    made = run_profiles(api)["made"]
    assert [(d["issue_date"], d["lines"][0]["description"]) for d in made] == [
        ("2027-02-01", "Support February"), ("2027-03-01", "Support March"), ("2027-04-01", "Support April")]
    skipped = api.get(f"/api/v1/recurring/{skipping['id']}/documents").json()["items"]
    assert [(p["period_start"], p["outcome"], p["document"]) for p in skipped[:3]] == [
        ("2027-04-01", "skipped", None), ("2027-03-01", "skipped", None), ("2027-02-01", "skipped", None)]
    assert api.post(f"/api/v1/recurring/{skipping['id']}/resume").status_code == 409
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-05-02")
    assert [d["issue_date"] for d in run_profiles(api)["made"]] == ["2027-05-01", "2027-05-01"]


def test_an_item_pick_fills_the_line_and_the_profile_can_change(api, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-02")
    item = make_item(code="HOST-M", name="Managed hosting", unit="month", unit_price="120.00")
    profile = create_profile(api, profile_body(make_client().id, lines=[{"item_id": item["id"]}]))
    assert profile["lines"][0]["description"] == "Managed hosting"
    assert profile["lines"][0]["unit_price"] == "120.00"
    assert profile["total"] == "120.00"
    changed = api.patch(f"/api/v1/recurring/{profile['id']}", json={"every": 2, "notes": "Period {period}"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["every"], changed.json()["schedule"]) == (2, "Every 2 months on the 1st")
    [made] = run_profiles(api)["made"]
    assert made["notes"] == "Period Jan 1\u2009–\u2009Feb 28, 2027".replace("Jan", "January").replace("Feb", "February")
    # The item is in use: the catalogue cannot delete it.
    assert api.delete(f"/api/v1/items/{item['id']}").status_code == 409


def test_a_profile_that_made_invoices_cannot_be_deleted_one_that_did_not_can(api, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-02")
    client = make_client()
    used = create_profile(api, profile_body(client.id))
    unused = create_profile(api, profile_body(client.id, start_date="2027-06-01"))
    run_profiles(api)
    assert api.delete(f"/api/v1/recurring/{used['id']}").status_code == 409
    moved = api.patch(f"/api/v1/recurring/{used['id']}", json={"client_id": make_client(name="Other").id})
    assert moved.status_code == 422 and "client_id" in field_errors(moved)
    assert api.patch(f"/api/v1/recurring/{unused['id']}", json={"client_id": make_client(name="Third").id}
                     ).status_code == 200
    assert api.delete(f"/api/v1/recurring/{unused['id']}").status_code == 204
    assert api.get(f"/api/v1/recurring/{unused['id']}").status_code == 404
    assert count(config, "recurring_profile") == 1


def test_an_invoice_that_cannot_be_issued_is_made_as_a_draft_that_says_why(api, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-02")
    client = make_client()
    profile = create_profile(api, profile_body(client.id))
    assert api.delete(f"/api/v1/clients/{client.id}").status_code in (200, 204)   # archived: issuing is refused
    report = run_profiles(api)
    assert [d["status"] for d in report["made"]] == ["draft"]
    assert report["problems"] and "Profile" in report["problems"][0]
    [period] = api.get(f"/api/v1/recurring/{profile['id']}/documents").json()["items"]
    assert period["outcome"] == "draft" and period["problem"]
    assert query(config, "SELECT count(*) FROM document WHERE number IS NOT NULL") == [(0,)]


BAD = [
    ({"start_date": "9999-12-31"}, "start_date"), ({"end_date": "9999-12-01"}, "end_date"),
    ({"start_date": "1899-12-31"}, "start_date"), ({"every": 0}, "every"), ({"every": 100}, "every"), ({"unit": "fortnight"}, "unit"),
    ({"day_of_month": 0}, "day_of_month"), ({"day_of_month": 32}, "day_of_month"),
    ({"unit": "week", "day_of_month": 1}, "day_of_month"),
    ({"start_date": "2027-03-01", "end_date": "2027-02-01"}, "end_date"), ({"count": 0}, "count"),
    ({"action": "email"}, "action"), ({"status": "done"}, "status"), ({"client_id": 999}, "client_id"),
    ({"currency": "XX"}, "currency"), ({"lines": []}, "lines"),
    ({"lines": [{**HOSTING, "description": "{perid}"}]}, "lines[0].description"),
    ({"lines": [{**HOSTING, "taxes": ["NOPE"]}]}, "lines[0].taxes"),
    ({"lines": [{**HOSTING, "item_id": 99999}]}, "lines[0].item_id"),
    ({"start_date": None}, "start_date"), ({"every": "monthly"}, "every"), ({"start_date": "2027-13-01"}, "start_date"),
    ({"colour": "blue"}, "colour"),
]


@pytest.mark.parametrize(("changes", "field"), BAD)
def test_a_bad_profile_is_refused_naming_the_field_and_nothing_is_written(api, config, changes, field):
    client = make_client()
    before = count(config, "audit_entry")
    response = api.post("/api/v1/recurring", json=profile_body(client.id, **changes))
    assert response.status_code in (400, 422), response.text
    assert field in field_errors(response), response.text
    assert count(config, "recurring_profile") == 0
    assert count(config, "audit_entry") == before


@pytest.mark.parametrize(("changes", "field"), BAD[:11])
def test_a_bad_change_is_refused_and_the_profile_stays_as_it_was(api, config, changes, field):
    profile = create_profile(api, profile_body(make_client().id))
    response = api.patch(f"/api/v1/recurring/{profile['id']}", json=changes)
    assert response.status_code == 422, response.text
    assert field in field_errors(response)
    assert api.get(f"/api/v1/recurring/{profile['id']}").json() == profile


def test_a_bad_run_day_and_unknown_profiles(api):
    response = api.post("/api/v1/recurring/run", json={"as_of": "2031-01-01"})
    assert response.status_code == 422 and "as_of" in field_errors(response)
    assert api.post("/api/v1/recurring/run", json={"as_of": "soon"}).status_code in (400, 422)
    assert api.get("/api/v1/recurring/999").status_code == 404
    assert api.post("/api/v1/recurring/999/pause").status_code == 404
    assert api.get("/api/v1/recurring/999/documents").status_code == 404
    assert api.get("/api/v1/recurring?status=sleeping").status_code == 422


def test_a_client_with_a_profile_cannot_be_deleted(api, monkeypatch):
    client = make_client()
    create_profile(api, profile_body(client.id))
    assert api.delete(f"/api/v1/clients/{client.id}?hard=true").status_code == 409


# -- issue and send: through the outbox, to a real SMTP server ----------------------------------------

def test_issue_and_send_emails_the_invoice_with_its_pdf_once(api, config, smtp, monkeypatch):
    from tests.http.smtp_support import configure, deliver
    from tests.http.support import text_of

    monkeypatch.setenv(TEST_TODAY_ENV, "2027-02-03")
    configure(api, smtp)
    client = make_client(email="accounts@maple.example", contact_name="Mia Maple", language="en", country="GB")
    no_email = make_client(name="Birch Dental")
    profile = create_profile(api, profile_body(client.id, action="issue_and_send"))
    other = create_profile(api, profile_body(no_email.id, action="issue_and_send", start_date="2027-02-01"))
    report = run_profiles(api)
    assert [d["issue_date"] for d in report["made"]] == ["2027-01-01", "2027-02-01", "2027-02-01"]
    assert report["queued"] == 2
    assert any("was not emailed" in problem and "email" in problem.lower() for problem in report["problems"])
    [period] = api.get(f"/api/v1/recurring/{other['id']}/documents").json()["items"]
    assert period["send_problem"] and period["message_id"] is None and period["document"]["number"]

    assert deliver() == 2
    messages = smtp.inbox.messages()
    assert sorted(m["To"] for m in messages) == ["accounts@maple.example"] * 2
    numbers = [d["number"] for d in report["made"][:2]]
    # Made late (caught up on 3 February), January's invoice is already past its due date: its message says so.
    assert sorted(m["Subject"] for m in messages) == sorted([
        f"Invoice {numbers[0]} from Atelier Lumière: payment overdue", f"Invoice {numbers[1]} from Atelier Lumière"])
    for message in messages:
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        pdf = attachment.get_content()
        assert pdf.startswith(b"%PDF-")
        assert "Managed hosting, 1" in text_of(pdf)
    periods = api.get(f"/api/v1/recurring/{profile['id']}/documents").json()["items"]
    assert all(p["message_id"] for p in periods)
    assert query(config, "SELECT status FROM document WHERE client = ?", client.id) == [("sent",), ("sent",)]

    assert run_profiles(api)["queued"] == 0   # queued once: a second run sends nothing again
    assert deliver() == 0 and len(smtp.inbox.envelopes) == 2
