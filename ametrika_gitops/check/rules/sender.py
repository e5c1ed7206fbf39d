"""Rules on ``sender``: SMTP pairing (H3), Gmail (H4), secrets, the hosted domain (H7)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ametrika_gitops.check.rules.base import RenderedContext, RuleContext, rendered_rule, rule
from ametrika_gitops.config.loader import JsonPath
from ametrika_gitops.config.model import ANALYTICS_REPORT
from ametrika_gitops.diagnostics import Diagnostic
from ametrika_gitops.render.emails import Email, Footer

WELL_KNOWN = {465: "ssl-tls", 587: "starttls", 25: "starttls"}
GMAIL_HOSTS = ("smtp.gmail.com", "smtp.googlemail.com")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@rule("smtp-port-security")
def smtp_port_security(ctx: RuleContext) -> Iterator[Diagnostic]:
    """On the well-known ports, port and security agree (H3): 465 is implicit TLS (ssl-tls);
    587 and 25 are starttls or none. Other ports (2525…) take any security.

    Passes: ``security: ssl-tls`` with ``port: 465``; ``security: starttls`` with ``port: 587``
    Fails:  ``security: ssl-tls`` with ``port: 587``
    """
    smtp = ctx.get("sender", "smtp")
    if not isinstance(smtp, dict):
        return
    security = smtp.get("security", "ssl-tls")
    port = smtp.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or port not in WELL_KNOWN:
        return
    at = ("sender", "smtp", "port")
    if port == 465 and security in ("starttls", "none"):
        yield ctx.error(
            at,
            f"port 465 is the SSL/TLS (implicit TLS) port, not a {security} port",
            "use security: ssl-tls, or port 587 with security: starttls",
        )
    elif port in (587, 25) and security == "ssl-tls":
        yield ctx.error(
            at,
            f"port {port} is not the SSL/TLS port",
            "use 465, or security: starttls",
        )


@rule("smtp-gmail")
def smtp_gmail(ctx: RuleContext) -> Iterator[Diagnostic]:
    """A Gmail server (smtp.gmail.com, smtp.googlemail.com, or a host in google.com) gets a
    warning quoting H4, with H6's fallbacks.

    Passes: ``host: smtp.acme.fr``
    Fails (warning): ``host: smtp.gmail.com``
    """
    host = ctx.text("sender", "smtp", "host")
    if host is None:
        return
    h = host.rstrip(".").lower()
    if h in GMAIL_HOSTS or h == "google.com" or h.endswith(".google.com"):
        yield ctx.warning(
            ("sender", "smtp", "host"),
            "Gmail servers, personal or business, do not always work with custom SMTP",
            "prefer the hosted e-mail service on your own domain, or the "
            "white-label analytics-report mode",
        )


@rule("smtp-insecure")
def smtp_insecure(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``security: none`` sends the SMTP credentials and every e-mail in clear: a warning.

    Passes: ``security: starttls``
    Fails (warning): ``security: none``
    """
    if ctx.get("sender", "smtp", "security") == "none":
        yield ctx.warning(
            ("sender", "smtp", "security"),
            "security: none sends the password and the e-mails unencrypted",
            "use ssl-tls on 465 or starttls on 587 if the server offers it",
        )


@rule("inline-secret")
def inline_secret(ctx: RuleContext) -> Iterator[Diagnostic]:
    """A password is a reference ``{env: NAME}``, never the value; the value is never echoed.

    Passes: ``password: {env: ACME_SMTP_PASSWORD}``
    Fails:  ``password: hunter2``
    """
    smtp = ctx.get("sender", "smtp")
    if isinstance(smtp, dict) and "password" in smtp and not isinstance(smtp["password"], dict):
        yield ctx.error(
            ("sender", "smtp", "password"),
            "sender.smtp.password holds a value; it must be a secret reference",
            "remove the password from this file (and from git history), store it "
            "in your CI secrets and write password: {env: MY_SMTP_PASSWORD}",
        )


@rule("header-injection", refines=("wrong-form", "wrong-length"))
def from_name_header(ctx: RuleContext) -> Iterator[Diagnostic]:
    """from_name is one header line: no CR, LF or other control character (header injection).

    Passes: ``from_name: ACME Rapports``
    Fails:  ``from_name: "ACME\\nBcc: victim@example.com"``
    """
    name = ctx.text("sender", "from_name")
    if name is not None and _CONTROL.search(name):
        yield ctx.error(
            ("sender", "from_name"),
            "sender.from_name contains a line break or control character",
            "write the display name on one line",
        )


