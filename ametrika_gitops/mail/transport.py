"""SMTP with smtplib: implicit TLS, STARTTLS or (only if the account says so) plain;
certificates always verified; AUTH only over TLS; bounded timeouts; one connection reused for
every message to the same server. Every failure names its step and the server's reply."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import unquote, urlsplit

from ametrika_gitops.config.model import Account
from ametrika_gitops.errors import AmetrikaError

RELAY_URL = "AMETRIKA_RELAY_URL"
RELAY_PASSWORD = "AMETRIKA_RELAY_PASSWORD"
STEPS = ("connect", "TLS", "AUTH", "MAIL FROM", "RCPT", "DATA")


def timeout_seconds() -> float:
    return float(os.environ.get("AMETRIKA_GITOPS_SMTP_TIMEOUT", "30"))


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


class SendError(Exception):
    """A failed step of an SMTP session."""

    def __init__(self, step: str, detail: str, endpoint: Endpoint) -> None:
        super().__init__(f"{step} failed at {endpoint.describe()}: {detail}")
        self.step, self.detail, self.endpoint = step, detail, endpoint


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {text}".strip()


class Session:
    """One SMTP connection, opened on entry: connect, TLS, AUTH."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.password = endpoint.password()  # before any connection: a missing one stops here
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Session:
        ep = self.endpoint
        context = ssl.create_default_context()  # system trust store; SSL_CERT_FILE honoured
        timeout = timeout_seconds()
        step = "connect"
        try:
            if ep.security == "ssl-tls":
                step = "TLS"  # the handshake is part of connecting with implicit TLS
                self.smtp = smtplib.SMTP_SSL(ep.host, ep.port, timeout=timeout, context=context)
            else:
                self.smtp = smtplib.SMTP(ep.host, ep.port, timeout=timeout)
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
            if "timed out" in str(exc):  # smtplib reports a read timeout as a disconnection
                raise SendError(step, f"no answer within {timeout:g} s", ep) from None
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
        assert self.smtp is not None
        ep = self.endpoint
        options = self._mail_options(envelope_from, recipient, data)
        # smtplib encodes commands in ASCII unless told otherwise (its send_message does so)
        self.smtp.command_encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
        try:
            code, message = self.smtp.mail(envelope_from, options)
            if code != 250:
                self.smtp.rset()
                raise SendError("MAIL FROM", _reply(code, message), ep)
            code, message = self.smtp.rcpt(recipient)
            if code not in (250, 251):
                self.smtp.rset()
                raise SendError("RCPT", _reply(code, message), ep)
            code, message = self.smtp.data(data)
            if code != 250:
                raise SendError("DATA", _reply(code, message), ep)
        except smtplib.SMTPDataError as exc:
            raise SendError("DATA", _reply(exc.smtp_code, exc.smtp_error), ep) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError("DATA", _reply(exc.smtp_code, exc.smtp_error), ep) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError("DATA", f"{exc.__class__.__name__}: {exc}", ep) from None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
