"""Take over records a person already published by hand (``adopt``): the records at an
account's desired names with exactly the desired content, but without the tool's ownership
comment in this repository's scope, get that comment — one batch per zone. Records whose
content differs stay conflicts; nothing else is touched."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ametrika_gitops.config.model import CLOUDFLARE, Account
from ametrika_gitops.diagnostics import Progress
from ametrika_gitops.dns.diff import Finding, adoptable, normalize_content
from ametrika_gitops.dns.live import find_zone
from ametrika_gitops.dns.names import normalize_name
from ametrika_gitops.dns.provider import (
    DNSProvider,
    Focus,
    LiveRecord,
    ProviderError,
    RateLimited,
    RecordWrite,
    ZoneInfo,
)
from ametrika_gitops.dns.records import Record, desired_records


@dataclass(frozen=True)
class Adoption:
    zone: ZoneInfo
    live: LiveRecord
    record: Record

    def write(self, scope: str) -> RecordWrite:
        """The live record as it is, with the ownership comment: only the comment changes."""
        r = self.live
        content = normalize_content(r.type, r.content)
        return RecordWrite(r.name, r.type, content, r.ttl, r.proxied, self.record.comment_in(scope))


def find_adoptions(
    accounts: list[Account], provider: DNSProvider, scope: str, progress: Progress
) -> tuple[list[Adoption], list[Finding]]:
    cloud = [a for a in accounts if a.sender.hosted and a.sender.hosted.provider == CLOUDFLARE]
    visible = provider.zones()
    findings: list[Finding] = []
    by_zone: dict[str, list[Account]] = defaultdict(list)
    zones: dict[str, ZoneInfo] = {}
    for account in cloud:
        zone, found = find_zone(account, visible)
        findings += [f for f in found if not f.warning]
        if zone is not None:
            by_zone[zone.id].append(account)
            zones[zone.id] = zone
    out: list[Adoption] = []
    for zone_id, members in sorted(by_zone.items(), key=lambda kv: zones[kv[0]].name):
        zone = zones[zone_id]
        desired = [r for a in members for r in desired_records(a)]
        live = provider.records(zone, Focus.of(zone.name, [r.name for r in desired])).records
        progress(f"zone {zone.name}: {len(live)} records read")
        by_name: dict[str, list[LiveRecord]] = defaultdict(list)
        for r in live:
            by_name[normalize_name(r.name)].append(r)
        for rec in desired:
            out += [Adoption(zone, r, rec) for r in by_name[rec.name] if adoptable(rec, r, scope)]
    return out, findings


def adopt(
    adoptions: list[Adoption], provider: DNSProvider, scope: str
) -> list[tuple[str, bool, str]]:
    """One batch of comment changes per zone; (zone, ok, message) each, sorted by zone."""
    grouped: dict[str, list[Adoption]] = defaultdict(list)
    for a in adoptions:
        grouped[a.zone.name].append(a)
    results = []
    for name in sorted(grouped):
        items = grouped[name]
        zone = items[0].zone
        step = zone.batch_limit
        try:
            for i in range(0, len(items), step):
                chunk = items[i : i + step]
                provider.batch(zone, [], [(a.live.id, a.write(scope)) for a in chunk], [])
        except RateLimited as exc:
            results.append((name, False, str(exc)))
            break
        except ProviderError as exc:
            results.append((name, False, str(exc)))
            continue
        n, requests = len(items), -(-len(items) // step)
        results.append(
            (
                name,
                True,
                f"{n} record{'s' if n != 1 else ''} adopted in {requests} batch request"
                + ("s" if requests != 1 else ""),
            )
        )
    return results
