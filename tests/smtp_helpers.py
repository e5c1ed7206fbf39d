"""Real SMTP servers on loopback for the test-send tests: aiosmtpd, certificates from trustme."""

from __future__ import annotations

import socket
import ssl
import threading
import time
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


@dataclass
class Script:
    """How a scripted server misbehaves. ``drip`` and ``drop`` name a command (EHLO, MAIL,
    RCPT, DATA, or GREETING for the banner): at ``drip`` the server sends a continuation line
    every ``interval`` seconds, for at most ``drip_for`` seconds; at ``drop`` it closes the
    connection without a word."""

    drip: str | None = None
    drop: str | None = None
    interval: float = 1.0
    drip_for: float = 20.0
    extensions: tuple[str, ...] = ("8BITMIME", "AUTH PLAIN")
    commands: list[str] = field(default_factory=list)


def _serve(conn: socket.socket, script: Script, stop: threading.Event) -> None:
    conn.settimeout(30)  # a client that vanishes without closing does not hold a thread

    def say(*lines: str) -> None:
        conn.sendall("".join(f"{line}\r\n" for line in lines).encode())

    def drip(code: int) -> None:
        until = time.monotonic() + script.drip_for
        while not stop.is_set() and time.monotonic() < until:
            say(f"{code}-still working")
            stop.wait(script.interval)

    reader = conn.makefile("rb")
    try:
        if script.drip == "GREETING":
            drip(220)
            return
        say("220 scripted.example ESMTP")
        while not stop.is_set():
            line = reader.readline()
            if not line:
                return
            verb = line.decode("utf-8", "replace").split(" ", 1)[0].strip().upper()
            script.commands.append(verb)
            if verb == script.drop:
                return
            if verb == script.drip:
                drip(250)
                return
            if verb == "EHLO":
                say("250-scripted.example", *(f"250-{e}" for e in script.extensions), "250 HELP")
            elif verb == "AUTH":
                say("235 2.7.0 accepted")
            elif verb == "DATA":
                say("354 go ahead")
                while reader.readline() not in (b".\r\n", b""):
                    pass
                say("250 2.0.0 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                say("250 2.1.0 ok")
    except OSError:
        return  # the client gave up and closed: what a dripping server waits for
    finally:
        reader.close()
        conn.close()


@contextmanager
def scripted_server(script: Script) -> Iterator[int]:
    """A plain SMTP server on loopback, one thread per connection, for what aiosmtpd cannot
    be made to do: answer forever, or hang up at a chosen command."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            t = threading.Thread(target=_serve, args=(conn, script, stop), daemon=True)
            t.start()
            threads.append(t)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        acceptor.join()
        for t in threads:
            t.join(timeout=5)
        listener.close()
