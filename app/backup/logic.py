"""Backup bundles, the pure part: the byte layout of the header, the limits a header
must respect before any memory is spent on it, the manifest and its checks, member
names, passphrase rules, and when a scheduled backup is due. No I/O here.

docs/backup-format.md is the specification; this module and app/backup/bundle.py
implement it. Every way a bundle can be wrong has its own exception class and a
message that tells the user what happened and that nothing was changed.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
import struct
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from app.common.i18n import N_, _, ngettext
from app.common.logic import FieldError, Form, ValidationFailed, describe_size

# The schema rule is the database's own (a data folder is judged by it too); re-exported for the backup code.
from app.db.logic import SchemaComparison, compare_schema, schema_version  # noqa: F401

# -- the container -------------------------------------------------------------

MAGIC = b"CFBACKUP"
FORMAT_VERSION = 1
KDF_ARGON2ID = 1            # Argon2id, version 0x13
CIPHER_STREAM_CHACHA = 1    # age-style STREAM over ChaCha20-Poly1305, 64 KiB chunks
HEADER_SIZE = 128
FIELDS_SIZE = 64            # bytes 0..64 are the fields the MAC covers
MAC_SIZE = 32
CHECKSUM_SIZE = 32
SALT_SIZE = 16
NONCE_SIZE = 16
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
SUFFIX = ".counterfoil"

# struct layout of the 64 MAC-covered bytes (big-endian):
# magic 8s, version H, kdf B, cipher B, t I, m_kib I, p I, plaintext length Q, salt 16s, nonce 16s
_FIELDS = struct.Struct(">8sHBBIIIQ16s16s")
assert _FIELDS.size == FIELDS_SIZE

# What this program writes: at least t=3, m=64 MiB, p=4 (DESIGN.md, "Backup bundles").
WRITE_TIME_COST = 3
WRITE_MEMORY_KIB = 64 * 1024
WRITE_PARALLELISM = 4

# What it agrees to read. A header is checked against these before the key
# derivation allocates anything, so a hostile file cannot ask for 100 GiB.
MIN_TIME_COST, MAX_TIME_COST = 3, 10
MIN_MEMORY_KIB, MAX_MEMORY_KIB = 64 * 1024, 1024 * 1024   # 64 MiB .. 1 GiB
MIN_PARALLELISM, MAX_PARALLELISM = 1, 16
MAX_PLAINTEXT = 1 << 40                                    # 1 TiB: anything larger is not ours

HKDF_INFO_HEADER = b"counterfoil-backup v1 header"
HKDF_INFO_PAYLOAD = b"counterfoil-backup v1 payload"


# -- errors: one class per way a bundle can be wrong -----------------------------

UNCHANGED = "Nothing was changed."


class BackupError(Exception):
    """A bundle or a restore that cannot go ahead; `message` is one line for the user."""

    code = "backup_error"
    status = 400

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class EmptyFile(BackupError):
    code = "empty_file"


class NotABundle(BackupError):
    code = "not_a_bundle"


class UnsupportedFormat(BackupError):
    code = "unsupported_format"


class HeaderDamaged(BackupError):
    code = "header_damaged"


class UnsafeParameters(BackupError):
    code = "unsafe_parameters"


class Truncated(BackupError):
    code = "truncated"


class TrailingData(BackupError):
    code = "trailing_data"


class WrongPassphrase(BackupError):
    code = "wrong_passphrase"
    status = 422


class PayloadDamaged(BackupError):
    code = "payload_damaged"


class ContentInvalid(BackupError):
    code = "content_invalid"


class NewerSchema(BackupError):
    code = "newer_schema"
    status = 409


class RestoreRefused(BackupError):
    """The restore cannot run now (a server holds the data folder, the database is busy, no space)."""

    code = "restore_refused"
    status = 409


# -- the header -------------------------------------------------------------------

@dataclass(frozen=True)
class KdfParams:
    time_cost: int
    memory_kib: int
    parallelism: int


DEFAULT_KDF = KdfParams(WRITE_TIME_COST, WRITE_MEMORY_KIB, WRITE_PARALLELISM)


@dataclass(frozen=True)
class Header:
    version: int
    kdf: KdfParams
    plaintext_length: int
    salt: bytes
    payload_nonce: bytes
    mac: bytes
    fields: bytes   # the 64 bytes the MAC covers, as read

    @property
    def chunk_count(self) -> int:
        return chunk_count(self.plaintext_length)

    @property
    def bundle_size(self) -> int:
        return bundle_size(self.plaintext_length)


def chunk_count(plaintext_length: int) -> int:
    """Chunks of 64 KiB; the last holds 1..65536 bytes (a payload is never empty)."""
    return max(1, math.ceil(plaintext_length / CHUNK_SIZE))


def bundle_size(plaintext_length: int) -> int:
    return HEADER_SIZE + plaintext_length + TAG_SIZE * chunk_count(plaintext_length)


def chunk_plaintext_size(plaintext_length: int, index: int) -> int:
    last = chunk_count(plaintext_length) - 1
    return CHUNK_SIZE if index < last else plaintext_length - CHUNK_SIZE * last


def chunk_offset(index: int) -> int:
    """Where chunk `index` starts in the file."""
    return HEADER_SIZE + index * (CHUNK_SIZE + TAG_SIZE)


def chunk_nonce(index: int, last: bool) -> bytes:
    """STREAM nonce: 11-byte big-endian counter, then 0x01 on the last chunk, else 0x00."""
    if index < 0 or index >= 1 << 88:
        raise ValueError("chunk counter out of range")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def pack_fields(kdf: KdfParams, plaintext_length: int, salt: bytes, payload_nonce: bytes) -> bytes:
    if len(salt) != SALT_SIZE or len(payload_nonce) != NONCE_SIZE:
        raise ValueError(_("salt and payload nonce are 16 bytes each"))
    if not 1 <= plaintext_length <= MAX_PLAINTEXT:
        raise ValueError("payload length out of range")
    return _FIELDS.pack(MAGIC, FORMAT_VERSION, KDF_ARGON2ID, CIPHER_STREAM_CHACHA, kdf.time_cost, kdf.memory_kib,
                        kdf.parallelism, plaintext_length, salt, payload_nonce)


def header_checksum(fields_and_mac: bytes) -> bytes:
    return hashlib.sha256(fields_and_mac).digest()


def pack_header(fields: bytes, mac: bytes) -> bytes:
    """The 128-byte header: fields, MAC over them, SHA-256 over both (catches accidental damage)."""
    assert len(fields) == FIELDS_SIZE and len(mac) == MAC_SIZE
    return fields + mac + header_checksum(fields + mac)


def check_kdf(kdf: KdfParams) -> None:
    """Refuse parameters outside what Counterfoil reads, before anything is allocated."""
    if kdf.memory_kib > MAX_MEMORY_KIB:
        raise UnsafeParameters(
            f"The backup's header asks for {describe_size(kdf.memory_kib * 1024)} of memory to unlock it, more than "
            f"the {describe_size(MAX_MEMORY_KIB * 1024)} limit: the file is damaged or was not made by Counterfoil. "
            + UNCHANGED)
    if kdf.time_cost > MAX_TIME_COST:
        raise UnsafeParameters(
            f"The backup's header asks for {kdf.time_cost} key-derivation passes, more than the limit of "
            f"{MAX_TIME_COST}: the file is damaged or was not made by Counterfoil. " + UNCHANGED)
    if kdf.parallelism > MAX_PARALLELISM:
        raise UnsafeParameters(
            f"The backup's header asks for {kdf.parallelism} parallel lanes, more than the limit of "
            f"{MAX_PARALLELISM}: the file is damaged or was not made by Counterfoil. " + UNCHANGED)
    if (kdf.time_cost < MIN_TIME_COST or kdf.memory_kib < MIN_MEMORY_KIB or kdf.parallelism < MIN_PARALLELISM
            or kdf.memory_kib < 8 * kdf.parallelism):
        raise UnsafeParameters(
            f"The backup's header names key-derivation settings weaker than Counterfoil ever writes "
            f"(t={kdf.time_cost}, m={kdf.memory_kib} KiB, p={kdf.parallelism}): the file was not made by "
            "Counterfoil. " + UNCHANGED)


def parse_header(head: bytes, file_size: int) -> Header:
    """Everything that can be checked without the passphrase, in the order that gives the clearest message.

    `head` is the first bytes of the file (up to 128), `file_size` its full size.
    """
    if file_size == 0:
        raise EmptyFile("The file is empty (0 bytes): it is not a backup, or the copy did not finish. " + UNCHANGED)
    if len(head) < HEADER_SIZE or file_size < HEADER_SIZE:
        if head.startswith(MAGIC[: len(head)]) and len(head) >= 4:
            raise Truncated(f"The backup is incomplete: it is only {file_size} bytes long, shorter than its "
                            f"{HEADER_SIZE}-byte header (the copy was cut short?). " + UNCHANGED)
        raise NotABundle("This file is not a Counterfoil backup (it does not start with the Counterfoil "
                         "backup signature). " + UNCHANGED)
    head = head[:HEADER_SIZE]
    stored_checksum = head[FIELDS_SIZE + MAC_SIZE:]
    if head[:8] != MAGIC:
        # A bit flipped inside the signature still leaves a header whose checksum
        # matches once the signature is put right: that is damage, not another format.
        if header_checksum(MAGIC + head[8:FIELDS_SIZE + MAC_SIZE]) == stored_checksum:
            raise HeaderDamaged("The backup is damaged: its header (the first 128 bytes) has been altered. "
                                + UNCHANGED)
        raise NotABundle("This file is not a Counterfoil backup (it does not start with the Counterfoil "
                         "backup signature). " + UNCHANGED)
    if header_checksum(head[:FIELDS_SIZE + MAC_SIZE]) != stored_checksum:
        raise HeaderDamaged("The backup is damaged: its header (the first 128 bytes) does not match its "
                            "checksum. " + UNCHANGED)
    (_magic, version, kdf_id, cipher_id, t, m, p, length, salt, nonce) = _FIELDS.unpack(head[:FIELDS_SIZE])
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(f"This backup uses format version {version}, which this Counterfoil does not "
                                f"read (it reads version {FORMAT_VERSION}): update Counterfoil first. " + UNCHANGED)
    if kdf_id != KDF_ARGON2ID or cipher_id != CIPHER_STREAM_CHACHA:
        raise UnsupportedFormat("This backup uses a key derivation or cipher this Counterfoil does not know: "
                                "update Counterfoil first. " + UNCHANGED)
    kdf = KdfParams(t, m, p)
    check_kdf(kdf)
    if not 1 <= length <= MAX_PLAINTEXT:
        raise HeaderDamaged(f"The backup's header gives an impossible content length ({length} bytes). " + UNCHANGED)
    expected = bundle_size(length)
    if file_size < expected:
        raise Truncated(f"The backup is incomplete: it is {expected - file_size} bytes shorter than its header "
                        f"says ({file_size} of {expected} bytes; the copy was cut short?). " + UNCHANGED)
    if file_size > expected:
        raise TrailingData(f"The backup has {file_size - expected} unexpected bytes after its end (something was "
                           "appended to the file). " + UNCHANGED)
    return Header(version=version, kdf=kdf, plaintext_length=length, salt=salt, payload_nonce=nonce,
                  mac=head[FIELDS_SIZE:FIELDS_SIZE + MAC_SIZE], fields=head[:FIELDS_SIZE])


def normalise_passphrase(passphrase: str) -> bytes:
    """NFC, then UTF-8: the same passphrase typed on any system gives the same key."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def wrong_passphrase() -> WrongPassphrase:
    return WrongPassphrase("Wrong passphrase: this backup cannot be unlocked with it (check for typing mistakes "
                           "and the keyboard layout). " + UNCHANGED)


