"""Email, pure: settings checks, the message templates and their placeholders, the retry
schedule, and building the MIME message. No I/O here; app/mail/service.py talks to the
database and the SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from app.common.i18n import N_, _
from app.common.logic import EMAIL_RE, FieldError, Form, ValidationFailed, control_problem, line_problem

SECURITY = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
# uncertain: the connection was lost after the whole message went to the server and before its answer;
# the server may have taken it, so it is not tried again until the user says (send again, or mark as sent).
STATUSES = ("queued", "sending", "sent", "failed", "uncertain", "cancelled")
KINDS = ("invoice", "quote", "credit_note", "statement", "accountant", "report", "test", "reminder")
KIND_LABELS = {"invoice": N_("Invoice"), "quote": N_("Quote"), "credit_note": N_("Credit note"),
               "statement": N_("Statement"), "accountant": N_("Accountant's package"), "report": N_("Report"),
               "test": N_("Test message"), "reminder": N_("Reminder")}
# The kinds whose subject and body the user can change in Settings, Email, in each language. An invoice has
# one per state, so the message says what the attached PDF and the books say (choose_template): a paid
# invoice's message says it is paid, a partly paid one what is left, an overdue one that it is overdue.
TEMPLATE_KINDS = ("invoice", "invoice_partly_paid", "invoice_overdue", "invoice_paid", "quote", "credit_note",
                  "statement", "accountant", "report")
TEMPLATE_LABELS = {**KIND_LABELS, "invoice_partly_paid": N_("Invoice, partly paid"),
                   "invoice_overdue": N_("Invoice, overdue"), "invoice_paid": N_("Invoice, paid")}
# The languages a message is written in: a client's language (its PDF's), else the business's.
LANGUAGES = ("en", "fr", "de")
LANGUAGE_LABELS = {"en": N_("English"), "fr": N_("French"), "de": N_("German")}
PLACEHOLDERS = ("number", "amount", "due_date", "client", "business", "total", "paid", "balance", "valid_until",
                "issue_date", "currency", "business_name", "client_name", "contact_name", "document_type", "period")
PLACEHOLDER_HELP = {
    "number": N_("the document's number"),
    "amount": N_("what the message is about: left to pay on an invoice, a quote's or credit note's total, "
                 "a statement's balance"),
    "due_date": N_("the due date"), "client": N_("the client's name"), "business": N_("your business name"),
    "total": N_("the document's total"), "paid": N_("paid or credited so far on an invoice"),
    "balance": N_("the balance due"), "valid_until": N_("a quote's expiry"), "issue_date": N_("the issue date"),
    "currency": N_("the currency code"), "contact_name": N_("the client's contact (or name)"),
    "document_type": N_("Invoice, Quote, Credit note"), "period": N_("a statement's, report's or package's period"),
    "business_name": N_("your business name (as {business})"), "client_name": N_("the client's name (as {client})"),
}


def _texts(**kinds: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {kind: {"subject": subject, "body": body} for kind, (subject, body) in kinds.items()}


# The shipped wording, one set per language; a saved template replaces one subject or body of one language.
DEFAULT_TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "en": _texts(
        invoice=("Invoice {number} from {business}",
                 "Hello {contact_name},\n\nPlease find attached invoice {number} for {amount}, due on {due_date}.\n\n"
                 "Thank you for your business.\n\nKind regards,\n{business}"),
        invoice_partly_paid=("Invoice {number} from {business}: {amount} left to pay",
                             "Hello {contact_name},\n\nPlease find attached invoice {number} for {total}. Thank you "
                             "for the {paid} received so far: {amount} is left to pay, due on {due_date}.\n\n"
                             "Kind regards,\n{business}"),
        invoice_overdue=("Invoice {number} from {business}: payment overdue",
                         "Hello {contact_name},\n\nPlease find attached invoice {number}. It was due on {due_date} "
                         "and {amount} is still open. We would be grateful if you could settle it at your earliest "
                         "convenience; if you have already paid, thank you, and please disregard this note.\n\n"
                         "Kind regards,\n{business}"),
        invoice_paid=("Invoice {number} from {business} (paid)",
                      "Hello {contact_name},\n\nPlease find attached invoice {number} for {total}, for your records. "
                      "It is paid in full: there is nothing left to pay.\n\nThank you for your business.\n\n"
                      "Kind regards,\n{business}"),
        quote=("Quote {number} from {business}",
               "Hello {contact_name},\n\nPlease find attached our quote {number} for {amount}, valid until "
               "{valid_until}.\n\nWe look forward to working with you.\n\nKind regards,\n{business}"),
        credit_note=("Credit note {number} from {business}",
                     "Hello {contact_name},\n\nPlease find attached credit note {number}, crediting you {amount}. "
                     "There is nothing to pay: it reduces the balance of your account.\n\nKind regards,\n{business}"),
        statement=("Statement of account from {business}",
                   "Hello {contact_name},\n\nPlease find attached your statement of account for {period}. "
                   "The balance is {amount}.\n\nKind regards,\n{business}"),
        accountant=("Bookkeeping package {period}, {business_name}",
                    "Hello,\n\nAttached is the bookkeeping package of {business_name} for {period}: CSV files, "
                    "the PDFs of the invoices and credit notes issued, their e-invoice XML and a summary.\n"
                    "README.txt in the ZIP describes every column.\n\n{business_name}"),
        report=("Revenue report {period}, {business_name}",
                "Hello,\n\nAttached is the revenue report of {business_name} for {period}.\n\n{business_name}"),
    ),
    "fr": _texts(
        invoice=("Facture {number} – {business}",
                 "Bonjour {contact_name},\n\nVeuillez trouver ci-joint la facture {number} d’un montant de "
                 "{amount}, à régler avant le {due_date}.\n\nNous vous remercions de votre confiance.\n\n"
                 "Cordialement,\n{business}"),
        invoice_partly_paid=("Facture {number} – {business} : reste {amount} à régler",
                             "Bonjour {contact_name},\n\nVeuillez trouver ci-joint la facture {number} d’un montant "
                             "de {total}. Merci pour les {paid} déjà reçus : il reste {amount} à régler avant le "
                             "{due_date}.\n\nCordialement,\n{business}"),
        invoice_overdue=("Facture {number} – {business} : échéance dépassée",
                         "Bonjour {contact_name},\n\nVeuillez trouver ci-joint la facture {number}, arrivée à "
                         "échéance le {due_date}. Il reste {amount} à régler : nous vous remercions de bien vouloir "
                         "procéder au règlement dans les meilleurs délais. Si votre paiement est déjà parti, merci "
                         "et ne tenez pas compte de ce message.\n\nCordialement,\n{business}"),
        invoice_paid=("Facture {number} – {business} (acquittée)",
                      "Bonjour {contact_name},\n\nVeuillez trouver ci-joint, pour vos archives, la facture {number} "
                      "d’un montant de {total}. Elle est intégralement payée : il ne reste rien à régler.\n\n"
                      "Nous vous remercions de votre confiance.\n\nCordialement,\n{business}"),
        quote=("Devis {number} – {business}",
               "Bonjour {contact_name},\n\nVeuillez trouver ci-joint notre devis {number} d’un montant de "
               "{amount}, valable jusqu’au {valid_until}.\n\nNous restons à votre disposition pour toute "
               "question.\n\nCordialement,\n{business}"),
        credit_note=("Avoir {number} – {business}",
                     "Bonjour {contact_name},\n\nVeuillez trouver ci-joint l’avoir {number} d’un montant de "
                     "{amount} en votre faveur. Il n’y a rien à payer : ce montant vient en déduction de votre "
                     "solde.\n\nCordialement,\n{business}"),
        statement=("Relevé de compte – {business}",
                   "Bonjour {contact_name},\n\nVeuillez trouver ci-joint votre relevé de compte pour la période "
                   "{period}. Le solde s’élève à {amount}.\n\nCordialement,\n{business}"),
        accountant=("Dossier comptable {period} – {business_name}",
                    "Bonjour,\n\nVeuillez trouver ci-joint le dossier comptable de {business_name} pour {period} : "
                    "fichiers CSV, PDF des factures et avoirs émis, leur XML de facture électronique et une "
                    "synthèse.\nLe fichier README.txt du ZIP décrit chaque colonne.\n\n{business_name}"),
        report=("Rapport de chiffre d’affaires {period} – {business_name}",
                "Bonjour,\n\nVeuillez trouver ci-joint le rapport de chiffre d’affaires de {business_name} pour "
                "{period}.\n\n{business_name}"),
    ),
    "de": _texts(
        invoice=("Rechnung {number} von {business}",
                 "Guten Tag {contact_name},\n\nanbei erhalten Sie die Rechnung {number} über {amount}, zahlbar "
                 "bis zum {due_date}.\n\nVielen Dank für Ihren Auftrag.\n\nMit freundlichen Grüßen\n{business}"),
        invoice_partly_paid=("Rechnung {number} von {business}: noch {amount} offen",
                             "Guten Tag {contact_name},\n\nanbei erhalten Sie die Rechnung {number} über {total}. "
                             "Vielen Dank für die bereits erhaltenen {paid}: Offen sind noch {amount}, zahlbar bis "
                             "zum {due_date}.\n\nMit freundlichen Grüßen\n{business}"),
        invoice_overdue=("Rechnung {number} von {business}: Zahlung überfällig",
                         "Guten Tag {contact_name},\n\nanbei erhalten Sie die Rechnung {number}. Sie war am "
                         "{due_date} fällig, offen sind noch {amount}. Bitte begleichen Sie den Betrag "
                         "baldmöglichst; sollten Sie bereits bezahlt haben, danken wir Ihnen und bitten Sie, diesen "
                         "Hinweis zu ignorieren.\n\nMit freundlichen Grüßen\n{business}"),
        invoice_paid=("Rechnung {number} von {business} (bezahlt)",
                      "Guten Tag {contact_name},\n\nanbei erhalten Sie die Rechnung {number} über {total} für Ihre "
                      "Unterlagen. Sie ist vollständig bezahlt; es ist nichts mehr offen.\n\nVielen Dank für Ihren "
                      "Auftrag.\n\nMit freundlichen Grüßen\n{business}"),
        quote=("Angebot {number} von {business}",
               "Guten Tag {contact_name},\n\nanbei erhalten Sie unser Angebot {number} über {amount}, gültig bis "
               "zum {valid_until}.\n\nWir freuen uns auf die Zusammenarbeit.\n\nMit freundlichen Grüßen\n{business}"),
        credit_note=("Gutschrift {number} von {business}",
                     "Guten Tag {contact_name},\n\nanbei erhalten Sie die Gutschrift {number} über {amount} zu "
                     "Ihren Gunsten. Sie müssen nichts bezahlen: Der Betrag wird mit Ihrem Kontostand "
                     "verrechnet.\n\nMit freundlichen Grüßen\n{business}"),
        statement=("Kontoauszug von {business}",
                   "Guten Tag {contact_name},\n\nanbei erhalten Sie Ihren Kontoauszug für den Zeitraum {period}. "
                   "Der Saldo beträgt {amount}.\n\nMit freundlichen Grüßen\n{business}"),
        accountant=("Buchhaltungspaket {period}, {business_name}",
                    "Guten Tag,\n\nanbei das Buchhaltungspaket von {business_name} für {period}: CSV-Dateien, die "
                    "PDFs der ausgestellten Rechnungen und Gutschriften, deren E-Rechnungs-XML und eine "
                    "Übersicht.\nREADME.txt im ZIP beschreibt jede Spalte.\n\n{business_name}"),
        report=("Umsatzbericht {period}, {business_name}",
                "Guten Tag,\n\nanbei der Umsatzbericht von {business_name} für {period}.\n\n{business_name}"),
    ),
}
MAX_ATTEMPTS = 100  # transient errors: about three weeks of tries at the 6-hour cap; then "failed", retry by hand
BACKOFF_BASE_S = 60
BACKOFF_CAP_S = 6 * 3600
MAX_ADDRESS = 254
MAX_RECIPIENTS = 20
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# -- settings -------------------------------------------------------------------

SETTINGS_FIELDS = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password", "smtp_from_email",
                   "smtp_from_name", "accountant_email", "smtp_allow_unencrypted_password")
PLAIN_PASSWORD_REFUSED = (
    "Security \u201cNone\u201d would send your password unencrypted: anyone on the network between you and the "
    "server could read it. Choose STARTTLS or SSL/TLS, or tick \u201cSend my password unencrypted\u201d "
    "(smtp_allow_unencrypted_password) if the server is on this computer or on a network you trust.")


def plain_password_problem(settings: Mapping[str, Any]) -> str | None:
    """Signing in over an unencrypted connection shows the password to the network: refused unless the
    user said so. Checked when the settings are saved and again before every sign-in (settings saved by
    an older version, or restored from a bundle, may hold it)."""
    if (settings.get("smtp_security") == "none" and settings.get("smtp_username") and settings.get("smtp_password")
            and not settings.get("smtp_allow_unencrypted_password")):
        return PLAIN_PASSWORD_REFUSED
    return None


def clean_settings(data: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """Check a partial update of the mail settings; only the given fields come back.

    `smtp_password`: absent keeps the saved one, "" forgets it, any other text replaces it.
    """
    form = Form(data, partial=True)
    form.text("smtp_host", max_length=255, label=_("SMTP server"))
    host = form.values.get("smtp_host")
    if host and (any(ch.isspace() for ch in host) or "/" in host or ":" in host.strip("[]")):
        form.values.pop("smtp_host")
        form.error("smtp_host", _("SMTP server: a host name such as smtp.example.com, without port or scheme"))
    form.choice("smtp_security", SECURITY, default="starttls", label=_("Security"))
    if form.present("smtp_port"):
        form.integer("smtp_port", minimum=1, maximum=65535, label=_("SMTP port"),
                     default=DEFAULT_PORTS[form.values.get("smtp_security") or current.get("smtp_security") or "starttls"])
    form.text("smtp_username", max_length=255, label=_("User name"), one_line=True)
    if form.present("smtp_password"):
        password = data.get("smtp_password")
        password = "" if password is None else str(password)
        if len(password) > 1000:
            form.error("smtp_password", _("Password is too long"))
        else:
            form.values["smtp_password"] = password
    form.email("smtp_from_email", label=_("From address"))
    form.text("smtp_from_name", max_length=200, label=_("From name"), one_line=True)
    form.email("accountant_email", label=_("Accountant's email"))
    form.boolean("smtp_allow_unencrypted_password")
    if not form.errors:
        problem = plain_password_problem({**current, **form.values})
        if problem:
            form.error("smtp_security", problem)
    return form.raise_if_invalid()


def clean_templates(data: Mapping[str, Any], *, language: str = "en", prefix: str = "") -> dict[str, dict[str, str]]:
    """{kind: {subject, body}} of one language from the form or the API; unknown placeholders are refused.

    A field is named `{prefix}{kind}_{part}` (the form's `fr_invoice_subject`; the API's English
    `email_templates` has no prefix), and its message names the language, the template and the part."""
    errors: list[FieldError] = []
    out: dict[str, dict[str, str]] = {}
    language_name = _(LANGUAGE_LABELS.get(language, language))
    where = "email_templates" if not prefix else f"email_templates_by_language.{language}"
    for kind in TEMPLATE_KINDS:
        entry = data.get(kind)
        if entry is None:
            continue
        label = f"{language_name} {_(TEMPLATE_LABELS[kind]).lower()}" if prefix else _(TEMPLATE_LABELS[kind])
        if not isinstance(entry, Mapping):
            errors.append(FieldError(f"{where}.{kind}", _("Give a subject and a body")))
            continue
        cleaned = {}
        for part in entry:
            if part not in ("subject", "body"):
                errors.append(FieldError(f"{where}.{kind}.{part}",
                                         _("Unknown field %(part)r in the %(template)s template; give a subject and a body",
                                           part=part, template=label.lower())))
        for part in ("subject", "body"):
            text = str(entry.get(part) or "").replace("\r\n", "\n").strip()
            name = f"{prefix}{kind}_{part}"
            problem = line_problem(text, f"{label} subject") if part == "subject" else \
                control_problem(text, f"{label} body")
            if problem:
                errors.append(FieldError(name, problem))
                continue
            if len(text) > (300 if part == "subject" else 10000):
                errors.append(FieldError(name, _("%(label)s %(part)s is too long", label=label, part=part)))
                continue
            unknown = [p for p in placeholders_in(text) if p not in PLACEHOLDERS]
            if unknown:
                errors.append(FieldError(name, _("%(label)s %(part)s: unknown placeholder {%(unknown)s}; use %(known)s",
                                                 label=label, part=part, unknown=unknown[0],
                                                 known=", ".join(f"{{{p}}}" for p in PLACEHOLDERS))))
                continue
            cleaned[part] = text
        out[kind] = cleaned
    for kind in data:
        if kind not in TEMPLATE_KINDS:
            errors.append(FieldError(f"{where}.{kind}", _("Unknown template %(kind)r; one of: %(kinds)s", kind=kind,
                                                          kinds=", ".join(TEMPLATE_KINDS))))
    if errors:
        raise ValidationFailed(errors)
    return out


def clean_templates_by_language(data: Mapping[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """{language: {kind: {subject, body}}}: each language's templates checked, every error at once."""
    errors: list[FieldError] = []
    out: dict[str, dict[str, dict[str, str]]] = {}
    for language, templates in data.items():
        if language not in LANGUAGES:
            errors.append(FieldError(f"email_templates_by_language.{language}",
                                     _("Unknown language %(language)r; one of: %(languages)s", language=language,
                                       languages=", ".join(LANGUAGES))))
            continue
        if not isinstance(templates, Mapping):
            errors.append(FieldError(f"email_templates_by_language.{language}", "Give {kind: {subject, body}}"))
            continue
        try:
            out[language] = clean_templates(templates, language=language, prefix=f"{language}_")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    return out


