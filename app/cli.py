"""The `counterfoil` command line (see ../shared/API.md for the stable names).

Exit status: 0 success, 1 user error (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app import __version__, codecache
from app.config import DEFAULT_PORT, Config

if TYPE_CHECKING:
    from app.audit.logic import Actor


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 1."""


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help="data folder (default: COUNTERFOIL_DATA_DIR, else the user data folder)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="counterfoil", description="Billing and back office on your own computer.")
    parser.add_argument("--version", action="version", version=f"counterfoil {__version__}")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="start the app and open the browser (the default)")
    _data_dir_option(serve)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="first port to try (default 5050)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1 only)")
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser")

    init = commands.add_parser("init", help="first run without prompts: create the owner account")
    _data_dir_option(init)
    init.add_argument("--owner-email", required=True)
    init.add_argument("--password-file", required=True, type=Path, help="file whose first line is the password")
    init.add_argument("--business-name", default="My business")
    init.add_argument("--owner-name", default="")

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_create = token_commands.add_parser("create", help="create an API token for the owner and print it")
    _data_dir_option(token_create)
    token_create.add_argument("--name", required=True)
    # Owner by default: what this command has always made, so the scripts that call it keep working
    # (whoever can run it holds the data folder, and with it every power already).
    token_create.add_argument("--scope", choices=("read", "write", "owner"), default="owner",
                              help="read: only look; write: also create, change and send; "
                                   "owner (default): also settings, users, backups, tokens and deleting")
    token_create.add_argument("--expires", metavar="YYYY-MM-DD", default=None,
                              help="the last day the token works (default: until revoked)")

    check = commands.add_parser("check", help="prove that documents, payments and ledgers agree (exit 0 only if all holds)")
    _data_dir_option(check)

    demo = commands.add_parser("demo", help="fill the data folder with realistic sample data")
    _data_dir_option(demo)
    demo.add_argument("--clients", type=int, default=40)
    demo.add_argument("--invoices", type=int, default=120)

    imports = commands.add_parser("import", help="import clients, items, invoices and payments from another program "
                                                 "(a CSV, JSON or ZIP file, or a folder of them)")
    imports.add_argument("file", type=Path, help="the file (or a folder of CSV/JSON files, or a ZIP)")
    _data_dir_option(imports)
    imports.add_argument("--source", default="auto",
                         choices=("auto", "csv", "counterfoil", "invoiceninja", "invoiceplane", "freshbooks"))
    imports.add_argument("--kind", default="auto", choices=("auto", "clients", "items", "invoices", "payments"))
    imports.add_argument("--mapping", type=Path, metavar="MAP.json",
                         help="column mapping: {\"field\": \"column\"} (or per file name)")
    imports.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "cp1252"))
    imports.add_argument("--separator", choices=(",", ";", "tab", "|"))
    imports.add_argument("--decimal", choices=(".", ","))
    imports.add_argument("--date-format", help="e.g. %%d.%%m.%%Y (default: detected)")
    imports.add_argument("--accept-totals", action="store_true",
                         help="keep the source's total where it differs from the lines (marked \"imported total\")")
    imports.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")

    backup = commands.add_parser("backup", help="encrypted backup bundles (one .counterfoil file)")
    backup_commands = backup.add_subparsers(dest="backup_command", required=True)
    # allow_abbrev=False: `--passphrase SECRET` must be a usage error, never taken for --passphrase-file.
    export = backup_commands.add_parser("export", help="write the data folder into one encrypted bundle",
                                        allow_abbrev=False)
    export.add_argument("file", metavar="FILE", type=Path,
                        help="the bundle to write (.counterfoil is added if missing; a folder gets a dated name)")
    _data_dir_option(export)
    export.add_argument("--passphrase-file", metavar="F", type=Path,
                        help="file whose first line is the passphrase (else it is asked twice on the terminal)")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore = backup_commands.add_parser("import", help="check a bundle completely, then restore it "
                                                        "(the previous database is kept beside it)", allow_abbrev=False)
    restore.add_argument("file", metavar="FILE", type=Path, help="the .counterfoil bundle to restore")
    _data_dir_option(restore)
    restore.add_argument("--passphrase-file", metavar="F", type=Path,
                         help="file whose first line is the passphrase (else it is asked on the terminal)")
    restore.add_argument("--dry-run", action="store_true",
                         help="check the bundle and show what it holds and would switch on; change nothing")
    # What a backup would switch on comes in off (it may come from someone else); these keep it as it is.
    restore.add_argument("--keep-scheduled-sends", action="store_true",
                         help="keep the backup's accountant schedule, queued outbox messages and backup schedule")
    restore.add_argument("--keep-custom-templates", action="store_true",
                         help="keep the backup's custom document templates switched on")
    restore.add_argument("--keep-tokens", action="store_true", help="keep the backup's API tokens working")

    audit = commands.add_parser("audit", help="the audit trail of every change")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_export = audit_commands.add_parser("export", help="write the trail, with its hashes, to a CSV or JSON-lines "
                                                            "file (for an accountant or an inspector)")
    audit_export.add_argument("file", metavar="FILE", type=Path, help="the file to write (.csv, else JSON lines)")
    _data_dir_option(audit_export)
    audit_export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (UTC)")
    audit_export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (UTC), included")
    audit_export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    recurring = commands.add_parser("recurring", help="recurring invoices")
    recurring_commands = recurring.add_subparsers(dest="recurring_command", required=True)
    recurring_run = recurring_commands.add_parser("run", help="make every recurring invoice due and not made yet "
                                                              "(what the running app does every hour)")
    _data_dir_option(recurring_run)
    recurring_run.add_argument("--as-of", metavar="YYYY-MM-DD", default=None,
                               help="make the periods due on or before this day (default: today)")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return Config.for_data_dir(getattr(args, "data_dir", None))


