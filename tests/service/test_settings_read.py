"""The settings row as get_settings reads it (one fixed statement, issue 21) is the row a Piccolo select
gives: the same columns in the same order, the same values of the same types."""

from __future__ import annotations

from app.settings import service
from app.settings.tables import BusinessSettings
from tests.conftest import run


async def _selected() -> dict:
    row = await BusinessSettings.select().where(BusinessSettings.id == service.SETTINGS_ID).first()
    assert row is not None
    return row


def test_the_settings_read_is_the_selects(config):
    fresh = run(service.get_settings())   # made on first read
    assert list(fresh.items()) == list(run(_selected()).items())
    run(service.update_settings({"name": "Atelier Zoé", "default_currency": "EUR", "time_zone": "Europe/Paris",
                                 "address_line1": "1 rue de la Paix", "email": "zoe@example.com"}))
    read, selected = run(service.get_settings()), run(_selected())
    assert list(read) == list(selected)
    assert {k: (v, type(v)) for k, v in read.items()} == {k: (v, type(v)) for k, v in selected.items()}
    assert read["name"] == "Atelier Zoé"
