"""The DNS record set of the hosted service (design §5), as pure data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ametrika_gitops.config.model import Account, Hosted

PLATFORM_DKIM = "dkim.ametrika.com"
PLATFORM_BOUNCES = "bounces.ametrika.com"
PLATFORM_TRACKING = "track.ametrika.com"
PLATFORM_DMARC = "dmarc.ametrika.com"
TXT_CHUNK = 255


def managed_comment(account_id: str) -> str:
    """The ownership mark of design §6 on every record the tool creates."""
    return f"managed-by=ametrika-gitops account={account_id}"


@dataclass(frozen=True, order=True)
class Record:
    """A desired record. Names are lower case, in A-label form, without the trailing dot."""

    name: str
    type: str
    content: str
    purpose: str
    account: str
    ttl: int = 1  # Cloudflare's "automatic"
    proxied: bool = False  # mail records are never proxied
    condition: str = ""  # when the record is only to be added under a condition (DMARC)

    @property
    def comment(self) -> str:
        return managed_comment(self.account)


def normalize_name(name: str) -> str:
    return name.rstrip(".").lower()


def txt_chunks(content: str) -> list[str]:
    """Split TXT content into strings of at most 255 bytes (RFC 1035 §3.3.14)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for ch in content:  # never split a multi-byte character between two strings
        n = len(ch.encode("utf-8"))
        if size + n > TXT_CHUNK:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    chunks.append("".join(current))
    return chunks


@lru_cache(maxsize=1)
def _psl() -> object:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The registrable domain (public suffix + 1), per the bundled Public Suffix List."""
    found = _psl().privatesuffix(normalize_name(domain))  # type: ignore[attr-defined]
    return str(found) if found else normalize_name(domain)


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


def desired_records(account: Account) -> tuple[Record, ...]:
    """The records of design §5 for a hosted account, in the table's order; () otherwise."""
    hosted = account.sender.hosted
    if hosted is None:
        return ()
    a, d = account.id, hosted.domain
    out = []
    if hosted.verification:
        out.append(
            Record(
                f"_ametrika.{d}",
                "TXT",
                f"ametrika-domain-verification={hosted.verification}",
                "ownership",
                a,
            )
        )
    out += [
        Record(f"amk1._domainkey.{d}", "CNAME", f"amk1.{a}.{PLATFORM_DKIM}", "dkim-active", a),
        Record(f"amk2._domainkey.{d}", "CNAME", f"amk2.{a}.{PLATFORM_DKIM}", "dkim-standby", a),
        Record(f"{hosted.return_path}.{d}", "CNAME", f"{a}.{PLATFORM_BOUNCES}", "return-path", a),
    ]
    org = organizational_domain(d)
    where = d if org == d else f"{d} or {org}"
    out.append(
        Record(
            f"_dmarc.{d}",
            "TXT",
            dmarc_content(a, hosted),
            "dmarc",
            a,
            condition=f"only if no DMARC record exists at {where}",
        )
    )
    if hosted.click_tracking:
        out.append(Record(f"links.{d}", "CNAME", PLATFORM_TRACKING, "click-tracking", a))
    return tuple(out)


def zone_guess(account: Account) -> str:
    """The zone offline: the explicit ``dns.zone``, else the organisational domain of D."""
    hosted = account.sender.hosted
    assert hosted is not None
    return hosted.zone or organizational_domain(hosted.domain)
