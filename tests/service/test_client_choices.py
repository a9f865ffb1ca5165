"""The clients offered in a select (the payments list's filter, the projects' forms): ids and names by
name, as the clients list sorted by name gives them, and the chosen one even beyond the first ones."""

from __future__ import annotations

from app.clients import service
from app.common.logic import Page
from tests.conftest import run


def test_the_choices_are_the_clients_list_by_name(config):
    for name in ("Zeta Works", "Alpha Bakery", "Mid Point", "alpha bakery"):
        run(service.create_client({"name": name}, default_currency="CAD"))
    archived = run(service.create_client({"name": "Beta Archive"}, default_currency="CAD"))
    run(service.set_status(archived.id, "archived"))
    for status in ("all", "active"):
        listed = run(service.list_clients(status=status, page=Page(page=1, per_page=500))).items
        assert [(c.id, c.name) for c in run(service.client_choices(status=status))] == \
            [(c.id, c.name) for c in listed]


def test_the_chosen_client_is_offered_even_beyond_the_first_ones(config):
    made = [run(service.create_client({"name": f"Client {n}"}, default_currency="CAD")) for n in range(4)]
    first_two = run(service.client_choices(limit=2))
    assert [c.name for c in first_two] == ["Client 0", "Client 1"]
    with_chosen = run(service.client_choices(limit=2, including=made[3].id))
    assert [c.name for c in with_chosen] == ["Client 0", "Client 1", "Client 3"]
    assert run(service.client_choices(limit=2, including=made[0].id)) == first_two
    assert run(service.client_choices(limit=2, including=987654)) == first_two   # unknown: nothing added
