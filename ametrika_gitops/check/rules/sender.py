"""Rules on ``sender``: SMTP pairing (H3), Gmail (H4), secrets, the hosted domain (H7)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ametrika_gitops.check.rules.base import RuleContext
from ametrika_gitops.diagnostics import Diagnostic

WELL_KNOWN = {465: "ssl-tls", 587: "starttls", 25: "starttls"}
GMAIL_HOSTS = ("smtp.gmail.com", "smtp.googlemail.com")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
            "smtp-port-security",
            f"port 465 is the SSL/TLS (implicit TLS) port, not a {security} port",
            "use security: ssl-tls, or port 587 with security: starttls",
        )
    elif port in (587, 25) and security == "ssl-tls":
        yield ctx.error(
            at,
            "smtp-port-security",
            f"port {port} is not the SSL/TLS port",
            "use 465, or security: starttls",
        )


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
            "smtp-gmail",
            "Gmail servers, personal or business, do not always work with custom SMTP",
            "prefer the hosted e-mail service on your own domain, or the "
            "white-label analytics-report mode",
        )


def smtp_insecure(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``security: none`` sends the SMTP credentials and every e-mail in clear: a warning.

    Passes: ``security: starttls``
    Fails (warning): ``security: none``
    """
    if ctx.get("sender", "smtp", "security") == "none":
        yield ctx.warning(
            ("sender", "smtp", "security"),
            "smtp-insecure",
            "security: none sends the password and the e-mails unencrypted",
            "use ssl-tls on 465 or starttls on 587 if the server offers it",
        )


def inline_secret(ctx: RuleContext) -> Iterator[Diagnostic]:
    """A password is a reference ``{env: NAME}``, never the value; the value is never echoed.

    Passes: ``password: {env: ACME_SMTP_PASSWORD}``
    Fails:  ``password: hunter2``
    """
    smtp = ctx.get("sender", "smtp")
    if isinstance(smtp, dict) and "password" in smtp and not isinstance(smtp["password"], dict):
        yield ctx.error(
            ("sender", "smtp", "password"),
            "inline-secret",
            "sender.smtp.password holds a value; it must be a secret reference",
            "remove the password from this file (and from git history), store it "
            "in your CI secrets and write password: {env: MY_SMTP_PASSWORD}",
        )


def from_name_header(ctx: RuleContext) -> Iterator[Diagnostic]:
    """from_name is one header line: no CR, LF or other control character (header injection).

    Passes: ``from_name: ACME Rapports``
    Fails:  ``from_name: "ACME\\nBcc: victim@example.com"``
    """
    name = ctx.text("sender", "from_name")
    if name is not None and _CONTROL.search(name):
        yield ctx.error(
            ("sender", "from_name"),
            "header-injection",
            "sender.from_name contains a line break or control character",
            "write the display name on one line",
        )


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
            "hosted-from-domain",
            f"from_address is in {a}, outside the sending domain {d}",
            f"use an address @{d} (or a subdomain of it), so that DKIM aligns",
        )


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
            "dns-zone",
            f"zone {z} does not contain the sending domain {d}",
            "name the zone that holds the domain (the domain itself or a parent), "
            "or leave zone out",
        )


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
                "white-label",
                f"sender.{key} names Ametrika in the white-label analytics-report mode",
                "the point of this mode is not to show Ametrika; use your "
                "own name, or mode: ametrika",
            )
