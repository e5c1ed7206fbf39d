"""SMTP with smtplib: implicit TLS, STARTTLS or (only if the account says so) plain;
certificates always verified; AUTH over TLS — except with ``security: none``, where the
password travels in clear, as validation warns (smtp-insecure). Every command must complete
within a deadline, and every session within another; one connection is reused for every
message to the same server. Every failure names its step and the server's reply."""

from __future__ import annotations

import io
import os
import smtplib
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, final
from urllib.parse import unquote, urlsplit

from ametrika_gitops.config.model import Account
from ametrika_gitops.errors import AmetrikaError

RELAY_URL = "AMETRIKA_RELAY_URL"
RELAY_PASSWORD = "AMETRIKA_RELAY_PASSWORD"
COMMAND_TIMEOUT = "AMETRIKA_GITOPS_SMTP_TIMEOUT"
SESSION_TIMEOUT = "AMETRIKA_GITOPS_SMTP_SESSION_TIMEOUT"
STEPS = ("connect", "TLS", "AUTH", "MAIL FROM", "RCPT", "DATA")


def _seconds(variable: str, default: str) -> float:
    text = os.environ.get(variable, "").strip() or default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 86400:
        raise AmetrikaError(f"{variable} must be a number of seconds, such as {default}")
    return value


def timeout_seconds() -> float:
    """The deadline of one command: its whole answer, continuation lines included."""
    return _seconds(COMMAND_TIMEOUT, "30")


def session_seconds() -> float:
    """The deadline of a whole session (connect to the last message)."""
    return _seconds(SESSION_TIMEOUT, "300")


@dataclass(frozen=True)
class Endpoint:
    """Where and how to send. ``password`` is resolved from the environment, never stored."""

    host: str
    port: int
    security: str  # ssl-tls | starttls | none
    username: str | None
    password_variable: str | None
    custom: bool  # the account's own server (H3), as opposed to the platform relay

    @property
    def key(self) -> tuple[str, int, str, str | None]:
        return (self.host, self.port, self.security, self.username)

    def password(self) -> str | None:
        if self.password_variable is None:
            return None
        value = os.environ.get(self.password_variable)
        if not value:
            raise AmetrikaError(
                f"the SMTP password variable {self.password_variable} is not "
                "set; nothing was sent (set it from your CI secrets)"
            )
        return value

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


def endpoint_for(account: Account) -> Endpoint:
    """The account's own server in smtp mode (H14), the platform relay otherwise."""
    smtp = account.sender.smtp
    if smtp is not None:
        return Endpoint(smtp.host, smtp.port, smtp.security, smtp.username, smtp.password_env, True)
    url = os.environ.get(RELAY_URL, "").strip()
    if not url:
        raise AmetrikaError(
            f"{RELAY_URL} is not set: sender mode {account.sender.mode} sends "
            "through the platform relay, e.g. "
            f"{RELAY_URL}=smtps://user@relay.example.com:465 with the password "
            f"in {RELAY_PASSWORD}"
        )
    parts = urlsplit(url)
    security = {"smtps": "ssl-tls", "smtp": "starttls"}.get(parts.scheme)
    if security is None or not parts.hostname:
        raise AmetrikaError(
            f"{RELAY_URL} must look like smtps://user@host:465 (implicit TLS) "
            "or smtp://user@host:587 (STARTTLS)"
        )
    port = parts.port or (465 if security == "ssl-tls" else 587)
    user = unquote(parts.username) if parts.username else None
    return Endpoint(parts.hostname, port, security, user, RELAY_PASSWORD if user else None, False)


class SendError(AmetrikaError):
    """A failed step of an SMTP session."""

    def __init__(self, step: str, detail: str, endpoint: Endpoint) -> None:
        super().__init__(f"{step} failed at {endpoint.describe()}: {detail}")
        self.step, self.detail, self.endpoint = step, detail, endpoint


