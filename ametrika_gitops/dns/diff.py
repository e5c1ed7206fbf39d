"""Desired records against a live zone: the pure heart of a live plan (design §5, §6).

Values are normalised before comparing (case, trailing dots, TXT quoting and chunking,
automatic TTL, proxied), so that a plan made right after an apply is empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ametrika_gitops.canonical import digest
from ametrika_gitops.dns.plan import CREATE, DELETE, UPDATE, Change, ZonePlan
from ametrika_gitops.dns.records import Record, normalize_name

_OWNER = re.compile(r"^managed-by=ametrika-gitops account=([a-z0-9-]+)$")
REMOVED = "account-removed"


@dataclass(frozen=True)
class LiveRecord:
    id: str
    name: str
    type: str
    content: str
    ttl: int
    proxied: bool
    comment: str | None

    @property
    def owner(self) -> str | None:
        """The account that owns the record, when the tool created it (§6)."""
        m = _OWNER.match((self.comment or "").strip())
        return m.group(1) if m else None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "content": self.content,
            "ttl": self.ttl,
            "proxied": self.proxied,
            "comment": self.comment,
        }


def unquote_txt(content: str) -> str:
    """'"v=DMARC1; " "p=none"' and 'v=DMARC1; p=none' are the same TXT value."""
    s = content.strip()
    if not s.startswith('"'):
        return s
    return "".join(
        m.group(1).replace('\\"', '"').replace("\\\\", "\\")
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', s)
    )


def normalize_content(rtype: str, content: str) -> str:
    if rtype == "TXT":
        return unquote_txt(content)
    if rtype in ("CNAME", "NS", "MX"):
        return normalize_name(content)
    return content


def fingerprint(live: Iterable[LiveRecord]) -> str:
    """A digest of a zone's records, to refuse applying a plan to a zone that changed since."""
    return digest(sorted((r.as_dict() for r in live), key=lambda d: str(d["id"])))


@dataclass(frozen=True)
class Conflict:
    account: str
    record: Record
    existing: LiveRecord

    @property
    def message(self) -> str:
        e = self.existing
        whose = f"managed for account {e.owner}" if e.owner else "not managed by ametrika-gitops"
        return (
            f"{self.record.type} {self.record.name} is needed ({self.record.purpose}), but "
            f"a {e.type} record {whose} stands there (id {e.id}, content "
            f"{normalize_content(e.type, e.content)!r})"
        )


def _same(record: Record, live: LiveRecord) -> bool:
    return (
        normalize_content(live.type, live.content) == normalize_content(record.type, record.content)
        and live.ttl == record.ttl
        and live.proxied == record.proxied
        and (live.comment or "") == record.comment
    )


def _existing_dmarc(live: list[LiveRecord]) -> LiveRecord | None:
    for r in live:
        if (
            r.type == "TXT"
            and r.owner is None
            and normalize_content("TXT", r.content).lower().startswith("v=dmarc1")
        ):
            return r
    return None


def diff_zone(
    zone: str,
    zone_id: str,
    batch_limit: int,
    desired: list[Record],
    live: list[LiveRecord],
    in_scope: set[str],
    known: set[str] | None,
    org_of: dict[str, str],
) -> tuple[ZonePlan, list[Conflict], list[str]]:
    """Plan one zone.

    ``in_scope``: accounts of this run; their managed records not desired are deleted.
    ``known``: every account of the repository when the run covers it all, else None; managed
    records of accounts not in it are deleted too (the account was removed).
    ``org_of``: organisational domain of each sending domain, for the DMARC check.
    """
    by_name: dict[str, list[LiveRecord]] = {}
    for r in live:
        by_name.setdefault(normalize_name(r.name), []).append(r)
    changes: list[Change] = []
    conflicts: list[Conflict] = []
    notes: list[str] = []
    claimed: set[str] = set()
    for rec in desired:
        here = by_name.get(rec.name, [])
        if rec.purpose == "dmarc":
            domain = rec.name[len("_dmarc.") :]
            org = org_of.get(domain, domain)
            found = _existing_dmarc(here) or (
                _existing_dmarc(by_name.get(f"_dmarc.{org}", [])) if org != domain else None
            )
            if found is not None:
                notes.append(
                    f"{zone}: kept the existing DMARC record at {found.name} "
                    f"({normalize_content('TXT', found.content)!r}); none added for "
                    f"account {rec.account}"
                )
                continue
        if rec.type == "CNAME":
            blockers = [r for r in here if r.owner != rec.account]
        else:
            blockers = [r for r in here if r.type == "CNAME" and r.owner != rec.account]
        if blockers:
            conflicts.append(Conflict(rec.account, rec, blockers[0]))
            claimed.update(r.id for r in here if r.owner == rec.account)  # change nothing
            continue
        if rec.type == "TXT":
            twin = [
                r
                for r in here
                if r.type == "TXT"
                and r.owner is None
                and normalize_content("TXT", r.content) == rec.content
            ]
            if twin:
                notes.append(
                    f"{zone}: {rec.name} TXT already holds the value, unmanaged; left as it is"
                )
                continue
        mine = [
            r for r in here if r.type == rec.type and r.owner == rec.account and r.id not in claimed
        ]
        if not mine:
            changes.append(Change(CREATE, rec))
            continue
        keep = next(
            (r for r in mine if normalize_content(r.type, r.content) == rec.content), mine[0]
        )
        claimed.add(keep.id)
        if not _same(rec, keep):
            changes.append(Change(UPDATE, rec, keep.as_dict()))
    for r in live:
        owner = r.owner
        if owner is None or r.id in claimed:
            continue
        if owner in in_scope:
            reason = "no longer needed"
        elif known is not None and owner not in known:
            reason = REMOVED
        else:
            continue  # an account outside this run: not ours to judge
        gone = Record(
            normalize_name(r.name),
            r.type,
            normalize_content(r.type, r.content),
            reason,
            owner,
            r.ttl,
            r.proxied,
        )
        changes.append(Change(DELETE, gone, r.as_dict()))
    accounts = sorted({c.record.account for c in changes} | {d.account for d in desired})
    plan = ZonePlan(
        zone,
        "cloudflare",
        tuple(sorted(changes, key=lambda c: c.key)),
        tuple(accounts),
        fingerprint(live),
        zone_id,
        batch_limit,
    )
    return plan, conflicts, notes