def damaged_chunk(index: int, count: int) -> PayloadDamaged:
    return PayloadDamaged(f"The backup is damaged near byte {chunk_offset(index)}: part {index + 1} of {count} "
                          "fails its authenticity check (the file was altered or the medium is failing). "
                          + UNCHANGED)


# -- the payload: a tar of the snapshot, the attachments and the manifest ---------

DATABASE_MEMBER = "counterfoil.sqlite"
MANIFEST_MEMBER = "manifest.json"
ATTACHMENTS_PREFIX = "attachments/"
TEMPLATES_PREFIX = "templates/"   # the user's own Typst templates (the render cache, cache/, is never bundled)
FOLDER_PREFIXES = (ATTACHMENTS_PREFIX, TEMPLATES_PREFIX)
MANIFEST_FORMAT = "counterfoil-backup"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MEMBER_NAME = 1024
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def check_member_name(name: str) -> str:
    """A member's name must be the database, the manifest or a plain path under attachments/ or templates/."""
    if name in (DATABASE_MEMBER, MANIFEST_MEMBER):
        return name
    prefix = next((p for p in FOLDER_PREFIXES if name.startswith(p)), None)
    if (prefix is None or len(name) > MAX_MEMBER_NAME or "\\" in name or "\x00" in name
            or name.endswith("/")):
        raise ContentInvalid(f"The backup holds an unexpected file {name[:120]!r}. " + UNCHANGED)
    parts = name[len(prefix):].split("/")
    if any(part in ("", ".", "..") for part in parts) or posixpath.normpath(name) != name:
        raise ContentInvalid(f"The backup holds a file with an unsafe name {name[:120]!r}. " + UNCHANGED)
    return name


