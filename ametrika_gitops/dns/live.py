"""The live plan: desired records of the Cloudflare accounts against their zones."""

from __future__ import annotations

from dataclasses import dataclass

from ametrika_gitops.config.model import Account
from ametrika_gitops.diagnostics import Progress
from ametrika_gitops.dns.cloudflare import CloudflareDNS, ZoneInfo
from ametrika_gitops.dns.diff import Conflict, diff_zone
from ametrika_gitops.dns.offline import offline_plan
from ametrika_gitops.dns.plan import Plan, ZonePlan
from ametrika_gitops.dns.records import desired_records, organizational_domain


@dataclass(frozen=True)
class ZoneProblem:
    account: str
    message: str
    hint: str


def find_zone(account: Account, zones: list[ZoneInfo]) -> ZoneInfo | ZoneProblem:
    """The explicit ``dns.zone``, else the longest zone that is a suffix of the domain."""
    hosted = account.sender.hosted
    assert hosted is not None
    seen = ", ".join(z.name for z in zones) or "none"
    if hosted.zone:
        for z in zones:
            if z.name == hosted.zone:
                return z
        return ZoneProblem(
            account.id,
            f"zone {hosted.zone} is not visible to the API token (it sees: {seen})",
            "give the token Zone Read and DNS Edit on that zone, or fix dns.zone",
        )
    matches = [z for z in zones if hosted.domain == z.name or hosted.domain.endswith("." + z.name)]
    if not matches:
        return ZoneProblem(
            account.id,
            f"no zone visible to the API token holds {hosted.domain} (it sees: {seen})",
            "add the zone to Cloudflare and to the token, or set dns.zone",
        )
    return max(matches, key=lambda z: len(z.name))


def live_plan(
    accounts: list[Account], all_ids: set[str] | None, dns: CloudflareDNS, progress: Progress
) -> tuple[Plan, list[ZoneProblem], list[Conflict]]:
    """``all_ids``: every account id of the repository when the run covers it all (then the
    records of removed accounts are deleted), else None."""
    cloud = [a for a in accounts if a.sender.hosted and a.sender.hosted.provider == "cloudflare"]
    manual = [a for a in accounts if a.sender.hosted and a.sender.hosted.provider == "manual"]
    problems: list[ZoneProblem] = []
    conflicts: list[Conflict] = []
    notes: list[str] = []
    zones_out: list[ZonePlan] = []
    if cloud or all_ids is not None:
        visible = dns.zones()
        progress(
            f"Cloudflare: the token sees {len(visible)} zone{'s' if len(visible) != 1 else ''}"
        )
        by_zone: dict[str, list[Account]] = {}
        for account in cloud:
            found = find_zone(account, visible)
            if isinstance(found, ZoneProblem):
                problems.append(found)
            else:
                by_zone.setdefault(found.id, []).append(account)
        # A whole-repository run also reads zones without accounts: a removed account's
        # records may stand there.
        to_read = [z for z in visible if z.id in by_zone or all_ids is not None]
        in_scope = {a.id for a in accounts}
        for zone in sorted(to_read, key=lambda z: z.name):
            live = dns.records(zone)
            progress(f"zone {zone.name}: {len(live)} records read")
            members = by_zone.get(zone.id, [])
            desired = [r for a in members for r in desired_records(a)]
            org_of = {
                a.sender.hosted.domain: organizational_domain(a.sender.hosted.domain)
                for a in members
                if a.sender.hosted
            }
            zp, found_conflicts, found_notes = diff_zone(
                zone.name, zone.id, zone.batch_limit, desired, live, in_scope, all_ids, org_of
            )
            conflicts += found_conflicts
            notes += found_notes
            if members or zp.changes:
                zones_out.append(zp)
    if manual:
        offline = offline_plan(manual)
        zones_out += offline.zones
        notes.append(
            "zones with provider: manual are listed with every record to add; hand "
            "them to the DNS administrator (plan --format zone or markdown)"
        )
    zones_out.sort(key=lambda z: (z.zone, z.provider))
    return Plan(tuple(zones_out), live=True, notes=tuple(notes)), problems, conflicts
