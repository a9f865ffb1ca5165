"""The JSON shape of the mail settings, shared by /api/v1/settings/mail and /api/v1/settings."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from app.web.api.base import Body


class MailSettingsOut(msgspec.Struct, kw_only=True):
    """The SMTP settings; the password is never returned, only whether one is saved."""

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_set: bool = False
    smtp_allow_unencrypted_password: bool = False
    smtp_from_email: str = ""
    smtp_from_name: str = ""
    accountant_email: str = ""
    accountant_schedule: str = "off"
    accountant_day: int = 1
    email_templates: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    # {language: {kind: {subject, body}}}: every template in en, fr and de (a client's message is in its language).
    email_templates_by_language: dict[str, dict[str, dict[str, str]]] = msgspec.field(default_factory=dict)


class MailSettingsIn(Body, omit_defaults=True, kw_only=True):
    smtp_host: str | UnsetType = UNSET
    smtp_port: int | UnsetType = UNSET
    smtp_security: str | UnsetType = UNSET
    smtp_username: str | UnsetType = UNSET
    smtp_password: str | UnsetType | None = UNSET
    # Security "none" with a password is refused (422 on smtp_security) unless this is true.
    smtp_allow_unencrypted_password: bool | UnsetType = UNSET
    smtp_from_email: str | UnsetType = UNSET
    smtp_from_name: str | UnsetType = UNSET
    accountant_email: str | UnsetType = UNSET
    accountant_schedule: str | UnsetType = UNSET
    accountant_day: int | UnsetType = UNSET
    email_templates: dict[str, dict[str, str]] | UnsetType = UNSET   # the English set
    email_templates_by_language: dict[str, dict[str, dict[str, str]]] | UnsetType = UNSET


MAIL_FIELDS = tuple(f for f in MailSettingsIn.__struct_fields__)


def mail_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The values of MailSettingsOut from get_mail_settings() (for /api/v1/settings too)."""
    return {name: row[name] for name in MailSettingsOut.__struct_fields__ if name in row}


def mail_out(row: dict[str, Any]) -> MailSettingsOut:
    return MailSettingsOut(**mail_fields(row))


def given_mail_fields(data: msgspec.Struct) -> dict[str, Any]:
    """The mail fields a PATCH body set (for /api/v1/settings, which accepts them too)."""
    return {name: getattr(data, name) for name in MAIL_FIELDS
            if hasattr(data, name) and getattr(data, name) is not UNSET}
