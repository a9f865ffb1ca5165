"""Email, pure: placeholders, addresses, the retry schedule, the MIME message."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.common.logic import ValidationFailed
from app.mail import logic

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def test_fill_replaces_known_placeholders_and_keeps_unknown_ones_visible():
    text = "Invoice {number} for {total}, due {due_date}; {business_name} {nothing}"
    values = {"number": "INV-2026-0007", "total": "$135.60", "due_date": "Dec 2, 2026", "business_name": "Maple"}
    assert logic.fill(text, values) == "Invoice INV-2026-0007 for $135.60, due Dec 2, 2026; Maple {nothing}"
    assert logic.fill("{{number}}", {"number": "7"}) == "{7}"  # no format-string escapes: exactly what is typed
    assert logic.fill("{number.__class__}", {"number": "7"}) == "{number.__class__}"  # no attribute access


@given(st.text(), st.dictionaries(st.sampled_from(logic.PLACEHOLDERS), st.text()))
def test_fill_never_fails_and_leaves_text_without_braces_alone(template, values):
    out = logic.fill(template, values)
    if "{" not in template:
        assert out == template


def test_every_default_template_uses_only_known_placeholders():
    for language, templates in logic.DEFAULT_TEMPLATES.items():
        for kind, template in templates.items():
            for part in ("subject", "body"):
                assert set(logic.placeholders_in(template[part])) <= set(logic.PLACEHOLDERS), (language, kind, part)
        assert set(templates) == set(logic.TEMPLATE_KINDS)


def test_templates_are_checked_and_merged_over_the_defaults():
    cleaned = logic.clean_templates({"invoice": {"subject": " Rechnung {number} ", "body": "Hallo {client_name}"}})
    assert cleaned == {"invoice": {"subject": "Rechnung {number}", "body": "Hallo {client_name}"}}
    merged = logic.merged_templates({"de": {"invoice": {"subject": "", "body": "Mine"}}})
    assert merged["de"]["invoice"] == {"subject": logic.DEFAULT_TEMPLATES["de"]["invoice"]["subject"], "body": "Mine"}
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_templates({"quote": {"subject": "Quote {numbr}", "body": ""}})
    assert failed.value.by_field() == {"quote_subject": failed.value.errors[0].message}
    assert "{numbr}" in failed.value.errors[0].message
    with pytest.raises(ValidationFailed):
        logic.clean_templates({"invoice": {"subject": "two\nlines", "body": ""}})


@pytest.mark.parametrize("text", ["a@b.co", "a@b.co, c@d.org", "a@b.co; c@d.org", ["a@b.co", "c@d.org"]])
def test_addresses(text):
    assert logic.parse_addresses(text, "to", required=True, label="To")[0] == "a@b.co"


@pytest.mark.parametrize("text", ["", "nope", "a@b", "Name <a@b.co>", "a@b.co\r\nBcc: x@y.z", "ü@b.co",
                                  "x" * 100_000 + "@b.co", "x" * 250 + "@b.co"])
def test_bad_addresses_name_the_field(text):
    with pytest.raises(ValidationFailed) as failed:
        logic.parse_addresses(text, "cc", required=True, label="Cc")
    assert [e.field for e in failed.value.errors] == ["cc"]


def test_settings_checks():
    values = logic.clean_settings({"smtp_host": " smtp.example.com ", "smtp_security": "ssl", "smtp_port": "465",
                                   "smtp_from_email": "Billing@Example.com"}, {})
    assert values == {"smtp_host": "smtp.example.com", "smtp_security": "ssl", "smtp_port": 465,
                      "smtp_from_email": "billing@example.com"}
    assert logic.clean_settings({"smtp_password": None}, {}) == {"smtp_password": ""}
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_settings({"smtp_host": "smtp.example.com:587", "smtp_security": "tls", "smtp_port": "0",
                              "smtp_from_name": "a\nb"}, {})
    assert set(failed.value.by_field()) == {"smtp_host", "smtp_security", "smtp_port", "smtp_from_name"}


@given(st.integers(min_value=1, max_value=10_000))
def test_backoff_grows_and_is_capped(attempts):
    delay = logic.backoff_seconds(attempts)
    assert logic.BACKOFF_BASE_S <= delay <= logic.BACKOFF_CAP_S
    assert logic.backoff_seconds(attempts + 1) >= delay


def test_backoff_doubles_from_one_minute():
    assert [logic.backoff_seconds(n) for n in range(1, 6)] == [60, 120, 240, 480, 960]
    assert logic.backoff_seconds(0) == 0


def test_what_an_attempt_means():
    sent = logic.after_attempt(attempts=1, now=NOW, reply="250 OK")
    assert sent.status == "sent" and sent.reply == "250 OK" and sent.next_attempt_at is None
    again = logic.after_attempt(attempts=3, now=NOW, error="connection refused")
    assert again.status == "queued" and again.next_attempt_at == NOW + timedelta(minutes=4)
    assert logic.after_attempt(attempts=1, now=NOW, error="550", permanent=True).status == "failed"
    assert logic.after_attempt(attempts=logic.MAX_ATTEMPTS, now=NOW, error="timeout").status == "failed"
    assert logic.smtp_error_is_permanent(550) and logic.smtp_error_is_permanent(553)
    assert not logic.smtp_error_is_permanent(451) and not logic.smtp_error_is_permanent(535)
    assert not logic.smtp_error_is_permanent(None)


@given(attempts=st.integers(min_value=1, max_value=logic.MAX_ATTEMPTS + 5), permanent=st.booleans())
def test_an_attempt_that_may_have_delivered_is_never_tried_again_by_itself(attempts, permanent):
    outcome = logic.after_attempt(attempts=attempts, now=NOW, error="no answer after the message", permanent=permanent,
                                  uncertain=True)
    assert outcome == logic.Outcome("uncertain", error="no answer after the message", next_attempt_at=None)


def test_a_delivered_attempt_is_sent_even_if_called_uncertain():
    assert logic.after_attempt(attempts=1, now=NOW, reply="250 OK", uncertain=True).status == "sent"


def test_every_outbox_status_reads_in_words():
    assert set(logic.STATUS_LABELS) == set(logic.STATUSES)
    assert logic.STATUS_LABELS["uncertain"] == "May have been sent"


def test_the_data_payload_stuffs_leading_dots_and_ends_with_a_lone_dot():
    assert logic.smtp_data_payload(b"Hello\r\n.hidden\r\n..two\r\nend") == (
        b"Hello\r\n..hidden\r\n...two\r\nend\r\n.\r\n")
    assert logic.smtp_data_payload(b".\r\n") == b"..\r\n.\r\n"
    assert logic.smtp_data_payload(b"") == b"\r\n.\r\n"


@given(st.lists(st.text(alphabet=".ab \t", max_size=8), min_size=1, max_size=6))
def test_the_data_payload_reads_back_as_the_message(lines):
    """A server removes one leading dot of each line and stops at the lone dot: it gets the message back."""
    message = b"".join(line.encode() + b"\r\n" for line in lines)
    payload = logic.smtp_data_payload(message).split(b"\r\n")
    end = payload.index(b".")
    received = [line[1:] if line.startswith(b".") else line for line in payload[:end]]
    assert b"".join(line + b"\r\n" for line in received) == message
    assert end == len(lines)  # no line of the message ends it early


def test_the_message_has_its_headers_body_and_attachment():
    outgoing = logic.Outgoing(
        from_email="billing@atelier.example", from_name="Atelier Lumière, Inc.", to=["a@b.co"], cc=["c@d.org"],
        subject="Rechnung über 100 €", body="Hallo,\nanbei.\n", message_id="<123@atelier.example>", date=NOW,
        attachments=[logic.Attachment("INV-2026-0001.pdf", "application/pdf", b"%PDF-1.7\n...%%EOF")])
    raw = logic.build_message(outgoing).as_bytes()
    assert b"\r\n" in raw and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["From"] == '"Atelier Lumière, Inc." <billing@atelier.example>'
    assert parsed["To"] == "a@b.co" and parsed["Cc"] == "c@d.org"
    assert parsed["Subject"] == "Rechnung über 100 €"
    assert parsed["Message-ID"] == "<123@atelier.example>"
    assert parsed["Date"] == "Sat, 21 Nov 2026 09:30:00 +0000"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hallo,\nanbei.\n"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "INV-2026-0001.pdf" and attachment.get_content() == b"%PDF-1.7\n...%%EOF"
    assert outgoing.recipients == ["a@b.co", "c@d.org"]


def test_message_ids_use_the_senders_domain():
    assert logic.new_message_id("billing@atelier.example").endswith("@atelier.example>")
    assert logic.new_message_id("").endswith("@counterfoil.invalid>")
    assert logic.new_message_id("a@b.co") != logic.new_message_id("a@b.co")


def test_configured():
    assert "SMTP server" in logic.is_configured({})
    assert "From address" in logic.is_configured({"smtp_host": "h"})
    assert logic.is_configured({"smtp_host": "h", "smtp_from_email": "a@b.co"}) is None


# -- a password over an unencrypted connection -------------------------------------------------------

PLAIN = {"smtp_security": "none", "smtp_username": "me@example.com", "smtp_password": "secret"}


@pytest.mark.parametrize(("settings", "refused"), [
    (PLAIN, True), ({**PLAIN, "smtp_allow_unencrypted_password": True}, False),
    ({**PLAIN, "smtp_security": "starttls"}, False), ({**PLAIN, "smtp_security": "ssl"}, False),
    ({**PLAIN, "smtp_username": ""}, False), ({**PLAIN, "smtp_password": ""}, False),
])
def test_a_password_goes_unencrypted_only_when_the_user_said_so(settings, refused):
    assert (logic.plain_password_problem(settings) is not None) == refused


def test_saving_names_the_security_and_takes_the_saved_password_into_account():
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_settings(PLAIN, {})
    assert "send my password unencrypted" in failed.value.by_field()["smtp_security"].lower()
    assert logic.clean_settings({**PLAIN, "smtp_allow_unencrypted_password": "true"}, {})[
        "smtp_allow_unencrypted_password"] is True
    saved = {**PLAIN, "smtp_security": "starttls"}
    with pytest.raises(ValidationFailed):   # switching to "none" with the saved password
        logic.clean_settings({"smtp_security": "none"}, saved)
    allowed = {**PLAIN, "smtp_allow_unencrypted_password": True}
    with pytest.raises(ValidationFailed):   # unticking the box while the password would go unencrypted
        logic.clean_settings({"smtp_allow_unencrypted_password": False}, allowed)
    assert logic.clean_settings({"smtp_password": ""}, PLAIN) == {"smtp_password": ""}   # forgetting it is fine
