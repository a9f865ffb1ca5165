"""Recurring invoices: profiles, and the run that makes each period's invoice exactly once.

The run (`run_due`) is what the server does at start and every hour (`Scheduler`, as "system"
and the job's name), what `counterfoil recurring run` does, and what POST /api/v1/recurring/run
does. Every profile's periods whose date has come and that are not done yet are made oldest first,
across profiles (so numbers follow dates), each in one transaction: the invoice, its number if the
profile issues, and the run row that says the period is done. The unique (profile, period_start)
index on that row, checked again inside the writer, makes a second run or a second process racing
this one make nothing twice; a process killed in the middle leaves the whole period or none of it.

Emailing (issue_and_send) comes after: each period made to be sent is queued through the outbox
with its PDF in one transaction with the note on its run row, so a period is queued once too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from piccolo.query.functions.aggregate import Count, Max

from app.audit import service as audit_service
from app.background import Periodic
from app.catalog import service as catalog_service
from app.catalog.tables import Item
from app.clients import service as clients_service
from app.clients.tables import Client
from app.common.i18n import _
from app.common.logic import Conflict, FieldError, NotFound, ValidationFailed, storable_id
from app.config import Config
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.documents import logic as documents_logic
from app.documents import service as documents_service
from app.documents.logic import INVOICE
from app.documents.records import DocumentView
from app.mail import service as mail_service
from app.recurring import logic
from app.recurring.logic import Period
from app.recurring.tables import RecurringProfile, RecurringRun
from app.render import logic as render_logic
from app.settings import service as settings_service
from app.settings.service import today
from app.taxes import service as taxes_service

log = logging.getLogger("counterfoil.recurring")
JOB = "recurring invoices"
SCHEDULER_FIRST_CHECK_S = 15.0
SCHEDULER_INTERVAL_S = 3600.0
SCHEDULER_AUTOSTART = True
# A run may look ahead (bill a period early), not further than this.
MAX_AHEAD_DAYS = 366


def _now() -> datetime:
    return datetime.now(UTC)


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProfileView:
    id: int
    client_id: int
    client_name: str
    currency: str
    lines: list[dict[str, Any]]
    notes: str
    terms: str
    every: int
    unit: str
    day_of_month: int | None
    start_date: date
    end_date: date | None
    count: int | None
    action: str
    status: str              # active | paused | finished
    paused_on: date | None
    next_date: date | None   # None when paused or finished
    next_period_end: date | None
    made: int                # periods made (skipped ones not counted)
    last_date: date | None   # the last period done (made or skipped)
    subtotal: Decimal        # one period's amount before taxes
    total: Decimal           # ...and with them
    schedule_text: str
    created_at: datetime
    updated_at: datetime
    schedule: logic.Schedule

    def upcoming(self, how_many: int = 3) -> list[Period]:
        """The next periods to make (none while paused)."""
        if self.status != "active":
            return []
        coming = []
        for period in logic.periods(self.schedule):
            if self.last_date is None or period.start > self.last_date:
                coming.append(period)
                if len(coming) == how_many:
                    break
        return coming


@dataclass(frozen=True)
class RunView:
    """One period of a profile, done: its invoice (None when skipped or its draft was deleted)."""

    id: int
    profile_id: int
    period_start: date
    period_end: date
    outcome: str
    problem: str
    send_problem: str
    message_id: int | None
    document: DocumentView | None


@dataclass
class RunReport:
    """What one run made, and what it could not."""

    as_of: date
    made: list[DocumentView] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    queued: int = 0


def _profile_query() -> Any:
    return RecurringProfile.select(*RecurringProfile.all_columns(),
                                   RecurringProfile.client.name.as_alias("client_name"))


async def _run_facts(profile_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per profile: the last period done and how many were made."""
    if not profile_ids:
        return {}
    rows = await RecurringRun.select(RecurringRun.profile, Max(RecurringRun.period_start, alias="last"),
                                     Count(RecurringRun.document, alias="made")).where(
        RecurringRun.profile.is_in(list(profile_ids))).group_by(RecurringRun.profile)
    return {row["profile"]: row for row in rows}


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def _views(rows: Sequence[Mapping[str, Any]]) -> list[ProfileView]:
    facts = await _run_facts([row["id"] for row in rows])
    rates = await taxes_service.rates_by_code()
    views = []
    for row in rows:
        fact = facts.get(row["id"], {})
        last = _as_date(fact.get("last"))
        schedule = logic.schedule_of(row)
        upcoming = logic.next_period(schedule, after=last)
        lines = json.loads(row["lines_json"] or "[]")
        try:
            totals = documents_logic.compute_totals([documents_logic.as_line(documents_logic.clean_line(line, i, []))
                                                     for i, line in enumerate(lines)],
                                                    rates, row["currency"], Decimal(0))
            subtotal, total = totals.subtotal, totals.total
        except (KeyError, ValueError, ArithmeticError):   # a tax code deleted since: the run will say so
            subtotal = total = Decimal(0)
        status = logic.shown_status(row["status"], upcoming.start if upcoming else None)
        views.append(ProfileView(
            id=row["id"], client_id=row["client"], client_name=row.get("client_name") or "", currency=row["currency"],
            lines=lines, notes=row["notes"], terms=row["terms"], every=row["every"], unit=row["unit"],
            day_of_month=row["day_of_month"], start_date=row["start_date"], end_date=row["end_date"],
            count=row["period_count"], action=row["action"], status=status, paused_on=row["paused_on"],
            next_date=upcoming.start if upcoming and status == "active" else None,
            next_period_end=upcoming.end if upcoming and status == "active" else None,
            made=fact.get("made") or 0, last_date=last, subtotal=subtotal, total=total,
            schedule_text=logic.describe(schedule), created_at=row["created_at"], updated_at=row["updated_at"],
            schedule=schedule))
    return views


