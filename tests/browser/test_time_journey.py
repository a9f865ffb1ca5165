"""Projects and time in a real Chromium against a real server (issue 19): start the timer, reload (it keeps
running: the server owns it), stop it; log a week in the timesheet with the keyboard only; bill the project;
issue the invoice. Screenshots of the project page, the timesheet, the timer bar and the invoice made from time.

The client and the project are made through the services in another process; the journey is what a user does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS, Server, Watch, new_page, run_python, sign_in

pytestmark = pytest.mark.browser

SEED = """
import asyncio, json
from pathlib import Path
from app.config import Config
from app.db.lifecycle import open_database
from app.clients import service as clients
from app.projects import service as projects

async def main():
    await open_database(Config(data_dir=Path({data_dir!r})))
    client = await clients.create_client({{"name": "Harbour Books", "city": "Halifax", "country": "CA",
                                           "address_line1": "12 Water Street", "postal_code": "B3J 1A1"}},
                                         default_currency="CAD")
    project = await projects.create_project({{"client_id": client.id, "name": "Catalogue website", "code": "CAT",
                                              "hourly_rate": "100.00", "rounding_minutes": 15,
                                              "budget_hours": "30", "tasks": ["Design", "Development"]}})
    print(json.dumps({{"client": client.id, "project": project["id"]}}))

asyncio.run(main())
"""


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[Server, dict[str, Any]]]:
    server = Server(data_dir=tmp_path / "data")
    server.owner()
    seed = json.loads(run_python(SEED.format(data_dir=str(server.data_dir))).strip().splitlines()[-1])
    server.start()
    try:
        yield server, seed
    finally:
        server.stop()


def test_timer_timesheet_and_time_to_invoice(browser: Any, studio: tuple[Server, dict[str, Any]]):
    server, seed = studio
    watch = Watch(server)
    context, page = new_page(browser, server, watch)
    page.on("dialog", lambda dialog: dialog.accept())
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        sign_in(page)
        project = seed["project"]

        # 1. The timer: started from the project page, still running after a reload and on another page
        page.goto(f"/projects/{project}")
        page.get_by_label("Project and task").select_option(label="Catalogue website · Design")
        page.get_by_label("What are you doing?").fill("Home page sketches")
        page.locator("[data-timer-start]").click()
        bar = page.locator(".timer-bar")
        expect(bar).to_contain_text("Catalogue website · Design")
        page.reload()
        expect(bar).to_contain_text("Home page sketches")
        page.goto("/invoices")
        expect(bar).to_be_visible()
        assert page.title().startswith("▶ 0:0")
        page.screenshot(path=str(SHOTS / "time-timer-bar.png"))
        bar.get_by_role("button", name="Stop").click()
        expect(page.locator(".flash")).to_contain_text("saved on Catalogue website")
        expect(page.locator(".timer-bar")).to_have_count(0)

        # 2. A week in the timesheet with the keyboard: type, arrows to move, Enter saves
        page.goto("/timesheet")
        rows = page.locator("tbody tr[data-row]")
        expect(rows).to_have_count(2)
        design = page.locator("tbody tr[data-row]", has_text="Design")
        first = design.locator("input[data-day='0']")
        first.click()
        for index, typed in enumerate(["2:00", "1.5h", "90m", "3", "0:45"]):
            page.keyboard.press("Control+a")   # a weekday may hold the timer's minute already
            page.keyboard.type(typed)
            if index < 4:
                page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")   # Friday of Development
        page.keyboard.type("1:15")
        # 8:45 typed, plus the timer's minute when it ran on a weekend day of this week
        expect(design.locator("[data-row-total]")).to_have_text(re.compile(r"^8:4[56]$"))
        expect(page.locator("[data-week-total]")).to_have_text(re.compile(r"^10:0[01]$"))
        page.keyboard.press("Enter")
        expect(page.locator(".flash")).to_contain_text("The week is saved (6 days changed)")
        expect(design.locator("input[data-day='1']")).to_have_value("1:30")
        page.screenshot(path=str(SHOTS / "time-timesheet.png"), full_page=True)
        monday = date.fromisoformat(page.locator("input[name='week']").first.get_attribute("value"))

        # 3. The project page shows it; bill the week, one line per task
        page.goto(f"/projects/{project}")
        expect(page.locator("[data-logged]")).to_have_text(re.compile(r"^10:0[01]$"))
        page.screenshot(path=str(SHOTS / "time-project.png"), full_page=True)
        page.get_by_role("link", name="Bill time").click()
        page.get_by_label("From").fill(monday.isoformat())
        page.get_by_label("To").fill((monday + timedelta(days=6)).isoformat())
        page.get_by_label("Lines").select_option("task")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("tbody tr")).to_have_count(2)
        page.get_by_role("button", name="Make the draft invoice").click()
        page.wait_for_url(re.compile(r"/documents/\d+$"))
        expect(page.locator("body")).to_contain_text("Development")
        expect(page.locator("body")).to_contain_text("Design")

        # 4. Issue it: the entries freeze
        page.locator(".page-head").get_by_role("button", name="Issue").click()
        expect(page.locator(".page-head")).to_contain_text(re.compile(r"INV-\d{4}-\d+"))
        page.screenshot(path=str(SHOTS / "time-invoice.png"), full_page=True)
        page.goto("/time")
        expect(page.locator("tbody tr").first).to_contain_text("frozen")
    finally:
        context.close()
    watch.check()
