"""Real SMTP servers on loopback for the test-send tests: aiosmtpd, certificates from trustme."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "reports@example.com", "correct horse battery staple"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    mail_options: list[str] = field(default_factory=list)


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                list(envelope.mail_options),
            )
        )
        return "250 Message accepted for delivery"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("localhost", "127.0.0.1"))).configure_cert(ctx)
    return ctx


class _ImplicitTLSController(Controller):
    def _trigger_server(self) -> None:
        # aiosmtpd's own readiness probe wraps with the *server* context; use a client one
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection((self.hostname, self.port), 1.0) as raw,
            ctx.wrap_socket(raw) as s,
        ):
            s.recv(1024)


@contextmanager
def smtp_server(
    kind: str, ca: trustme.CA | None = None, names: tuple[str, ...] = (), smtputf8: bool = False
) -> Iterator[tuple[Recorder, int]]:
    """kind: implicit (TLS on connect), starttls (required), plain, no-starttls."""
    recorder = Recorder()
    port = free_port()
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": authenticator,
        "enable_SMTPUTF8": smtputf8,
    }
    if kind == "implicit":
        assert ca is not None
        # AUTH is only advertised with auth_require_tls=False over implicit TLS (aiosmtpd #281)
        ctl: Controller = _ImplicitTLSController(
            recorder,
            ssl_context=server_context(ca, *names),
            auth_require_tls=False,
            auth_required=True,
            **common,
        )
    elif kind == "starttls":
        assert ca is not None
        ctl = Controller(
            recorder,
            tls_context=server_context(ca, *names),
            require_starttls=True,
            auth_required=True,
            **common,
        )
    elif kind == "plain":
        ctl = Controller(recorder, auth_require_tls=False, auth_required=True, **common)
    elif kind == "no-starttls":
        ctl = Controller(recorder, auth_require_tls=False, **common)
    else:
        raise ValueError(kind)
    ctl.start()
    try:
        yield recorder, port
    finally:
        ctl.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        listener.close()
