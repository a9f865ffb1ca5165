"""The document editor's autosave (issue 15 point 6): the same save as "Save draft", asked with
X-Autosave: 1, answered 204 (saved: no page, no flash) or 422 with the first problem as text
(nothing written); an issued document is never changed by it."""

from __future__ import annotations

from tests.http.support import query
from tests.http.test_documents_pages import (  # noqa: F401 - fixtures
    client,
    draft,
    editor_form,
    form_line,
    issued,
    items,
    line,
    state,
    taxes,
)

AUTOSAVE = {"X-Autosave": "1"}


def test_autosave_writes_the_draft_and_answers_without_a_page(browser, config, client) -> None:
    document = draft("invoice", client, line("Before", "1", "10.00"))
    form = editor_form(document, form_line(0, "Typed a moment ago", "3", "45.5"), notes="Half a thought")
    response = browser.post(f"/documents/{document.id}/edit", data=form, headers=AUTOSAVE, follow_redirects=False)
    assert response.status_code == 204, response.text[:500]
    assert not response.content and "set-cookie" not in response.headers   # no flash for the next page
    assert query(config, "SELECT description, quantity, unit_price FROM document_line WHERE document = ?",
                 document.id) == [("Typed a moment ago", "3", "45.50")]
    assert query(config, "SELECT notes FROM document WHERE id = ?", document.id) == [("Half a thought",)]


def test_autosave_of_a_bad_value_says_why_and_writes_nothing(browser, config, client) -> None:
    document = draft("invoice", client, line("Kept", "2", "40.00"))
    before = state(config)
    form = editor_form(document, form_line(0, "Changed", "1", "12x"))
    response = browser.post(f"/documents/{document.id}/edit", data=form, headers=AUTOSAVE)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Not saved: ") and "number" in response.text
    assert state(config) == before


def test_autosave_never_touches_an_issued_document(browser, config, client) -> None:
    document = issued("invoice", client, line("Final", "1", "100.00"))
    before = state(config)
    form = editor_form(document, form_line(0, "Rewritten", "1", "1.00"))
    response = browser.post(f"/documents/{document.id}/edit", data=form, headers=AUTOSAVE)
    assert response.status_code >= 400
    assert state(config) == before