async def _open(config: Config) -> None:
    from app.backup import service as backup_service
    from app.db.lifecycle import open_database

    backup_service.recover_interrupted_restore(config)   # a restore cut short finishes or is undone first
    await open_database(config)


async def _close(config: Config) -> None:
    """A command is done with the database: its connections close, and, unless a server holds the folder
    (it does so at its own stop), the write-ahead log is folded into the database file."""
    from app.backup import service as backup_service
    from app.db.lifecycle import close_database

    await close_database(checkpoint=backup_service.server_port(config) is None)


def cmd_init(args: argparse.Namespace) -> int:
    from app.auth import service as auth_service
    from app.common.logic import Conflict, ValidationFailed

    try:
        password = args.password_file.read_text(encoding="utf-8").splitlines()[0] if args.password_file.stat().st_size else ""
    except OSError as error:
        raise UserError(f"cannot read the password file: {error.strerror}") from None
    config = _config(args)

    async def run() -> None:
        await _open(config)
        try:
            await auth_service.setup_owner({"business_name": args.business_name, "name": args.owner_name,
                                            "email": args.owner_email, "password": password,
                                            "password_repeat": password})
        finally:
            await _close(config)
    try:
        asyncio.run(run())
    except ValidationFailed as failed:
        raise UserError("; ".join(f"{e.field}: {e.message}" for e in failed.errors)) from None
    except Conflict as conflict:
        raise UserError(conflict.detail) from None
    print(f"Owner {args.owner_email} created in {config.data_dir}.")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from app.auth import service as auth_service
    from app.common.logic import Conflict, ValidationFailed

    config = _config(args)

    async def run() -> str:
        await _open(config)
        try:
            return await auth_service.create_api_token_for_owner(args.name, scope=args.scope, valid_until=args.expires)
        finally:
            await _close(config)
    try:
        print(asyncio.run(run()))
    except ValidationFailed as failed:
        raise UserError("; ".join(error.message for error in failed.errors)) from None
    except Conflict as conflict:
        raise UserError(conflict.detail) from None
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app import demo

    if args.clients < 0 or args.invoices < 0:
        raise UserError("--clients and --invoices cannot be negative")
    config = _config(args)

    async def run() -> dict[str, int]:
        await _open(config)
        try:
            return await demo.fill(config, clients=args.clients, invoices=args.invoices)
        finally:
            await _close(config)
    counts = asyncio.run(run())
    print("Demo data added: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """SQLite's full integrity check first (a damaged file is named, with the newest backups), then the
    books. Reads only, so a read-only folder can be checked; an older schema is upgraded first when the
    folder can be written."""
    from app.backup import service as backup_service
    from app.db import datafolder
    from app.db.lifecycle import inspect_database
    from app.integrity.service import integrity_breaks, run_checks

    config = _config(args)
    if not config.database_path.is_file() or config.database_path.stat().st_size == 0:
        inspect_database(config)   # refuses an emptied database where data was (DatabaseMissing)
        raise UserError(f"no Counterfoil database in {config.data_dir}")
    writable = datafolder.database_writable(config.database_path)
    if writable:
        backup_service.recover_interrupted_restore(config)   # a restore cut short finishes or is undone first
    damaged = integrity_breaks(config.database_path)
    if damaged:
        for item in damaged:
            print(f"BREAK {item}")
        print(f"counterfoil check: {config.database_path} is damaged ({len(damaged)} problem(s) reported by SQLite). "
              + backup_service.recovery_advice(config, damaged=True), file=sys.stderr)
        return 1
    inspection = inspect_database(config, quick_check=False)   # refuses a newer schema
    if inspection.needs_migration:
        if not writable:
            raise UserError(f"{config.database_path} was made by an older Counterfoil and must be upgraded before it "
                            f"can be checked, which needs a writable folder: {config.data_dir} is read-only")
        async def upgrade() -> None:
            await _open(config)
            await _close(config)
        asyncio.run(upgrade())
    breaks = run_checks(config.database_path, integrity=False)
    for item in breaks:
        print(f"BREAK {item}")
    if breaks:
        print(f"counterfoil check: {len(breaks)} problem(s) found in {config.data_dir}", file=sys.stderr)
        return 1
    print(f"All checks hold for {config.data_dir}: documents, payments, ledgers and numbering agree, and the audit "
          "trail is whole and agrees with them.")
    return 0


def _read_passphrase(args: argparse.Namespace, *, twice: bool) -> str:
    """From --passphrase-file (first line), else typed on the terminal; never from an argument."""
    import getpass

    if args.passphrase_file is not None:
        try:
            lines = args.passphrase_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise UserError(f"cannot read the passphrase file: {error.strerror}") from None
        except UnicodeDecodeError:
            raise UserError("the passphrase file is not UTF-8 text") from None
        if not lines or not lines[0]:
            raise UserError("the passphrase file's first line is empty")
        return lines[0]
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask for the passphrase: use --passphrase-file F")
    passphrase = getpass.getpass("Backup passphrase: ")
    if twice and getpass.getpass("The same passphrase again: ") != passphrase:
        raise UserError("the two passphrases are not the same; nothing was written")
    if not passphrase:
        raise UserError("the passphrase is empty")
    return passphrase


def _progress(verb: str):
    """A percentage on stderr for bundles large enough to make the user wait (only on a terminal)."""
    if not sys.stderr.isatty():
        return None
    shown = {"last": -1}

    def report(done: int, total: int) -> None:
        if total < 8 * 1024 * 1024:
            return
        percent = int(done * 100 / total) if total else 100
        if percent != shown["last"]:
            shown["last"] = percent
            print(f"\r{verb}… {percent}%", end="" if percent < 100 else "\n", file=sys.stderr, flush=True)
    return report


def cmd_backup_export(args: argparse.Namespace) -> int:
    from datetime import datetime

    from app.backup import logic
    from app.backup import service as backup_service
    from app.common.logic import describe_size

    config = _config(args)
    if not config.database_path.is_file():
        raise UserError(f"no Counterfoil database in {config.data_dir}")
    target: Path = args.file.expanduser()
    if target.is_dir():
        target = target / logic.export_filename("", datetime.now())
    elif target.suffix != logic.SUFFIX:
        target = target.with_name(target.name + logic.SUFFIX)
    passphrase = _read_passphrase(args, twice=True)
    problem = logic.passphrase_problem(passphrase)
    if problem:
        raise UserError(problem[0].lower() + problem[1:])
    try:
        result = backup_service.export_bundle(config, target, passphrase, overwrite=args.force,
                                              progress=_progress("Encrypting"))
    except logic.BackupError as error:
        raise UserError(error.message) from None
    counts = logic.summary_counts(result.manifest["row_counts"])
    files, _ = logic.attachment_summary(result.manifest)
    print(f"Backup written: {result.path} ({describe_size(result.size)}; "
          + ", ".join(f"{n} {label}" for label, n in counts[:3]) + f", {files} attachment(s)). "
          "Keep the passphrase safe: without it this backup cannot be restored.")
    return 0


def cmd_backup_import(args: argparse.Namespace) -> int:
    from app.backup import logic
    from app.backup import service as backup_service

    config = _config(args)
    source: Path = args.file.expanduser()
    if not source.is_file():
        raise UserError(f"{source} does not exist or is not a file")
    port = backup_service.server_port(config)
    if port is not None:   # say so before asking for a passphrase
        raise UserError(backup_service.running_refusal(config, port).message)
    passphrase = _read_passphrase(args, twice=False)
    choices = logic.RestoreChoices(keep_scheduled_sends=args.keep_scheduled_sends,
                                   keep_custom_templates=args.keep_custom_templates, keep_tokens=args.keep_tokens)

    def review(staged: backup_service.Staged) -> bool:
        """What the backup would switch on, before anything changes (it may come from someone else)."""
        print(f"The backup of {staged.manifest['business_name'] or 'an unnamed business'} (made "
              f"{staged.manifest['created_at']}) holds these settings that send mail or let someone in:")
        for label, value in logic.describe_bundle_settings(staged.settings):
            print(f"  {label}: {value}")
        if args.dry_run:
            print("Dry run: nothing was changed.")
            return False
        print("Restoring it:")
        for effect in logic.restore_effects(staged.settings, choices):
            print(f"  {effect}")
        return True

    try:
        result = backup_service.import_bundle(config, source, passphrase, progress=_progress("Checking"),
                                              choices=choices, before_apply=review)
    except logic.BackupError as error:
        raise UserError(error.message) from None
    if result is None:
        return 0
    manifest = result.manifest
    counts = logic.summary_counts(manifest["row_counts"])
    print(f"Restored {manifest['business_name'] or 'the backup'} (made {manifest['created_at']} by Counterfoil "
          f"{manifest['app_version']}) into {config.data_dir}: " + ", ".join(f"{n} {label}" for label, n in counts)
          + "." + (" Its data was upgraded to this version." if result.migrated else ""))
    if result.previous_database is not None:
        print(f"The previous database is kept as {result.previous_database}.")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    from app.audit import logic
    from app.audit import service as audit_service
    from app.common.logic import ValidationFailed

    config = _config(args)
    if not config.database_path.is_file():
        raise UserError(f"no Counterfoil database in {config.data_dir}")
    try:
        criteria = logic.parse_filter({"from": args.date_from, "to": args.date_to})
    except ValidationFailed as failed:
        raise UserError("; ".join(f"--{e.field}: {e.message.removeprefix(e.field + ' ')}" for e in failed.errors)) \
            from None
    target: Path = args.file.expanduser()
    if target.exists() and not args.force:
        raise UserError(f"{target} already exists; choose another name or add --force (nothing was written)")
    if not target.parent.is_dir():
        raise UserError(f"the folder {target.parent} does not exist")
    asyncio.run(_open(config))
    kind = "csv" if target.suffix.lower() == ".csv" else "jsonl"
    try:
        count = audit_service.export_file(config.database_path, target, criteria, kind=kind)
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from None
    print(f"{count} audit entries written to {target} ({'CSV' if kind == 'csv' else 'JSON lines'}, with their hashes).")
    return 0


def cmd_recurring_run(args: argparse.Namespace) -> int:
    from datetime import date

    from app.common.logic import ValidationFailed
    from app.recurring import service as recurring_service

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        raise UserError(f"--as-of: a date as YYYY-MM-DD, not {args.as_of!r}") from None
    config = _config(args)

    async def run() -> recurring_service.RunReport:
        await _open(config)
        try:
            return await recurring_service.run_due(as_of, data_dir=config.data_dir)
        finally:
            await _close(config)
    try:
        report = asyncio.run(run())
    except ValidationFailed as failed:
        raise UserError("; ".join(error.message for error in failed.errors)) from None
    for document in report.made:
        print(f"{document.issue_date.isoformat()}  {document.number or f'draft #{document.id}'}  "
              f"{document.client_name}  {document.total} {document.currency}")
    print(f"{len(report.made)} recurring invoice(s) made as of {report.as_of.isoformat()}"
          + (f", {report.queued} queued for email" if report.queued else "") + ".")
    for problem in report.problems:
        print(f"counterfoil: {problem}", file=sys.stderr)
    return 1 if report.problems else 0


def cmd_import(args: argparse.Namespace) -> int:
    import json
    import time

    from app.common.logic import Conflict, ValidationFailed
    from app.imports import parsing
    from app.imports import service as imports_service

    if not args.file.exists():
        raise UserError(f"{args.file}: no such file or folder")
    options: dict = {"accept_totals": args.accept_totals,
                     "dialect": {k: v for k, v in (("encoding", args.encoding), ("separator", args.separator),
                                                   ("decimal", args.decimal), ("date_format", args.date_format)) if v}}
    if args.mapping is not None:
        try:
            options["mapping"] = json.loads(args.mapping.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UserError(f"--mapping: cannot read {args.mapping}: {error}") from None
    try:
        uploads = [imports_service.files_of(args.file)]
    except parsing.FileRefused as error:
        raise UserError(f"{args.file}: {error.message}") from None
    config = _config(args)
    started = time.monotonic()
    shown = {"at": 0.0}

    def progress(step: str, done: int, total: int) -> None:
        # rows per second and time left, on a terminal only (the writes are one transaction: no partial state)
        now = time.monotonic()
        if not sys.stderr.isatty() or (now - shown["at"] < 0.2 and done < total):
            return
        shown["at"] = now
        elapsed = max(now - started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / total) if total else width
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {step}, {rate:,.0f} rows/s, "
              f"{left:.0f} s left ", end="" if done < total else "\n", file=sys.stderr, flush=True)

    async def run() -> tuple[dict, dict | None]:
        await _open(config)
        try:
            # handed over, not held while the apply writes (the upload is read again only if it must be)
            job = await imports_service.create_preview(uploads.pop(), data_dir=config.data_dir, source=args.source,
                                                       kind=args.kind, options=options)
            preview = job["preview"]
            if args.dry_run or not preview["can_apply"] or (preview["counts"]["confirmations"]
                                                            and not args.accept_totals):
                await imports_service.discard(job["id"], data_dir=config.data_dir)
                return job, None
            summary = await imports_service.apply(job["id"], data_dir=config.data_dir, progress=progress)
            return job, summary
        finally:
            await _close(config)
    try:
        job, summary = asyncio.run(run())
    except ValidationFailed as failed:
        raise UserError("; ".join(error.message for error in failed.errors)) from None
    except Conflict as conflict:
        raise UserError(conflict.detail) from None
    preview = job["preview"]
    for info in preview["files"]:
        dialect = info["dialect_shown"]
        print(f"{info['name']}: {info['source_label']}, {info['kind_label']}, {info['rows']} rows "
              f"({dialect['encoding']}, {dialect['separator']}, decimal {dialect['decimal']}, "
              f"dates {dialect['date_format']})")
    counts = preview["counts"]
    problems = preview["problems"]
    for problem in problems:
        if problem["level"] == "warning":
            print(f"warning: {problem['file']}, row {problem['row']}: {problem['message']}")
    blocking = [p for p in problems if p["level"] == "error" or (p["level"] == "confirm" and not args.accept_totals)]
    if blocking:
        for line in imports_service.problem_lines(blocking):
            print(f"counterfoil: {line}", file=sys.stderr)
        more = counts["errors"] + counts["confirmations"] - min(20, len(blocking))
        print(f"counterfoil: nothing was imported ({counts['errors']} problem(s), {counts['confirmations']} total(s) "
              f"to accept with --accept-totals){f'; {more} more' if more > 0 else ''}.", file=sys.stderr)
        return 1
    unchanged = ", ".join(f"{n} {what}" for what, n in counts["unchanged"].items())
    what = (f"{counts['clients']} clients, {counts['items']} items, {counts['invoices']} invoices "
            f"({counts['lines']} lines), {counts['credit_notes']} credit notes, {counts['payments']} payments")
    if summary is None:
        print(f"Dry run: would import {what}" + (f"; already there: {unchanged}" if unchanged else "") + ".")
        return 0
    seconds = max(summary["seconds"], 1e-6)
    rows = counts["rows"]
    print(f"Imported {what}" + (f"; already there, unchanged: {unchanged}" if unchanged else "")
          + f". {rows} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s).")
    return 0


def _actor() -> Actor:
    """The command line acts as the operating-system account that runs it (it holds the data folder)."""
    import getpass

    from app.audit.logic import Actor

    try:
        name = getpass.getuser()
    except Exception:   # no login name (a container without USER): still the command line
        name = "unknown"
    return Actor.command_line(name)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.launcher import serve

    config = Config.for_data_dir(getattr(args, "data_dir", None), host=getattr(args, "host", "127.0.0.1"),
                                 port=getattr(args, "port", DEFAULT_PORT))
    if not 1 <= config.port <= 65535:
        raise UserError("--port must be between 1 and 65535")
    return serve(config, open_in_browser=not getattr(args, "no_browser", False))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    if args.command not in ("serve", None):
        return _run(args)
    # The start imports ~900 modules and builds the app: ~200,000 objects that live as long as the server,
    # which the collector would walk over and over meanwhile (~0.1 s of the start). It is off until the app
    # is built (app.web.server.run_server freezes them and turns it on). The code that dataclasses and
    # typing compile at each start comes from the last one's (app.codecache), from the first import on.
    gc.disable()
    codecache.start()
    try:
        return _run(args)
    finally:
        # A start that failed before serving, or main() called in a longer-lived process.
        codecache.stop()
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    from app.audit import service as audit_service
    from app.db.datafolder import DataFolderProblem
    from app.db.lifecycle import SQLiteTooOld

    handlers = {"serve": cmd_serve, None: cmd_serve, "init": cmd_init, "demo": cmd_demo, "check": cmd_check}
    try:
        if args.command in ("serve", None):
            return cmd_serve(args)   # each request names its own actor (app.web.security)
        with audit_service.acting(_actor()):
            if args.command == "token":
                return cmd_token_create(args)
            if args.command == "backup":
                return cmd_backup_export(args) if args.backup_command == "export" else cmd_backup_import(args)
            if args.command == "audit":
                return cmd_audit_export(args)
            if args.command == "recurring":
                return cmd_recurring_run(args)
            if args.command == "import":
                return cmd_import(args)
            return handlers[args.command](args)
    except UserError as error:
        print(f"counterfoil: {error}", file=sys.stderr)
        return 1
    except SQLiteTooOld as error:
        print(f"counterfoil: {error}", file=sys.stderr)
        return 1
    except DataFolderProblem as error:
        from app.launcher import failed_start_message

        print(f"counterfoil: {failed_start_message(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
