"""The exact bytes of every e-mail the tool sends (design §9): multipart/alternative, From per
sender mode, encoded headers, and headers that say it is a test. Built with the email package,
whose header policy refuses CR/LF in any header value: no header injection whatever the
account says. The clock and the Message-ID are passed in, so that tests can fix them.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from ametrika_gitops.config.model import Account
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.render.emails import Email

WHITE_LABEL = "analytics-report"
_PLATFORM = re.compile("ametrika", re.IGNORECASE)


class WhiteLabelError(AmetrikaError):
    """A white-label message (H6) would name the platform: it is not sent."""


Clock = Callable[[], datetime]  # an aware datetime: the Date header
MessageIds = Callable[[str], str]  # sender domain → a new Message-ID


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_message_id(domain: str) -> str:
    # No idstring: one naming the tool would show in white label (H6).
    return email.utils.make_msgid(domain=domain)


def header_prefix(account: Account) -> str:
    """The tool's own headers say it is a test; in white label they name the neutral sender."""
    return "X-Analytics-Report-" if account.sender.mode == WHITE_LABEL else "X-Ametrika-"


def address(display: str, addr: str) -> Address:
    local, _, domain = addr.rpartition("@")
    return Address(display_name=display, username=local, domain=domain)


def transfer_encoding(body: str) -> str | None:
    """Quoted-printable for any non-ASCII body: the email package would pick ``8bit`` for
    short lines, which a relay without 8BITMIME downgrades — breaking the DKIM body hash.
    ASCII bodies keep the package's choice (7bit, or quoted-printable for long lines)."""
    return None if body.isascii() else "quoted-printable"


def envelope_sender(account: Account) -> str:
    """MAIL FROM: the return-path domain in hosted mode (SPF aligns there), else From."""
    hosted = account.sender.hosted
    if hosted is not None:
        return f"{account.id}@{hosted.return_path}.{hosted.domain}"
    return account.sender.from_address


def sender_domain(account: Account) -> str:
    return account.sender.from_address.rpartition("@")[2]


def build_message(
    account: Account,
    mail: Email,
    recipient: str,
    date: datetime | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """``date`` (default: now) must be aware: its offset is written, never ``-0000``."""
    sender = account.sender
    domain = sender_domain(account)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = address(sender.from_name, sender.from_address)
    msg["To"] = recipient
    if sender.reply_to:
        msg["Reply-To"] = sender.reply_to
    msg["Subject"] = mail.parts["subject"].output
    msg["Date"] = email.utils.format_datetime(date or utc_now())
    msg["Message-ID"] = message_id or new_message_id(domain)
    if mail.unsubscribe:  # recurring mail (RFC 8058; Gmail's and Yahoo's bulk-sender rules)
        msg["List-Unsubscribe"] = f"<{mail.unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    prefix = header_prefix(account)
    msg[prefix + "Test"] = "yes"
    msg[prefix + "Account"] = account.id
    msg[prefix + "Email-Type"] = mail.type_id
    msg[prefix + "Locale"] = mail.locale
    text, html = mail.parts["text"].output, mail.parts["html"].output
    msg.set_content(text, cte=transfer_encoding(text))
    msg.add_alternative(html, subtype="html", cte=transfer_encoding(html))
    for file in mail.attachments:  # base64: 7-bit on the wire, whatever the file holds
        maintype, _, subtype = file.content_type.partition("/")
        msg.add_attachment(file.data, maintype=maintype, subtype=subtype, filename=file.name)
    # Boundaries derived from the content (not random): the same e-mail, the same bytes.
    seed = "\0".join(
        (account.id, mail.type_id, mail.locale, recipient, *(p.output for p in mail.parts.values()))
    )
    digest = hashlib.sha256(seed.encode("utf-8")).hexdigest()
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_{n}{digest[:31]}")
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the email package adds it to parts; it belongs on top
    if sender.mode == WHITE_LABEL:
        leaks = white_label_leaks(msg)
        if leaks:
            raise WhiteLabelError(
                f"the {mail.type_id} ({mail.locale}) e-mail of {account.id} would name "
                f"Ametrika in the white-label analytics-report mode: in "
                f"{', '.join(leaks)}; nothing was sent"
            )
    return msg


def white_label_leaks(msg: EmailMessage) -> list[str]:
    """Where a message names the platform: a header (the tool's own included; not To, the
    tester's own address), a boundary or a decoded body. The rules check the rendered
    templates; this checks what would be sent."""
    found: list[str] = []
    for part in msg.walk():
        found += [
            f"header {name}"
            for name, value in part.items()
            if name.lower() != "to" and _PLATFORM.search(str(value))
        ]
        found += [f"header name {name}" for name in part if _PLATFORM.search(name)]
        boundary = part.get_boundary()
        if boundary and _PLATFORM.search(boundary):
            found.append("a MIME boundary")
        if not part.is_multipart() and _PLATFORM.search(str(part.get_content())):
            found.append(f"the {part.get_content_type()} body")
    return list(dict.fromkeys(found))


def message_bytes(msg: EmailMessage) -> bytes:
    """The bytes sent over SMTP (CRLF line ends) — and written by --capture."""
    return msg.as_bytes(policy=SMTP)
