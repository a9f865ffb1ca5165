"""/api/v1/recurring: recurring invoice profiles, their runs and the invoices they made (API.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Request, delete, get, patch, post
from msgspec import UNSET, UnsetType

from app.config import Config
from app.recurring import service
from app.recurring.service import ProfileView, RunView
from app.web.api.base import Body
from app.web.api.documents import LineIn
from app.web.api.documents_dto import DocumentOut, document_out, with_period
from app.web.responses import actor_id, iso
from app.web.security import OWNER_ONLY


class ProfileLineOut(msgspec.Struct):
    item_id: int | None
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    taxes: list[str]


class ProfileOut(msgspec.Struct):
    id: int
    client_id: int
    client_name: str
    currency: str
    lines: list[ProfileLineOut]
    notes: str
    terms: str
    every: int
    unit: str
    day_of_month: int | None
    start_date: str
    end_date: str | None
    count: int | None
    action: str
    status: str
    paused_on: str | None
    next_date: str | None
    next_period_end: str | None
    made: int
    last_date: str | None
    subtotal: str
    total: str
    schedule: str
    created_at: str
    updated_at: str


class ProfileIn(Body, omit_defaults=True):
    client_id: int | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    lines: list[LineIn] | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    terms: str | UnsetType = UNSET
    every: int | UnsetType | None = UNSET
    unit: str | UnsetType = UNSET
    day_of_month: int | UnsetType | None = UNSET
    start_date: date | UnsetType | None = UNSET
    end_date: date | UnsetType | None = UNSET
    count: int | UnsetType | None = UNSET
    action: str | UnsetType = UNSET
    status: str | UnsetType = UNSET


class ResumeIn(Body):
    # Make the periods whose date came while the profile was paused (else they are skipped).
    catch_up: bool = False


class RunIn(Body):
    as_of: date | None = None


class ProfileList(msgspec.Struct):
    items: list[ProfileOut]
    total: int


class RunOut(msgspec.Struct):
    as_of: str
    made: list[DocumentOut]
    queued: int
    problems: list[str]


class PeriodOut(msgspec.Struct):
    period_start: str
    period_end: str
    outcome: str
    problem: str
    send_problem: str
    message_id: int | None
    document: DocumentOut | None


class PeriodList(msgspec.Struct):
    items: list[PeriodOut]
    total: int


def profile_out(view: ProfileView) -> ProfileOut:
    lines = [ProfileLineOut(item_id=line.get("item_id"), description=line["description"], quantity=line["quantity"],
                            unit=line.get("unit") or "", unit_price=line["unit_price"],
                            discount_percent=line.get("discount_percent") or "0", taxes=list(line.get("taxes") or []))
             for line in view.lines]
    return ProfileOut(
        id=view.id, client_id=view.client_id, client_name=view.client_name, currency=view.currency, lines=lines,
        notes=view.notes, terms=view.terms, every=view.every, unit=view.unit, day_of_month=view.day_of_month,
        start_date=iso(view.start_date), end_date=iso(view.end_date), count=view.count, action=view.action,
        status=view.status, paused_on=iso(view.paused_on), next_date=iso(view.next_date),
        next_period_end=iso(view.next_period_end), made=view.made, last_date=iso(view.last_date),
        subtotal=str(view.subtotal), total=str(view.total), schedule=view.schedule_text,
        created_at=iso(view.created_at), updated_at=iso(view.updated_at))


def period_out(run: RunView) -> PeriodOut:
    return PeriodOut(period_start=iso(run.period_start), period_end=iso(run.period_end), outcome=run.outcome,
                     problem=run.problem, send_problem=run.send_problem, message_id=run.message_id,
                     document=None if run.document is None else with_period(document_out(run.document), run))


def _given(data: ProfileIn) -> dict[str, Any]:
    given = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    if "lines" in given:
        given["lines"] = [{k: v for k, v in msgspec.structs.asdict(line).items() if v is not None}
                          for line in given["lines"]]
    return given


@get("/api/v1/recurring", tags=["recurring"])
async def api_profiles(status: str = "", client_id: int | None = None) -> ProfileList:
    """Every profile, the next to run first; `status`: active, paused or finished."""
    views = await service.list_profiles(status=status, client_id=client_id)
    return ProfileList(items=[profile_out(v) for v in views], total=len(views))


@post("/api/v1/recurring", tags=["recurring"])
async def api_profile_create(request: Request, data: ProfileIn) -> ProfileOut:
    return profile_out(await service.create_profile(_given(data), actor=actor_id(request)))


@get("/api/v1/recurring/{profile_id:int}", tags=["recurring"])
async def api_profile(profile_id: int) -> ProfileOut:
    return profile_out(await service.get_profile(profile_id))


@patch("/api/v1/recurring/{profile_id:int}", tags=["recurring"])
async def api_profile_update(request: Request, profile_id: int, data: ProfileIn) -> ProfileOut:
    """Change what is given. Periods done stay done; the next is the new schedule's first after them."""
    return profile_out(await service.update_profile(profile_id, _given(data), actor=actor_id(request)))


@delete("/api/v1/recurring/{profile_id:int}", tags=["recurring"], opt=OWNER_ONLY)
async def api_profile_delete(profile_id: int) -> None:
    """Only a profile that has made nothing (409 otherwise: pause it or give it an end date)."""
    await service.delete_profile(profile_id)


@post("/api/v1/recurring/{profile_id:int}/pause", tags=["recurring"], status_code=200)
async def api_profile_pause(request: Request, profile_id: int) -> ProfileOut:
    return profile_out(await service.pause_profile(profile_id, actor=actor_id(request)))


@post("/api/v1/recurring/{profile_id:int}/resume", tags=["recurring"], status_code=200)
async def api_profile_resume(request: Request, profile_id: int, data: ResumeIn | None = None) -> ProfileOut:
    """The periods that came while paused are skipped, unless `{"catch_up": true}`."""
    catch_up = bool(data and data.catch_up)
    return profile_out(await service.resume_profile(profile_id, catch_up=catch_up, actor=actor_id(request)))


@post("/api/v1/recurring/run", tags=["recurring"], status_code=200)
async def api_run(request: Request, config: Config, data: RunIn | None = None) -> RunOut:
    """Make every period due (on or before `as_of`, today by default) not made yet; answers what it made."""
    report = await service.run_due(data.as_of if data else None, actor=actor_id(request), data_dir=config.data_dir)
    links = await service.links_of([doc.id for doc in report.made])
    return RunOut(as_of=iso(report.as_of), made=[with_period(document_out(doc), links.get(doc.id))
                                                 for doc in report.made],
                  queued=report.queued, problems=report.problems)


@get("/api/v1/recurring/{profile_id:int}/documents", tags=["recurring"])
async def api_profile_documents(profile_id: int) -> PeriodList:
    """The periods the profile has done, newest first, each with its invoice (null when skipped)."""
    done = await service.runs(profile_id)
    return PeriodList(items=[period_out(run) for run in done], total=len(done))


ROUTES = [api_profiles, api_profile_create, api_profile, api_profile_update, api_profile_delete, api_profile_pause,
          api_profile_resume, api_run, api_profile_documents]
