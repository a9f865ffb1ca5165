"""Projects and time: durations, rounding, grouping entries into invoice lines, budgets. Pure functions.

Durations are whole minutes everywhere (the API too). What was worked is stored as worked; rounding
(per project: none, or up to 6, 15 or 30 minutes) is applied to each entry when it is billed, so the
billed hours of any grouping are the sum of the rounded entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from app.catalog.logic import CODE_RE, e4_to_price, parse_tax_codes, price_to_e4
from app.common.i18n import N_, _
from app.common.logic import FieldError, Form, ValidationFailed

STATUSES = ("active", "on_hold", "done")
STATUS_LABELS = {"active": N_("Active"), "on_hold": N_("On hold"), "done": N_("Done")}
ROUNDINGS = (0, 6, 15, 30)
GROUPINGS = ("entry", "task", "day", "period")
GROUPING_LABELS = {"entry": N_("One line per entry"), "task": N_("One line per task"), "day": N_("One line per day"),
                   "period": N_("One line for the period")}
MAX_ENTRY_MINUTES = 24 * 60
LONG_TIMER_MINUTES = 10 * 60   # a timer running longer asks, at the next page view, to keep or trim it
WARN_PERCENT = 80
HOURS_PLACES = 4   # a document line's quantity has at most 4 decimals
RATE_PLACES = 4
MAX_BUDGET_MINUTES = 1_000_000 * 60

_DURATION_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)$")
_DURATION_UNITS = re.compile(r"^(?:(\d+(?:[.,]\d+)?)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$")
_DURATION_MINUTES = re.compile(r"^(\d+)\s*m(?:in)?$")
_DURATION_HOURS = re.compile(r"^(\d+(?:[.,]\d+)?)\s*h?$")
_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):?([0-5]\d)$")


# -- durations ------------------------------------------------------------------------------------

def parse_duration(text: Any) -> int:
    """A typed duration -> whole minutes: `1:30`, `1.5h`, `1,5h`, `90m`, `1h30m`, `1h 30m`; a bare
    number is hours (`2`, `0.25`), as a timesheet cell reads it. Fractions of a minute round half up."""
    if isinstance(text, bool):
        raise ValueError(_("a duration such as 1:30, 1.5h or 90m"))
    if isinstance(text, int):
        return text
    raw = str(text or "").strip().lower().replace(" ", "")
    if not raw:
        raise ValueError(_("a duration is required (1:30, 1.5h or 90m)"))
    clock = _DURATION_CLOCK.match(raw)
    if clock:
        return int(clock.group(1)) * 60 + int(clock.group(2))
    minutes_only = _DURATION_MINUTES.match(raw)
    if minutes_only:
        return int(minutes_only.group(1))
    hours_only = _DURATION_HOURS.match(raw)
    if hours_only:
        return _hours_to_minutes(hours_only.group(1))
    units = _DURATION_UNITS.match(raw)
    if units and (units.group(1) or units.group(2)):
        return _hours_to_minutes(units.group(1) or "0") + int(units.group(2) or 0)
    raise ValueError(f"{str(text).strip()!r} is not a duration (write 1:30, 1.5h or 90m)")


def _hours_to_minutes(hours: str) -> int:
    value = Decimal(hours.replace(",", ".")) * 60
    if value > MAX_BUDGET_MINUTES:
        raise ValueError(_("the duration is too long (at most 1,000,000 hours)"))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_minutes(minutes: int | None) -> str:
    """Minutes -> `h:mm` (the timesheet's and the pages' form): 90 -> `1:30`, 0 -> `0:00`."""
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def hours_quantity(minutes: int) -> Decimal:
    """Minutes as the hours of an invoice line: exact to the 4 decimals a line's quantity has."""
    return (Decimal(minutes) / 60).quantize(Decimal(1).scaleb(-HOURS_PLACES), rounding=ROUND_HALF_UP)


def duration_problem(minutes: int) -> str | None:
    if minutes <= 0:
        return _("The duration must be above zero")
    if minutes > MAX_ENTRY_MINUTES:
        return _("One entry cannot be longer than 24 hours; split it over the days worked")
    return None


