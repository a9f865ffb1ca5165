"""Reminders and dunning: which invoice is due which reminder, what a level charges, what a reminder says. Pure.

Levels: -1 a friendly notice before the due date, 0 a notice on the due date (neither charges anything),
1 to 4 the dunning levels of the settings. Money is integer minor units of the invoice's currency;
every fee and interest is rounded half-up to the minor unit, once, where it is computed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.common.i18n import _
from app.common.logic import FieldError, Form, ValidationFailed, line_problem
from app.money import minor_digits, round_money

NOTICE_BEFORE, NOTICE_ON_DUE = -1, 0
MAX_LEVELS = 4
LANGUAGES = ("en", "fr", "de")
DAY_COUNTS = {"actual/365": 365, "actual/360": 360}
STATUSES = ("issued", "sent", "cancelled")
PLACEHOLDERS = ("number", "amount", "due_date", "client", "business")
NUMBER_PATTERN = "REM-{year}-{seq:04}"
MAX_FEE_DIGITS = 9      # a flat fee of up to 999,999,999 in the invoice's currency
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def level_name(level: int) -> str:
    """How a level is called where no title is (lists, history)."""
    if level == NOTICE_BEFORE:
        return "Notice before due"
    if level == NOTICE_ON_DUE:
        return "Due today notice"
    return f"Level {level}"


# -- defaults ---------------------------------------------------------------------------------

def _texts(en: tuple[str, str], fr: tuple[str, str], de: tuple[str, str]) -> dict[str, dict[str, str]]:
    return {lang: {"subject": subject, "body": body} for lang, (subject, body) in
            (("en", en), ("fr", fr), ("de", de))}


NOTICE_TEXTS = _texts(
    ("Upcoming payment: invoice {number}",
     "Hello {client},\n\nA friendly note that invoice {number} ({amount}) is due on {due_date}. If you have "
     "already paid, thank you and please disregard this message.\n\nBest regards,\n{business}"),
    ("Échéance prochaine : facture {number}",
     "Bonjour {client},\n\nPetit rappel amical : la facture {number} ({amount}) arrive à échéance le "
     "{due_date}. Si vous l'avez déjà réglée, merci et ne tenez pas compte de ce message.\n\n"
     "Cordialement,\n{business}"),
    ("Bevorstehende Fälligkeit: Rechnung {number}",
     "Guten Tag {client},\n\nein freundlicher Hinweis: Die Rechnung {number} ({amount}) ist am {due_date} "
     "fällig. Falls Sie bereits bezahlt haben, danken wir Ihnen und bitten Sie, diese Nachricht zu "
     "ignorieren.\n\nMit freundlichen Grüßen\n{business}"),
)

DEFAULT_LEVELS: tuple[dict[str, Any], ...] = (
    {"level": 1, "days_after_due": 7, "title": "Payment reminder", "fee_flat": "0", "fee_percent": "0",
     "interest_rate": "0", "texts": _texts(
         ("Payment reminder: {number}",
          "Hello {client},\n\nOur records show that {number} is still open. Perhaps it slipped through: please "
          "pay {amount} by {due_date}.\n\nIf you have already paid, thank you, and please disregard this "
          "reminder.\n\nBest regards,\n{business}"),
         ("Rappel de paiement : {number}",
          "Bonjour {client},\n\nSauf erreur de notre part, {number} reste impayée. Merci de régler "
          "{amount} d'ici le {due_date}.\n\nSi votre paiement est déjà parti, merci et ne tenez pas compte "
          "de ce rappel.\n\nCordialement,\n{business}"),
         ("Zahlungserinnerung: {number}",
          "Guten Tag {client},\n\nsicher ist es Ihrer Aufmerksamkeit entgangen: {number} ist noch offen. "
          "Bitte überweisen Sie {amount} bis zum {due_date}.\n\nSollten Sie bereits bezahlt haben, "
          "betrachten Sie diese Erinnerung bitte als gegenstandslos.\n\nMit freundlichen Grüßen\n{business}"))},
    {"level": 2, "days_after_due": 21, "title": "1st notice", "fee_flat": "5.00", "fee_percent": "0",
     "interest_rate": "0", "texts": _texts(
         ("First notice: {number}",
          "Hello {client},\n\nDespite our reminder, {number} is still unpaid. Please pay {amount}, "
          "including the reminder fee, by {due_date}.\n\nBest regards,\n{business}"),
         ("Première relance : {number}",
          "Bonjour {client},\n\nMalgré notre rappel, {number} n'est toujours pas réglée. Merci de payer "
          "{amount}, frais de relance compris, d'ici le {due_date}.\n\nCordialement,\n{business}"),
         ("1. Mahnung: {number}",
          "Guten Tag {client},\n\ntrotz unserer Zahlungserinnerung ist {number} noch offen. Bitte "
          "überweisen Sie {amount} einschließlich Mahngebühr bis zum {due_date}.\n\n"
          "Mit freundlichen Grüßen\n{business}"))},
    {"level": 3, "days_after_due": 35, "title": "2nd notice", "fee_flat": "10.00", "fee_percent": "0",
     "interest_rate": "9.00", "texts": _texts(
         ("Second notice: {number}",
          "Hello {client},\n\n{number} remains unpaid. We now charge a fee and interest on the open amount. "
          "Please pay {amount} by {due_date}.\n\nBest regards,\n{business}"),
         ("Deuxième relance : {number}",
          "Bonjour {client},\n\n{number} reste impayée. Des frais et des intérêts de retard s'appliquent "
          "désormais. Merci de régler {amount} d'ici le {due_date}.\n\nCordialement,\n{business}"),
         ("2. Mahnung: {number}",
          "Guten Tag {client},\n\n{number} ist weiterhin offen. Wir berechnen nun Mahngebühren und "
          "Verzugszinsen auf den offenen Betrag. Bitte überweisen Sie {amount} bis zum {due_date}.\n\n"
          "Mit freundlichen Grüßen\n{business}"))},
    {"level": 4, "days_after_due": 49, "title": "Final notice", "fee_flat": "15.00", "fee_percent": "0",
     "interest_rate": "9.00", "texts": _texts(
         ("Final notice: {number}",
          "Hello {client},\n\nThis is our final notice for {number}. Unless we receive {amount} by "
          "{due_date}, we will hand the matter over for collection without further notice.\n\n"
          "Regards,\n{business}"),
         ("Dernière relance : {number}",
          "Bonjour {client},\n\nCeci est notre dernière relance pour {number}. Sans paiement de {amount} "
          "d'ici le {due_date}, nous transmettrons le dossier au recouvrement sans autre avis.\n\n"
          "Cordialement,\n{business}"),
         ("Letzte Mahnung: {number}",
          "Guten Tag {client},\n\ndies ist unsere letzte Mahnung für {number}. Geht {amount} nicht bis zum "
          "{due_date} ein, übergeben wir die Forderung ohne weitere Ankündigung dem Inkasso.\n\n"
          "Mit freundlichen Grüßen\n{business}"))},
)


# -- settings -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    level: int
    days_after_due: int
    title: str
    fee_flat: Decimal
    fee_percent: Decimal
    interest_rate: Decimal
    texts: Mapping[str, Mapping[str, str]]

    def text(self, language: str) -> Mapping[str, str]:
        return self.texts.get(language) or self.texts.get("en") or next(iter(self.texts.values()))

    @property
    def charges(self) -> bool:
        return bool(self.fee_flat or self.fee_percent or self.interest_rate)


@dataclass(frozen=True)
class Dunning:
    """The dunning settings: up to four levels and what runs them."""

    levels: tuple[Level, ...]
    auto_send: bool = False
    notice_days_before_due: int | None = None
    notice_on_due_date: bool = False
    notice_texts: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: NOTICE_TEXTS)
    pay_within_days: int = 10
    day_count: str = "actual/365"

    def level(self, number: int) -> Level | None:
        return next((level for level in self.levels if level.level == number), None)

    def title_of(self, number: int, labels: Mapping[str, str] | None = None) -> str:
        level = self.level(number)
        if level is not None:
            return level.title
        if labels is not None:
            return labels["notice"]
        return level_name(number)

    def text_of(self, number: int, language: str) -> Mapping[str, str]:
        level = self.level(number)
        if level is not None:
            return level.text(language)
        return self.notice_texts.get(language) or self.notice_texts.get("en") or NOTICE_TEXTS["en"]


def default_dunning() -> Dunning:
    return clean_dunning({"levels": [dict(level) for level in DEFAULT_LEVELS]})


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER_RE.findall(text)


def _clean_texts(raw: Any, prefix: str, defaults: Mapping[str, Mapping[str, str]],
                 errors: list[FieldError]) -> dict[str, dict[str, str]]:
    """{"en": {"subject", "body"}, ...}: a language left out keeps its default text."""
    out = {lang: dict(text) for lang, text in defaults.items()}
    if raw in (None, ""):
        return out
    if not isinstance(raw, Mapping):
        errors.append(FieldError(prefix, _("Texts are an object of languages (en, fr, de), each with a subject and a body")))
        return out
    for lang, entry in raw.items():
        where = f"{prefix}.{lang}"
        if lang not in LANGUAGES:
            errors.append(FieldError(where, _("Unknown language %(language)r; use %(languages)s", language=str(lang)[:10], languages=", ".join(LANGUAGES))))
            continue
        if not isinstance(entry, Mapping) or set(entry) - {"subject", "body"}:
            errors.append(FieldError(where, _("Give a subject and a body")))
            continue
        cleaned = {}
        for part in ("subject", "body"):
            text = str(entry.get(part) or "").replace("\r\n", "\n").strip()
            name = f"{where}.{part}"
            if not text:
                errors.append(FieldError(name, _("The %(part)s is required", part=part)))
                continue
            problem = line_problem(text, "Subject") if part == "subject" else None
            if problem:
                errors.append(FieldError(name, problem))
                continue
            if len(text) > (300 if part == "subject" else 10_000):
                errors.append(FieldError(name, _("The %(part)s is too long", part=part)))
                continue
            unknown = [p for p in placeholders_in(text) if p not in PLACEHOLDERS]
            if unknown:
                errors.append(FieldError(name, _("Unknown placeholder {%(unknown)s}; use ", unknown=unknown[0])
                                               + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)))
                continue
            cleaned[part] = text
        if len(cleaned) == 2:
            out[lang] = cleaned
    return out


def _clean_level(raw: Any, index: int, previous: Level | None, errors: list[FieldError]) -> Level | None:
    prefix = f"levels.{index}"
    if not isinstance(raw, Mapping):
        errors.append(FieldError(prefix, _("A level is an object: level, days_after_due, title, fees, texts")))
        return None
    unknown = set(raw) - {"level", "days_after_due", "title", "fee_flat", "fee_percent", "interest_rate", "texts"}
    if unknown:
        errors.append(FieldError(f"{prefix}.{sorted(unknown)[0]}", _("Unknown field")))
        return None
    number = raw.get("level", index + 1)
    if number != index + 1 or isinstance(number, bool):
        errors.append(FieldError(f"{prefix}.level", _("Levels are numbered 1 to %(MAX_LEVELS)s in order: this one is level %(value)s", MAX_LEVELS=MAX_LEVELS, value=index + 1)))
        return None
    defaults = DEFAULT_LEVELS[index]
    form = Form({key: value for key, value in raw.items() if key != "texts"})
    form.integer("days_after_due", minimum=0, maximum=3650, label=_("Days after the due date"))
    form.text("title", required=True, max_length=100, label=_("Title"), one_line=True)
    form.decimal("fee_flat", minimum=Decimal(0), max_places=4, label=_("Flat fee"), default="0",
                 max_integer_digits=MAX_FEE_DIGITS)
    form.decimal("fee_percent", minimum=Decimal(0), max_places=4, label=_("Percentage fee"), default="0",
                 max_integer_digits=3)
    form.decimal("interest_rate", minimum=Decimal(0), max_places=4, label=_("Annual interest rate"), default="0",
                 max_integer_digits=3)
    values = form.values
    for error in form.errors:
        errors.append(FieldError(f"{prefix}.{error.field}", error.message))
    for name, label in (("fee_percent", "The percentage fee"), ("interest_rate", "The annual interest rate")):
        if name in values and values[name] > 100:
            errors.append(FieldError(f"{prefix}.{name}", _("%(label)s is at most 100 (percent)", label=label)))
            values.pop(name)
    days = values.get("days_after_due")
    if days is not None and previous is not None and days <= previous.days_after_due:
        errors.append(FieldError(f"{prefix}.days_after_due", _("Level %(value)s must come later than level %(index)s (%(days_after_due)s days after the due date)", value=index + 1, index=index, days_after_due=previous.days_after_due)))
        return None
    texts = _clean_texts(raw.get("texts"), f"{prefix}.texts", defaults["texts"], errors)
    if form.errors or set(("days_after_due", "title", "fee_flat", "fee_percent", "interest_rate")) - set(values):
        return None
    return Level(level=index + 1, days_after_due=values["days_after_due"], title=values["title"],
                 fee_flat=values["fee_flat"],
                 fee_percent=values["fee_percent"], interest_rate=values["interest_rate"], texts=texts)


def clean_dunning(data: Mapping[str, Any]) -> Dunning:
    """The dunning settings from a request (the API's shape). Raises ValidationFailed naming every bad field,
    e.g. `levels.1.fee_percent`."""
    errors: list[FieldError] = []
    unknown = set(data) - {"levels", "auto_send", "notice_days_before_due", "notice_on_due_date", "notice_texts",
                           "pay_within_days", "day_count"}
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed([FieldError(name, _("Unknown field"))], detail=_("Unknown field %(name)r in the dunning settings", name=name))
    raw_levels = data.get("levels")
    if raw_levels is None:
        raw_levels = [dict(level) for level in DEFAULT_LEVELS]
    levels: list[Level] = []
    if not isinstance(raw_levels, Sequence) or isinstance(raw_levels, str):
        errors.append(FieldError("levels", _("Levels are a list")))
    elif len(raw_levels) > MAX_LEVELS:
        errors.append(FieldError("levels", _("At most %(MAX_LEVELS)s levels", MAX_LEVELS=MAX_LEVELS)))
    else:
        previous: Level | None = None
        for index, raw in enumerate(raw_levels):
            level = _clean_level(raw, index, previous, errors)
            if level is not None:
                levels.append(level)
                previous = level
    form = Form({key: data.get(key) for key in ("auto_send", "notice_on_due_date", "pay_within_days", "day_count",
                                                "notice_days_before_due")})
    form.boolean("auto_send")
    form.boolean("notice_on_due_date")
    form.integer("pay_within_days", minimum=1, maximum=365, label=_("Days to pay a reminder"), default=10)
    form.choice("day_count", DAY_COUNTS, default="actual/365", label=_("Day count"))
    if data.get("notice_days_before_due") not in (None, ""):
        form.integer("notice_days_before_due", minimum=1, maximum=60, label=_("Days before the due date"))
    errors.extend(form.errors)
    notice_texts = _clean_texts(data.get("notice_texts"), "notice_texts", NOTICE_TEXTS, errors)
    if errors:
        raise ValidationFailed(errors)
    values = form.values
    return Dunning(levels=tuple(levels), auto_send=values["auto_send"],
                   notice_days_before_due=values.get("notice_days_before_due"),
                   notice_on_due_date=values["notice_on_due_date"], notice_texts=notice_texts,
                   pay_within_days=values["pay_within_days"], day_count=values["day_count"])


def dunning_as_data(dunning: Dunning) -> dict[str, Any]:
    """The API's shape of the settings (what clean_dunning reads back)."""
    return {
        "levels": [{"level": lv.level, "days_after_due": lv.days_after_due, "title": lv.title,
                    "fee_flat": str(lv.fee_flat), "fee_percent": str(lv.fee_percent),
                    "interest_rate": str(lv.interest_rate),
                    "texts": {lang: dict(text) for lang, text in lv.texts.items()}} for lv in dunning.levels],
        "auto_send": dunning.auto_send, "notice_days_before_due": dunning.notice_days_before_due,
        "notice_on_due_date": dunning.notice_on_due_date,
        "notice_texts": {lang: dict(text) for lang, text in dunning.notice_texts.items()},
        "pay_within_days": dunning.pay_within_days, "day_count": dunning.day_count,
    }


# -- what is due --------------------------------------------------------------------------------

def next_level(*, due_date: date | None, as_of: date, dunning: Dunning, applied: Mapping[int, date]) -> int | None:
    """The reminder an invoice is due on `as_of`, or None.

    `applied`: the levels already sent for it (live reminders), each with the day it was sent.
    A notice comes only in its window (N days before the due date; on the due date itself: a day
    late it would be wrong). The levels go up one at a time: the next level after the highest one
    sent, once the invoice is that many days overdue and, after an earlier level, as many days
    have passed since it as the settings put between the two (a first reminder sent late does not
    bring the second the day after).
    """
    if due_date is None:
        return None
    if as_of < due_date:
        days = dunning.notice_days_before_due
        if days is not None and as_of >= due_date - timedelta(days=days) and not applied:
            return NOTICE_BEFORE
        return None
    if as_of == due_date:
        if dunning.notice_on_due_date and NOTICE_ON_DUE not in applied and not any(lv > 0 for lv in applied):
            return NOTICE_ON_DUE
        return None
    overdue = (as_of - due_date).days
    highest = max((lv for lv in applied if lv > 0), default=0)
    candidate = dunning.level(highest + 1)
    if candidate is None or overdue < max(candidate.days_after_due, 1):
        return None
    if highest:
        before = dunning.level(highest)
        gap = candidate.days_after_due - (before.days_after_due if before else 0)
        if (as_of - applied[highest]).days < gap:
            return None
    return candidate.level


# -- fees and interest --------------------------------------------------------------------------

def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def flat_fee_minor(fee: Decimal, currency: str) -> int:
    """A flat fee (settings say it in the invoice's currency) in minor units, rounded half-up to it."""
    return int(round_money(fee, currency).scaleb(minor_digits(currency)))


def percent_fee_minor(open_minor: int, percent: Decimal) -> int:
    """`percent` of the open amount, half-up to the minor unit."""
    if open_minor <= 0 or not percent:
        return 0
    return _half_up(Decimal(open_minor) * percent / 100)


def interest_minor(open_minor: int, annual_rate: Decimal, days: int, day_count: str = "actual/365") -> int:
    """Simple interest on the open amount for `days` days at `annual_rate` percent a year, the year counted
    as the day count says (actual/365: 365 days), half-up to the minor unit."""
    if open_minor <= 0 or days <= 0 or not annual_rate:
        return 0
    return _half_up(Decimal(open_minor) * annual_rate / 100 * days / DAY_COUNTS[day_count])


def interest_period(due_date: date, charged_to: date | None, as_of: date) -> tuple[date, date] | None:
    """The days interest is charged for now: from the day after the due date (or after the last day
    already charged) to `as_of`, inclusive; None when there is none. Interest is never charged twice."""
    start = (charged_to or due_date) + timedelta(days=1)
    return (start, as_of) if start <= as_of else None


@dataclass(frozen=True)
class InvoiceDue:
    """An open invoice as a reminder sees it."""

    id: int
    number: str
    issue_date: date
    due_date: date
    total_minor: int
    paid_minor: int     # paid and credited
    interest_charged_to: date | None = None   # the last day interest was charged for, by a live reminder

    @property
    def open_minor(self) -> int:
        return self.total_minor - self.paid_minor


@dataclass(frozen=True)
class ItemCharge:
    invoice: InvoiceDue
    interest_from: date | None
    interest_to: date | None
    interest_minor: int
    fee_minor: int    # the percentage fee on this invoice


@dataclass(frozen=True)
class Charges:
    items: tuple[ItemCharge, ...]
    flat_fee_minor: int

    @property
    def fee_minor(self) -> int:
        return self.flat_fee_minor + sum(item.fee_minor for item in self.items)

    @property
    def interest_minor(self) -> int:
        return sum(item.interest_minor for item in self.items)

    @property
    def open_minor(self) -> int:
        return sum(item.invoice.open_minor for item in self.items)

    @property
    def total_minor(self) -> int:
        """What the reminder asks for: the open invoices plus its fee and interest."""
        return self.open_minor + self.fee_minor + self.interest_minor


def charges(invoices: Sequence[InvoiceDue], level: Level | None, currency: str, as_of: date,
            day_count: str = "actual/365") -> Charges:
    """A reminder's fee and interest: the flat fee once per reminder, the percentage fee and the interest
    per invoice on what is open on it. A notice (no level) charges nothing."""
    items = []
    for invoice in invoices:
        period = interest_period(invoice.due_date, invoice.interest_charged_to, as_of) if level else None
        interest = 0
        if level is not None and period is not None and level.interest_rate:
            interest = interest_minor(invoice.open_minor, level.interest_rate, (period[1] - period[0]).days + 1,
                                      day_count)
        if not interest:
            period = None
        items.append(ItemCharge(invoice, period[0] if period else None, period[1] if period else None, interest,
                                percent_fee_minor(invoice.open_minor, level.fee_percent) if level else 0))
    flat = flat_fee_minor(level.fee_flat, currency) if level is not None and invoices else 0
    return Charges(tuple(items), flat)


# -- the reminder itself ------------------------------------------------------------------------

def format_number(issue_date: date, seq: int) -> str:
    return NUMBER_PATTERN.format(year=issue_date.year, seq=seq)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put the values in the placeholders; other braces stay as written."""
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def group_key(client_id: int, currency: str, level: int) -> tuple[int, str, int]:
    """Invoices of one client, currency and level go into one reminder."""
    return (client_id, currency, level)


def check_remindable(status: str, open_minor: int, number: str) -> str | None:
    """Why an invoice cannot get a reminder (a draft, cancelled or paid one), or None."""
    if status == "draft":
        return f"{number or 'This invoice'} is a draft: issue it first"
    if status == "cancelled":
        return f"{number} is cancelled"
    if open_minor <= 0:
        return f"{number} is paid"
    return None


def check_charge_payment(amount_minor: int, unpaid_minor: int, status: str, available_credit_minor: int | None
                         ) -> None:
    """A payment towards a reminder's charges: above zero, at most what is unpaid of them, of a live reminder;
    from credit, at most the client's credit."""
    if status == "cancelled":
        raise ValidationFailed([FieldError("reminder", _("This reminder is cancelled: it charges nothing"))])
    if unpaid_minor <= 0:
        raise ValidationFailed([FieldError("amount", _("Nothing is owed on this reminder's fee and interest"))])
    if amount_minor <= 0:
        raise ValidationFailed([FieldError("amount", _("The amount must be above zero"))])
    if amount_minor > unpaid_minor:
        raise ValidationFailed([FieldError("amount", _("The amount is more than what is owed on the fee and interest"))])
    if available_credit_minor is not None and amount_minor > available_credit_minor:
        raise ValidationFailed([FieldError("amount", _("The client has less credit than this"))])


def unique_pairs_problems(pairs: Iterable[tuple[int, int, str]]) -> list[tuple[str, str]]:
    """(where, what) for each (invoice, level) claimed by more than one live item: (invoice id, level, number)."""
    seen: dict[tuple[int, int], str] = {}
    problems = []
    for invoice_id, level, number in pairs:
        if (invoice_id, level) in seen:
            problems.append((number, _("%(lower)s applied twice to invoice %(invoice_id)s (also %(seen)s)", lower=level_name(level).lower(), invoice_id=invoice_id, seen=seen[invoice_id, level])))
        else:
            seen[(invoice_id, level)] = number
    return problems


# -- the PDF ------------------------------------------------------------------------------------

LABELS: dict[str, dict[str, str]] = {
    "en": {"reminder": "Reminder", "notice": "Payment notice", "reminder_date": "Date", "reminder_no": "Reminder no.",
           "new_due_date": "Please pay by", "open_invoices": "Open invoices", "invoice": "Invoice",
           "invoice_date": "Date", "due": "Due", "days_overdue": "Overdue", "total": "Total", "paid": "Paid",
           "open": "Open", "fee": "Reminder fee", "percent_fee": "Fee ({percent} % of the open amount)",
           "interest": "{invoice}: interest {rate} % p.a. on {amount}, {days} days",
           "open_total": "Open on the invoices", "total_due": "Total due", "pay_by": "Please pay {amount} by {date}.",
           "kind_reminder_charge": "Reminder fee and interest", "days": "days"},
    "fr": {"reminder": "Relance", "notice": "Avis d'échéance", "reminder_date": "Date", "reminder_no": "Relance n°",
           "new_due_date": "À régler avant le", "open_invoices": "Factures impayées", "invoice": "Facture",
           "invoice_date": "Date", "due": "Échéance", "days_overdue": "Jours de retard", "total": "Total",
           "paid": "Payé", "open": "Restant", "fee": "Frais de relance",
           "percent_fee": "Frais ({percent} % du montant dû)",
           "interest": "{invoice} : intérêts {rate} % l'an sur {amount}, {days} jours",
           "open_total": "Restant dû sur les factures", "total_due": "Total à payer",
           "pay_by": "Merci de régler {amount} avant le {date}.",
           "kind_reminder_charge": "Frais et intérêts de relance", "days": "jours"},
    "de": {"reminder": "Mahnung", "notice": "Zahlungshinweis", "reminder_date": "Datum", "reminder_no": "Mahnung Nr.",
           "new_due_date": "Zahlbar bis", "open_invoices": "Offene Rechnungen", "invoice": "Rechnung",
           "invoice_date": "Datum", "due": "Fällig", "days_overdue": "Tage", "total": "Betrag", "paid": "Bezahlt",
           "open": "Offen", "fee": "Mahngebühr", "percent_fee": "Gebühr ({percent} % des offenen Betrags)",
           "interest": "{invoice}: Zinsen {rate} % p. a. auf {amount}, {days} Tage",
           "open_total": "Offen auf den Rechnungen", "total_due": "Zu zahlen",
           "pay_by": "Bitte überweisen Sie {amount} bis zum {date}.",
           "kind_reminder_charge": "Mahngebühr und Zinsen", "days": "Tage"},
}


# The default levels' titles in the other languages: a title the user wrote stays as written.
TITLES = {
    "Payment reminder": {"fr": "Rappel de paiement", "de": "Zahlungserinnerung"},
    "1st notice": {"fr": "Première relance", "de": "1. Mahnung"},
    "2nd notice": {"fr": "Deuxième relance", "de": "2. Mahnung"},
    "Final notice": {"fr": "Dernière relance", "de": "Letzte Mahnung"},
}


def title_in(title: str, language: str) -> str:
    return TITLES.get(title, {}).get(language, title)


def labels_for(language: str) -> dict[str, str]:
    return dict(LABELS.get(language, LABELS["en"]))
