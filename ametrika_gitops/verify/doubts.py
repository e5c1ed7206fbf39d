"""What a receiving server refuses or doubts in records that are published and parse: a DKIM
key restricted to SHA-1 or in testing mode, a return path that lets anyone pass SPF or whose
MX refuses bounces, a DMARC policy that does not apply to the sending domain. Pure
functions of what the checks found (and a lookup or two), kept apart from the checks of each
record's presence."""

from __future__ import annotations

from typing import Any

import dns.resolver

from ametrika_gitops.dns.records import organizational_domain
from ametrika_gitops.verify.lookup import OK, query
from ametrika_gitops.verify.states import WARNING, WRONG, State

# An address reserved for documentation (RFC 5737): no SPF record should let it pass.
NOBODY_IP = "192.0.2.1"


def dkim_key_doubt(tags: dict[bytes, bytes]) -> tuple[State, str] | None:
    """``h=`` without sha256 makes every rsa-sha256 signature fail (RFC 6376 §3.6.1, RFC 8301);
    ``t=y`` tells receivers the domain is only testing DKIM (§3.6.1): they may ignore it."""
    hashes = tags.get(b"h")
    if hashes is not None:
        allowed = {h.strip().lower() for h in hashes.split(b":")}
        if b"sha256" not in allowed:
            return WRONG, (
                f"h={hashes.decode(errors='replace')}: the key accepts only those hashes, so "
                "rsa-sha256 signatures fail; remove h= or allow sha256"
            )
    flags = {f.strip().lower() for f in tags.get(b"t", b"").split(b":")}
    if b"y" in flags:
        return WARNING, (
            "t=y: the key is in testing mode, and receivers may treat its signatures as "
            "if there were none; remove t=y once signatures verify"
        )
    return None


def spf_lets_anyone_pass(result: dict[str, Any], nobody_passes: bool) -> str | None:
    """``+all`` (or an include that ends in it) lets any server pass SPF for the return path,
    and through SPF alignment, DMARC for the sending domain."""
    parsed = result.get("parsed") or {}
    if parsed.get("all") == "pass":
        return (
            "the SPF record ends in +all: any server passes SPF for the return path, and so "
            "DMARC through SPF alignment; end it with -all or ~all"
        )
    if nobody_passes:
        return (
            f"SPF passes even for {NOBODY_IP}, an address reserved for documentation: any "
            "server passes SPF for the return path, and so DMARC through SPF alignment"
        )
    return None


def null_mx(name: str, resolver: dns.resolver.Resolver) -> tuple[State, str] | None:
    """A null MX (RFC 7505, ``0 .``) says the domain takes no mail: bounces to the return
    path are refused. (That an MX exists at all is checked with the return path itself.)"""
    mx = query(resolver, name, "MX")
    if mx.status == OK and mx.values == ("",):
        return WRONG, f"{name} publishes a null MX: bounces to the return path are refused"
    return None


def dmarc_records(domain: str, resolver: dns.resolver.Resolver) -> str:
    """The DMARC records at the domain (or, when it has none, its organisational domain), as
    found: shown when there are several, which makes receivers ignore them all."""
    for name in dict.fromkeys((domain, organizational_domain(domain))):
        ans = query(resolver, f"_dmarc.{name}", "TXT")
        found = [v for v in ans.values if v.lower().startswith("v=dmarc1")]
        if found:
            return " | ".join(found)
    return ""


def effective_dmarc(
    domain: str, location: str, tags: dict[str, Any]
) -> tuple[str, str, State | None]:
    """(policy that applies to ``domain``, headline, WARNING or None). A record found at the
    organisational domain applies its ``sp=`` (default ``p=``) to the subdomain that sends."""
    policy = str(tags.get("p", {}).get("value", "?"))
    if location == domain:
        return policy, f"p={policy} at _dmarc.{location}", None
    sub = str(tags.get("sp", {}).get("value", policy))
    if sub == policy:
        return policy, f"p={policy} at _dmarc.{location} (applies to {domain})", None
    headline = (
        f"p={sub} applies to {domain}: sp={sub} at _dmarc.{location} "
        f"(its p={policy} covers {location} only)"
    )
    if sub == "none" and policy != "none":
        return sub, headline + "; DMARC is not enforced on the sending domain", WARNING
    return sub, headline, None


def instead_of_cname(name: str, resolver: dns.resolver.Resolver) -> tuple[str, str] | None:
    """(found, detail) when a DKIM selector holds a key as a TXT record where the design puts
    a CNAME: the platform cannot rotate it, and its signatures use its own key."""
    txt = query(resolver, name, "TXT")
    if txt.status != OK:
        return None
    shown = " | ".join(v if len(v) <= 60 else v[:57] + "…" for v in txt.values)
    if any("p=" in v for v in txt.values):
        return f"TXT {shown}", (
            "a DKIM key is published here as TXT instead of the CNAME: the platform signs "
            "with the key behind the CNAME and rotates it there; replace the TXT with the CNAME"
        )
    return f"TXT {shown}", "a TXT record where the CNAME belongs; replace it with the CNAME"
