"""Times are stored in UTC and shown in the business's time zone (issue 15 point 3): a business in
Toronto sees a 14:00 UTC event at 09:00 on every page that shows a time of day."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run
from tests.http.support import make_client

TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def toronto(config) -> None:
    from app.settings import service as settings_service

    run(settings_service.update_settings({"time_zone": "America/Toronto"}))


def test_time_entries_show_their_clock_times_in_the_business_time_zone(api, browser, toronto) -> None:
    client = make_client(currency="CAD")
    project = api.post("/api/v1/projects", json={"client_id": client.id, "name": "Relaunch", "code": "REL",
                                                  "hourly_rate": "80.00"}).json()
    made = api.post("/api/v1/time-entries", json={"project_id": project["id"], "date": "2026-12-03",
                                                  "started_at": "2026-12-03T14:00:00Z",
                                                  "ended_at": "2026-12-03T15:30:00Z"})
    assert made.status_code == 201, made.text
    page = browser.get("/time").text
    assert "09:00–10:30" in page, "14:00–15:30 UTC is 09:00–10:30 in Toronto in December (EST)"
    assert "14:00" not in page and "UTC" not in page
    # The form to correct it offers the same local times.
    edit = browser.get(f"/time/{made.json()['id']}/edit").text
    assert 'value="09:00"' in edit and 'value="10:30"' in edit


def test_the_audit_trail_shows_its_moments_in_the_business_time_zone(browser, toronto) -> None:
    make_client(name="Maple Bakery")
    before = datetime.now(UTC).astimezone(TORONTO)
    page = browser.get("/audit").text
    after = datetime.now(UTC).astimezone(TORONTO)
    assert "When (UTC)" not in page
    shown = re.search(r'<td class="when">([^<]+) <span class="nowrap">(\d\d:\d\d:\d\d)</span>', page)
    assert shown, page[:2000]
    day, clock = shown.group(1).strip(), shown.group(2)
    assert day in (f"{before:%Y-%m-%d}", f"{after:%Y-%m-%d}")
    assert f"{before:%H:%M:%S}" <= clock <= f"{after:%H:%M:%S}" or before.date() != after.date(), (clock, before, after)


def test_the_filters_turn_a_stored_utc_moment_into_the_business_time(config) -> None:
    from app.common.i18n import using_locale
    from app.web.templating import clock, day, local_moment

    with using_locale("en", time_zone="America/Toronto"):
        assert clock("2026-12-05T14:00:00.123Z") == "09:00"
        assert clock(datetime(2026, 12, 5, 14, 0, tzinfo=UTC), seconds=True) == "09:00:00"
        assert clock(datetime(2026, 7, 5, 14, 0)) == "10:00"   # a naive stored time is UTC; summer is EDT
        assert day(datetime(2026, 12, 5, 3, 0, tzinfo=UTC)) == "2026-12-04 22:00"   # the evening before
        assert local_moment("not a time") is None and clock(None) == ""
    with using_locale("de_DE", time_zone="Europe/Berlin"):
        assert clock("2026-12-05T14:00:00Z") == "15:00"
    with using_locale("en_US", time_zone="America/Toronto"):
        assert clock("2026-12-05T14:00:00Z").replace("\u202f", " ") == "9:00 AM"
