"""Rules on e-mail addresses, domain names and DMARC values."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import email_validator
import idna

from ametrika_gitops.check.rules.base import RuleContext, rule
from ametrika_gitops.config.loader import JsonPath
from ametrika_gitops.diagnostics import Diagnostic

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ADDRESS_PATHS: tuple[JsonPath, ...] = (
    ("sender", "reply_to"),
    ("sender", "smtp", "from_address"),
    ("sender", "hosted", "from_address"),
)


def a_label(domain: str) -> str | None:
    """The punycode form of a Unicode domain, or None if it cannot be one."""
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None


def domain_problem(domain: str) -> tuple[str, str] | None:
    """(message, hint) when ``domain`` is not a valid A-label domain name, else None."""
    d = domain.rstrip(".")
    if not d.isascii():
        puny = a_label(d)
        return (
            "an IDN domain must be written in its A-label (punycode) form",
            f"write {puny}" if puny else "this is not a valid domain name",
        )
    labels = d.lower().split(".")
    if len(d) > 253 or len(labels) < 2:
        return "not a fully qualified domain name", "for example mail.example.com"
    for label in labels:
        if not _LABEL.match(label):
            return (
                f"'{label}' is not a valid DNS label",
                "labels are letters, digits and inner hyphens, 1–63 characters",
            )
        if label.startswith("xn--") and a_label_valid(label) is False:
            return f"'{label}' is not valid punycode", "encode the Unicode name with IDNA"
    return None


def a_label_valid(label: str) -> bool:
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError):
        return False
    return True


MAX_ADDRESS = 254  # RFC 5321 §4.5.3.1.3, less the angle brackets


def address_problem(address: str) -> tuple[str, str] | None:
    """(message, hint) when ``address`` is not a plain ASCII-domain e-mail address."""
    if len(address) > MAX_ADDRESS:
        # before the parser, whose cost grows with the square of the length (a hostile file)
        return (
            f"an e-mail address is at most {MAX_ADDRESS} characters; this one has {len(address)}",
            "write it as name@domain",
        )
    try:
        result = email_validator.validate_email(
            address, check_deliverability=False, allow_smtputf8=False, test_environment=True
        )
    except email_validator.EmailNotValidError as exc:
        return f"'{address}' is not a valid e-mail address: {exc}", "write it as name@domain"
    domain = address.rsplit("@", 1)[1]
    if not domain.isascii():
        return (
            "the domain of an address must be written in its A-label (punycode) form",
            f"write {address.rsplit('@', 1)[0]}@{result.ascii_domain}",
        )
    return None


@rule("address-invalid", refines=("wrong-form", "wrong-length"))
def addresses_valid(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Sender, Reply-To and test addresses are valid; IDN domains are given in punycode.

    Passes: ``reply_to: support@xn--bcher-kva.example``
    Fails:  ``reply_to: support@bücher.example`` (write the A-label), ``reply_to: support``
    """
    paths = list(_ADDRESS_PATHS)
    recipients = ctx.get("test", "recipients")
    if isinstance(recipients, list):
        paths += [("test", "recipients", i) for i in range(len(recipients))]
    for path in paths:
        value = ctx.text(*path)
        if value is None:
            continue
        problem = address_problem(value)
        if problem:
            yield ctx.error(path, *problem)


@rule("domain-invalid", refines=("wrong-form", "wrong-length"))
def domains_valid(ctx: RuleContext) -> Iterator[Diagnostic]:
    """The hosted domain, the DNS zone and the SMTP host are valid names (IP literals are
    accepted for the SMTP host); IDN names are given in punycode.

    Passes: ``domain: mail.xn--bcher-kva.example``
    Fails:  ``domain: mail.bücher.example``, ``domain: mail_acme.fr``
    """
    for path in (
        ("sender", "hosted", "domain"),
        ("sender", "hosted", "dns", "zone"),
        ("sender", "smtp", "host"),
    ):
        value = ctx.text(*path)
        if value is None:
            continue
        if path[-1] == "host":
            try:
                ipaddress.ip_address(value)
                continue
            except ValueError:
                pass
        problem = domain_problem(value)
        if problem:
            yield ctx.error(path, f"{'.'.join(path)}: {problem[0]}", problem[1])


def _mailto_problems(value: str) -> Iterator[str]:
    for uri in (u.strip() for u in value.split(",")):
        if not uri.lower().startswith("mailto:"):
            yield f"'{uri}' is not a mailto: URI"
            continue
        address = uri[len("mailto:") :].split("!", 1)[0]  # RFC 7489 size limit suffix: !10m
        problem = address_problem(address)
        if problem:
            yield problem[0]


@rule("dmarc-values", refines=("not-allowed", "wrong-form"))
def dmarc_values(ctx: RuleContext) -> Iterator[Diagnostic]:
    """DMARC report addresses are mailto: URIs with valid addresses (RFC 7489 §6.2).

    Passes: ``rua: "mailto:dmarc@acme.fr"``
    Fails:  ``rua: "dmarc@acme.fr"`` (no mailto:), ``rua: "https://acme.fr/dmarc"``
    """
    for key in ("rua", "ruf"):
        value = ctx.text("sender", "hosted", "dmarc", key)
        if value is None:
            continue
        for problem in _mailto_problems(value):
            yield ctx.error(
                ("sender", "hosted", "dmarc", key),
                f"dmarc.{key}: {problem}",
                f'write {key}: "mailto:dmarc@your-domain" (comma-separated for several)',
            )


@rule("dmarc-aspf-strict")
def dmarc_strict_spf(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``aspf: s`` cannot align with the return path (<rp>.D is not D): a warning.

    Passes: ``aspf: r`` or no aspf
    Fails (warning): ``aspf: s``
    """
    if ctx.get("sender", "hosted", "dmarc", "aspf") == "s":
        yield ctx.warning(
            ("sender", "hosted", "dmarc", "aspf"),
            "aspf: s (strict SPF alignment) cannot align with the return-path "
            "subdomain; SPF will never pass DMARC, only DKIM will",
            "use aspf: r (relaxed, the default)",
        )