def attachment_member(relative_posix_path: str) -> str:
    return check_member_name(ATTACHMENTS_PREFIX + relative_posix_path)


def template_member(relative_posix_path: str) -> str:
    return check_member_name(TEMPLATES_PREFIX + relative_posix_path)


@dataclass(frozen=True)
class MemberDigest:
    path: str
    size: int
    sha256: str


def build_manifest(*, app_version: str, created_at: datetime, business_name: str,
                   migrations: Mapping[str, Iterable[str]], row_counts: Mapping[str, int],
                   files: Iterable[MemberDigest], audit_head: Mapping[str, Any] | None = None) -> dict[str, Any]:
    applied = {app: sorted(ids) for app, ids in sorted(migrations.items())}
    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": app_version,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "business_name": business_name,
        "schema_version": schema_version(applied),
        "migrations": applied,
        "row_counts": dict(sorted(row_counts.items())),
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
    }
    if audit_head:   # the audit trail's head in the snapshot (app.audit): a copy kept outside the database
        manifest["audit_head"] = dict(audit_head)
    return manifest


def _invalid(what: str) -> ContentInvalid:
    return ContentInvalid(f"The backup's contents do not match its manifest: {what}. " + UNCHANGED)


def listed_files(manifest: Any) -> dict[str, MemberDigest]:
    """The manifest is well formed; returns the files it lists (name -> size and SHA-256)."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise _invalid("the manifest is missing or not a Counterfoil manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _invalid(f"unknown manifest version {manifest.get('format_version')!r}")
    for key, kind in (("app_version", str), ("created_at", str), ("business_name", str), ("schema_version", str),
                      ("migrations", dict), ("row_counts", dict), ("files", list)):
        if not isinstance(manifest.get(key), kind):
            raise _invalid(f"the manifest's {key!r} is missing or malformed")
    for app, ids in manifest["migrations"].items():
        if not isinstance(app, str) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _invalid("the manifest's migrations are malformed")
    for table, count in manifest["row_counts"].items():
        if not isinstance(table, str) or not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _invalid("the manifest's row counts are malformed")
    listed: dict[str, MemberDigest] = {}
    for entry in manifest["files"]:
        if (not isinstance(entry, dict) or not isinstance(entry.get("path"), str)
                or not isinstance(entry.get("size"), int) or isinstance(entry.get("size"), bool)
                or entry["size"] < 0 or not isinstance(entry.get("sha256"), str)
                or not _SHA256_RE.match(entry["sha256"])):
            raise _invalid("a file entry is malformed")
        name = check_member_name(entry["path"])
        if name == MANIFEST_MEMBER or name in listed:
            raise _invalid(f"{name!r} is listed twice or lists the manifest itself")
        listed[name] = MemberDigest(name, entry["size"], entry["sha256"])
    if DATABASE_MEMBER not in listed:
        raise _invalid("there is no database in it")
    return listed


def _same_names(listed: Mapping[str, Any], present: Mapping[str, Any]) -> None:
    missing = sorted(set(listed) - set(present))
    extra = sorted(set(present) - set(listed))
    if missing:
        raise _invalid(f"{missing[0]!r} is listed but absent")
    if extra:
        raise _invalid(f"{extra[0]!r} is present but not listed")


def check_declared_sizes(manifest: Any, declared: Mapping[str, int]) -> int:
    """Before anything is written: the archive's members are exactly the manifest's files, each
    declaring the size the manifest lists. Returns the bytes they will take once written."""
    listed = listed_files(manifest)
    _same_names(listed, declared)
    for name, size in declared.items():
        if size != listed[name].size:
            raise _invalid(f"{name!r} declares {size} bytes, the manifest lists {listed[name].size}")
    return sum(declared.values())


def check_manifest(manifest: Any, seen: Mapping[str, MemberDigest]) -> dict[str, Any]:
    """The manifest is well formed and lists exactly the files that were in the bundle, with their sizes and hashes."""
    listed = listed_files(manifest)
    _same_names(listed, seen)
    for name, expected in listed.items():
        actual = seen[name]
        if actual.size != expected.size or actual.sha256 != expected.sha256:
            raise _invalid(f"{name!r} has a different size or SHA-256")
    assert isinstance(manifest, dict)  # listed_files refused anything else
    return manifest


def newer_schema(app_version: str) -> NewerSchema:
    return NewerSchema(f"This backup was made by a newer Counterfoil (version {app_version}): update Counterfoil "
                       "first, then import it again. " + UNCHANGED)


# -- what the user sees of a manifest ------------------------------------------------

TABLE_LABELS = {
    "client": N_("clients"), "catalog_item": N_("catalogue items"), "document": N_("quotes, invoices and credit notes"),
    "payment": N_("payments"), "ledger_entry": N_("ledger entries"), "app_user": N_("user accounts"), "tax": N_("tax rates"),
}


def summary_counts(row_counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """The counts a person recognises, in a stable order, then the other non-empty tables."""
    shown = [(_(label), row_counts[table]) for table, label in TABLE_LABELS.items() if table in row_counts]
    return shown


def attachment_summary(manifest: Mapping[str, Any]) -> tuple[int, int]:
    files = [f for f in manifest.get("files", []) if f["path"].startswith(ATTACHMENTS_PREFIX)]
    return len(files), sum(f["size"] for f in files)


# -- what a restore would switch on, and what it leaves off ---------------------------------
#
# A bundle can come from someone else (a client, a "helpful" colleague) who knows its passphrase.
# What it would do once restored (send mail on a schedule, sign someone in) is shown before it is
# applied, and by default comes in switched off: the owner turns it back on.

HELD_MESSAGE = ("Held when a backup was restored: check the recipients and the mail server, then retry to "
                "send it.")
MAX_RECIPIENTS_SHOWN = 5


@dataclass(frozen=True)
class RestoreChoices:
    """What to keep as the backup has it; each is off unless the owner ticks it."""

    keep_scheduled_sends: bool = False    # the accountant's package schedule, the outbox's queue, the backup schedule
    keep_custom_templates: bool = False   # "use my templates" stays on
    keep_tokens: bool = False             # the backup's API tokens keep working

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> RestoreChoices:
        def ticked(name: str) -> bool:
            return str(data.get(name) or "").lower() in ("1", "true", "on", "yes")
        return cls(ticked("keep_scheduled_sends"), ticked("keep_custom_templates"), ticked("keep_tokens"))


@dataclass(frozen=True)
class BundleSettings:
    """What a backup's database would do once restored: where mail goes, who can sign in."""

    smtp_host: str = ""
    smtp_port: int = 0
    smtp_username: str = ""
    from_email: str = ""
    accountant_email: str = ""
    accountant_schedule: str = "off"
    accountant_day: int = 1
    queued_messages: int = 0
    queued_recipients: tuple[str, ...] = ()
    backup_rhythm: str = "off"
    backup_folder: str = ""
    custom_templates_on: bool = False
    template_files: int = 0
    users: int = 0
    owners: int = 0
    active_tokens: int = 0
    sessions: int = 0


