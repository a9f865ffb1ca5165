"""A real SMTP server for the tests (aiosmtpd on a free port) and helpers to send through it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from app.clients.records import ClientView
from tests.conftest import run
from tests.http.support import create_via_api

PASSWORD = "s3cret-Pa55word-never-shown"
USERNAME = "mailer@atelier.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# When the server hangs up (Inbox.hang_up): at the DATA command, before any of the message comes
# (the client can safely try again), or once the whole message is in and before answering it (the
# message is kept, as a real server may pass it on: the client cannot know).
AT_DATA = "at the DATA command"
AFTER_THE_MESSAGE = "after the message"


class Inbox:
    """What the SMTP server received: envelopes and parsed messages."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.logins: list[tuple[str, str]] = []
        self.refuse: set[str] = set()
        self.hang_up: str | None = None   # AT_DATA | AFTER_THE_MESSAGE | None
        self.hung_up = 0
        self.answer_to_data: str | None = None   # e.g. "451 4.3.0 Try later" instead of accepting
        self.slow_answer_s = 0.0   # a server that takes the message and is slow to say so

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.answer_to_data:
            return self.answer_to_data
        self.envelopes.append(envelope)
        if self.slow_answer_s:
            await asyncio.sleep(self.slow_answer_s)
        if self.hang_up == AFTER_THE_MESSAGE:
            self.hung_up += 1
            server.transport.close()  # the answer below is never written
        return "250 2.0.0 Ok: queued as TEST%d" % len(self.envelopes)

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


class _HangingUpSMTP(SMTP):
    """aiosmtpd's server, which can hang up on the DATA command (Inbox.hang_up == AT_DATA)."""

    async def smtp_DATA(self, arg: str) -> None:
        inbox = self.event_handler
        if inbox.hang_up == AT_DATA:
            inbox.hung_up += 1
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _HangingUpSMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    def __init__(self, port: int, *, auth: bool = True) -> None:
        self.port, self.auth = port, auth
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.inbox.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            if auth_data.login.decode() == USERNAME and auth_data.password.decode() == PASSWORD:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpServer:
        kwargs: dict[str, Any] = {}
        if self.auth:
            kwargs = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self.controller = _Controller(self.inbox, hostname="127.0.0.1", port=self.port, server_hostname="mx.test",
                                     **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def configure(api, smtp: SmtpServer, **extra: Any) -> dict[str, Any]:
    response = api.patch("/api/v1/settings", json={
        "name": "Atelier Lumière", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
        "smtp_username": USERNAME, "smtp_password": PASSWORD, "smtp_allow_unencrypted_password": True,
        "smtp_from_email": "billing@atelier.example",
        "smtp_from_name": "Atelier Lumière", "accountant_email": "books@accountant.example", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def issued_invoice(api, client: ClientView, *, issue: bool = True, path: str = "invoices") -> dict[str, Any]:
    return create_via_api(api, path, {
        "client_id": client.id, "currency": "CAD",
        "lines": [{"description": "Design, March", "quantity": "10", "unit": "h", "unit_price": "120.00"}]},
        issue=issue)


def deliver() -> int:
    from app.mail import service

    return run(service.deliver_due(datetime.now(UTC) + timedelta(seconds=1)))