def saved_by_language(saved: Mapping[str, Any], legacy_language: str) -> dict[str, dict[str, dict[str, str]]]:
    """The saved templates as {language: {kind: {subject, body}}}. Before templates had a language they were
    saved as {kind: {...}}, written in the business's language: they are read as that language's."""
    if any(key in TEMPLATE_KINDS for key in saved):
        legacy = {k: dict(v) for k, v in saved.items() if k in TEMPLATE_KINDS and isinstance(v, Mapping)}
        return {legacy_language if legacy_language in LANGUAGES else "en": legacy}
    return {lang: {k: dict(v) for k, v in (saved.get(lang) or {}).items() if isinstance(v, Mapping)}
            for lang in LANGUAGES if isinstance(saved.get(lang), Mapping)}


def merged_templates(saved: Mapping[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """{language: {kind: {subject, body}}}: the saved templates (by language) over the defaults; an empty
    subject or body means the default."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for lang in LANGUAGES:
        mine_by_kind = saved.get(lang) or {}
        out[lang] = {}
        for kind in TEMPLATE_KINDS:
            mine = mine_by_kind.get(kind) or {}
            out[lang][kind] = {part: (mine.get(part) or DEFAULT_TEMPLATES[lang][kind][part])
                               for part in ("subject", "body")}
    return out


def choose_template(doc_type: str, *, total: Decimal, paid: Decimal, credited: Decimal, balance: Decimal,
                    due_date: date | None, today: date) -> str:
    """Which template a document's message starts from, so it says what the books say: an invoice
    with nothing left to pay is "paid" (never "due on"), one past its due date with money open is
    "overdue", one with part paid or credited says what is left; quotes and credit notes have one each."""
    if doc_type != "invoice":
        return doc_type
    if balance <= 0 and total > 0:
        return "invoice_paid"
    if due_date is not None and due_date < today:
        return "invoice_overdue"
    if paid > 0 or credited > 0:
        return "invoice_partly_paid"
    return "invoice"


def message_amount(template: str, *, total: Decimal, balance: Decimal) -> Decimal:
    """What {amount} stands for: left to pay on an open invoice, the total of a paid invoice, a quote or a
    credit note (a statement's balance is given by the statement)."""
    if template in ("invoice", "invoice_partly_paid", "invoice_overdue"):
        return balance
    return total


MAX_SUBJECT_LENGTH = 300


def subject_problem(subject: str) -> str | None:
    """Why an email's subject cannot be sent, or None: it is required, one line (a line break or a Unicode
    line separator would start a header of its own), and at most 300 characters. A subject filled from a
    template with a name is checked here too, whatever the name held."""
    if not subject:
        return _("Subject is required")
    problem = line_problem(subject, "Subject")
    if problem:
        return problem
    if len(subject) > MAX_SUBJECT_LENGTH:
        return _("Subject is too long (at most %(MAX_SUBJECT_LENGTH)s characters)", MAX_SUBJECT_LENGTH=MAX_SUBJECT_LENGTH)
    return None


def is_configured(settings: Mapping[str, Any]) -> str | None:
    """None when mail can be sent, else what is missing (in words)."""
    if not settings.get("smtp_host"):
        return "Email is not set up: enter the SMTP server in Settings, Email"
    if not settings.get("smtp_from_email"):
        return "Email is not set up: enter the From address in Settings, Email"
    return None


# -- templates ------------------------------------------------------------------

def placeholders_in(template: str) -> list[str]:
    return _PLACEHOLDER_RE.findall(template or "")


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Replace {name} with its value; a placeholder without a value stays as typed (so it is seen)."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        return match.group(0) if value is None else str(value)
    return _PLACEHOLDER_RE.sub(one, template or "")


# -- addresses ------------------------------------------------------------------

def parse_addresses(text: Any, field_name: str, *, required: bool, label: str) -> list[str]:
    """A comma- or semicolon-separated list of plain addresses; raises naming the field."""
    if isinstance(text, (list, tuple)):
        parts = [str(p) for p in text]
    else:
        parts = re.split(r"[,;\n]", str(text or ""))
    addresses = [p.strip() for p in parts if p and p.strip()]
    if required and not addresses:
        raise ValidationFailed([FieldError(field_name, _("%(label)s: enter at least one email address", label=label))])
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationFailed([FieldError(field_name, _("%(label)s: at most %(MAX_RECIPIENTS)s addresses", label=label, MAX_RECIPIENTS=MAX_RECIPIENTS))])
    for address in addresses:
        if len(address) > MAX_ADDRESS:   # RFC 5321: 254 characters at most; no server takes a longer one
            raise ValidationFailed([FieldError(field_name, _("%(label)s: an email address has at most %(most)s characters (%(given)s given)",
                                                           label=label, most=MAX_ADDRESS, given=len(address)))])
        if not EMAIL_RE.match(address) or any(ch in address for ch in "<>\"'()[]\\") or not address.isascii():
            raise ValidationFailed([FieldError(field_name, _("%(label)s: %(address)r is not a valid email address", label=label,
                                                           address=address))])
    return list(dict.fromkeys(addresses))


def join_addresses(addresses: Iterable[str]) -> str:
    return ", ".join(addresses)


def split_addresses(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


# -- retries --------------------------------------------------------------------

def backoff_seconds(attempts: int) -> int:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 ... minutes, at most 6 hours."""
    if attempts < 1:
        return 0
    doubling: int = 2 ** min(attempts - 1, 30)  # typeshed types int ** int as Any (a negative power is a float)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * doubling)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt means for the message."""

    status: str                 # sent | queued | failed | uncertain
    error: str = ""
    reply: str = ""
    next_attempt_at: datetime | None = None


def after_attempt(*, attempts: int, now: datetime, error: str = "", reply: str = "", permanent: bool = False,
                  uncertain: bool = False) -> Outcome:
    """`attempts` counts the one just made. A permanent refusal (5xx) or too many tries fails the message.
    An attempt cut after the whole message was handed over and before the server answered (`uncertain`)
    may have delivered it: never tried again by itself, whatever else holds, so no client gets it twice
    unasked."""
    if not error:
        return Outcome("sent", reply=reply)
    if uncertain:
        return Outcome("uncertain", error=error)
    if permanent or attempts >= MAX_ATTEMPTS:
        return Outcome("failed", error=error)
    return Outcome("queued", error=error, next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)))


def smtp_error_is_permanent(code: int | None) -> bool:
    """5xx answers to the sender, recipients or data are final (a mistyped address); 4xx and network errors are not.
    Authentication refusals (530, 534, 535) are kept for retry: fixing the settings sends them."""
    return code is not None and 500 <= code < 600 and code not in (530, 534, 535)


def smtp_data_payload(message: bytes) -> bytes:
    """What follows the server's 354 to DATA (RFC 5321 4.5.2): lines starting with "." get another one,
    and the end is CRLF "." CRLF. Sending it whole is the moment after which the server may have the message."""
    stuffed = re.sub(rb"(?m)^\.", b"..", message)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


# -- the MIME message -----------------------------------------------------------

@dataclass(frozen=True)
class Attachment:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    from_email: str
    from_name: str
    to: Sequence[str]
    cc: Sequence[str]
    subject: str
    body: str
    message_id: str
    date: datetime
    attachments: Sequence[Attachment] = field(default_factory=tuple)

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.to, *self.cc]))


