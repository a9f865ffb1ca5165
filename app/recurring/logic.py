"""Recurring invoices: the schedule, what each period is due, the placeholders, and what a profile
may hold. Pure functions: no database, no files.

A schedule is "every N weeks, months, quarters or years" from a start date, optionally on a day of
the month (the 31st is the last day of a shorter month; each date is computed from the start, so
after February the 31st comes back). Each scheduled date opens a period that runs to the day before
the next date: monthly on the 1st bills 1-31 January, then 1-28 February. A schedule ends on its end
date (a date after it is not made) or after `count` periods.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date, parse_pattern

from app.common.i18n import N_, _, current_language, ngettext
from app.common.logic import FieldError, ValidationFailed, parse_day
from app.documents import logic as documents_logic
from app.documents.logic import INVOICE

UNITS = ("week", "month", "quarter", "year")
# The units as the editor's choice list names them (plural: "every 2 months"), translated where shown.
UNIT_CHOICE_LABELS = {"week": N_("weeks"), "month": N_("months"), "quarter": N_("quarters"), "year": N_("years")}
MONTHS_PER_UNIT = {"month": 1, "quarter": 3, "year": 12}
ACTIONS = ("draft", "issue", "issue_and_send")
ACTION_LABELS = {"draft": N_("Make a draft"), "issue": N_("Issue it"), "issue_and_send": N_("Issue and email it")}
STATUSES = ("active", "paused")
SHOWN_STATUSES = ("active", "paused", "finished")
MAX_EVERY = 99
MAX_COUNT = 1000
# A schedule is walked date by date; no profile has more periods than this (weekly for 40 years).
MAX_PERIODS = 2100
PLACEHOLDERS = ("period", "month", "year")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# -- the schedule --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    every: int
    unit: str
    start_date: date
    day_of_month: int | None = None
    end_date: date | None = None
    count: int | None = None


@dataclass(frozen=True)
class Period:
    """One scheduled date (the invoice's date) and the service period it bills."""

    index: int          # 0 for the first period of the schedule
    start: date
    end: date


def _month_day(year: int, month: int, day: int) -> date:
    """`day` of the month, or the month's last day when it is shorter (the 31st in February)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _months_later(start: date, months: int, day: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return _month_day(index // 12, index % 12 + 1, day)


def _date_at(schedule: Schedule, step: int) -> date:
    """The `step`-th date counted from the start's own period (step 0 may lie before the start)."""
    if schedule.unit == "week":
        return schedule.start_date + timedelta(weeks=schedule.every * step)
    day = schedule.day_of_month or schedule.start_date.day
    return _months_later(schedule.start_date, step * schedule.every * MONTHS_PER_UNIT[schedule.unit], day)


def _first_step(schedule: Schedule) -> int:
    """A day of the month before the start's day begins the schedule in the next period."""
    return 0 if _date_at(schedule, 0) >= schedule.start_date else 1


def periods(schedule: Schedule) -> Iterator[Period]:
    """Every period of the schedule, in date order, up to its end date or count (or MAX_PERIODS)."""
    first = _first_step(schedule)
    limit = min(schedule.count or MAX_PERIODS, MAX_PERIODS)
    for index in range(limit):
        try:
            start = _date_at(schedule, first + index)
            end = _date_at(schedule, first + index + 1) - timedelta(days=1)
        except (OverflowError, ValueError):
            return   # past the calendar's last year: a schedule stored before its dates were bounded ends there
        if schedule.end_date is not None and start > schedule.end_date:
            return
        yield Period(index, start, end)


def due_periods(schedule: Schedule, *, after: date | None, through: date) -> list[Period]:
    """The periods whose date has come (on or before `through`) and lies after `after` (the last
    period done, None when none is): what a run makes, oldest first. Only after the last period
    done, so that a schedule changed once periods were made never bills one of them again."""
    due = []
    for period in periods(schedule):
        if period.start > through:
            break
        if after is None or period.start > after:
            due.append(period)
    return due


def next_period(schedule: Schedule, *, after: date | None) -> Period | None:
    """The first period after the last one done; None once the schedule is over."""
    for period in periods(schedule):
        if after is None or period.start > after:
            return period
    return None


def describe(schedule: Schedule) -> str:
    """"Every month on the 31st (the month's last day when shorter)", for the pages, in the reader's
    language ("Tous les 2 mois le 1er", "Jedes Quartal am 5.")."""
    every = schedule.every
    if schedule.unit == "week":
        return ngettext("Every week", "Every %(num)d weeks", every) % {"num": every}
    day = schedule.day_of_month or schedule.start_date.day
    wording = {
        "month": ngettext("Every month on the %(day)s", "Every %(num)d months on the %(day)s", every),
        "quarter": ngettext("Every quarter on the %(day)s", "Every %(num)d quarters on the %(day)s", every),
        "year": ngettext("Every year on the %(day)s", "Every %(num)d years on the %(day)s", every),
    }[schedule.unit]
    text = wording % {"num": every, "day": ordinal_day(day)}
    return _("%(schedule)s (the month's last day when shorter)", schedule=text) if day > 28 else text


def ordinal_day(day: int, language: str | None = None) -> str:
    """A day of the month as the language writes it after "on the": 1st/2nd/11th, 1er/2 (French writes only
    the first as an ordinal), 1./2. (German)."""
    language = language or current_language()
    if language == "fr":
        return "1er" if day == 1 else str(day)
    if language == "de":
        return f"{day}."
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# -- placeholders ----------------------------------------------------------------------------------

def placeholder_problems(text: str) -> list[str]:
    """The placeholders in `text` this program does not know (`{perod}`), as written."""
    return [f"{{{name}}}" for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS]


_SHORT_MONTH = re.compile(r"(?<!M)MMM(?!M)")


def period_text(start: date, end: date, locale: str) -> str:
    """A service period with the month written out, as the locale writes a date range:
    "January 1 – 31, 2027" (en), "1–31 January 2027" (en_GB), "1.–31. Januar 2027" (de).
    CLDR's range patterns abbreviate the month (yMMMd); the month is spelt out in the same pattern."""
    if start == end:
        return format_date(start, "long", locale=locale)
    formats = Locale.parse(locale).interval_formats.get("yMMMd")
    differs = "y" if start.year != end.year else "M" if start.month != end.month else "d"
    if not formats or differs not in formats:
        return f"{format_date(start, 'long', locale=locale)} – {format_date(end, 'long', locale=locale)}"
    first, second = formats[differs]
    return "".join(parse_pattern(_SHORT_MONTH.sub("MMMM", pattern)).apply(day, locale)
                   for pattern, day in ((first, start), (second, end)))


def fill_placeholders(text: str, period: Period, locale: str) -> str:
    """{period}, {month} and {year} of a line or a note, in the client's language:
    "Hosting, {period}" -> "Hosting, 1–31 January 2027" (en_GB), "1.–31. Januar 2027" (de)."""
    if "{" not in text:
        return text
    values = {
        "period": period_text(period.start, period.end, locale),
        "month": format_date(period.start, "LLLL", locale=locale),
        "year": str(period.start.year),
    }
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


# -- what a profile holds ----------------------------------------------------------------------------

@dataclass
class ProfileInput:
    """A profile's body, checked (`given` names what a partial update carries)."""

    client_id: int | None = None
    currency: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""
    terms: str = ""
    every: int = 1
    unit: str = "month"
    day_of_month: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    count: int | None = None
    action: str = "draft"
    status: str = "active"
    given: set[str] = field(default_factory=set)


PROFILE_FIELDS = ("client_id", "currency", "lines", "notes", "terms", "every", "unit", "day_of_month", "start_date",
                  "end_date", "count", "action", "status")


def _whole(value: Any, name: str, label: str, low: int, high: int, errors: list[FieldError]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.append(FieldError(name, _("%(label)s must be a whole number from %(low)s to %(high)s", label=label, low=low, high=high)))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.append(FieldError(name, _("%(label)s must be a whole number from %(low)s to %(high)s", label=label, low=low, high=high)))
        return None
    if not low <= number <= high:
        errors.append(FieldError(name, _("%(label)s must be a whole number from %(low)s to %(high)s", label=label, low=low, high=high)))
        return None
    return number


def clean_profile(data: Mapping[str, Any], *, current: Mapping[str, Any] | None = None) -> ProfileInput:
    """A profile from a body (JSON or form); `current` (the stored profile, as `stored_input` gives it)
    fills what a partial update leaves out, so the whole result is checked together (an end date
    moved before the start is refused however it came). Raises ValidationFailed naming each field."""
    errors: list[FieldError] = []
    merged: dict[str, Any] = dict(current or {})
    merged.update({k: v for k, v in data.items() if k in PROFILE_FIELDS})
    result = ProfileInput(given=set(data) & set(PROFILE_FIELDS))
    unknown = sorted(set(data) - set(PROFILE_FIELDS))
    for name in unknown:
        errors.append(FieldError(name, _("%(name)s is not a field of a recurring profile", name=name)))
    # The document part (client, currency, lines, notes, terms) is checked as an invoice's would be.
    document_body = {name: merged.get(name) for name in ("client_id", "currency", "lines", "notes", "terms")}
    try:
        document = documents_logic.clean_document(document_body, INVOICE)
        result.client_id, result.currency = document.client_id, document.currency
        result.lines, result.notes, result.terms = document.lines, document.notes, document.terms
    except ValidationFailed as failed:
        errors.extend(failed.errors)
    raw_lines = merged.get("lines")
    lines: list[Any] = raw_lines if isinstance(raw_lines, list) else []
    if not lines and not any(e.field.startswith("lines") for e in errors):
        errors.append(FieldError("lines", _("Add at least one line")))
    for index, line in enumerate(lines):
        if isinstance(line, Mapping):
            for problem in placeholder_problems(str(line.get("description") or "")):
                errors.append(FieldError(f"lines[{index}].description",
                                         _("Line %(value)s: unknown placeholder %(problem)s (use {period}, {month} or {year})", value=index + 1, problem=problem)))
    for name in ("notes", "terms"):
        for problem in placeholder_problems(str(merged.get(name) or "")):
            errors.append(FieldError(name, _("%(capitalize)s: unknown placeholder %(problem)s (use {period}, {month} or {year})", capitalize=name.capitalize(), problem=problem)))
    every = _whole(merged.get("every", 1), "every", "every (the interval)", 1, MAX_EVERY, errors)
    result.every = every or 1
    if merged.get("every") in (None, "") and "every" in data:
        errors.append(FieldError("every", _("every (the interval) must be a whole number from 1 to %(MAX_EVERY)s", MAX_EVERY=MAX_EVERY)))
    unit = str(merged.get("unit") or "month").strip()
    if unit not in UNITS:
        errors.append(FieldError("unit", _("unit must be one of: %(join)s", join=', '.join(UNITS))))
    result.unit = unit
    result.day_of_month = _whole(merged.get("day_of_month"), "day_of_month", "day_of_month", 1, 31, errors)
    if result.day_of_month is not None and unit == "week":
        errors.append(FieldError("day_of_month", _("day_of_month applies to monthly, quarterly and yearly schedules; "
                                                 "leave it empty for weeks")))
    result.start_date = parse_day(merged.get("start_date"), "start_date", errors, "Start date")   # 1900-2200
    if result.start_date is None and not any(e.field == "start_date" for e in errors):
        errors.append(FieldError("start_date", _("Start date: the first date of the schedule is required")))
    result.end_date = parse_day(merged.get("end_date"), "end_date", errors, "End date")
    if result.start_date and result.end_date and result.end_date < result.start_date:
        errors.append(FieldError("end_date", _("The end date is before the start date")))
    result.count = _whole(merged.get("count"), "count", "count (how many invoices)", 1, MAX_COUNT, errors)
    action = str(merged.get("action") or "draft").strip()
    if action not in ACTIONS:
        errors.append(FieldError("action", _("action must be one of: %(join)s", join=', '.join(ACTIONS))))
    result.action = action
    status = str(merged.get("status") or "active").strip()
    if status not in STATUSES:
        errors.append(FieldError("status", _("status must be one of: %(join)s", join=', '.join(STATUSES))))
    result.status = status
    if errors:
        raise ValidationFailed(errors)
    return result


def schedule_of(values: ProfileInput | Mapping[str, Any]) -> Schedule:
    """The schedule of a checked input or of a stored profile row."""
    if isinstance(values, ProfileInput):
        assert values.start_date is not None
        return Schedule(values.every, values.unit, values.start_date, values.day_of_month, values.end_date,
                        values.count)
    return Schedule(values["every"], values["unit"], values["start_date"], values["day_of_month"],
                    values["end_date"], values["period_count"])


def lines_as_json(lines: Sequence[Mapping[str, Any]]) -> str:
    """Checked lines as stored: decimals as exact text (clean_line's Decimals), taxes as a list."""
    return json.dumps([{"item_id": line.get("item_id"), "name": line.get("name") or "", "description": line["description"],
                        "quantity": documents_logic.decimal_text(line["quantity"]), "unit": line.get("unit", ""),
                        "unit_price": documents_logic.price_text(line["unit_price"]),
                        "discount_percent": documents_logic.decimal_text(Decimal(line.get("discount_percent") or 0)),
                        "taxes": list(line.get("taxes") or [])} for line in lines], ensure_ascii=False)


def shown_status(status: str, next_date: date | None) -> str:
    """active, paused, or finished once the schedule has no period left."""
    if next_date is None and status == "active":
        return "finished"
    return status


def invoice_lines(lines: Sequence[Mapping[str, Any]], period: Period, locale: str) -> list[dict[str, Any]]:
    """A profile's stored lines as the body of the period's invoice, placeholders filled in."""
    return [{**line, "description": fill_placeholders(line["description"], period, locale)} for line in lines]