def describe_bundle_settings(found: BundleSettings) -> list[tuple[str, str]]:
    """The settings of a backup that send mail or let someone in, as (label, value) lines, in the reader's
    language."""
    server = _("none")
    if found.smtp_host:
        server = f"{found.smtp_host}:{found.smtp_port}"
        if found.smtp_username:
            server = _("%(server)s as %(user)s", server=server, user=found.smtp_username)
        if found.from_email:
            server = _("%(server)s, from %(address)s", server=server, address=found.from_email)
    if found.accountant_schedule != "off" and found.accountant_email:
        accountant = _("%(schedule)s on day %(day)s, to %(address)s", schedule=_("monthly") if found.accountant_schedule == "monthly" else found.accountant_schedule,
                       day=found.accountant_day, address=found.accountant_email)
    else:
        accountant = (_("off (address: %(address)s)", address=found.accountant_email) if found.accountant_email
                      else _("off"))
    outbox = _("none")
    if found.queued_messages:
        shown = ", ".join(found.queued_recipients[:MAX_RECIPIENTS_SHOWN])
        more = len(found.queued_recipients) - MAX_RECIPIENTS_SHOWN
        outbox = ngettext("%(num)d message waiting to be sent, to %(shown)s",
                          "%(num)d messages waiting to be sent, to %(shown)s",
                          found.queued_messages) % {"num": found.queued_messages, "shown": shown}
        if more > 0:
            outbox = _("%(list)s and %(more)s more", list=outbox, more=more)
    backups = _(RHYTHMS.get(found.backup_rhythm, found.backup_rhythm)).lower()
    if found.backup_rhythm != "off" and found.backup_folder:
        backups = _("%(rhythm)s, to %(folder)s", rhythm=backups, folder=found.backup_folder)
    files = ngettext("%(num)d file", "%(num)d files", found.template_files) % {"num": found.template_files}
    templates = (_("on (%(files)s)", files=files) if found.custom_templates_on
                 else _("off (%(files)s)", files=files))
    owners = ngettext("%(num)d owner", "%(num)d owners", found.owners) % {"num": found.owners}
    return [
        (_("Mail server (SMTP)"), server),
        (_("Accountant's package by email"), accountant),
        (_("Outbox"), outbox),
        (_("Scheduled backups"), backups),
        (_("Custom document templates"), templates),
        (_("User accounts"), f"{found.users} ({owners})"),
        (_("API tokens"), _("%(num)s active", num=found.active_tokens)),
        (_("Browser sessions"), str(found.sessions)),
    ]


