"""DMARC, in one place: the record the hosted service proposes, reading an existing one, and
which policy applies to a sending domain today (RFC 7489 §6.6.3: the domain's own record, else
the organisational domain's ``sp=``, else its ``p=``).

The rule of design §5 and §6: a DMARC record is added only where none applies today, so the
tool never replaces nor weakens the policy that protects a domain — whether the organisational
domain's record sits in the same zone, in another zone the token sees, or with another DNS
provider (then it is read from DNS).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ametrika_gitops.config.model import Hosted

PLATFORM_DMARC = "dmarc.ametrika.com"
RANK = {"none": 0, "quarantine": 1, "reject": 2}
NAMESERVER_ENV = "AMETRIKA_GITOPS_NAMESERVER"


def dmarc_content(account_id: str, hosted: Hosted) -> str:
    d = hosted.dmarc
    tags = [("v", "DMARC1"), ("p", d.policy)]
    if d.subdomain_policy:
        tags.append(("sp", d.subdomain_policy))
    if d.pct is not None:
        tags.append(("pct", str(d.pct)))
    if d.adkim:
        tags.append(("adkim", d.adkim))
    if d.aspf:
        tags.append(("aspf", d.aspf))
    tags.append(("rua", d.rua or f"mailto:{account_id}@{PLATFORM_DMARC}"))
    if d.ruf:
        tags.append(("ruf", d.ruf))
    return "; ".join(f"{k}={v}" for k, v in tags)


def is_dmarc_text(text: str) -> bool:
    return text.strip().lower().startswith("v=dmarc1")


def tags(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            out.setdefault(key.strip().lower(), value.strip())
    return out


@dataclass(frozen=True)
class Existing:
    """A DMARC record found at ``name`` (a TXT, or a CNAME to a vendor that hosts it)."""

    name: str
    where: str  # "zone example.com", "DNS"
    content: str  # the TXT text, or "CNAME <target>"

    def policy_for(self, subdomain: bool) -> str:
        """The policy a receiver applies from this record (``sp=`` for a subdomain)."""
        if self.content.startswith("CNAME "):
            return "delegated"
        t = tags(self.content)
        policy = (t.get("sp") if subdomain else None) or t.get("p") or "?"
        return policy.lower()

    def describe(self, domain: str) -> str:
        org_level = self.name != f"_dmarc.{domain}"
        policy = self.policy_for(org_level)
        if policy == "delegated":
            return (
                f"_dmarc is delegated by {self.content} ({self.where}): the vendor's record "
                f"applies to {domain}"
            )
        why = ""
        if org_level:
            why = " (its sp=)" if "sp" in tags(self.content) else " (its p=; no sp=)"
        return (
            f"{self.content!r} at {self.name} ({self.where}) applies to {domain}: p={policy}{why}"
        )


@dataclass(frozen=True)
class Unknown:
    """DMARC could not be read (a timeout, SERVFAIL): adding one might weaken the policy."""

    name: str
    reason: str


Found = Existing | Unknown | None
Lookup = Callable[[str], Found]  # the DMARC record at a _dmarc name in DNS, or Unknown / None


def dns_lookup(lifetime: float = 5.0) -> Lookup:
    """A lookup in DNS with dnspython: the servers of AMETRIKA_GITOPS_NAMESERVER
    (HOST[:PORT], comma-separated), else the system's resolver."""
    import dns.exception
    import dns.nameserver
    import dns.rdatatype
    import dns.resolver

    configured = [s.strip() for s in os.environ.get(NAMESERVER_ENV, "").split(",") if s.strip()]
    if configured:
        resolver = dns.resolver.Resolver(configure=False)
        servers = []
        for entry in configured:  # HOST, HOST:PORT, [IPv6] or [IPv6]:PORT
            if entry.startswith("["):
                host, _, rest = entry[1:].partition("]")
                port = rest[1:] if rest.startswith(":") else "53"
            elif entry.count(":") == 1:
                host, _, port = entry.partition(":")
            else:
                host, port = entry, "53"
            servers.append(dns.nameserver.Do53Nameserver(host, port=int(port or 53)))
        resolver.nameservers = servers
    else:
        resolver = dns.resolver.Resolver()
    resolver.lifetime = lifetime

    def lookup(name: str) -> Found:
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            return Unknown(name, f"DNS lookup failed: {exc.__class__.__name__}")
        texts = [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
        found = [t for t in texts if is_dmarc_text(t)]
        if not found:
            return None
        chain = answer.response.answer[0] if answer.response.answer else None
        if chain is not None and chain.rdtype == dns.rdatatype.CNAME:  # delegated to a vendor
            return Existing(name, "DNS", f"CNAME {chain[0].target.to_text().rstrip('.')}")
        return Existing(name, "DNS", found[0])

    return lookup


@dataclass(frozen=True)
class Decision:
    publish: bool
    note: str = ""
    warning: bool = False  # the note is something a person should act on


def decide(domain: str, org: str, at_domain: Found, at_org: Found) -> Decision:
    """Whether the hosted service may add its DMARC record at ``_dmarc.<domain>``.

    ``at_domain``: an existing record at the domain (not the tool's own); ``at_org``: the
    organisational domain's, wherever it was found (None when domain == org)."""
    for found in (at_domain, at_org):
        if isinstance(found, Existing):
            return Decision(
                False, f"kept the existing DMARC policy: {found.describe(domain)}; none added"
            )
        if isinstance(found, Unknown):
            return Decision(
                False,
                f"could not read the DMARC record at {found.name} ({found.reason}): none "
                f"added for {domain}, since it could weaken a policy that applies today; run "
                "the plan again",
                warning=True,
            )
    return Decision(True)


def _pct(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 100


def weakens(new: str, old: str) -> bool:
    """``new`` (DMARC text) has a weaker policy, or the same one on fewer messages."""
    a, b = tags(new), tags(old)
    rank_a, rank_b = RANK.get(a.get("p", "").lower(), 0), RANK.get(b.get("p", "").lower(), 0)
    pct_a, pct_b = _pct(a.get("pct")), _pct(b.get("pct"))
    return rank_a < rank_b or (rank_a == rank_b and rank_a > 0 and pct_a < pct_b)