def round_minutes(minutes: int, rounding: int) -> int:
    """An entry's minutes as billed: rounded up to the project's step (0: as worked)."""
    if rounding <= 0:
        return minutes
    return -(-minutes // rounding) * rounding


def parse_clock(text: str) -> tuple[int, int]:
    """`9:05`, `09:05` or `0905` -> (9, 5)."""
    match = _CLOCK_TIME.match(str(text or "").strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day (write 09:30)")
    return int(match.group(1)), int(match.group(2))


def minutes_between(started_at: datetime, ended_at: datetime) -> int:
    """Whole minutes between two instants, half a minute and more counting as one."""
    seconds = (ended_at - started_at).total_seconds()
    return int(Decimal(seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Two spans of time share more than an instant (one ending at 10:00 and one starting then do not)."""
    return a_start < b_end and b_start < a_end


def week_of(day: date) -> list[date]:
    """The Monday-to-Sunday week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=offset) for offset in range(7)]


def long_running(elapsed_minutes: int, kept: bool) -> bool:
    return elapsed_minutes > LONG_TIMER_MINUTES and not kept


# -- money ----------------------------------------------------------------------------------------

def rate_of(task_rate_e4: int | None, project_rate_e4: int | None, client_rate_e4: int | None,
            business_rate_e4: int | None) -> int:
    """The hourly rate an entry bills at: its task's, else its project's, else the client's default,
    else the business's; 0 when none is set."""
    for rate in (task_rate_e4, project_rate_e4, client_rate_e4, business_rate_e4):
        if rate is not None:
            return rate
    return 0


def amount_e4(minutes: int, rate_e4: int) -> int:
    """Hours (to the 4 decimals of a line) x rate, exact to 1/10,000, rounded half up."""
    value = hours_quantity(minutes) * Decimal(rate_e4)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(value_e4: int | None) -> Decimal | None:
    return None if value_e4 is None else e4_to_price(value_e4)


def to_e4(amount: Decimal) -> int:
    """An amount of money (at most 4 decimals, as every currency's minor units are) as 1/10,000."""
    return price_to_e4(amount)


# -- expenses on a project ----------------------------------------------------------------------

def expense_link_problem(expense_client: int | None, expense_client_name: str | None,
                         project_client: int) -> str | None:
    """Why an expense may not go on a project: it is billable to another client. An expense without a
    client is the business's own cost and may go on any project."""
    if expense_client is not None and expense_client != project_client:
        return (_("This expense is billable to %(value)s: choose one of that client's projects", value=expense_client_name or 'another client'))
    return None


def expense_billable_on(expense: Mapping[str, Any], project: Mapping[str, Any], date_from: date,
                        date_to: date) -> bool:
    """Whether time to invoice bills this expense of the project for the period: billable to the project's
    client, recorded (not an import still to check), on no invoice, in the project's currency, in the period."""
    return (bool(expense["billable"]) and expense["status"] == "recorded" and expense["billed_state"] == "unbilled"
            and expense["client"] == project["client"] and expense["currency"] == project["currency"]
            and date_from <= expense["expense_date"] <= date_to)


@dataclass(frozen=True)
class Budget:
    used: int
    budget: int | None
    percent: int | None
    level: str   # none | ok | warn | over

    @property
    def left(self) -> int | None:
        return None if self.budget is None else self.budget - self.used


def budget_state(used: int, budget: int | None) -> Budget:
    """How much of a budget (hours in minutes, or money in 1/10,000) is used: a warning from 80 %,
    over from 100 %."""
    if budget is None or budget <= 0:
        return Budget(used, budget, None, "none")
    percent = int(Decimal(used * 100) / Decimal(budget))
    level = "over" if used >= budget else "warn" if percent >= WARN_PERCENT else "ok"
    return Budget(used, budget, percent, level)


def fixed_price_part(fixed_price_e4: int, percent: Decimal) -> int:
    return int((Decimal(fixed_price_e4) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- grouping entries into invoice lines ----------------------------------------------------------

@dataclass(frozen=True)
class Billable:
    """An unbilled billable entry as billing sees it."""

    id: int
    entry_date: date
    minutes: int
    rate_e4: int
    task: str = ""
    description: str = ""


@dataclass
class BillLine:
    description: str
    minutes: int
    rate_e4: int
    entry_ids: list[int] = field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return hours_quantity(self.minutes)

    @property
    def amount_e4(self) -> int:
        return amount_e4(self.minutes, self.rate_e4)


def _locale(language: str) -> str:
    try:
        return str(Locale.parse((language or "en").replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        return "en"


def describe_day(day: date, language: str = "en") -> str:
    """A day on an invoice line, in the client's language: `2 Nov 2026`, `2 nov. 2026`."""
    return format_date(day, "d MMM y", locale=_locale(language))


def describe_span(first: date, last: date, language: str = "en") -> str:
    """A period on an invoice line: `2–20 Nov 2026`, `9 Jun – 31 Jul 2026`, across years both in full."""
    if first == last:
        return describe_day(first, language)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{describe_day(last, language)}"
    if first.year == last.year:
        return f"{format_date(first, 'd MMM', locale=_locale(language))} – {describe_day(last, language)}"
    return f"{describe_day(first, language)} – {describe_day(last, language)}"


def group_lines(entries: Sequence[Billable], group_by: str, rounding: int, *, project_name: str,
                language: str = "en") -> list[BillLine]:
    """The invoice lines for `entries`: one per entry, per task, per day or one for the period, each
    entry's minutes rounded first (so any grouping bills the same hours). Entries at different rates
    never share a line: a group splits by rate."""
    if group_by not in GROUPINGS:
        raise ValueError(_("group_by must be one of: %(join)s", join=', '.join(GROUPINGS)))
    ordered = sorted(entries, key=lambda e: (e.entry_date, e.id))
    groups: dict[tuple[Any, ...], list[Billable]] = {}
    for entry in ordered:
        key: tuple[Any, ...]
        if group_by == "entry":
            key = (entry.id,)
        elif group_by == "task":
            key = (entry.task, entry.rate_e4)
        elif group_by == "day":
            key = (entry.entry_date, entry.rate_e4)
        else:
            key = (entry.rate_e4,)
        groups.setdefault(key, []).append(entry)
    lines = []
    for members in groups.values():
        minutes = sum(round_minutes(e.minutes, rounding) for e in members)
        first, last = members[0].entry_date, members[-1].entry_date
        if group_by == "entry":
            entry = members[0]
            words = ": ".join(part for part in (entry.task, entry.description) if part) or project_name
            text = f"{describe_day(entry.entry_date, language)} · {words}"
        elif group_by == "task":
            text = f"{members[0].task or project_name} ({describe_span(first, last, language)})"
        elif group_by == "day":
            tasks = ", ".join(dict.fromkeys(e.task for e in members if e.task)) or project_name
            text = f"{describe_day(first, language)} · {tasks}"
        else:
            text = f"{project_name} ({describe_span(first, last, language)})"
        lines.append(BillLine(description=text[:1000], minutes=minutes, rate_e4=members[0].rate_e4,
                              entry_ids=[e.id for e in members]))
    return lines


# -- what arrives ---------------------------------------------------------------------------------

def _optional_money(form: Form, name: str, label: str) -> None:
    if form.partial and not form.present(name):
        return
    if form.raw(name) in (None, ""):
        form.values[name] = None
        return
    form.decimal(name, minimum=Decimal(0), max_places=RATE_PLACES, label=label)


def clean_project(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    form = Form(data, partial=partial)
    form.identifier("client_id", label=_("Client"))
    form.text("name", required=True, max_length=200, one_line=True)
    form.text("code", required=True, max_length=20)
    if form.values.get("code") and not CODE_RE.match(form.values["code"]):
        form.values.pop("code")
        form.error("code", _("Code may use letters, digits, '.', '_' and '-' (at most 20)"))
    form.choice("status", STATUSES, default="active")
    _optional_money(form, "hourly_rate", "Hourly rate")
    _optional_money(form, "budget_amount", "Budget (money)")
    _optional_money(form, "fixed_price", "Fixed price")
    if not (partial and not form.present("budget_hours")):
        raw = form.raw("budget_hours")
        if raw in (None, ""):
            form.values["budget_minutes"] = None
        else:
            try:
                minutes = parse_duration(raw)
            except ValueError as error:
                form.error("budget_hours", _("Budget (hours): %(error)s", error=error))
            else:
                if minutes <= 0 or minutes > MAX_BUDGET_MINUTES:
                    form.error("budget_hours", _("Budget (hours) must be above zero and at most 1,000,000 hours"))
                else:
                    form.values["budget_minutes"] = minutes
    if not (partial and not form.present("rounding_minutes")):
        form.integer("rounding_minutes", minimum=0, maximum=30, label=_("Rounding"), default=0)
        if form.values.get("rounding_minutes") not in (None, *ROUNDINGS):
            form.values.pop("rounding_minutes")
            form.error("rounding_minutes", _("Rounding must be 0 (none), 6, 15 or 30 minutes"))
    if not (partial and not form.present("taxes")):
        form.values["tax_codes"] = " ".join(parse_tax_codes(form.raw("taxes")))
    form.text("notes", max_length=2000)
    values = form.raise_if_invalid()
    if "client_id" in values:
        values["client"] = values.pop("client_id")
    for name in ("hourly_rate", "budget_amount", "fixed_price"):
        if name in values:
            value = values.pop(name)
            values[f"{name}_e4"] = None if value is None else price_to_e4(value)
    return values


def clean_task(data: Mapping[str, Any]) -> dict[str, Any]:
    form = Form(data)
    form.text("name", required=True, max_length=100, one_line=True, label=_("Task"))
    _optional_money(form, "hourly_rate", "Task rate")
    values = form.raise_if_invalid()
    rate = values.pop("hourly_rate", None)
    values["hourly_rate_e4"] = None if rate is None else price_to_e4(rate)
    return values


def clean_entry(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The plain fields of an entry (project, task name, description, date, billable, minutes as typed).
    Times are resolved by the service, which knows the business's time zone."""
    form = Form(data, partial=partial)
    form.identifier("project_id", label=_("Project"))
    form.text("task", max_length=100, one_line=True)
    form.text("description", max_length=2000)
    form.date("date", required=not partial, label=_("Date"))
    form.boolean("billable", default=True)
    if form.present("minutes") and form.raw("minutes") not in (None, ""):
        raw = form.raw("minutes")
        try:
            minutes = raw if isinstance(raw, int) and not isinstance(raw, bool) else parse_duration(raw)
        except ValueError as error:
            form.error("minutes", _("Duration: %(error)s", error=error))
        else:
            problem = duration_problem(minutes)
            if problem:
                form.error("minutes", problem)
            else:
                form.values["minutes"] = minutes
    return form.raise_if_invalid()


def check_times(started_at: datetime | None, ended_at: datetime | None, minutes: int | None,
                errors: list[FieldError]) -> int | None:
    """The minutes of an entry from its times or its duration; a problem is named on its field."""
    if (started_at is None) != (ended_at is None):
        name = "ended_at" if started_at is not None else "started_at"
        errors.append(FieldError(name, _("Give both the start and the end, or a duration")))
        return None
    if started_at is not None and ended_at is not None:
        if ended_at <= started_at:
            errors.append(FieldError("ended_at", _("The end must be after the start")))
            return None
        worked = minutes_between(started_at, ended_at)
        problem = duration_problem(worked)
        if problem:
            errors.append(FieldError("ended_at", problem))
            return None
        return worked
    if minutes is None:
        errors.append(FieldError("minutes", _("Give a duration (1:30, 1.5h, 90m) or the start and end")))
    return minutes


def parse_group_by(value: Any) -> str:
    group_by = str(value or "task").strip()
    if group_by not in GROUPINGS:
        raise ValidationFailed([FieldError("group_by", _("group_by must be one of: %(join)s", join=', '.join(GROUPINGS)))])
    return group_by


def parse_percent(value: Any) -> Decimal:
    """The share of a fixed price billed: 1 to 100 %, 2 decimals."""
    raw = str(value if value not in (None, "") else "100").strip().rstrip("%").strip()
    try:
        percent = Decimal(raw)
    except ArithmeticError:
        raise ValidationFailed([FieldError("percent", _("Percent: %(raw)r is not a number", raw=raw))]) from None
    if not percent.is_finite() or percent <= 0 or percent > 100 or percent != percent.quantize(Decimal("0.01")):
        raise ValidationFailed([FieldError("percent", _("Percent must be above 0 and at most 100 (2 decimals)"))])
    return percent


def entries_csv_rows(rows: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    return [[row["date"], row["project"], row["client"], row["task"], row["description"], row["minutes"],
             format_minutes(row["minutes"]), "yes" if row["billable"] else "no", row["billed"]] for row in rows]


TIME_CSV_COLUMNS = (
    ("date", "the day worked (YYYY-MM-DD)"),
    ("project", "the project's name"),
    ("client", "the project's client"),
    ("task", "the task, empty when none"),
    ("description", "what was done"),
    ("minutes", "the time worked, in whole minutes, as logged (never rounded)"),
    ("hours", "the same as h:mm"),
    ("billable", "yes or no"),
    ("invoice", "the number of the invoice it was billed on, 'draft' while on a draft, empty when unbilled"),
)


def time_csv_readme(rows: int) -> str:
    """The README.txt section of time_entries.csv (the accountant's package, when time is included)."""
    title = f"time_entries.csv ({rows} rows): the time logged in the period, one row per entry"
    width = max(len(name) for name, _title in TIME_CSV_COLUMNS)
    lines = [title, "-" * min(len(title), 100), *(f"  {name.ljust(width)}  {meaning}" for name, meaning in
                                                     TIME_CSV_COLUMNS), ""]
    return "\r\n".join(lines) + "\r\n"
