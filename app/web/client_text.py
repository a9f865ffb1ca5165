"""The sentences app.js shows, in the reader's language.

app.js runs under the CSP (script-src 'self'), so the page cannot hand it translated text in a script.
base.html writes this table as data (`<script type="application/json" id="client-text">`, which the
browser never runs) and app.js reads it: `say("Strength: fair.")` shows the translation, or the English
key itself when the table lacks it. tests/unit/test_client_text.py fails when app.js shows a sentence that
is not a key of this table.
"""

from __future__ import annotations

from app.common.i18n import N_, gettext

# Placeholders in braces ({minimum}) are filled by app.js.
CLIENT_MESSAGES: tuple[str, ...] = (
    N_("Too short: at least {minimum} characters."),
    N_("Strength: weak. Add words or characters."),
    N_("Strength: fair."),
    N_("Strength: good."),
    N_("Strength: strong."),
    N_("Uploading… {percent}%"),
    N_("Checking the backup… (decrypting and verifying every part)"),
)


def client_text() -> dict[str, str]:
    """Each message of app.js with its translation in the language of the request."""
    return {message: gettext(message) for message in CLIENT_MESSAGES}