class DeadlineExceeded(Exception):
    """A command, or the session, ran out of time. Not an OSError, so that smtplib does not
    turn it into a misleading "connection unexpectedly closed"."""


class _Deadlines(smtplib.SMTP):
    """smtplib bounds each socket read by its timeout, so a server that sends a continuation
    line every second holds it forever. Here each command — from sending it to the last line of
    its answer — must finish within ``command`` seconds, and the session by ``session_end``
    (both on the monotonic clock)."""

    def __init__(self, host: str, port: int, command: float, session_end: float, **kw: Any):
        self.command = command
        self.session_end = session_end
        self.command_end = session_end
        super().__init__(host, port, timeout=command, **kw)

    def arm(self) -> None:
        self.command_end = min(time.monotonic() + self.command, self.session_end)

    def remaining(self) -> float:
        left = self.command_end - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> DeadlineExceeded:
        if self.command_end < self.session_end:
            return DeadlineExceeded(f"no answer within {self.command:g} s")
        return DeadlineExceeded(
            f"the SMTP session ran out of time ({session_seconds():g} s, {SESSION_TIMEOUT})"
        )

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> Any:
        self.arm()  # connecting, the TLS handshake of implicit TLS, and the greeting
        self.timeout = self.remaining()
        try:
            return super().connect(host, port, source_address)
        except DeadlineExceeded:
            self.close()  # raised inside the constructor: nobody else holds the socket
            raise

    def putcmd(self, cmd: str, args: str = "") -> None:
        self.arm()
        super().putcmd(cmd, args)

    def send(self, s: Any) -> None:
        if self.sock is not None:
            try:
                self.sock.settimeout(self.remaining())
            except OSError:
                pass  # a closed socket: smtplib's own send reports it
        try:
            super().send(s)
        except smtplib.SMTPServerDisconnected:
            if time.monotonic() >= self.command_end:  # the send timed out
                raise self.expired() from None
            raise

    def getreply(self) -> Any:
        if self.file is None and self.sock is not None:
            self.file = io.BufferedReader(_DeadlineReader(self))
        return super().getreply()


class _DeadlineReader(io.RawIOBase):
    """The socket as smtplib reads it, each read bounded by what is left of the deadline."""

    def __init__(self, smtp: _Deadlines) -> None:
        self.smtp = smtp

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        sock = self.smtp.sock
        if sock is None:
            return 0
        sock.settimeout(self.smtp.remaining())
        try:
            return sock.recv_into(buffer)
        except TimeoutError:
            raise self.smtp.expired() from None


class _BoundedSMTP(_Deadlines):
    pass


class _BoundedSMTPSSL(_Deadlines, smtplib.SMTP_SSL):
    pass


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()