def restore_effects(found: BundleSettings, choices: RestoreChoices) -> list[str]:
    """What the restore changes in the backup's settings, given what the owner chose to keep."""
    effects = []
    if not choices.keep_scheduled_sends:
        if found.queued_messages:
            effects.append(ngettext(
                "Scheduled sends are paused: the accountant's package schedule is off, the %(num)d message waiting "
                "in the outbox are held (retry each to send it), recurring invoices that email themselves are "
                "paused, and scheduled backups keep this computer's setting (off if it had none).",
                "Scheduled sends are paused: the accountant's package schedule is off, the %(num)d messages waiting "
                "in the outbox are held (retry each to send it), recurring invoices that email themselves are "
                "paused, and scheduled backups keep this computer's setting (off if it had none).",
                found.queued_messages) % {"num": found.queued_messages})
        else:
            effects.append(_("Scheduled sends are paused: the accountant's package schedule is off, recurring "
                             "invoices that email themselves are paused, and scheduled backups keep this computer's "
                             "setting (off if it had none)."))
    if not choices.keep_custom_templates:
        effects.append(_("Custom document templates are off (their files are restored; turn them on in Settings "
                         "once you have read them)."))
    if not choices.keep_tokens:
        effects.append(_("Every API token of the backup is revoked (create new ones on the Tokens page)."))
    effects.append(_("Every browser session of the backup is ended."))
    return effects


