"""The Backup page (owner only): export, import with a confirmation, and scheduled backups.

A restore from this page runs inside the server: the upload is decrypted and checked
into a private folder first (nothing live is touched), the page shows what the backup
holds and asks to confirm, and only then the data is swapped in with writes paused.
The restored database has its own accounts, so the page signs its owner in with a
one-time launch link, as the launcher does. The confirmation shows what the backup would
switch on (mail server, scheduled sends and their recipients, custom templates, users and
tokens); unless the owner ticks to keep them, they come in off (app/backup/restore.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.response import Template

from app.auth import service as auth_service
from app.backup import logic, service
from app.common.i18n import _, translated
from app.common.logic import ValidationFailed, describe_size
from app.config import LAUNCH_TOKEN_TTL_S, Config
from app.web.responses import download_file, form_data, page, redirect
from app.web.security import OWNER_ONLY

MAX_UPLOAD_BYTES = 8 * 1024 ** 3   # the upload is spooled to disk by the form parser, never held in memory


async def _page(request: Request, config: Config, *, status_code: int = 200, errors: dict[str, str] | None = None,
                schedule_values: dict[str, Any] | None = None, import_error: str = "", import_code: str = "",
                export_errors: dict[str, str] | None = None) -> Template:
    schedule = await service.get_schedule()
    return page(request, "backup/backup.html", status_code=status_code, section="backup", title=_("Backup"),
                schedule=schedule, schedule_values=schedule_values or schedule, errors=errors or {},
                export_errors=export_errors or {}, import_error=import_error, import_code=import_code,
                rhythms=list(translated(logic.RHYTHMS).items()), health=await service.schedule_health(),
                has_passphrase=service.has_scheduled_passphrase(config), data_dir=str(config.data_dir),
                min_length=logic.MIN_PASSPHRASE_LENGTH)


@get("/backup", opt=OWNER_ONLY)
async def backup_page(request: Request, config: Config) -> Template:
    service.cleanup_stale_work(config)
    return await _page(request, config)


@post("/backup/export", opt=OWNER_ONLY, status_code=200)
async def backup_export(request: Request, config: Config) -> Response:
    data = await form_data(request)
    try:
        passphrase = logic.clean_new_passphrase(data)
    except ValidationFailed as failed:
        return await _page(request, config, status_code=422, export_errors=failed.by_field())
    assert passphrase is not None
    from app.settings import service as settings_service

    settings = await settings_service.get_settings()
    now = datetime.now()
    folder = service.new_download_folder(config)
    target = folder / logic.export_filename(settings.get("name") or "", now)
    try:
        result = await asyncio.to_thread(service.export_bundle, config, target, passphrase)
    except logic.BackupError as error:
        service.remove_download_folder(config, folder)
        return await _page(request, config, status_code=error.status if error.status != 422 else 400,
                           export_errors={"passphrase": error.message})
    return download_file(result.path, result.path.name, "application/octet-stream",
                         background=BackgroundTask(service.remove_download_folder, config, folder))


@post("/backup/import", opt=OWNER_ONLY, status_code=200, request_max_body_size=MAX_UPLOAD_BYTES)
async def backup_import(request: Request, config: Config) -> Response:
    form = await request.form()
    upload = form.get("bundle")
    passphrase = str(form.get("passphrase") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(request, config, status_code=422, import_error=_("Choose the backup file to import."),
                           import_code="no_file")
    if not passphrase:
        return await _page(request, config, status_code=422, import_error=_("Type the backup's passphrase."),
                           import_code="no_passphrase")
    service.discard_pending_restores(config)
    try:
        staged = await asyncio.to_thread(service.stage_bundle, config, upload.file, passphrase)
    except logic.BackupError as error:
        return await _page(request, config, status_code=error.status, import_error=error.message,
                           import_code=error.code)
    finally:
        await upload.close()
    return _confirm_page(request, staged)


def _confirm_page(request: Request, staged: service.Staged, *, status_code: int = 200) -> Template:
    manifest = staged.manifest
    files, size = logic.attachment_summary(manifest)
    return page(request, "backup/confirm.html", status_code=status_code, section="backup", title=_("Restore a backup"),
                staged=staged, manifest=manifest, counts=logic.summary_counts(manifest["row_counts"]),
                attachment_count=files, attachment_size=describe_size(size),
                created=manifest["created_at"].replace("T", " ").replace("Z", " UTC"),
                bundle_settings=logic.describe_bundle_settings(staged.settings),
                effects=logic.restore_effects(staged.settings, logic.RestoreChoices()))


@post("/backup/restore", opt=OWNER_ONLY)
async def backup_restore(request: Request, config: Config) -> Response:
    data = await form_data(request)
    staged = service.load_staged(config, str(data.get("token") or ""))
    if staged is None:
        return await _page(request, config, status_code=409, import_code="expired",
                           import_error=_("That import is no longer waiting for confirmation (it was cancelled, "
                                        "finished, or is over an hour old). Upload the backup again."))
    try:
        result = await service.apply_staged(config, staged, in_server=True,
                                            choices=logic.RestoreChoices.from_form(data))
    except logic.BackupError as error:
        return await _page(request, config, status_code=error.status, import_error=error.message,
                           import_code=error.code)
    token = await auth_service.create_launch_token(LAUNCH_TOKEN_TTL_S)
    name = result.manifest.get("business_name") or "the backup"
    kept = _(" The previous database is kept as %(name)s.", name=result.previous_database.name) if result.previous_database else ""
    return redirect(f"/launch?token={token}", request=request,
                    flash=_("Restored %(name)s from the backup made %(created_at)s.%(kept)s You are signed in as its owner.", name=name, created_at=result.manifest['created_at'], kept=kept))


@post("/backup/import/cancel", opt=OWNER_ONLY)
async def backup_import_cancel(request: Request, config: Config) -> Response:
    data = await form_data(request)
    service.discard_staged(config, service.load_staged(config, str(data.get("token") or "")))
    return redirect("/backup", flash=_("Import cancelled; nothing was changed."), request=request)


@post("/backup/schedule", opt=OWNER_ONLY)
async def backup_schedule(request: Request, config: Config) -> Response:
    data = await form_data(request)
    try:
        await service.update_schedule(config, data)
    except ValidationFailed as failed:
        values = {k: v for k, v in data.items() if not k.startswith("passphrase")}
        return await _page(request, config, status_code=422, errors=failed.by_field(), schedule_values=values)
    return redirect("/backup", flash=_("Backup schedule saved."), request=request)


@post("/backup/schedule/run", opt=OWNER_ONLY)
async def backup_schedule_run(request: Request, config: Config) -> Response:
    path = await service.run_scheduled_backup(config, now=datetime.now(UTC))
    if path is None:
        health = await service.schedule_health()
        return redirect("/backup", flash=health.message, request=request)
    return redirect("/backup", flash=_("Backup written to %(path)s.", path=path), request=request)


ROUTES = [backup_page, backup_export, backup_import, backup_restore, backup_import_cancel, backup_schedule,
          backup_schedule_run]
