"""What planning and applying need from a DNS provider, as a Protocol, and the values it
returns. Only the command line's edge builds a concrete provider (``dns.cloudflare``); the
diff, the live plan and apply depend on this module alone, so they are tested with in-memory
zones and the provider against a real protocol server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ametrika_gitops.dns.ownership import FREE_COMMENT_LIMIT, PAID_COMMENT_LIMIT, Mark, parse_mark
from ametrika_gitops.errors import AmetrikaError

FREE_BATCH_LIMIT = 200
PAID_BATCH_LIMIT = 3500
# Records per zone (developers.cloudflare.com/dns/troubleshooting/records-quota/): Free zones
# created from 2024-09-01 hold 200, older Free zones 1,000, Pro and Business 3,500, Enterprise
# 3,500 unless raised (the zone's usage endpoint then says so).
FREE_QUOTA_SINCE = "2024-09-01"
FREE_QUOTA, OLD_FREE_QUOTA, PAID_QUOTA = 200, 1000, 3500


class ProviderError(AmetrikaError):
    """A request to the provider failed; the message says why and what to do."""

    def __init__(self, message: str, codes: frozenset[int] = frozenset()) -> None:
        super().__init__(message)
        self.codes = codes


class RateLimited(ProviderError):
    """The provider refuses every request for a while: stop sending."""


@dataclass(frozen=True)
class ZoneInfo:
    id: str
    name: str
    plan: str  # the plan's legacy id: free, pro, business, enterprise ("" unknown)
    created_on: str = ""  # ISO date, for the Free quota

    @property
    def free(self) -> bool:
        return self.plan in ("free", "")  # unknown: assume the tightest limits

    @property
    def batch_limit(self) -> int:
        return FREE_BATCH_LIMIT if self.free else PAID_BATCH_LIMIT

    @property
    def comment_limit(self) -> int:
        return FREE_COMMENT_LIMIT if self.free else PAID_COMMENT_LIMIT

    @property
    def record_quota(self) -> int:
        """The documented quota of the zone's plan (the usage endpoint can say otherwise)."""
        if not self.free:
            return PAID_QUOTA
        old = bool(self.created_on) and self.created_on[:10] < FREE_QUOTA_SINCE
        return OLD_FREE_QUOTA if old else FREE_QUOTA


@dataclass(frozen=True)
class LiveRecord:
    id: str
    name: str
    type: str
    content: str
    ttl: int
    proxied: bool
    comment: str | None
    shadowed_by: tuple[str, ...] = field(default=(), compare=False)  # ids of NS records

    @property
    def mark(self) -> Mark | None:
        """Who the tool created the record for, when it did (design §6)."""
        return parse_mark(self.comment)

    def owner_in(self, scope: str) -> str | None:
        """The account that owns the record in this repository's scope, else None."""
        mark = self.mark
        return mark.account if mark is not None and mark.scope == scope else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "content": self.content,
            "ttl": self.ttl,
            "proxied": self.proxied,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class Listing:
    """Records read from a zone: all of them, or (a large zone, read with a focus) those at the
    focused names, the NS records and the records carrying an ownership comment."""

    records: list[LiveRecord]
    total: int  # records in the whole zone


@dataclass(frozen=True)
class Focus:
    """The names a plan depends on: for a large zone, only these are read (and the zone's NS
    records and managed records), not its thousands of others."""

    suffixes: tuple[str, ...] = ()  # these names' subdomains (the sending domains)
    names: tuple[str, ...] = ()  # single names

    @classmethod
    def of(cls, zone: str, names: Iterable[str]) -> Focus:
        """Each name's parent as a suffix (``amb.mail.acme.fr`` → ``mail.acme.fr``), or the
        name itself when its parent is the apex; suffixes under another one are dropped."""
        suffixes: set[str] = set()
        exact: set[str] = set()
        for n in names:
            parent = n.split(".", 1)[1] if "." in n else ""
            if parent and parent != zone and parent.endswith("." + zone):
                suffixes.add(parent)
            else:
                exact.add(n)
        top = {s for s in suffixes if not any(s.endswith("." + o) for o in suffixes)}
        rest = {n for n in exact if not any(n.endswith("." + o) for o in top)}
        return cls(tuple(sorted(top)), tuple(sorted(rest)))


@dataclass(frozen=True)
class RecordWrite:
    """A record as written: TXT content unquoted and unsplit (the provider encodes it)."""

    name: str
    type: str
    content: str
    ttl: int
    proxied: bool
    comment: str


@dataclass(frozen=True)
class ZoneUsage:
    records: int
    quota: int | None  # None: the account's quota applies, or unknown


class DNSProvider(Protocol):
    """Zones and records, read and written in batches (one transaction a batch)."""

    def zones(self) -> list[ZoneInfo]:
        """Every zone the credentials can see."""
        ...

    def records(self, zone: ZoneInfo, focus: Focus | None = None) -> Listing:
        """The zone's records with shadowing metadata: all of them, or for a large zone and a
        focus, those the focus names (plus NS and managed records)."""
        ...

    def records_named(self, zone: ZoneInfo, name: str) -> list[LiveRecord]:
        """The records at one name."""
        ...

    def usage(self, zone: ZoneInfo) -> ZoneUsage | None:
        """The zone's record count and quota, when the provider tells."""
        ...

    def batch(
        self,
        zone: ZoneInfo,
        deletes: Sequence[str],
        patches: Sequence[tuple[str, RecordWrite]],
        posts: Sequence[RecordWrite],
    ) -> None:
        """Deletes, then patches, then posts, all or nothing."""
        ...