async def get_profile(profile_id: int) -> ProfileView:
    row = await _profile_query().where(RecurringProfile.id == profile_id).first() if storable_id(profile_id) else None
    if row is None:
        raise NotFound(_("Recurring profile %(profile_id)s", profile_id=profile_id))
    return (await _views([row]))[0]


async def list_profiles(*, status: str = "", client_id: int | None = None) -> list[ProfileView]:
    """Every profile (a business has tens, not thousands), the next to run first; `status` filters on
    the shown status (active, paused, finished)."""
    if status and status not in logic.SHOWN_STATUSES:
        raise ValidationFailed([FieldError("status", _("status must be one of: %(join)s", join=', '.join(logic.SHOWN_STATUSES)))])
    query = _profile_query()
    if client_id is not None:
        query = query.where(RecurringProfile.client == client_id)
    views = await _views(await query.order_by(RecurringProfile.id))
    if status:
        views = [view for view in views if view.status == status]
    return sorted(views, key=lambda v: (v.next_date is None, v.next_date or date.max, v.client_name.lower(), v.id))


async def runs(profile_id: int) -> list[RunView]:
    """The periods a profile has done, newest first, with their invoices."""
    await get_profile(profile_id)
    rows = await RecurringRun.select().where(RecurringRun.profile == profile_id).order_by(
        RecurringRun.period_start, ascending=False)
    documents = {doc.id: doc for doc in await documents_service.get_documents(
        [row["document"] for row in rows if row["document"] is not None], INVOICE)}
    return [RunView(id=row["id"], profile_id=profile_id, period_start=row["period_start"],
                    period_end=row["period_end"], outcome=row["outcome"], problem=row["problem"],
                    send_problem=row["send_problem"], message_id=row["message"],
                    document=documents.get(row["document"])) for row in rows]


async def link_of(document_id: int) -> RunView | None:
    """The profile and period an invoice was made for (the invoice page and the documents API)."""
    row = await RecurringRun.select().where(RecurringRun.document == document_id).first() \
        if storable_id(document_id) else None
    if row is None:
        return None
    return RunView(id=row["id"], profile_id=row["profile"], period_start=row["period_start"],
                   period_end=row["period_end"], outcome=row["outcome"], problem=row["problem"],
                   send_problem=row["send_problem"], message_id=row["message"], document=None)


