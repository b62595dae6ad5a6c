"""Real receivers for alert delivery tests: an HTTP(S) webhook server and SMTP servers on loopback."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from hunter.core.changes import Change
from hunter.store.db import Database
from hunter.store.models import AlertChannel, AlertDelivery, Company

NOW = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
SECRET = "s3cret-key-for-tests"
TR = "Alan adı Microsoft 365'e geçti (Google Workspace → Microsoft 365); şimdi arayın."
EN = "The domain moved to Microsoft 365 (Google Workspace → Microsoft 365); call now."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def change(
    key: str = "firma.com.tr:platform_to_m365:abc",
    *,
    kind: str = "platform_to_m365",
    severity: str = "high",
    domain: str = "firma.com.tr",
    detected_at: datetime = NOW,
) -> Change:
    return Change(
        kind=kind,
        severity=severity,
        domain=domain,
        text={"tr": TR, "en": EN},
        before="google",
        after="m365",
        dedupe_key=key,
        detected_at=detected_at,
    )


def add_company(db: Database, domain: str = "firma.com.tr") -> int:
    with db.session() as session:
        company = Company(domain=domain, display_domain=domain)
        session.add(company)
        session.flush()
        return company.id


def add_channel(db: Database, kind: str, target: str, **options: Any) -> int:
    values: dict[str, Any] = {"secret": SECRET if kind == "webhook" else None, **options}
    with db.session() as session:
        channel = AlertChannel(kind=kind, target=target, **values)
        session.add(channel)
        session.flush()
        return channel.id


def deliveries(db: Database) -> list[AlertDelivery]:
    with db.session() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def only_delivery(db: Database) -> AlertDelivery:
    rows = deliveries(db)
    assert len(rows) == 1, rows
    return rows[0]


class MapResolver:
    """A stand-in for DNS: fixed answers per name, and a count of the questions asked."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> Iterable[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.answers[host])


# -- webhook receiver ------------------------------------------------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers 500 ``fail_times`` times, then ``status`` (with ``location``)."""

    fail_times: int = 0
    status: int = 200
    location: str | None = None
    reply_body: bytes = b"ok"
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    port: int = 0
    scheme: str = "http"

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def answer(self) -> tuple[int, bytes]:
        if self.fail_times > 0:
            self.fail_times -= 1
            return 500, b"temporarily broken"
        return self.status, self.reply_body


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.requests.append(Recorded(self.path, headers, body))
            if receiver.delay:
                time.sleep(receiver.delay)
            status, reply = receiver.answer()
            self.send_response(status)
            if receiver.location and 300 <= status < 400:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets connections under concurrent sends


class ReceiverServer:
    def __init__(self, receiver: Receiver, tls: ssl.SSLContext | None = None) -> None:
        self.receiver = receiver
        self.server = _Server(("127.0.0.1", 0), _handler(receiver))
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: receiver.sni.append(name)  # type: ignore[assignment]
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            receiver.scheme = "https"
        receiver.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# -- SMTP servers ----------------------------------------------------------------------------------------


def start_smtp(handler: object, port: int | None = None, **options: Any) -> Controller:
    """An aiosmtpd server on 127.0.0.1 in its own thread (it cannot bind port 0 itself)."""
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **options)
    controller.start()
    return controller


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 Message accepted"


class Rejecter:
    """Refuses every message at the end of DATA, like a spam filter would."""

    def __init__(self) -> None:
        self.attempts = 0

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        return "550 5.7.1 Message rejected by policy"


class Credentials:
    """An aiosmtpd authenticator accepting one user."""

    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(
        self, server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == self.expected)
