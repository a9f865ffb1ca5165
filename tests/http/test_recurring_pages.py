"""The recurring invoice pages: the list with next dates, the profile editor (the document editor's line
table), a profile's page with its invoices, pause and resume, run now, and the invoice's link to its profile."""

from __future__ import annotations

import re

import pytest

from app.settings.service import TEST_TODAY_ENV
from tests.http.support import count, make_client, make_item


@pytest.fixture(autouse=True)
def no_background_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.mail import service as mail_service
    from app.recurring import service as recurring_service

    monkeypatch.setattr(recurring_service, "SCHEDULER_AUTOSTART", False)
    monkeypatch.setattr(mail_service, "WORKER_AUTOSTART", False)


def form(client_id: int, **changes: str) -> dict[str, str]:
    return {"client_id": str(client_id), "currency": "", "every": "1", "unit": "month", "day_of_month": "1",
            "start_date": "2027-01-01", "end_date": "", "count": "", "action": "issue", "notes": "", "terms": "",
            "lines-0-item": "", "lines-0-item_id": "", "lines-0-description": "Managed hosting, {period}",
            "lines-0-quantity": "1", "lines-0-unit": "month", "lines-0-unit_price": "120.00",
            "lines-0-discount_percent": "", **changes}


def test_the_empty_list_says_what_to_do_and_the_navigation_leads_there(browser):
    page = browser.get("/recurring")
    assert page.status_code == 200
    assert "No recurring invoice yet" in page.text and 'href="/recurring/new"' in page.text
    assert 'href="/recurring"' in browser.get("/").text


def test_make_a_profile_with_the_editor_run_it_and_follow_the_links(browser, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-03-05")
    client = make_client(name="Lumière Boréale Architectes Paysagistes et Urbanistes Associés du Québec Inc.",
                         language="fr", country="CA")
    editor = browser.get(f"/recurring/new?client_id={client.id}")
    assert editor.status_code == 200
    assert 'hx-post="/recurring/preview"' in editor.text and "Lumière Boréale" in editor.text

    # The editor's live totals and line buttons, as the document editor's.
    preview = browser.post("/recurring/preview", data=form(client.id, **{"lines-0-quantity": "3"}))
    assert preview.status_code == 200 and "360.00" in preview.text
    added = browser.post("/recurring/preview", data={**form(client.id), "op": "add"})
    assert added.headers["HX-Retarget"] == "#doc-lines" and 'name="lines-1-description"' in added.text

    saved = browser.post("/recurring/new", data=form(client.id), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    profile_url = saved.headers["location"]
    view = browser.get(profile_url)
    assert "Every month on the 1st" in view.text and "Nothing made yet" in view.text

    listed = browser.get("/recurring").text
    assert "Lumière Boréale" in listed and "Managed hosting, {period}" in listed
    assert "Run now" in listed

    run = browser.post("/recurring/run", follow_redirects=False)
    assert run.status_code == 303
    assert "3 invoices made" in browser.get("/recurring").text   # the flash
    view = browser.get(profile_url).text
    invoice_ids = re.findall(r'href="/documents/(\d+)"', view)
    assert len(invoice_ids) == 3
    invoice = browser.get(f"/documents/{invoice_ids[-1]}").text   # the oldest: January
    assert f'href="{profile_url}"' in invoice and "recurring invoice" in invoice
    assert "Managed hosting, 1–31 janvier 2027" in invoice

    edit = browser.get(f"{profile_url}/edit")
    assert edit.status_code == 200 and "Managed hosting, {period}" in edit.text
    changed = browser.post(f"{profile_url}/edit", data=form(client.id, every="2"), follow_redirects=False)
    assert changed.status_code == 303
    assert "Every 2 months on the 1st" in browser.get(profile_url).text


def test_a_bad_form_is_shown_again_naming_each_field_and_nothing_is_saved(browser, config):
    client = make_client()
    response = browser.post("/recurring/new", data=form(client.id, every="0", day_of_month="32",
                                                        end_date="2026-01-01",
                                                        **{"lines-0-description": "Hosting {perod}"}))
    assert response.status_code == 422
    assert "Nothing was saved" in response.text
    for text in ("every (the interval) must be a whole number", "day_of_month must be a whole number",
                 "The end date is before the start date", "unknown placeholder {perod}"):
        assert text in response.text
    assert 'id="f-lines-0-description"' in response.text and "Hosting {perod}" in response.text
    assert count(config, "recurring_profile") == 0


def test_pause_resume_and_delete_from_the_profile_page(browser, config, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-01-05")
    make_item(code="MAINT-Q", name="Quarterly maintenance", unit="quarter", unit_price="900.00")
    client = make_client()
    saved = browser.post("/recurring/new", data=form(client.id, unit="quarter", **{
        "lines-0-item": "MAINT-Q", "lines-0-description": "", "lines-0-unit_price": ""}), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    url = saved.headers["location"]
    assert "900.00" in browser.get(url).text   # the item filled the line
    browser.post(f"{url}/pause")
    page = browser.get(url).text
    assert "Paused since" in page and "Resume and catch up" in page
    assert browser.post(f"{url}/pause").status_code == 409
    browser.post(f"{url}/resume", data={"catch_up": "true"})
    assert "Pause" in browser.get(url).text
    assert browser.post(f"{url}/delete", follow_redirects=False).status_code == 303
    assert count(config, "recurring_profile") == 0
    assert browser.get(url).status_code == 404


def test_the_list_filters_by_status_and_shows_finished_profiles(browser, monkeypatch):
    monkeypatch.setenv(TEST_TODAY_ENV, "2027-06-01")
    client = make_client()
    browser.post("/recurring/new", data=form(client.id, count="2"))
    browser.post("/recurring/new", data=form(client.id, start_date="2027-07-01"))
    browser.post("/recurring/run")
    finished = browser.get("/recurring?status=finished").text
    assert finished.count('href="/recurring/') - finished.count('href="/recurring/new"') == 1
    assert "Finished" in finished
    active = browser.get("/recurring?status=active").text
    assert "2027-07-01" in active or "Jul" in active


def test_staff_see_no_delete_and_cannot_delete(staff_browser, config):
    from app.recurring import service
    from tests.conftest import run

    client = make_client()
    profile = run(service.create_profile({"client_id": client.id, "start_date": "2030-01-01", "lines": [
        {"description": "Retainer", "quantity": "1", "unit_price": "10"}]}))
    page = staff_browser.get(f"/recurring/{profile.id}")
    assert page.status_code == 200 and "/delete" not in page.text
    assert staff_browser.post(f"/recurring/{profile.id}/delete").status_code == 403
    assert count(config, "recurring_profile") == 1
