"""Business settings: one row, read often, written by the owner."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.common.logic import FieldError, ValidationFailed
from app.db import datafolder
from app.db.columns import column_values
from app.db.engine import write_transaction
from app.paths import UnsafeFileName, ensure_private_dir, resolve_inside
from app.settings import logic
from app.settings.tables import BusinessSettings

SETTINGS_ID = 1
log = logging.getLogger("counterfoil.settings")


# The row is read many times a request (today(), the base currency, each total's currency: 46 times
# for the dashboard): one fixed statement of its columns, which the engine converts as a select does,
# instead of a select built and compiled anew each time (0.46 ms to 0.10 ms a read; issue 21).
_SETTINGS_SQL = ("SELECT " + ", ".join(f'"{column._meta.db_column_name}"' for column in BusinessSettings._meta.columns)
                 + " FROM business_settings WHERE id = {}")


async def _settings_row() -> dict[str, Any] | None:
    rows = await BusinessSettings.raw(_SETTINGS_SQL, SETTINGS_ID)
    return rows[0] if rows else None


async def get_settings() -> dict[str, Any]:
    row = await _settings_row()
    if row is None:
        async with write_transaction():
            row = await _settings_row()
            if row is None:
                await BusinessSettings.insert(BusinessSettings(id=SETTINGS_ID, updated_at=datetime.now(UTC)))
                row = await _settings_row()
    assert row is not None, "the settings row was read or inserted above"
    return row


async def locale_and_time_zone() -> tuple[str, str]:
    """The business locale (the language and number format of everyone who chose none) and its time
    zone, read without creating the settings row (the door asks on every page, even before setup)."""
    row = await BusinessSettings.select(BusinessSettings.default_locale, BusinessSettings.time_zone).where(
        BusinessSettings.id == SETTINGS_ID).first()
    if row is None:
        return "en", "UTC"
    return row["default_locale"] or "en", row["time_zone"] or "UTC"


TEST_TODAY_ENV = "COUNTERFOIL_TEST_TODAY"


async def today() -> date:
    """Today for the business: the date in its time zone (Settings), whatever the computer's clock zone.

    The one "today" of the core: overdue and expiry, default document and payment dates,
    statement and report periods all ask here. Tests move it with COUNTERFOIL_TEST_TODAY=YYYY-MM-DD
    (a server started by a test, a scheduled job that must run "in April"), never by sleeping.
    """
    pinned = os.environ.get(TEST_TODAY_ENV)
    if pinned:
        return date.fromisoformat(pinned)
    settings = await get_settings()
    return logic.local_date(settings.get("time_zone") or "UTC", datetime.now(UTC))


async def update_settings(data: Mapping[str, Any], *, actor_id: int | None = None, partial: bool = True) -> dict[str, Any]:
    values = logic.clean_settings(data, partial=partial)
    current = await get_settings()
    problems = logic.payment_means_problems({**current, **values})
    if problems:
        raise ValidationFailed(problems)
    async with write_transaction():
        values["updated_at"] = datetime.now(UTC)
        values["updated_by"] = actor_id
        await BusinessSettings.update(column_values(values)).where(BusinessSettings.id == SETTINGS_ID)
    return await get_settings()


async def store_number_patterns(patterns: Mapping[str, str], *, actor_id: int | None = None) -> dict[str, Any]:
    """Store numbering patterns the documents domain has checked (`{type}_number_pattern`: pattern).

    Settings keeps them in its row but does not know their rules: call
    app.documents.service.set_number_patterns, which checks them first.
    """
    await get_settings()
    async with write_transaction():
        await BusinessSettings.update(column_values({**patterns, "updated_at": datetime.now(UTC), "updated_by": actor_id})).where(
            BusinessSettings.id == SETTINGS_ID)
    return await get_settings()


async def save_logo(attachments_dir: Path, content: bytes, *, actor_id: int | None = None) -> dict[str, Any]:
    """Store the logo in the data folder; the old file is replaced only after the new one is safe."""
    problem = logic.logo_problem(content)
    if problem:
        raise ValidationFailed([FieldError("logo", problem)])
    extension = logic.logo_kind(content)
    current = await get_settings()
    datafolder.before_write()   # a data folder deleted meanwhile must not be made again for the logo
    ensure_private_dir(attachments_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    filename = f"logo-{stamp}.{extension}"
    temporary = attachments_dir / (filename + ".part")
    try:
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, attachments_dir / filename)
    except BaseException:
        temporary.unlink(missing_ok=True)   # a full disk leaves no half logo behind
        raise
    async with write_transaction():
        await BusinessSettings.update({
            BusinessSettings.logo_filename: filename,
            BusinessSettings.updated_at: datetime.now(UTC),
            BusinessSettings.updated_by: actor_id,
        }).where(BusinessSettings.id == SETTINGS_ID)
    old = current.get("logo_filename")
    if old and old != filename:
        _remove_logo_file(attachments_dir, old)
    return await get_settings()


async def remove_logo(attachments_dir: Path, *, actor_id: int | None = None) -> dict[str, Any]:
    current = await get_settings()
    async with write_transaction():
        await BusinessSettings.update({BusinessSettings.logo_filename: "", BusinessSettings.updated_by: actor_id}).where(
            BusinessSettings.id == SETTINGS_ID)
    if current.get("logo_filename"):
        _remove_logo_file(attachments_dir, current["logo_filename"])
    return await get_settings()


def _remove_logo_file(attachments_dir: Path, name: str) -> None:
    """Delete a replaced logo, only ever a bare name inside attachments/ (the name comes from the database)."""
    try:
        resolve_inside(attachments_dir, name).unlink(missing_ok=True)
    except UnsafeFileName as refused:
        log.warning("the stored logo name was not deleted: %s", refused)


def logo_file(attachments_dir: Path, name: str | None) -> Path | None:
    """A stored logo name as a file inside attachments/, or None: missing, refused (a path, a link), or not a
    PNG or JPEG by its content (an SVG kept by an older version, or brought by a backup bundle)."""
    if not name:
        return None
    try:
        path = resolve_inside(attachments_dir, name)
    except UnsafeFileName as refused:
        log.warning("the logo is not used: %s", refused)
        return None
    if not path.is_file():
        return None
    if logo_media_type(path) is None:
        log.warning("the logo %s is not used: it is not a PNG or JPEG image", name)
        return None
    return path


def logo_media_type(path: Path) -> str | None:
    """image/png or image/jpeg from the file's first bytes, None for anything else."""
    try:
        with open(path, "rb") as handle:
            kind = logic.logo_kind(handle.read(logic.LOGO_HEAD_BYTES))
    except OSError:
        return None
    return logic.LOGO_MEDIA_TYPES.get(kind) if kind else None


def logo_path(attachments_dir: Path, settings: Mapping[str, Any]) -> Path | None:
    return logo_file(attachments_dir, settings.get("logo_filename"))
