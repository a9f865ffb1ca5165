"""What a person does in the first hour, in a real Chromium against a real server.

Every test stands alone (pytest-xdist may run them on different workers, each
with its own server), so each one makes the data it needs under its own names.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    BUSINESS_NAME,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    Server,
    Watch,
    new_page,
    sign_in,
    tiny_png,
)

pytestmark = pytest.mark.browser

DASHBOARD = re.compile(r"/(\?.*)?$")


def flash(page: Any) -> Any:
    return page.locator(".flash")


# -- first run, sign out, sign in ------------------------------------------------------

def test_first_run_setup_then_sign_out_and_back_in(browser: Any, fresh_server: Server) -> None:
    watch = Watch(fresh_server)
    context, page = new_page(browser, fresh_server, watch)
    try:
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/setup$"))
        expect(page.get_by_role("heading", name="Set up your Counterfoil")).to_be_visible()

        # Passwords that differ: an error, nothing created, and what was typed (but the passwords) stays.
        page.locator("#f-business_name").fill("Atelier Zoë")
        page.locator("#f-name").fill("Olivia Owner")
        page.locator("#f-email").fill(OWNER_EMAIL)
        page.locator("#f-password").fill(OWNER_PASSWORD)
        page.locator("#f-password_repeat").fill(OWNER_PASSWORD + " typo")
        page.get_by_role("button", name="Create my Counterfoil").click()
        expect(page.locator(".alert")).to_contain_text("Nothing was saved")
        expect(page.locator(".field.has-error #f-password_repeat")).to_be_visible()
        expect(page.locator("#f-business_name")).to_have_value("Atelier Zoë")
        expect(page.locator("#f-password")).to_have_value("")

        page.locator("#f-password").fill(OWNER_PASSWORD)
        page.locator("#f-password_repeat").fill(OWNER_PASSWORD)
        page.get_by_role("button", name="Create my Counterfoil").click()
        expect(page).to_have_url(DASHBOARD)
        expect(page.get_by_role("heading", level=1)).to_have_text("Atelier Zoë")
        expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
        expect(page.locator(".sidebar")).to_contain_text("Olivia Owner")

        # Setup is done once: the page now sends people to sign in.
        page.goto("/setup")
        expect(page).not_to_have_url(re.compile(r"/setup$"))

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login"))
        expect(flash(page)).to_contain_text("signed out")
        page.goto("/clients")
        expect(page).to_have_url(re.compile(r"/login\?next=/clients"))

        page.locator("#f-email").fill(OWNER_EMAIL)
        page.locator("#f-password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".field.has-error .error")).to_contain_text("not right")
        expect(page).to_have_url(re.compile(r"/login"))
        expect(page.locator("#f-email")).to_have_value(OWNER_EMAIL)

        page.locator("#f-password").fill(OWNER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/clients$"))
        expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    finally:
        context.close()
    watch.check()


def test_launch_link_signs_in_whoever_started_the_program(browser: Any, server: Server, watch: Watch) -> None:
    token = server.launch_token()
    context, page = new_page(browser, server, watch)
    try:
        page.goto(f"/launch?token={token}")
        # The launch page refreshes itself to / with the new session cookie.
        expect(page).to_have_url(DASHBOARD)
        expect(page.get_by_role("heading", name=BUSINESS_NAME, level=1)).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        context.close()
    # One time only: the same link in another browser profile leads to the password page.
    context, page = new_page(browser, server, watch)
    try:
        page.goto(f"/launch?token={token}")
        expect(page).to_have_url(re.compile(r"/login"))
        expect(flash(page)).to_contain_text("expired")
    finally:
        context.close()
    watch.check()


# -- clients ------------------------------------------------------------------------

def test_client_create_find_edit_archive(owner_page: Any) -> None:
    page = owner_page
    page.goto("/clients/new")
    page.locator("#f-name").fill("Zoë Tremblay")
    page.locator("#f-email").fill("zoe@tremblay.example")
    page.locator("#f-phone").fill("+1 416 555 0199")
    page.locator("#f-address_line1").fill("12 Rue Saint-Paul")
    page.locator("#f-city").fill("Montréal")
    page.locator("#f-country").fill("CA")
    page.get_by_role("button", name="Save client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zoë Tremblay")
    expect(flash(page)).to_contain_text("is saved as C")
    client_url = page.url

    # A second client, so the search has something to leave out.
    page.goto("/clients/new")
    page.locator("#f-name").fill("Harbour Bakery")
    page.locator("#f-phone").fill("+49 30 5550 1234")
    page.get_by_role("button", name="Save client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))

    page.goto("/clients")
    rows = page.locator("#client-results tbody tr")
    expect(rows).to_have_count(2)
    search = page.locator("#client-q")

    # Part of the phone number, typed as a person types: htmx asks the server after a pause.
    with page.expect_response(lambda r: "/clients?" in r.url and r.request.headers.get("hx-request") == "true"):
        search.press_sequentially("555 0199", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Zoë Tremblay")
    expect(rows.first).to_contain_text("+1 416 555 0199")
    expect(page).to_have_url(re.compile(r"q=555"))

    # Without the accent, in lower case.
    search.fill("")
    search.press_sequentially("zoe", delay=30)
    expect(rows).to_have_count(1)
    expect(page.locator("#client-results")).to_contain_text("Zoë Tremblay")
    expect(page.locator("#client-results")).not_to_contain_text("Harbour Bakery")

    search.fill("")
    search.press_sequentially("no such client xyz", delay=10)
    expect(page.locator("#client-results .empty")).to_contain_text("No client matches")

    # Open it, edit it.
    page.goto(client_url)
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.locator("#f-city")).to_have_value("Montréal")
    page.locator("#f-city").fill("Québec")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(client_url)
    expect(flash(page)).to_contain_text("is updated")
    expect(page.locator(".facts").first).to_contain_text("Québec")

    # Archive it: the browser asks first.
    questions: list[str] = []

    def accept(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Archive").click()
    expect(flash(page)).to_contain_text("archived")
    assert questions and "Archive Zoë Tremblay?" in questions[0]
    expect(page.get_by_role("heading", level=1)).to_contain_text("Archived")
    expect(page.get_by_role("button", name="Restore")).to_be_visible()

    page.goto("/clients")
    expect(page.locator("#client-results")).not_to_contain_text("Zoë Tremblay")
    expect(page.locator("#client-results")).to_contain_text("Harbour Bakery")
    with page.expect_response(lambda r: "status=archived" in r.url):
        page.locator("#client-status").select_option("archived")
    expect(page.locator("#client-results tbody tr")).to_have_count(1)
    expect(page.locator("#client-results")).to_contain_text("Zoë Tremblay")


def test_dismissing_the_archive_question_keeps_the_client(owner_page: Any) -> None:
    page = owner_page
    page.goto("/clients/new")
    page.locator("#f-name").fill("Kestrel Logistics")
    page.get_by_role("button", name="Save client").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    questions: list[str] = []

    def dismiss(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Archive").click()
    page.wait_for_timeout(300)
    assert questions and questions[0].startswith("Archive Kestrel Logistics?")
    page.reload()
    expect(page.get_by_role("button", name="Archive")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Archived")


def test_client_form_names_the_bad_fields(owner_page: Any) -> None:
    page = owner_page
    page.goto("/clients/new")
    page.locator("#f-email").fill("not-an-email")
    page.get_by_role("button", name="Save client").click()
    expect(page.locator(".alert")).to_contain_text("Nothing was saved")
    expect(page.locator(".field.has-error")).to_have_count(2)
    expect(page.locator("#f-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-email")).to_have_value("not-an-email")


# -- catalogue ------------------------------------------------------------------------

def test_catalogue_item_with_a_price(owner_page: Any) -> None:
    page = owner_page
    page.goto("/catalog")
    page.get_by_role("link", name="New item").first.click()
    expect(page).to_have_url(re.compile(r"/catalog/new$"))
    page.locator("#f-code").fill("DEV-H")
    page.locator("#f-name").fill("Développement logiciel")
    page.locator("#f-category").fill("Development")
    page.locator("#f-unit").fill("hour")
    page.locator("#f-unit_price").fill("-5")
    page.get_by_role("button", name="Save item").click()
    expect(page.locator("#f-unit_price")).to_have_attribute("aria-invalid", "true")

    page.locator("#f-unit_price").fill("1250.5")
    page.get_by_role("button", name="Save item").click()
    expect(page).to_have_url(re.compile(r"/catalog$"))
    expect(flash(page)).to_contain_text("is in the catalogue")
    row = page.locator("#item-results tbody tr", has_text="DEV-H")
    expect(row).to_contain_text("Développement logiciel")
    expect(row).to_contain_text("1,250.50")
    expect(row).to_contain_text("/ hour")

    page.locator("#item-q").press_sequentially("developpement", delay=20)
    expect(page.locator("#item-results tbody tr")).to_have_count(1)


# -- settings: logo and the business card ------------------------------------------------

def test_logo_upload_and_business_card_pdf(owner_page: Any) -> None:
    page = owner_page
    page.goto("/settings")
    expect(page.locator(".logo-box")).to_contain_text("No logo")
    page.locator("#f-logo").set_input_files(files=[{"name": "logo.png", "mimeType": "image/png",
                                                    "buffer": tiny_png()}])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(flash(page)).to_contain_text("Logo saved")
    logo = page.locator(".logo-box img")
    expect(logo).to_be_visible()
    # Visible is not loaded: wait for the picture itself, then check it is ours.
    assert logo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 48

    # A file that is not an image is refused with the field named.
    page.locator("#f-logo").set_input_files(files=[{"name": "logo.png", "mimeType": "image/png",
                                                    "buffer": b"not a picture"}])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#logo .error")).to_be_visible()
    expect(page.locator(".logo-box img")).to_be_visible()

    page.goto("/settings")
    href = page.get_by_role("link", name=re.compile("business card", re.I)).get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body()[:5] == b"%PDF-"


def test_signed_out_visitor_cannot_see_pages(anon_page: Any, server: Server) -> None:
    page = anon_page
    for path in ("/", "/clients", "/settings", "/catalog/new"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/login\?next="))
    response = page.request.get(server.url("/settings/business-card/pdf"), max_redirects=0)
    assert response.status in (303, 401)
    sign_in(page)
    expect(page.get_by_role("heading", name=BUSINESS_NAME, level=1)).to_be_visible()