def new_message_id(from_email: str) -> str:
    domain = from_email.rpartition("@")[2] if "@" in (from_email or "") else "counterfoil.invalid"
    return make_msgid(domain=domain)


def build_message(outgoing: Outgoing) -> EmailMessage:
    """The email as the standard library writes it: text body, attachments, RFC 5322 headers."""
    message = EmailMessage(policy=SMTP)
    if outgoing.from_name:
        message["From"] = Address(display_name=outgoing.from_name, addr_spec=outgoing.from_email)
    else:
        message["From"] = outgoing.from_email
    message["To"] = ", ".join(outgoing.to)
    if outgoing.cc:
        message["Cc"] = ", ".join(outgoing.cc)
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(outgoing.date.astimezone(UTC))
    message["Message-ID"] = outgoing.message_id
    message["Reply-To"] = formataddr((outgoing.from_name, outgoing.from_email)) if outgoing.from_name else outgoing.from_email
    message.set_content(outgoing.body or "")
    for item in outgoing.attachments:
        maintype, _slash, subtype = (item.media_type or "application/octet-stream").partition("/")
        message.add_attachment(item.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=item.filename)
    return message


def safe_filename(name: str, default: str = "attachment") -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", name or "", flags=re.UNICODE).strip(" .")
    return cleaned[:150] or default


# How each outbox state reads on a page.
STATUS_LABELS = {"queued": N_("Queued"), "sending": N_("Sending"), "sent": N_("Sent"), "failed": N_("Failed"),
                 "uncertain": N_("May have been sent"), "cancelled": N_("Cancelled")}
