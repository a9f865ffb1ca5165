"""The one "today" of the core (app.settings.service.today): the business's time zone, and a date a test
pins with COUNTERFOIL_TEST_TODAY instead of sleeping until it comes."""

from __future__ import annotations

from datetime import date

from app.config import Config
from app.settings import service
from tests.conftest import run


def test_a_test_can_pin_today(config: Config, monkeypatch):
    monkeypatch.setenv(service.TEST_TODAY_ENV, "2027-04-01")
    assert run(service.today()) == date(2027, 4, 1)
    monkeypatch.delenv(service.TEST_TODAY_ENV)
    assert run(service.today()) != date(2027, 4, 1)
