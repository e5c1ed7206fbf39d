"""The live plan: the Cloudflare accounts' desired records against their zones.

Only the zones that hold accounts of the run are read (all of them only when a deletion names
an account the repository no longer has), several at a time, each in one request; requests are
paced by the provider. Whatever stops one account (no zone, a conflict, a delegation, a quota)
leaves that account out, reported, and the others go on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ametrika_gitops.config.model import CLOUDFLARE, MANUAL, Account
from ametrika_gitops.diagnostics import Progress
from ametrika_gitops.dns import dmarc
from ametrika_gitops.dns.diff import Finding, ZoneDiff, diff_zone, normalize_content
from ametrika_gitops.dns.eta import Countdown
from ametrika_gitops.dns.guard import hold_deletions
from ametrika_gitops.dns.names import at_or_below, organizational_domain
from ametrika_gitops.dns.offline import offline_plan
from ametrika_gitops.dns.ownership import managed_comment
from ametrika_gitops.dns.plan import Plan, Skipped, ZonePlan
from ametrika_gitops.dns.provider import (
    DNSProvider,
    Focus,
    LiveRecord,
    ProviderError,
    RateLimited,
    ZoneInfo,
    ZoneUsage,
)
from ametrika_gitops.dns.quota import QUOTA_HINT, needs_usage, net_additions, quota_problem
from ametrika_gitops.dns.records import desired_records

WORKERS = 4


@dataclass(frozen=True)
class Options:
    scope: str = ""
    allow_delete: frozenset[str] = frozenset()
    max_deletes: int = 0
    source_commit: str | None = None
    workers: int = WORKERS


def find_zone(account: Account, zones: list[ZoneInfo]) -> tuple[ZoneInfo | None, list[Finding]]:
    """The explicit ``dns.zone``, else the longest zone that is a suffix of the domain; a
    warning when an explicit zone is less specific than one the token sees."""
    hosted = account.sender.hosted
    assert hosted is not None
    seen = ", ".join(z.name for z in zones) or "none"
    matches = [z for z in zones if at_or_below(hosted.domain, z.name)]
    best = max(matches, key=lambda z: len(z.name)) if matches else None
    if hosted.zone:
        chosen = next((z for z in zones if z.name == hosted.zone), None)
        if chosen is None:
            return None, [
                Finding(
                    account.id,
                    "dns-zone-not-found",
                    f"zone {hosted.zone} is not visible to the API token (it sees: {seen})",
                    "give the token Zone Read and DNS Edit on that zone, or fix dns.zone",
                )
            ]
        if best is not None and len(best.name) > len(chosen.name):
            return chosen, [
                Finding(
                    account.id,
                    "dns-zone-shadowed",
                    f"dns.zone is {chosen.name}, but the token also sees zone {best.name}, "
                    f"which is closer to {hosted.domain}: resolvers ask {best.name}'s "
                    f"nameservers when it is delegated, and records written in {chosen.name} "
                    "are then never served",
                    f"set dns.zone: {best.name}, or remove dns.zone to use it",
                    warning=True,
                    at=("sender", "hosted", "dns", "zone"),
                )
            ]
        return chosen, []
    if best is None:
        return None, [
            Finding(
                account.id,
                "dns-zone-not-found",
                f"no zone visible to the API token holds {hosted.domain} (it sees: {seen})",
                "add the zone to Cloudflare and to the token, or set dns.zone",
            )
        ]
    return best, []


def _comment_fits(account: Account, zone: ZoneInfo, scope: str) -> Finding | None:
    comment = managed_comment(account.id, scope)
    if len(comment) <= zone.comment_limit:
        return None
    return Finding(
        account.id,
        "dns-comment-too-long",
        f"the ownership comment {comment!r} has {len(comment)} characters; zone {zone.name} "
        f"({zone.plan or 'unknown'} plan) allows {zone.comment_limit}",
        "use a shorter dns.ownership_scope in ametrika-gitops.yaml, or a shorter account id",
        at=("account", "id"),
    )


class _Reader:
    """Reads zones (each once) and DMARC records elsewhere (each name once)."""

    def __init__(
        self, provider: DNSProvider, visible: list[ZoneInfo], lookup: dmarc.Lookup
    ) -> None:
        self.provider = provider
        self.visible = visible
        self.lookup = lookup
        self.read: dict[str, list[LiveRecord]] = {}
        self.total: dict[str, int] = {}

    def org_dmarc(self, org: str) -> dmarc.Found:
        name = f"_dmarc.{org}"
        holders = [z for z in self.visible if at_or_below(name, z.name)]
        if not holders:
            return self.lookup(name)
        zone = max(holders, key=lambda z: len(z.name))
        if zone.id in self.read:
            here = [r for r in self.read[zone.id] if r.name.rstrip(".").lower() == name]
        else:
            try:
                here = self.provider.records_named(zone, name)
            except RateLimited:
                raise
            except ProviderError as exc:
                return dmarc.Unknown(name, str(exc))
        for r in here:
            if r.type == "CNAME":
                return dmarc.Existing(name, f"zone {zone.name}", f"CNAME {r.content}")
            text = normalize_content("TXT", r.content) if r.type == "TXT" else ""
            if dmarc.is_dmarc_text(text):
                return dmarc.Existing(name, f"zone {zone.name}", text)
        return None


def _read_all(
    reader: _Reader,
    zones: list[ZoneInfo],
    focus: dict[str, Focus | None],
    workers: int,
    progress: Progress,
) -> dict[str, ProviderError]:
    countdown = Countdown(len(zones), progress)
    failed: dict[str, ProviderError] = {}

    def one(zone: ZoneInfo) -> None:
        try:
            listing = reader.provider.records(zone, focus.get(zone.id))
        except RateLimited:
            raise
        except ProviderError as exc:
            failed[zone.id] = exc
            countdown.tick(zone.name, f"FAILED: {exc}")
            return
        reader.read[zone.id] = listing.records
        reader.total[zone.id] = listing.total
        n = len(listing.records)
        read = (
            f"{n} records read"
            if n == listing.total
            else (f"{n} of its {listing.total} records read (those the plan depends on)")
        )
        countdown.tick(zone.name, read)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for future in [pool.submit(one, z) for z in zones]:
            future.result()  # a rate limit stops the run: the budget is spent for everyone
    return failed


def _focus(zone: ZoneInfo, members: list[Account]) -> Focus:
    names = [r.name for a in members for r in desired_records(a)]
    orgs = {organizational_domain(a.sender.hosted.domain) for a in members if a.sender.hosted}
    return Focus.of(zone.name, [*names, *(f"_dmarc.{o}" for o in orgs)])


def _outside_dmarc(
    reader: _Reader, zone: ZoneInfo, members: list[Account], cache: dict[str, dmarc.Found]
) -> dict[str, dmarc.Found]:
    out: dict[str, dmarc.Found] = {}
    for a in members:
        hosted = a.sender.hosted
        assert hosted is not None
        org = organizational_domain(hosted.domain)
        if org == hosted.domain or at_or_below(f"_dmarc.{org}", zone.name):
            continue
        if org not in cache:
            cache[org] = reader.org_dmarc(org)
        out[org] = cache[org]
    return out


def live_plan(
    accounts: list[Account],
    all_ids: set[str] | None,
    provider: DNSProvider,
    progress: Progress,
    lookup: dmarc.Lookup,
    options: Options = Options(),
) -> tuple[Plan, list[Finding]]:
    """``all_ids``: every account id of the repository when the run covers it all (then the
    records of removed accounts are deleted, once a person allows it), else None."""
    cloud = [a for a in accounts if a.sender.hosted and a.sender.hosted.provider == CLOUDFLARE]
    manual = [a for a in accounts if a.sender.hosted and a.sender.hosted.provider == MANUAL]
    findings: list[Finding] = []
    notes: list[str] = []
    zones_out: list[ZonePlan] = []
    if cloud or all_ids is not None:
        visible = provider.zones()
        progress(
            f"Cloudflare: the token sees {len(visible)} zone{'s' if len(visible) != 1 else ''}"
        )
        by_zone: dict[str, list[Account]] = {}
        for account in cloud:
            zone, found = find_zone(account, visible)
            findings += found
            problem = _comment_fits(account, zone, options.scope) if zone else None
            if problem is not None:
                findings.append(problem)
            elif zone is not None:
                by_zone.setdefault(zone.id, []).append(account)
        # An account named by --allow-delete may have left records in any zone (removed, moved
        # to another zone, or off Cloudflare): a person asked for deletions, read every zone.
        everywhere = bool(options.allow_delete)
        to_read = sorted(
            (z for z in visible if z.id in by_zone or everywhere), key=lambda z: z.name
        )
        unread = len(visible) - len(to_read)
        if unread and all_ids is not None:
            notes.append(
                f"{unread} zone{'s' if unread != 1 else ''} without accounts of this repository "
                f"{'were' if unread != 1 else 'was'} not read; the records an account left there "
                "(removed, moved to another zone or off Cloudflare) are found with "
                "--allow-delete ACCOUNT"
            )
        reader = _Reader(provider, visible, lookup)
        # A large zone is read in part: the accounts' names, and the managed and NS records
        # (all that a plan can change or delete, or that can stop it).
        focus: dict[str, Focus | None] = {z.id: _focus(z, by_zone.get(z.id, [])) for z in to_read}
        failed = _read_all(reader, to_read, focus, options.workers, progress)
        in_scope = {a.id for a in accounts}
        cache: dict[str, dmarc.Found] = {}
        diffs: list[tuple[ZoneInfo, ZoneDiff]] = []
        for zone in to_read:
            members = by_zone.get(zone.id, [])
            if zone.id in failed:
                findings += [
                    Finding(a.id, "dns-zone-unreadable", str(failed[zone.id]), "run again")
                    for a in members
                ]
                continue
            live = reader.read[zone.id]
            org_of = {
                a.sender.hosted.domain: organizational_domain(a.sender.hosted.domain)
                for a in members
                if a.sender.hosted
            }
            zd = diff_zone(
                zone,
                [r for a in members for r in desired_records(a)],
                live,
                options.scope,
                in_scope,
                all_ids,
                org_of,
                _outside_dmarc(reader, zone, members, cache),
            )
            findings += zd.findings
            notes += zd.notes
            diffs.append((zone, zd))
        guarded = hold_deletions(
            Plan(tuple(zd.plan for _, zd in diffs), live=True),
            options.allow_delete,
            options.max_deletes,
        )
        for (zone, zd), zp in zip(diffs, guarded.zones):
            counted = reader.total[zone.id]
            over = quota_problem(zone, zp, _usage(provider, zone, zp, counted), counted)
            if over is not None:
                findings += [Finding(a, "dns-zone-quota", over, QUOTA_HINT) for a in zp.accounts]
                zp = replace(zp, changes=(), accounts=())
            if zp.accounts or zp.changes or zp.held:
                zones_out.append(zp)
    if manual:
        zones_out += offline_plan(manual).zones
        notes.append(
            "zones with provider: manual are listed with every record to add; hand "
            "them to the DNS administrator (plan --format zone or markdown)"
        )
    notes += [f"warning (account {f.account}): {f.message}" for f in findings if f.warning]
    zones_out.sort(key=lambda z: (z.zone, z.provider))
    skipped = tuple(
        Skipped(f.account, f.code, f.message, f.hint)
        for f in sorted(findings, key=lambda f: (f.account, f.code, f.message))
        if not f.warning
    )
    plan = Plan(
        tuple(zones_out),
        live=True,
        notes=tuple(notes),
        source_commit=options.source_commit,
        scope=options.scope,
        skipped=skipped,
    )
    return plan, findings


def _usage(provider: DNSProvider, zone: ZoneInfo, zp: ZonePlan, counted: int) -> ZoneUsage | None:
    """The provider's count and quota, asked only when the plan could come near a quota."""
    if net_additions(zp) <= 0 or not needs_usage(zp, counted):
        return None
    try:
        return provider.usage(zone)
    except RateLimited:
        raise
    except ProviderError:
        return None  # the documented quota of the zone's plan is then the limit