# -- passphrases ----------------------------------------------------------------------

MIN_PASSPHRASE_LENGTH = 10
MIN_DISTINCT_CHARACTERS = 5


def passphrase_bits(passphrase: str) -> float:
    """A rough, conservative guess at the passphrase's strength in bits (the same estimate as app.js)."""
    if not passphrase:
        return 0.0
    pool = 0
    if re.search(r"[a-z]", passphrase):
        pool += 26
    if re.search(r"[A-Z]", passphrase):
        pool += 26
    if re.search(r"[0-9]", passphrase):
        pool += 10
    if re.search(r"[^A-Za-z0-9]", passphrase):
        pool += 33
    # Repeats add little: count each character at most twice.
    counts: dict[str, int] = {}
    effective = 0
    for ch in passphrase:
        counts[ch] = counts.get(ch, 0) + 1
        if counts[ch] <= 2:
            effective += 1
    return effective * math.log2(max(pool, 2))


def passphrase_strength(passphrase: str) -> str:
    bits = passphrase_bits(passphrase)
    if bits < 50:
        return "weak"
    if bits < 70:
        return "fair"
    if bits < 90:
        return "good"
    return "strong"


def passphrase_problem(passphrase: str) -> str | None:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        return (_("The passphrase is too short: use at least %(MIN_PASSPHRASE_LENGTH)s characters (four or five random words are easy to type and hard to guess)", MIN_PASSPHRASE_LENGTH=MIN_PASSPHRASE_LENGTH))
    if len(set(passphrase)) < MIN_DISTINCT_CHARACTERS:
        return _("The passphrase repeats the same few characters: choose something less predictable")
    return None