async def links_of(document_ids: Sequence[int]) -> dict[int, RunView]:
    ids = [i for i in document_ids if storable_id(i)]
    if not ids:
        return {}
    rows = await RecurringRun.select().where(RecurringRun.document.is_in(ids))
    return {row["document"]: RunView(id=row["id"], profile_id=row["profile"], period_start=row["period_start"],
                                     period_end=row["period_end"], outcome=row["outcome"], problem=row["problem"],
                                     send_problem=row["send_problem"], message_id=row["message"], document=None)
            for row in rows}


# -- writing profiles -------------------------------------------------------------------------------

def _stored_input(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored profile as a body, for a partial update to be checked whole."""
    return {"client_id": row["client"], "currency": row["currency"], "lines": json.loads(row["lines_json"] or "[]"),
            "notes": row["notes"], "terms": row["terms"], "every": row["every"], "unit": row["unit"],
            "day_of_month": row["day_of_month"], "start_date": row["start_date"], "end_date": row["end_date"],
            "count": row["period_count"], "action": row["action"], "status": row["status"]}


async def _checked(data: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> logic.ProfileInput:
    """The body checked whole, and what it refers to: the client, the catalogue items, the tax codes."""
    data = dict(data)
    if isinstance(data.get("lines"), list):
        client_id = data.get("client_id") if data.get("client_id") not in (None, "") else (current or {}).get("client_id")
        data["lines"] = await documents_service.fill_from_items(list(data["lines"]), client_id)
    values = logic.clean_profile(data, current=current)
    errors: list[FieldError] = []
    client = await Client.select(Client.id, Client.currency, Client.status).where(
        Client.id == values.client_id).first()
    if client is None:
        errors.append(FieldError("client_id", _("Unknown client %(client_id)s", client_id=values.client_id)))
    elif client["status"] != "active" and "client_id" in values.given:
        errors.append(FieldError("client_id", _("The client is archived; restore the client first")))
    rates = await taxes_service.rates_by_code()
    item_ids = {line["item_id"] for line in values.lines if line.get("item_id")}
    known = {row["id"] for row in await Item.select(Item.id).where(Item.id.is_in(list(item_ids)))} if item_ids else set()
    for index, line in enumerate(values.lines):
        if line.get("item_id") and line["item_id"] not in known:
            errors.append(FieldError(f"lines[{index}].item_id",
                                     _("Line %(value)s: unknown catalogue item %(item_id)s", value=index + 1, item_id=line['item_id'])))
        for code in line["taxes"]:
            if code not in rates:
                errors.append(FieldError(f"lines[{index}].taxes", _("Line %(number)s: unknown tax code %(code)r",
                                                                             number=index + 1, code=code)))
    if errors:
        raise ValidationFailed(errors)
    if values.currency is None:
        settings = await settings_service.get_settings()
        values.currency = (client or {}).get("currency") or settings["default_currency"]
    return values


def _columns(values: logic.ProfileInput) -> dict[str, Any]:
    return {"client": values.client_id, "currency": values.currency, "lines_json": logic.lines_as_json(values.lines),
            "notes": values.notes, "terms": values.terms, "every": values.every, "unit": values.unit,
            "day_of_month": values.day_of_month, "start_date": values.start_date, "end_date": values.end_date,
            "period_count": values.count, "action": values.action}


async def create_profile(data: Mapping[str, Any], *, actor: int | None = None) -> ProfileView:
    values = await _checked(data)
    now = _now()
    async with write_transaction():
        row = RecurringProfile(**_columns(values), status=values.status,
                               paused_on=await today() if values.status == "paused" else None,
                               created_at=now, updated_at=now, created_by=actor)
        await row.save()
    return await get_profile(row.id)


async def update_profile(profile_id: int, data: Mapping[str, Any], *, actor: int | None = None) -> ProfileView:
    """Change a profile (what is given). Periods already done stay as they are: the next period is
    the first of the new schedule after the last one done. Pausing and resuming have their own calls."""
    async with write_transaction():
        current = await RecurringProfile.select().where(RecurringProfile.id == profile_id).first() \
            if storable_id(profile_id) else None
        if current is None:
            raise NotFound(_("Recurring profile %(profile_id)s", profile_id=profile_id))
        if "status" in data and data["status"] != current["status"]:
            raise ValidationFailed([FieldError("status", _("Pause or resume the profile with its own action "
                                                         "(POST .../pause, .../resume)"))])
        values = await _checked(data, _stored_input(current))
        if values.client_id != current["client"] and await RecurringRun.exists().where(
                RecurringRun.profile == profile_id):
            # Its invoices so far are the first client's: the profile stays with them (check proves it).
            raise ValidationFailed([FieldError("client_id", _("This profile has made invoices for its client; set up "
                                                            "a new recurring invoice for another client"))])
        await RecurringProfile.update(column_values({**_columns(values), "updated_at": _now()})).where(
            RecurringProfile.id == profile_id)
    return await get_profile(profile_id)


async def delete_profile(profile_id: int) -> None:
    """Only a profile that has made nothing: one that has keeps the link from its invoices (end it instead)."""
    async with write_transaction():
        row = await RecurringProfile.select(RecurringProfile.id).where(RecurringProfile.id == profile_id).first() \
            if storable_id(profile_id) else None
        if row is None:
            raise NotFound(_("Recurring profile %(profile_id)s", profile_id=profile_id))
        done = await RecurringRun.count().where(RecurringRun.profile == profile_id)
        if done:
            raise Conflict(_("This profile has done %(done)s period(s) and its invoices refer to it; set an end date or pause it instead.", done=done))
        await RecurringProfile.delete().where(RecurringProfile.id == profile_id)


async def pause_profile(profile_id: int, *, actor: int | None = None) -> ProfileView:
    """From today, no period is made; the periods that come while it is paused are skipped at resume
    (unless the resume asks to catch up)."""
    async with write_transaction():
        row = await RecurringProfile.select().where(RecurringProfile.id == profile_id).first() \
            if storable_id(profile_id) else None
        if row is None:
            raise NotFound(_("Recurring profile %(profile_id)s", profile_id=profile_id))
        if row["status"] == "paused":
            raise Conflict(_("The profile is paused already."))
        await RecurringProfile.update({RecurringProfile.status: "paused", RecurringProfile.paused_on: await today(),
                                       RecurringProfile.updated_at: _now()}).where(RecurringProfile.id == profile_id)
    return await get_profile(profile_id)


async def resume_profile(profile_id: int, *, catch_up: bool = False, actor: int | None = None) -> ProfileView:
    """Active again. The periods whose date came while it was paused are recorded as skipped (never
    made later), unless `catch_up`: then the next run makes them, oldest first."""
    async with write_transaction():
        row = await RecurringProfile.select().where(RecurringProfile.id == profile_id).first() \
            if storable_id(profile_id) else None
        if row is None:
            raise NotFound(_("Recurring profile %(profile_id)s", profile_id=profile_id))
        if row["status"] != "paused":
            raise Conflict(_("The profile is not paused."))
        if not catch_up:
            last = _as_date((await _run_facts([profile_id])).get(profile_id, {}).get("last"))
            now = _now()
            for period in logic.due_periods(logic.schedule_of(row), after=last, through=await today()):
                await RecurringRun.insert(RecurringRun(profile=profile_id, period_start=period.start,
                                                       period_end=period.end, outcome="skipped", created_at=now))
        await RecurringProfile.update({RecurringProfile.status: "active", RecurringProfile.paused_on: None,
                                       RecurringProfile.updated_at: _now()}).where(RecurringProfile.id == profile_id)
    return await get_profile(profile_id)


# -- the run --------------------------------------------------------------------------------------

async def _locale_of(client_id: int) -> str:
    client = await Client.select(Client.language, Client.country).where(Client.id == client_id).first() or {}
    settings = await settings_service.get_settings()
    return render_logic.document_locale(client.get("language"), client.get("country"),
                                        settings.get("default_locale"))


async def _make_document(profile: Mapping[str, Any], period: Period, actor: int | None) -> DocumentView:
    locale = await _locale_of(profile["client"])
    body: dict[str, Any] = {
        "client_id": profile["client"], "currency": profile["currency"], "issue_date": period.start.isoformat(),
        "lines": logic.invoice_lines(json.loads(profile["lines_json"] or "[]"), period, locale),
        "notes": logic.fill_placeholders(profile["notes"], period, locale),
        "terms": logic.fill_placeholders(profile["terms"], period, locale),
        # The date is the schedule's: a period caught up more than a year late is still dated on its day.
        "confirm_date": True,
    }
    return await documents_service.create_document(INVOICE, body, actor=actor)


async def _claim(profile_id: int, period: Period) -> dict[str, Any] | None:
    """Inside the writer: the profile, if it is still active and the period still to do."""
    profile = await RecurringProfile.select().where(RecurringProfile.id == profile_id).first()
    if profile is None or profile["status"] != "active":
        return None
    if await RecurringRun.exists().where((RecurringRun.profile == profile_id)
                                         & (RecurringRun.period_start == period.start)):
        return None   # another run (or process) has done it
    return profile


async def _make_period(profile_id: int, period: Period, actor: int | None) -> tuple[int | None, str]:
    """Make one period: (the invoice's id or None if nothing was to do, the problem if any)."""
    problem = ""
    try:
        async with write_transaction():
            profile = await _claim(profile_id, period)
            if profile is None:
                return None, ""
            document = await _make_document(profile, period, actor)
            if profile["action"] != "draft":
                # The documents service's own issue: number, freeze, ledger, in this transaction. Dated on
                # the schedule's day, on purpose (numbers follow dates: a day before the series' latest is
                # refused, and the period becomes a draft that says so).
                await documents_service.issue(document.id, actor=actor, issue_date=period.start,
                                              backdate=period.start < await settings_service.today())
            await RecurringRun.insert(RecurringRun(
                profile=profile_id, period_start=period.start, period_end=period.end, outcome=profile["action"],
                document=document.id, created_at=_now()))
            return document.id, ""
    except (Conflict, ValidationFailed) as refused:
        problem = refused.detail if isinstance(refused, Conflict) else "; ".join(e.message for e in refused.errors)
    # Issuing was refused (or the invoice could not be made at all): all of it was rolled back.
    # The period is still made, as a draft that says why, for the user to correct and issue.
    try:
        async with write_transaction():
            profile = await _claim(profile_id, period)
            if profile is None:
                return None, ""
            document = await _make_document(profile, period, actor)
            await RecurringRun.insert(RecurringRun(
                profile=profile_id, period_start=period.start, period_end=period.end, outcome="draft",
                document=document.id, problem=problem[:2000], created_at=_now()))
            return document.id, problem
    except (Conflict, ValidationFailed) as refused:
        detail = refused.detail if isinstance(refused, Conflict) else "; ".join(e.message for e in refused.errors)
        return None, detail


async def _send_pending(actor: int | None, data_dir: Path | None, report: RunReport) -> None:
    """Queue the invoices made to be emailed and not queued yet (this run's, or a run cut short's)."""
    pending = await RecurringRun.select(RecurringRun.id, RecurringRun.document).where(
        (RecurringRun.outcome == "issue_and_send") & RecurringRun.message.is_null()
        & (RecurringRun.send_problem == "") & RecurringRun.document.is_not_null()).order_by(RecurringRun.period_start)
    for run in pending:
        try:
            async with write_transaction():
                again = await RecurringRun.select(RecurringRun.message).where(RecurringRun.id == run["id"]).first()
                if again is None or again["message"] is not None:
                    continue
                message = await mail_service.send_document(run["document"], {}, doc_type=INVOICE, actor=actor,
                                                           data_dir=data_dir)
                await RecurringRun.update({RecurringRun.message: message["id"]}).where(RecurringRun.id == run["id"])
                report.queued += 1
        except (Conflict, ValidationFailed, NotFound) as refused:
            detail = refused.detail if not isinstance(refused, ValidationFailed) else \
                "; ".join(e.message for e in refused.errors)
            report.problems.append(f"Invoice #{run['document']} was not emailed: {detail}")
            async with write_transaction():
                await RecurringRun.update({RecurringRun.send_problem: detail[:2000]}).where(
                    RecurringRun.id == run["id"])
    if report.queued:
        mail_service.wake()   # after the commit: the outbox sees the messages now


async def check_as_of(as_of: date | None) -> date:
    today_ = await today()
    if as_of is None:
        return today_
    if as_of > today_ + timedelta(days=MAX_AHEAD_DAYS):
        raise ValidationFailed([FieldError("as_of", _("as_of is more than a year after today (%(isoformat)s)", isoformat=today_.isoformat()))])
    return as_of


async def run_due(as_of: date | None = None, *, actor: int | None = None, data_dir: Path | None = None) -> RunReport:
    """Make every period whose date has come (on or before `as_of`, today by default) and that is not
    done yet, oldest first across all profiles; then queue those to be emailed."""
    as_of = await check_as_of(as_of)
    report = RunReport(as_of=as_of)
    profiles = await RecurringProfile.select().where(RecurringProfile.status == "active")
    facts = await _run_facts([row["id"] for row in profiles])
    due: list[tuple[date, int, Period]] = []
    for profile in profiles:
        last = _as_date(facts.get(profile["id"], {}).get("last"))
        for period in logic.due_periods(logic.schedule_of(profile), after=last, through=as_of):
            due.append((period.start, profile["id"], period))
    due.sort(key=lambda entry: (entry[0], entry[1]))
    made_ids = []
    for _due, profile_id, period in due:
        document_id, problem = await _make_period(profile_id, period, actor)
        if document_id is not None:
            made_ids.append(document_id)
        if problem:
            report.problems.append(f"Profile {profile_id}, {period.start.isoformat()}: {problem}")
            log.warning("recurring profile %s, period %s: %s", profile_id, period.start, problem)
    report.made = await documents_service.get_documents(made_ids, INVOICE)
    await _send_pending(actor, data_dir, report)
    if report.made:
        log.info("recurring invoices: %s made (as of %s)", len(report.made), as_of)
    return report


class Scheduler:
    """Runs the profiles at start (after a short pause) and every hour: a program closed on the 1st
    makes the 1st's invoice when it next starts."""

    def __init__(self, config: Config):
        self.config = config
        self.periodic = Periodic("the recurring invoices schedule",
                                 lambda: audit_service.as_system(JOB, run_due(data_dir=config.data_dir)),
                                 first_delay_s=SCHEDULER_FIRST_CHECK_S, interval_s=SCHEDULER_INTERVAL_S)

    async def start(self) -> None:
        if SCHEDULER_AUTOSTART:
            self.periodic.start()

    async def stop(self) -> None:
        await self.periodic.stop()


# -- what refers to clients and items ------------------------------------------------------------------

async def profiles_of_client(client_id: int) -> int:
    return await RecurringProfile.count().where(RecurringProfile.client == client_id)


async def profiles_of_item(item_id: int) -> int:
    rows = await RecurringProfile.raw(
        "SELECT count(*) AS n FROM recurring_profile, json_each(recurring_profile.lines_json) "
        "WHERE json_extract(json_each.value, '$.item_id') = {}", item_id)
    return rows[0]["n"] if rows else 0


clients_service.register_usage_check(profiles_of_client)
catalog_service.register_usage_check(profiles_of_item)

