"""Projects and time over HTTP against a real SQLite file: every API route and page, bad input (a 4xx naming
the field, nothing written), and the timer surviving a restart of a real server process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.http.live_server import launch, start_server, stop
from tests.http.support import count, field_errors, make_client


@pytest.fixture
def project(api) -> dict[str, Any]:
    client = make_client(currency="EUR")
    response = api.post("/api/v1/projects", json={
        "client_id": client.id, "name": "Website relaunch", "code": "WEB", "hourly_rate": "80.00",
        "budget_hours": "10", "rounding_minutes": 15, "tasks": ["Design", "Build"]})
    assert response.status_code == 201, response.text
    return response.json()


def test_projects_api_creates_reads_changes_summarises_and_deletes(api, project):
    assert {"id", "client_id", "name", "code", "status", "hourly_rate", "budget_hours", "budget_amount",
            "fixed_price", "rounding_minutes"} <= set(project)
    assert project["hourly_rate"] == "80.00" and project["budget_hours"] == "10" and project["currency"] == "EUR"
    assert [t["name"] for t in project["tasks"]] == ["Build", "Design"]
    assert api.get(f"/api/v1/projects/{project['id']}").json()["code"] == "WEB"
    assert [p["id"] for p in api.get("/api/v1/projects").json()["items"]] == [project["id"]]
    changed = api.patch(f"/api/v1/projects/{project['id']}", json={"status": "on_hold", "budget_amount": "1000"})
    assert changed.status_code == 200 and changed.json()["status"] == "on_hold"
    assert api.get("/api/v1/projects?status=active").json()["total"] == 0
    api.post("/api/v1/time-entries", json={"project_id": project["id"], "date": "2026-11-02", "minutes": 510})
    summary = api.get(f"/api/v1/projects/{project['id']}/summary").json()
    assert summary["logged_minutes"] == 510 and summary["budget_minutes_used_percent"] == 85
    assert summary["warnings"] == ["Hours budget at 85 %"]
    # The time's worth is money, to the cent: 8.5 h at 85.37 is 725.645, shown 725.65.
    assert api.patch(f"/api/v1/projects/{project['id']}", json={"hourly_rate": "85.37"}).status_code == 200
    assert api.get(f"/api/v1/projects/{project['id']}/summary").json()["unbilled_amount"] == "725.65"
    refused = api.delete(f"/api/v1/projects/{project['id']}")
    assert refused.status_code == 409   # it has time
    empty = api.post("/api/v1/projects", json={"client_id": project["client_id"], "name": "Empty", "code": "EMPTY"})
    assert api.delete(f"/api/v1/projects/{empty.json()['id']}").status_code == 204
    assert api.get(f"/api/v1/projects/{empty.json()['id']}").status_code == 404


def test_bad_projects_are_refused_naming_the_field(api, project, config):
    before = count(config, "project")
    for body, field in (({"name": "X", "code": "WEB", "client_id": project["client_id"]}, "code"),
                        ({"name": "X", "code": "NEW", "client_id": 999}, "client_id"),
                        ({"name": "X", "code": "NEW", "client_id": project["client_id"], "rounding_minutes": 7},
                         "rounding_minutes"),
                        ({"name": "X", "code": "NEW", "client_id": project["client_id"], "hourly_rate": "-1"},
                         "hourly_rate"),
                        ({"name": "", "code": "NEW", "client_id": project["client_id"]}, "name"),
                        ({"name": "X", "code": "NEW", "client_id": project["client_id"], "nmae": "typo"}, "nmae")):
        response = api.post("/api/v1/projects", json=body)
        assert response.status_code in (400, 422), response.text
        assert field in field_errors(response), (field, response.text)
    assert count(config, "project") == before


def test_time_entries_api_with_filters_and_bad_input(api, project, config):
    pid = project["id"]
    made = api.post("/api/v1/time-entries", json={"project_id": pid, "task": "Design", "date": "2026-11-02",
                                                  "minutes": 90, "description": "Wireframes"})
    assert made.status_code == 201, made.text
    entry = made.json()
    assert {"id", "project_id", "task", "description", "date", "started_at", "ended_at", "minutes", "billable",
            "billed_document_id"} <= set(entry)
    timed = api.post("/api/v1/time-entries", json={"project_id": pid, "date": "2026-11-03", "billable": False,
                                                   "started_at": "2026-11-03T09:00:00Z",
                                                   "ended_at": "2026-11-03T10:15:00Z"}).json()
    assert timed["minutes"] == 75 and timed["task"] is None
    assert api.get(f"/api/v1/time-entries?project_id={pid}").json()["total"] == 2
    assert api.get("/api/v1/time-entries?billable=false").json()["items"][0]["id"] == timed["id"]
    assert api.get("/api/v1/time-entries?from=2026-11-03&to=2026-11-30").json()["total"] == 1
    assert api.get(f"/api/v1/time-entries?client_id={project['client_id']}&billed=false").json()["total"] == 2
    assert api.get(f"/api/v1/time-entries/{entry['id']}").json()["description"] == "Wireframes"
    assert api.patch(f"/api/v1/time-entries/{entry['id']}", json={"minutes": 100}).json()["minutes"] == 100
    before = count(config, "time_entry")
    for body, field in (
            ({"project_id": pid, "date": "2026-11-04", "minutes": 0}, "minutes"),
            ({"project_id": pid, "date": "2026-11-04", "minutes": 24 * 60 + 1}, "minutes"),
            ({"project_id": pid, "date": "2026-11-04"}, "minutes"),
            ({"project_id": pid, "date": "2026-11-04", "started_at": "2026-11-04T10:00:00Z",
              "ended_at": "2026-11-04T09:00:00Z"}, "ended_at"),
            ({"project_id": pid, "date": "2026-11-03", "started_at": "2026-11-03T10:00:00Z",
              "ended_at": "2026-11-03T11:00:00Z"}, "started_at"),   # overlaps 09:00-10:15
            ({"project_id": pid, "date": "2026-11-04", "minutes": 30, "task": "Nope"}, "task"),
            ({"project_id": 424242, "date": "2026-11-04", "minutes": 30}, "project_id"),
            ({"project_id": pid, "date": "2026-13-04", "minutes": 30}, "date")):
        response = api.post("/api/v1/time-entries", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in field_errors(response), (field, response.text)
    assert count(config, "time_entry") == before
    assert api.delete(f"/api/v1/time-entries/{timed['id']}").status_code == 204
    assert api.get(f"/api/v1/time-entries/{timed['id']}").status_code == 404


def test_time_to_invoice_marks_frees_and_freezes_entries(api, project, config):
    pid = project["id"]
    for day, minutes, task in (("2026-11-02", 70, "Design"), ("2026-11-03", 90, "Build"), ("2026-11-04", 30, "Build")):
        api.post("/api/v1/time-entries", json={"project_id": pid, "task": task, "date": day, "minutes": minutes})
    made = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-11-01", "to": "2026-11-30",
                                                              "group_by": "task"})
    assert made.status_code == 201, made.text
    draft = made.json()
    assert [(line["description"], line["quantity"], line["unit_price"]) for line in draft["lines"]] == [
        ("Design (2 Nov 2026)", "1.25", "80.00"), ("Build (3–4 Nov 2026)", "2", "80.00")]
    entries = api.get(f"/api/v1/time-entries?project_id={pid}").json()["items"]
    assert {e["billed_document_id"] for e in entries} == {draft["id"]}
    again = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-11-01", "to": "2026-11-30"})
    assert again.status_code == 422 and "from" in field_errors(again)
    refused = api.patch(f"/api/v1/time-entries/{entries[0]['id']}", json={"minutes": 5})
    assert refused.status_code == 409
    bad = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-11-30", "to": "2026-11-01",
                                                            "group_by": "month"})
    assert bad.status_code == 422 and "group_by" in field_errors(bad)
    assert api.delete(f"/api/v1/invoices/{draft['id']}").status_code == 204
    assert api.get(f"/api/v1/time-entries?project_id={pid}&billed=false").json()["total"] == 3   # freed
    draft = api.post(f"/api/v1/projects/{pid}/invoice", json={"from": "2026-11-01", "to": "2026-11-30",
                                                               "group_by": "period"}).json()
    assert len(draft["lines"]) == 1 and draft["lines"][0]["quantity"] == "3.25"
    assert api.post(f"/api/v1/invoices/{draft['id']}/issue").status_code == 200
    entry = api.get(f"/api/v1/time-entries/{entries[0]['id']}").json()
    assert entry["frozen"] and api.delete(f"/api/v1/time-entries/{entry['id']}").status_code == 409
    summary = api.get(f"/api/v1/projects/{pid}/summary").json()
    assert summary["billed_amount"] == "260.00" and summary["unbilled_minutes"] == 0


def test_the_timer_api_starts_switches_edits_stops_and_discards(api, project, config):
    pid = project["id"]
    assert api.get("/api/v1/timer").json() == {"running": False, "project_id": None, "started_at": None,
                                               "description": None, "task": None, "elapsed_minutes": None,
                                               "stopped_entry": None}
    started = api.post("/api/v1/timer/start", json={"project_id": pid, "task": "Design", "description": "Logo"})
    assert started.status_code == 200 and started.json()["running"] and started.json()["task"] == "Design"
    earlier = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    assert api.patch("/api/v1/timer", json={"started_at": earlier}).json()["elapsed_minutes"] in (29, 30)
    # A start more than a day ago would make a timer that no stop can save (an entry is at most 24 hours).
    for long_ago in ("1900-01-01T00:00:00+00:00", (datetime.now(UTC) - timedelta(hours=25)).isoformat()):
        refused = api.patch("/api/v1/timer", json={"started_at": long_ago})
        assert refused.status_code == 422 and "at most 24 hours ago" in field_errors(refused)["started_at"]
    assert api.get("/api/v1/timer").json()["elapsed_minutes"] in (29, 30)
    switched = api.post("/api/v1/timer/start", json={"project_id": pid, "task": "Build"}).json()
    assert switched["stopped_entry"]["minutes"] == 30 and switched["task"] == "Build"   # the first was saved
    stopped = api.post("/api/v1/timer/stop")
    assert stopped.status_code == 200 and stopped.json()["minutes"] >= 1
    assert api.post("/api/v1/timer/stop").status_code == 409
    api.post("/api/v1/timer/start", json={"project_id": pid})
    assert api.post("/api/v1/timer/discard").json()["running"] is False
    assert api.post("/api/v1/timer/discard").status_code == 409
    before = count(config, "time_entry")
    for body, field in (({}, "project_id"), ({"project_id": 999}, "project_id"),
                        ({"project_id": pid, "task": "Nope"}, "task")):
        response = api.post("/api/v1/timer/start", json=body)
        assert response.status_code == 422 and field in field_errors(response), response.text
    assert count(config, "time_entry") == before and count(config, "running_timer") == 0


def test_pages_of_projects_and_time(browser, project, config):
    pid = project["id"]
    for path in ("/projects", "/projects?status=done", "/projects/new", f"/projects/{pid}", f"/projects/{pid}/edit",
                 f"/projects/{pid}/invoice", "/time", "/timesheet", "/timesheet?week=2026-11-02",
                 "/projects/report", "/projects/report?from=2026-01-01&to=2026-12-31"):
        response = browser.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    made = browser.post("/time", data={"project_id": f"{pid}:Design", "date": "2026-11-02", "minutes": "1.5h",
                                       "description": "Sketches", "billable": "on"}, follow_redirects=False)
    assert made.status_code == 303
    bad = browser.post("/time", data={"project_id": str(pid), "date": "2026-11-02", "minutes": "lots"})
    assert bad.status_code == 422 and "is not a duration" in bad.text
    entry_id = browser.get("/api/v1/time-entries").json()["items"][0]["id"]
    assert browser.get(f"/time/{entry_id}/edit").status_code == 200
    assert browser.post(f"/time/{entry_id}/edit", data={"project_id": f"{pid}:Design", "date": "2026-11-02",
                                                         "minutes": "2:00", "billable": "on"},
                        follow_redirects=False).status_code == 303
    sheet = browser.get("/timesheet?week=2026-11-02").text
    assert "2:00" in sheet
    saved = browser.post("/timesheet", data={"week": "2026-11-02", "cell-%d-0-1" % pid: "45m", "was-%d-0-1" % pid: ""},
                         follow_redirects=False)
    assert saved.status_code == 303, saved.text
    refused = browser.post("/timesheet", data={"week": "2026-11-02", "cell-%d-0-2" % pid: "1:99"})
    assert refused.status_code == 422
    assert browser.post(f"/projects/{pid}/tasks", data={"name": "Meetings", "hourly_rate": "60"},
                        follow_redirects=False).status_code == 303
    assert browser.post("/projects/rates", data={"client_id": "", "hourly_rate": "70"},
                        follow_redirects=False).status_code == 303
    preview = browser.get(f"/projects/{pid}/invoice?from=2026-11-01&to=2026-11-30&group_by=day")
    assert "2 Nov 2026" in preview.text
    billed = browser.post(f"/projects/{pid}/invoice", data={"from": "2026-11-01", "to": "2026-11-30",
                                                            "group_by": "entry"}, follow_redirects=False)
    assert billed.status_code == 303 and billed.headers["location"].startswith("/documents/")
    csv = browser.get("/projects/report.csv?from=2026-11-01&to=2026-11-30")
    assert csv.status_code == 200 and "Sketches" in csv.text and "attachment" in csv.headers["content-disposition"]
    created = browser.post("/projects", data={"client_id": str(project["client_id"]), "name": "Second",
                                              "code": "SEC", "status": "active", "rounding_minutes": "0",
                                              "task_names": "A, B"}, follow_redirects=False)
    assert created.status_code == 303
    second = int(created.headers["location"].rsplit("/", 1)[1])
    assert browser.post(f"/projects/{second}/edit", data={"client_id": str(project["client_id"]), "name": "Second!",
                                                          "code": "SEC", "status": "done", "rounding_minutes": "6"},
                        follow_redirects=False).status_code == 303
    assert browser.post(f"/projects/{second}/delete", follow_redirects=False).status_code == 303
    invalid = browser.post("/projects", data={"client_id": "", "name": "", "code": "WEB"})
    assert invalid.status_code == 422 and "Nothing was saved" in invalid.text


def test_the_timer_bar_and_title_show_on_every_page_and_ask_after_ten_hours(browser, project):
    pid = project["id"]
    assert "timer-bar" not in browser.get("/clients").text
    assert browser.post("/timer/start", data={"project_id": f"{pid}:Design", "description": "Logo",
                                              "next": "/clients"}, follow_redirects=False).status_code == 303
    page = browser.get("/clients").text
    assert "timer-bar" in page and "<title>▶ 0:00 Website relaunch" in page and "timer-long" not in page
    eleven_hours_ago = (datetime.now(UTC) - timedelta(hours=11)).isoformat()
    browser.patch("/api/v1/timer", json={"started_at": eleven_hours_ago})
    page = browser.get("/invoices").text
    assert "timer-long" in page and "Keep it running" in page
    assert browser.post("/timer/keep", follow_redirects=False).status_code == 303
    assert "timer-long" not in browser.get("/invoices").text
    assert browser.post("/timer/edit", data={"started_at": "00:00"}, follow_redirects=False).status_code == 303
    trimmed_end = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert browser.post("/timer/stop", data={"ended_at": trimmed_end}, follow_redirects=False).status_code == 303
    assert "timer-bar" not in browser.get("/clients").text
    browser.post("/timer/start", data={"project_id": str(pid)})
    assert browser.post("/timer/discard", follow_redirects=False).status_code == 303
    assert browser.get("/api/v1/timer").json()["running"] is False


def test_the_timer_survives_a_restart_of_the_server(tmp_path: Path):
    servers = start_server(tmp_path)
    server = next(servers)
    with server.client() as api:
        client = api.post("/api/v1/clients", json={"name": "Restart Ltd", "currency": "EUR"}).json()
        project = api.post("/api/v1/projects", json={"client_id": client["id"], "name": "Survivor", "code": "SURV"})
        assert project.status_code == 201, project.text
        started = api.post("/api/v1/timer/start", json={"project_id": project.json()["id"], "description": "Long"})
        assert started.status_code == 200, started.text
    stop(server)
    again = launch(server.data_dir, tmp_path / "again.log", server.token)
    try:
        with again.client() as api:
            timer = api.get("/api/v1/timer").json()
            assert timer["running"] and timer["started_at"] == started.json()["started_at"]
            assert timer["description"] == "Long"
            entry = api.post("/api/v1/timer/stop").json()
            assert entry["minutes"] >= 1 and entry["started_at"] == timer["started_at"]
    finally:
        stop(again)
        servers.close()


def test_the_accountants_package_has_the_time_when_ticked(api, browser, project):
    import io
    import zipfile

    api.post("/api/v1/time-entries", json={"project_id": project["id"], "task": "Design", "date": "2026-11-02",
                                           "minutes": 95, "description": "=cmd|' /C calc'!A0"})
    plain = api.get("/api/v1/exports/accountant?from=2026-11-01&to=2026-11-30")
    assert plain.status_code == 200
    assert "time_entries.csv" not in zipfile.ZipFile(io.BytesIO(plain.content)).namelist()
    ticked = api.get("/api/v1/exports/accountant?from=2026-11-01&to=2026-11-30&include_time=true")
    archive = zipfile.ZipFile(io.BytesIO(ticked.content))
    rows = archive.read("time_entries.csv").decode("utf-8-sig").splitlines()
    assert rows[0].startswith("date,project,client,task") and len(rows) == 2
    assert "2026-11-02,Website relaunch" in rows[1] and ",95,1:35,yes," in rows[1]
    assert "'=cmd" in rows[1]   # spreadsheet-safe: a formula is shown, never run
    assert "time_entries.csv (1 rows)" in archive.read("README.txt").decode("utf-8")
    csv = api.get("/api/v1/time-entries.csv?from=2026-11-01&to=2026-11-30")
    assert csv.status_code == 200 and "Website relaunch" in csv.text
    exports_page = browser.get("/exports").text
    assert 'name="include_time"' in exports_page


def test_a_clients_time_is_billed_on_one_invoice_across_its_projects(api, browser, project):
    other = api.post("/api/v1/projects", json={"client_id": project["client_id"], "name": "Hosting", "code": "HOST",
                                               "hourly_rate": "50"}).json()
    fixed = api.post("/api/v1/projects", json={"client_id": project["client_id"], "name": "Logo", "code": "LOGO",
                                               "fixed_price": "900"}).json()
    for pid, minutes in ((project["id"], 60), (other["id"], 30), (fixed["id"], 120)):
        api.post("/api/v1/time-entries", json={"project_id": pid, "date": "2026-11-05", "minutes": minutes})
    page = browser.get(f"/projects/bill?client_id={project['client_id']}&from=2026-11-01&to=2026-11-30&group_by=period")
    assert page.status_code == 200 and "Hosting" in page.text and "Logo" not in page.text
    made = browser.post("/projects/bill", data={"client_id": str(project["client_id"]), "from": "2026-11-01",
                                                "to": "2026-11-30", "group_by": "task"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith("/documents/")
    document_id = int(made.headers["location"].rsplit("/", 1)[1])
    invoice = api.get(f"/api/v1/invoices/{document_id}").json()
    assert [line["description"] for line in invoice["lines"]] == ["Hosting (5 Nov 2026)",
                                                                  "Website relaunch (5 Nov 2026)"]
    assert api.get("/api/v1/time-entries?billed=false").json()["total"] == 1   # the fixed-price project's
    again = browser.post("/projects/bill", data={"client_id": str(project["client_id"]), "from": "2026-11-01",
                                                 "to": "2026-11-30"}, follow_redirects=False)
    assert again.status_code == 303 and "No invoice made" in again.cookies.get("counterfoil_flash", "").replace("%20", " ")
    assert browser.get("/projects/bill").status_code == 200


def test_one_timer_per_user_seen_from_a_second_browser_and_not_by_another_user(config, browser, staff_browser,
                                                                               project):
    from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD
    from tests.http.conftest import _client

    browser.post("/timer/start", data={"project_id": str(project["id"]), "description": "From the laptop"})
    with _client(config) as second:   # the same user in a second browser
        second.sign_in(OWNER_EMAIL, OWNER_PASSWORD)
        page = second.get("/clients").text
        assert "timer-bar" in page and "From the laptop" in page
        second.post("/timer/stop")
    assert "timer-bar" not in browser.get("/clients").text
    staff_browser.post("/timer/start", data={"project_id": str(project["id"]), "description": "Staff work"})
    assert "Staff work" in staff_browser.get("/clients").text
    assert "timer-bar" not in browser.get("/clients").text   # the owner has none running
    assert browser.get("/api/v1/timer").json()["running"] is False


def test_staff_change_their_own_time_and_the_owner_anyones(browser, staff_browser, project):
    owners = browser.post("/api/v1/time-entries", json={"project_id": project["id"], "date": "2026-11-02",
                                                        "started_at": "2026-11-02T09:00:00Z",
                                                        "ended_at": "2026-11-02T10:00:00Z"}).json()
    assert staff_browser.patch(f"/api/v1/time-entries/{owners['id']}", json={"minutes": 5}).status_code == 403
    assert staff_browser.post(f"/time/{owners['id']}/delete").status_code == 403
    staffs = staff_browser.post("/api/v1/time-entries", json={"project_id": project["id"], "date": "2026-11-02",
                                                              "minutes": 30}).json()
    moved = browser.patch(f"/api/v1/time-entries/{owners['id']}", json={"date": "2026-11-05"}).json()
    assert moved["started_at"].startswith("2026-11-05T09:00") and moved["minutes"] == 60   # keeps its hours
    assert browser.delete(f"/api/v1/time-entries/{staffs['id']}").status_code == 204
