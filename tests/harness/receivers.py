"""Real alert receivers on 127.0.0.1: a JSON webhook (HTTP) and an SMTP server (aiosmtpd).

A webhook answers 200, answers 500, or hangs for a while before answering, as told; both record what
they received, with the time it arrived.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    at: float
    path: str
    body: dict[str, Any]


class WebhookReceiver:
    """``json://127.0.0.1:PORT/PATH`` for Apprise. ``mode``: ``ok``, ``fail`` (HTTP 500) or ``hang``
    (holds each request ``hang_seconds`` before answering 200)."""

    def __init__(self, mode: str = "ok", hang_seconds: float = 30.0) -> None:
        self.mode = mode
        self.hang_seconds = hang_seconds
        self.received: list[Received] = []
        self.attempts = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with owner._lock:
                    owner.attempts += 1
                if owner.mode == "hang":
                    owner._release.wait(owner.hang_seconds)
                if owner.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                with owner._lock:
                    owner.received.append(Received(time.time(), self.path, json.loads(raw or b"{}")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)


@dataclass
class Mail:
    at: float
    mail_from: str
    rcpt_tos: list[str]
    content: str


@dataclass
class _Handler:
    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content.decode("utf-8", "replace") if isinstance(envelope.content, bytes) \
            else str(envelope.content)
        self.mails.append(Mail(time.time(), str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpReceiver:
    """A plain SMTP server (no TLS) that wants ``user``/``password`` (AUTH PLAIN/LOGIN)."""

    def __init__(self, user: str = "orc", password: str = "s3cret-pass") -> None:
        self.user, self.password = user, password
        self.handler = _Handler()
        self.port = free_port()

        def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                         auth_data: Any) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() \
                and auth_data.password == password.encode()
            return AuthResult(success=ok)

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticate, auth_require_tls=False)

    def url(self, to: str = "ops@example.org") -> str:
        return f"mailto://{self.user}:{self.password}@127.0.0.1:{self.port}?from=tmux-orc@localhost&to={to}"

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def mails(self) -> list[Mail]:
        return list(self.handler.mails)


def iter_text(*receivers: WebhookReceiver | SmtpReceiver) -> Iterator[str]:
    """Everything the receivers got, as text."""
    for receiver in receivers:
        if isinstance(receiver, WebhookReceiver):
            yield from (json.dumps(m.body) for m in receiver.messages())
        else:
            yield from (m.content for m in receiver.mails())
