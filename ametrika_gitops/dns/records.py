"""The DNS record set of the hosted service (design §5), as pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ametrika_gitops.config.model import Account
from ametrika_gitops.dns.dmarc import PLATFORM_DMARC, dmarc_content
from ametrika_gitops.dns.names import normalize_name, organizational_domain
from ametrika_gitops.dns.ownership import managed_comment

__all__ = [
    "PLATFORM_DMARC",
    "Purpose",
    "Record",
    "desired_records",
    "dmarc_content",
    "normalize_name",
    "organizational_domain",
    "purpose_of",
    "txt_chunks",
    "zone_guess",
]

PLATFORM_DKIM = "dkim.ametrika.com"
PLATFORM_BOUNCES = "bounces.ametrika.com"
PLATFORM_TRACKING = "track.ametrika.com"
TXT_CHUNK = 255


class Purpose(str, Enum):
    """Why a record exists (the table of design §5); the values are what outputs show."""

    OWNERSHIP = "ownership"
    DKIM_ACTIVE = "dkim-active"
    DKIM_STANDBY = "dkim-standby"
    RETURN_PATH = "return-path"
    DMARC = "dmarc"
    CLICK_TRACKING = "click-tracking"
    UNKNOWN = "unknown"  # a managed record found live that the record set does not explain

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


@dataclass(frozen=True, order=True)
class Record:
    """A desired record. Names are lower case, in A-label form, without the trailing dot."""

    name: str
    type: str
    content: str
    purpose: Purpose
    account: str
    ttl: int = 1  # Cloudflare's "automatic"
    proxied: bool = False  # mail records are never proxied
    condition: str = ""  # when the record is only to be added under a condition (DMARC)

    @property
    def comment(self) -> str:
        return managed_comment(self.account)

    def comment_in(self, scope: str) -> str:
        """The ownership comment in a repository's scope (design §6)."""
        return managed_comment(self.account, scope)


def purpose_of(name: str, rtype: str, content: str) -> Purpose:
    """The purpose of a live managed record, from its shape (for deletions)."""
    first = name.split(".", 1)[0]
    if rtype == "TXT" and first == "_ametrika":
        return Purpose.OWNERSHIP
    if rtype == "TXT" and first == "_dmarc":
        return Purpose.DMARC
    if rtype == "CNAME":
        target = normalize_name(content)
        if name.startswith("amk1._domainkey."):
            return Purpose.DKIM_ACTIVE
        if name.startswith("amk2._domainkey."):
            return Purpose.DKIM_STANDBY
        if target.endswith("." + PLATFORM_BOUNCES):
            return Purpose.RETURN_PATH
        if target == PLATFORM_TRACKING:
            return Purpose.CLICK_TRACKING
    return Purpose.UNKNOWN


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
                Purpose.OWNERSHIP,
                a,
            )
        )
    out += [
        Record(
            f"amk1._domainkey.{d}", "CNAME", f"amk1.{a}.{PLATFORM_DKIM}", Purpose.DKIM_ACTIVE, a
        ),
        Record(
            f"amk2._domainkey.{d}", "CNAME", f"amk2.{a}.{PLATFORM_DKIM}", Purpose.DKIM_STANDBY, a
        ),
        Record(
            f"{hosted.return_path}.{d}",
            "CNAME",
            f"{a}.{PLATFORM_BOUNCES}",
            Purpose.RETURN_PATH,
            a,
        ),
    ]
    org = organizational_domain(d)
    where = d if org == d else f"{d} or {org}"
    out.append(
        Record(
            f"_dmarc.{d}",
            "TXT",
            dmarc_content(a, hosted),
            Purpose.DMARC,
            a,
            condition=f"only if no DMARC record exists at {where}",
        )
    )
    if hosted.click_tracking:
        out.append(Record(f"links.{d}", "CNAME", PLATFORM_TRACKING, Purpose.CLICK_TRACKING, a))
    return tuple(out)


def zone_guess(account: Account) -> str:
    """The zone offline: the explicit ``dns.zone``, else the organisational domain of D."""
    hosted = account.sender.hosted
    assert hosted is not None
    return hosted.zone or organizational_domain(hosted.domain)
