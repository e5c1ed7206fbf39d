"""Apply a plan to Cloudflare: one batch request per zone (chunked at the zone's limit),
zones independent of each other, and a re-read that makes a retried or failed run converge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ametrika_gitops.diagnostics import Progress
from ametrika_gitops.dns.cloudflare import (
    CloudflareDNS,
    CloudflareError,
    RateLimited,
    ZoneInfo,
    record_params,
)
from ametrika_gitops.dns.diff import REMOVED, LiveRecord, fingerprint, normalize_content
from ametrika_gitops.dns.plan import CREATE, DELETE, UPDATE, Change, Plan, ZonePlan


@dataclass(frozen=True)
class ZoneResult:
    zone: str
    ok: bool
    message: str
    counts: dict[str, int]


def cloud_zones(plan: Plan) -> list[ZonePlan]:
    return [z for z in plan.zones if z.provider == "cloudflare"]


def deletion_problem(plan: Plan, max_deletes: int) -> str | None:
    """Deletions beyond --max-deletes, except those of removed accounts' records."""
    guarded = [
        c
        for z in cloud_zones(plan)
        for c in z.changes
        if c.action == DELETE and c.record.purpose != REMOVED
    ]
    if len(guarded) <= max_deletes:
        return None
    listed = ", ".join(f"{c.record.type} {c.record.name}" for c in guarded[:5])
    more = f" and {len(guarded) - 5} more" if len(guarded) > 5 else ""
    return (
        f"the plan deletes {len(guarded)} record{'s' if len(guarded) != 1 else ''} "
        f"({listed}{more}) and --max-deletes is {max_deletes}; nothing was applied. "
        f"Check the plan, then run again with --max-deletes {len(guarded)}"
    )


def stale_zones(plan: Plan, dns: CloudflareDNS, zones: dict[str, ZoneInfo]) -> list[str]:
    """Zones whose live records changed since the saved plan was made."""
    stale = []
    for zp in cloud_zones(plan):
        zone = zones.get(zp.zone)
        if zone is None or zp.fingerprint is None:
            stale.append(
                f"{zp.zone} (no longer visible to the token)"
                if zone is None
                else f"{zp.zone} (the plan has no fingerprint: make it with a token)"
            )
            continue
        if fingerprint(dns.records(zone)) != zp.fingerprint:
            stale.append(zp.zone)
    return stale


def _pending(changes: list[Change], live: list[LiveRecord]) -> list[Change]:
    """The changes that the zone does not show yet (after a retry, a failure, a re-run)."""
    ids = {r.id: r for r in live}
    out = []
    for c in changes:
        rec = c.record
        if c.action == DELETE:
            if c.existing and c.existing.get("id") in ids:
                out.append(c)
            continue
        done = any(
            r.name == rec.name
            and r.type == rec.type
            and (r.comment or "") == rec.comment
            and normalize_content(r.type, r.content) == rec.content
            for r in live
        )
        if not done:
            gone = c.action == UPDATE and c.existing and c.existing.get("id") not in ids
            out.append(Change(CREATE, rec) if gone else c)
    return out


def _batches(changes: list[Change], limit: int) -> list[list[Change]]:
    order = {DELETE: 0, UPDATE: 1, CREATE: 2}  # the order the API applies them in
    ordered = sorted(changes, key=lambda c: order[c.action])
    return [ordered[i : i + limit] for i in range(0, len(ordered), limit)] if ordered else []


def _send(dns: CloudflareDNS, zone: ZoneInfo, chunk: list[Change]) -> None:
    deletes = [str(c.existing["id"]) for c in chunk if c.action == DELETE and c.existing]
    patches: list[dict[str, Any]] = [
        {"id": c.existing["id"], **record_params(c.record)}
        for c in chunk
        if c.action == UPDATE and c.existing
    ]
    posts = [record_params(c.record) for c in chunk if c.action == CREATE]
    dns.batch(zone, deletes, patches, posts)


def apply_zone(dns: CloudflareDNS, zone: ZoneInfo, zp: ZonePlan, progress: Progress) -> str:
    """Apply one zone's changes; returns what was done. Raises CloudflareError."""
    limit = zp.batch_limit or zone.batch_limit
    todo = list(zp.changes)
    requests = 0
    reread = False
    while todo:
        chunk = _batches(todo, limit)[0]
        try:
            _send(dns, zone, chunk)
            requests += 1
            done = {id(c) for c in chunk}
            todo = [c for c in todo if id(c) not in done]
        except RateLimited:
            raise
        except CloudflareError as exc:
            if reread:
                raise
            # A retried request whose first attempt landed (81058, 81044), or an answer lost
            # on the way: read the zone again and send only what it does not show yet.
            reread = True
            before = len(todo)
            todo = _pending(todo, dns.records(zone))
            progress(
                f"zone {zone.name}: {exc}; re-read the zone: {len(todo)} of {before} "
                "changes still to make"
            )
    n = len(zp.changes)
    return (
        f"{n} change{'s' if n != 1 else ''} in {requests} batch request"
        f"{'s' if requests != 1 else ''} (at most {limit} changes a request on this zone's "
        "plan)"
    )


def apply_plan(
    plan: Plan, dns: CloudflareDNS, zones: dict[str, ZoneInfo], progress: Progress
) -> list[ZoneResult]:
    results: list[ZoneResult] = []
    limited: str | None = None
    for zp in cloud_zones(plan):
        counts = {a: sum(1 for c in zp.changes if c.action == a) for a in (CREATE, UPDATE, DELETE)}
        if not zp.changes:
            continue
        if limited is not None:
            results.append(ZoneResult(zp.zone, False, f"not attempted: {limited}", counts))
            continue
        zone = zones.get(zp.zone)
        if zone is None:
            results.append(ZoneResult(zp.zone, False, "zone not visible to the token", counts))
            continue
        progress(f"zone {zp.zone}: applying {len(zp.changes)} changes")
        try:
            message = apply_zone(dns, zone, zp, progress)
            results.append(ZoneResult(zp.zone, True, message, counts))
            progress(f"zone {zp.zone}: done")
        except RateLimited as exc:
            limited = "rate limited"
            results.append(ZoneResult(zp.zone, False, str(exc), counts))
        except CloudflareError as exc:
            results.append(ZoneResult(zp.zone, False, str(exc), counts))
            progress(f"zone {zp.zone}: failed")
    return results