def clean_new_passphrase(data: Mapping[str, Any], *, field: str = "passphrase", required: bool = True) -> str | None:
    """A passphrase typed twice: both the same, long enough. Returns None when optional and left empty."""
    passphrase = str(data.get(field) or "")
    repeat = str(data.get(f"{field}_repeat") or "")
    if not passphrase and not repeat and not required:
        return None
    errors = []
    problem = passphrase_problem(passphrase)
    if not passphrase:
        errors.append(FieldError(field, _("Type a passphrase")))
    elif problem:
        errors.append(FieldError(field, problem))
    elif passphrase != repeat:
        errors.append(FieldError(f"{field}_repeat", _("The two passphrases are not the same")))
    if errors:
        raise ValidationFailed(errors)
    return passphrase


# -- scheduled backups ------------------------------------------------------------------

RHYTHMS = {"off": N_("Off"), "on_quit": N_("When Counterfoil quits"), "daily": N_("Daily"), "weekly": N_("Weekly")}
PERIODS = {"on_quit": timedelta(days=7), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
RETRY_AFTER = timedelta(hours=1)
GRACE = timedelta(hours=1)
SCHEDULED_NAME_RE = re.compile(r"^counterfoil-\d{8}-\d{6}(-\d{1,3})?\.counterfoil$")
MAX_KEEP = 365


def clean_schedule(data: Mapping[str, Any], *, data_dir: str, has_passphrase: bool) -> tuple[dict[str, Any], str | None]:
    """The schedule form: folder, rhythm, how many to keep, and (once) the passphrase for scheduled backups."""
    form = Form(data)
    form.choice("rhythm", RHYTHMS, default="off", label=_("Rhythm"))
    form.text("folder", max_length=1000, label=_("Folder"))
    form.integer("keep_last", minimum=1, maximum=MAX_KEEP, default=10, label=_("Backups to keep"))
    values = form.values
    folder = values.get("folder", "")
    if folder:
        if not posixpath.isabs(folder) and not re.match(r"^[A-Za-z]:[\\/]", folder):
            form.error("folder", _("Give the folder's full path, e.g. /media/you/USBSTICK/backups"))
        elif _inside(folder, data_dir):
            form.error("folder", _("Choose a folder outside the data folder (a USB stick or another disk)"))
    if values.get("rhythm", "off") != "off" and not folder:
        form.error("folder", _("Choose the folder the backups go to"))
    passphrase = None
    try:
        passphrase = clean_new_passphrase(data, required=False)
    except ValidationFailed as failed:
        form.errors.extend(failed.errors)
    if values.get("rhythm", "off") != "off" and passphrase is None and not has_passphrase and not any(
            e.field.startswith("passphrase") for e in form.errors):
        form.error("passphrase", _("Scheduled backups need a passphrase (kept in the data folder, never on the stick)"))
    return form.raise_if_invalid(), passphrase


def _inside(path: str, folder: str) -> bool:
    path = posixpath.normpath(path)
    folder = posixpath.normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def is_due(rhythm: str, last_success: datetime | None, last_attempt: datetime | None, now: datetime) -> bool:
    """A daily or weekly backup is due when the last good one is a period old; failures retry hourly."""
    period = PERIODS.get(rhythm) if rhythm in ("daily", "weekly") else None
    if period is None:
        return False
    if last_success is not None and now - last_success < period:
        return False
    if last_attempt is not None and (last_success is None or last_attempt > last_success):
        return now - last_attempt >= RETRY_AFTER
    return True


@dataclass(frozen=True)
class BackupHealth:
    level: str      # off | ok | warning | error
    message: str


def backup_health(rhythm: str, last_success: datetime | None, last_attempt: datetime | None, last_error: str,
                  now: datetime, zone: tzinfo = UTC) -> BackupHealth:
    """How the scheduled backups fare, in the reader's language, the times in the business's time zone."""
    failed_last = bool(last_error) and last_attempt is not None and (last_success is None or last_attempt > last_success)
    when = last_success.astimezone(zone).strftime("%Y-%m-%d %H:%M") if last_success else None
    if failed_last:
        return BackupHealth("error", _("The last scheduled backup failed: %(error)s", error=last_error) + " "
                            + (_("Last good backup: %(when)s.", when=when) if when else _("No good backup yet.")))
    if rhythm == "off":
        return BackupHealth("off", _("Scheduled backups are off. Last good backup: %(when)s.", when=when) if when
                            else _("Scheduled backups are off."))
    if last_success is None:
        return BackupHealth("warning", _("No scheduled backup has been made yet."))
    if now - last_success > PERIODS[rhythm] + GRACE:
        days = (now - last_success).days
        return BackupHealth("warning", ngettext(
            "The last good backup is %(num)d day old (%(when)s), older than the rhythm (%(rhythm)s).",
            "The last good backup is %(num)d days old (%(when)s), older than the rhythm (%(rhythm)s).", days)
            % {"num": days, "when": when, "rhythm": _(RHYTHMS[rhythm]).lower()})
    return BackupHealth("ok", _("Last good backup: %(when)s.", when=when))


def scheduled_filename(now: datetime, taken: Iterable[str] = ()) -> str:
    base = f"counterfoil-{now:%Y%m%d-%H%M%S}"
    taken_set = set(taken)
    name = base + SUFFIX
    n = 1
    while name in taken_set:
        name = f"{base}-{n}{SUFFIX}"
        n += 1
    return name


def files_to_prune(names: Iterable[str], keep: int) -> list[str]:
    """Scheduled bundles beyond the newest `keep`, oldest first; other files are never touched."""
    ours = sorted((n for n in names if SCHEDULED_NAME_RE.match(n)), key=_scheduled_sort_key)
    return ours[: max(0, len(ours) - max(1, keep))]


def _scheduled_sort_key(name: str) -> tuple[str, int]:
    stem = name[len("counterfoil-"):-len(SUFFIX)]      # YYYYMMDD-HHMMSS or YYYYMMDD-HHMMSS-N
    suffix = stem[16:]
    return stem[:15], int(suffix) if suffix.isdigit() else 0


def export_filename(business_name: str, now: datetime) -> str:
    ascii_name = unicodedata.normalize("NFKD", business_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:40]
    return f"counterfoil-{slug + '-' if slug else ''}{now:%Y%m%d-%H%M}{SUFFIX}"


_TIME_IN_NAME_RE = re.compile(r"(\d{8})-(\d{4})(\d{2})?(?!\d)")


def time_in_name(name: str) -> datetime | None:
    """When a kept copy or a backup was made, from its name: pre-restore-20260501-101500.sqlite,
    counterfoil-20260501-101500.counterfoil, counterfoil-my-shop-20260501-1015.counterfoil."""
    match = _TIME_IN_NAME_RE.search(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1) + match.group(2) + (match.group(3) or "00"), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def recovery_advice(database: str, kept: tuple[str, datetime] | None, scheduled: tuple[str, datetime] | None,
                    *, damaged: bool) -> str:
    """What to do with a damaged or emptied database: the newest copies there are (`kept`: the newest
    `pre-restore-*.sqlite`, `scheduled`: the newest scheduled backup, each with when it was made), and how
    to put one back. The damaged file is kept aside, never overwritten: it may still be needed."""
    if kept is None and scheduled is None:
        salvage = " (`sqlite3 counterfoil.sqlite .recover` may save part of it)" if damaged else ""
        return (f"No backup was found (no pre-restore copy beside it, no scheduled backups). Keep {database} "
                f"as it is{salvage}; to restore a backup you keep elsewhere: quit Counterfoil, rename the file, "
                "then `counterfoil backup import FILE`.")
    ways = []
    if scheduled is not None:
        ways.append(f"restore the newest scheduled backup, {scheduled[0]} (made {scheduled[1]:%Y-%m-%d %H:%M}), "
                    f"with `counterfoil backup import \"{scheduled[0]}\"`")
    if kept is not None:
        ways.append(f"copy {kept[0]} (kept before a restore, {kept[1]:%Y-%m-%d %H:%M}) to {database}")
    newer = ""
    if kept is not None and scheduled is not None:
        newer = " The newer of the two is " + ("the scheduled backup." if scheduled[1] >= kept[1] else
                                               "the pre-restore copy.")
    return (f"To get your data back: quit Counterfoil, rename {database} (keep it), then "
            + ", or ".join(ways) + "." + newer)