@final
class Session:
    """One SMTP connection, opened on entry: connect, TLS, AUTH."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.password = endpoint.password()  # before any connection: a missing one stops here
        self.smtp: _Deadlines | None = None
        try:
            self.timeout, self.session_seconds = timeout_seconds(), session_seconds()
        except AmetrikaError as exc:
            raise SendError("connect", str(exc), endpoint) from None

    def __enter__(self) -> Session:
        ep = self.endpoint
        context = ssl.create_default_context()  # system trust store; SSL_CERT_FILE honoured
        timeout = self.timeout
        session_end = time.monotonic() + self.session_seconds
        step = "connect"
        try:
            if ep.security == "ssl-tls":
                step = "TLS"  # the handshake is part of connecting with implicit TLS
                self.smtp = _BoundedSMTPSSL(ep.host, ep.port, timeout, session_end, context=context)
            else:
                self.smtp = _BoundedSMTP(ep.host, ep.port, timeout, session_end)
            step = "connect"
            self.smtp.ehlo()
            if ep.security == "starttls":
                step = "TLS"
                if not self.smtp.has_extn("starttls"):
                    raise SendError(
                        "TLS",
                        "the server does not offer STARTTLS; refusing to "
                        "send in clear (security: none would allow it)",
                        ep,
                    )
                code, message = self.smtp.starttls(context=context)
                if code != 220:
                    raise SendError("TLS", _reply(code, message), ep)
                self.smtp.ehlo()
            if ep.username is not None:
                step = "AUTH"
                self._login(ep.username, self.password or "")
        except SendError:
            self.close()
            raise
        except DeadlineExceeded as exc:
            self.close()
            raise SendError(step, str(exc), ep) from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SendError("AUTH", _reply(exc.smtp_code, exc.smtp_error), ep) from None
        except smtplib.SMTPNotSupportedError as exc:
            self.close()
            raise SendError(step, f"not supported by the server: {exc}", ep) from None
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise SendError("TLS", f"certificate not trusted: {exc.verify_message}", ep) from None
        except ssl.SSLError as exc:
            self.close()
            raise SendError("TLS", f"TLS failed: {exc.reason or exc}", ep) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise SendError(step, _reply(exc.smtp_code, exc.smtp_error), ep) from None
        except TimeoutError:
            self.close()
            raise SendError(step, f"no answer within {timeout:g} s", ep) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SendError(step, f"{exc.__class__.__name__}: {exc}", ep) from None
        return self

    def _login(self, user: str, password: str) -> None:
        """AUTH PLAIN when offered (one round trip, one clear answer), else smtplib's choice.
        smtplib.login would try the next mechanism after a refusal and hide the 535."""
        assert self.smtp is not None
        mechanisms = self.smtp.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in mechanisms:
            self.smtp.login(user, password)
            return
        self.smtp.user, self.smtp.password = user, password
        self.smtp.auth("PLAIN", self.smtp.auth_plain)

    def _mail_options(self, envelope_from: str, recipient: str, data: bytes) -> list[str]:
        """SMTPUTF8 for an internationalised address, BODY=8BITMIME for 8-bit content — each
        only when needed, and refused (nothing sent) when the server does not offer it."""
        assert self.smtp is not None
        options = []
        if not (envelope_from.isascii() and recipient.isascii()):
            if not self.smtp.has_extn("smtputf8"):
                raise SendError(
                    "MAIL FROM",
                    "an internationalised address needs SMTPUTF8, which the server "
                    "does not offer; nothing was sent",
                    self.endpoint,
                )
            options.append("SMTPUTF8")
        if not data.isascii() or options:
            if not self.smtp.has_extn("8bitmime"):
                raise SendError(
                    "MAIL FROM",
                    "the message has 8-bit content and the server does not offer "
                    "8BITMIME; nothing was sent",
                    self.endpoint,
                )
            options.append("BODY=8BITMIME")
        return options

    def send(self, envelope_from: str, recipient: str, data: bytes) -> None:
        ep = self.endpoint
        if self.smtp is None:
            raise SendError("connect", "the connection was closed after an earlier failure", ep)
        options = self._mail_options(envelope_from, recipient, data)
        # smtplib encodes commands in ASCII unless told otherwise (its send_message does so)
        self.smtp.command_encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
        step = "MAIL FROM"
        try:
            code, message = self.smtp.mail(envelope_from, options)
            if code != 250:
                self.smtp.rset()
                raise SendError(step, _reply(code, message), ep)
            step = "RCPT"
            code, message = self.smtp.rcpt(recipient)
            if code not in (250, 251):
                self.smtp.rset()
                raise SendError(step, _reply(code, message), ep)
            step = "DATA"
            code, message = self.smtp.data(data)
            if code != 250:
                raise SendError(step, _reply(code, message), ep)
        except DeadlineExceeded as exc:
            self._abandon()  # the server is mid-answer: the connection cannot be reused
            raise SendError(step, str(exc), ep) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._abandon()
            raise SendError(step, f"the server closed the connection ({exc})", ep) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(step, _reply(exc.smtp_code, exc.smtp_error), ep) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(step, f"{exc.__class__.__name__}: {exc}", ep) from None

    def _abandon(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException, DeadlineExceeded):
                self.smtp.close()
            self.smtp = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
