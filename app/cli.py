"""The `counterfoil` command line (see ../shared/API.md for the stable names).

Exit status: 0 success, 1 user error (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from app import __version__
from app.config import DEFAULT_PORT, Config


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

    check = commands.add_parser("check", help="prove that documents, payments and ledgers agree (exit 0 only if all holds)")
    _data_dir_option(check)

    demo = commands.add_parser("demo", help="fill the data folder with realistic sample data")
    _data_dir_option(demo)
    demo.add_argument("--clients", type=int, default=40)
    demo.add_argument("--invoices", type=int, default=120)
    return parser


def _config(args: argparse.Namespace) -> Config:
    return Config.for_data_dir(getattr(args, "data_dir", None))


async def _open(config: Config) -> None:
    from app.db.lifecycle import open_database

    await open_database(config)


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
        await auth_service.setup_owner({"business_name": args.business_name, "name": args.owner_name,
                                        "email": args.owner_email, "password": password, "password_repeat": password})
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
        return await auth_service.create_api_token_for_owner(args.name)
    try:
        print(asyncio.run(run()))
    except ValidationFailed as failed:
        raise UserError(failed.errors[0].message) from None
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
        return await demo.fill(config, clients=args.clients, invoices=args.invoices)
    counts = asyncio.run(run())
    print("Demo data added: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from app.integrity.service import run_checks

    config = _config(args)
    if not config.database_path.exists():
        raise UserError(f"no Counterfoil database in {config.data_dir}")
    asyncio.run(_open(config))
    breaks = run_checks(config.database_path)
    for item in breaks:
        print(f"BREAK {item}")
    if breaks:
        print(f"counterfoil check: {len(breaks)} problem(s) found in {config.data_dir}", file=sys.stderr)
        return 1
    print(f"All checks hold for {config.data_dir}: documents, payments, ledgers and numbering agree.")
    return 0


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
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"serve": cmd_serve, None: cmd_serve, "init": cmd_init, "demo": cmd_demo, "check": cmd_check}
    try:
        if args.command == "token":
            return cmd_token_create(args)
        return handlers[args.command](args)
    except UserError as error:
        print(f"counterfoil: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