@rule("hosted-from-domain")
def hosted_from_domain(ctx: RuleContext) -> Iterator[Diagnostic]:
    """In hosted mode, from_address is in the sending domain D or a subdomain, so DKIM d=D aligns.

    Passes: ``domain: mail.acme.fr`` with ``from_address: rapports@mail.acme.fr``
    Fails:  ``domain: mail.acme.fr`` with ``from_address: rapports@acme.fr``
    """
    domain = ctx.text("sender", "hosted", "domain")
    address = ctx.text("sender", "hosted", "from_address")
    if not domain or not address or "@" not in address:
        return
    d = domain.rstrip(".").lower()
    a = address.rsplit("@", 1)[1].rstrip(".").lower()
    if a != d and not a.endswith("." + d):
        yield ctx.error(
            ("sender", "hosted", "from_address"),
            f"from_address is in {a}, outside the sending domain {d}",
            f"use an address @{d} (or a subdomain of it), so that DKIM aligns",
        )


@rule("dns-zone")
def dns_zone_contains_domain(ctx: RuleContext) -> Iterator[Diagnostic]:
    """hosted.dns.zone, when given, is the sending domain itself or one of its parents.

    Passes: ``domain: mail.acme.fr`` with ``zone: acme.fr``
    Fails:  ``domain: mail.acme.fr`` with ``zone: acme.com``
    """
    domain = ctx.text("sender", "hosted", "domain")
    zone = ctx.text("sender", "hosted", "dns", "zone")
    if not domain or not zone:
        return
    d, z = domain.rstrip(".").lower(), zone.rstrip(".").lower()
    if d != z and not d.endswith("." + z):
        yield ctx.error(
            ("sender", "hosted", "dns", "zone"),
            f"zone {z} does not contain the sending domain {d}",
            "name the zone that holds the domain (the domain itself or a parent), "
            "or leave zone out",
        )


@rule("white-label")
def white_label_headers(ctx: RuleContext) -> Iterator[Diagnostic]:
    """In analytics-report mode (white label, H6), no header names Ametrika.

    Passes: ``mode: analytics-report`` with ``from_name: ACME Reports``
    Fails:  ``mode: analytics-report`` with ``from_name: ACME via Ametrika``
    """
    if ctx.get("sender", "mode") != "analytics-report":
        return
    for key in ("from_name", "reply_to"):
        value = ctx.text("sender", key)
        if value and "ametrika" in value.lower():
            yield ctx.error(
                ("sender", key),
                f"sender.{key} names Ametrika in the white-label analytics-report mode",
                "the point of this mode is not to show Ametrika; use your "
                "own name, or mode: ametrika",
            )


@rendered_rule("header-injection")
def subject_one_line(ctx: RenderedContext) -> Iterator[Diagnostic]:
    """A rendered subject is one header line (no CR/LF from the template or what it includes)."""
    for email in ctx.emails:
        subject = email.parts["subject"]
        if "\r" in subject.output or "\n" in subject.output:
            line, col = subject.source.position(1)
            yield ctx.error_at(
                subject.source.file,
                line,
                col,
                f"the subject of {email.type_id} ({email.locale}) renders to more than one line",
                "a subject is one header line: remove line breaks from it and from what it "
                "includes",
            )


_AMETRIKA = re.compile("ametrika", re.IGNORECASE)


@rendered_rule("white-label")
def white_label_rendered(ctx: RenderedContext) -> Iterator[Diagnostic]:
    """H6: nothing rendered in analytics-report mode may name Ametrika; the finding points at
    the template line that names it (or at the account name, or the mode)."""
    if ctx.account.sender.mode != ANALYTICS_REPORT:
        return
    footers = {f.locale: f for f in ctx.footers}
    seen: set[tuple[str, int, int]] = set()  # one finding per place, not one per e-mail
    for email in ctx.emails:
        place = _white_label_place(ctx, email, footers.get(email.locale))
        if place is not None and place not in seen:
            seen.add(place)
            where = f"{email.type_id} ({email.locale})"
            yield ctx.error_at(
                *place,
                f"Ametrika is named in the white-label analytics-report mode "
                f"(first in the rendered {where})",
                "remove the mention, or use mode: ametrika",
            )


def _white_label_place(
    ctx: RenderedContext, email: Email, footer: Footer | None
) -> tuple[str, int, int] | None:
    if not any(_AMETRIKA.search(p.output) for p in email.parts.values()):
        return None
    sources = [p.source for p in email.parts.values()]
    if footer and ctx.catalog.types[email.type_id].footer:
        sources += [p.source for p in footer.parts.values()]
    for src in sources:
        for n, line_text in enumerate(src.text.split("\n"), start=1):
            if _AMETRIKA.search(line_text):
                return (src.file, *src.position(n))
    path: JsonPath = (
        ("account", "name") if _AMETRIKA.search(ctx.account.name) else ("sender", "mode")
    )
    pos = ctx.doc.at(path)
    return (ctx.doc.path, pos.line, pos.column)
