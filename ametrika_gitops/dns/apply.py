"""Apply a plan: one batch request per zone (chunked at the zone's limit), zones independent of
each other and applied a few at a time, and a re-read that makes a retried or failed run
converge. Depends on the provider Protocol only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ametrika_gitops.config.model import CLOUDFLARE
from ametrika_gitops.diagnostics import Progress
from ametrika_gitops.dns.diff import normalize_content
from ametrika_gitops.dns.eta import Countdown
from ametrika_gitops.dns.plan import ACTIONS, CREATE, DELETE, UPDATE, Action, Change, Plan, ZonePlan
from ametrika_gitops.dns.provider import (
    DNSProvider,
    LiveRecord,
    ProviderError,
    RateLimited,
    RecordWrite,
    ZoneInfo,
)
from ametrika_gitops.dns.quota import needs_usage, net_additions, quota_problem
from ametrika_gitops.dns.records import Record

WORKERS = 4
ORDER = {DELETE: 0, UPDATE: 1, CREATE: 2}  # the order the batch endpoint applies them in


@dataclass(frozen=True)
class ZoneResult:
    zone: str
    ok: bool
    message: str
    counts: dict[Action, int]


def cloud_zones(plan: Plan) -> list[ZonePlan]:
    return [z for z in plan.zones if z.provider == CLOUDFLARE]


def write_of(record: Record, scope: str) -> RecordWrite:
    return RecordWrite(
        record.name,
        record.type,
        record.content,
        record.ttl,
        record.proxied,
        record.comment_in(scope),
    )


def pending(changes: list[Change], live: list[LiveRecord], scope: str) -> list[Change]:
    """The changes that the zone does not show yet (after a retry, a failure, a re-run): a
    change is done only when a record has its content, comment, TTL and proxy status."""
    ids = {r.id for r in live}
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
            and (r.comment or "") == rec.comment_in(scope)
            and normalize_content(r.type, r.content) == rec.content
            and r.ttl == rec.ttl
            and r.proxied == rec.proxied
            for r in live
        )
        if not done:
            gone = c.action == UPDATE and c.existing and c.existing.get("id") not in ids
            out.append(Change(CREATE, rec) if gone else c)
    return out


def batches(changes: list[Change], limit: int) -> list[list[Change]]:
    """Deletes first, then updates, then creates, in requests of at most ``limit`` changes."""
    ordered = sorted(changes, key=lambda c: ORDER[c.action])
    return [ordered[i : i + limit] for i in range(0, len(ordered), limit)]


def _send(provider: DNSProvider, zone: ZoneInfo, chunk: list[Change], scope: str) -> None:
    provider.batch(
        zone,
        [str(c.existing["id"]) for c in chunk if c.action == DELETE and c.existing],
        [
            (str(c.existing["id"]), write_of(c.record, scope))
            for c in chunk
            if c.action == UPDATE and c.existing
        ],
        [write_of(c.record, scope) for c in chunk if c.action == CREATE],
    )


def apply_zone(
    provider: DNSProvider, zone: ZoneInfo, zp: ZonePlan, scope: str, progress: Progress
) -> str:
    """Apply one zone's changes; returns what was done. Raises ProviderError."""
    limit = min(zp.batch_limit or zone.batch_limit, zone.batch_limit)
    todo = list(zp.changes)
    requests = 0
    reread = False
    while todo:
        chunk = batches(todo, limit)[0]
        try:
            _send(provider, zone, chunk, scope)
            requests += 1
            done = {id(c) for c in chunk}
            todo = [c for c in todo if id(c) not in done]
        except RateLimited:
            raise
        except ProviderError as exc:
            if reread:
                raise
            # A retried request whose first attempt landed (81058, 81044), or an answer lost
            # on the way: read the zone again and send only what it does not show yet.
            reread = True
            before = len(todo)
            todo = pending(todo, provider.records(zone).records, scope)
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


def _quota_before(
    provider: DNSProvider, zone: ZoneInfo, zp: ZonePlan, counted: int | None
) -> str | None:
    """A saved plan may be applied long after it was made: check the quota again
    (``counted``: the records read when the plan was checked against the zone)."""
    if net_additions(zp) <= 0:
        return None
    if counted is None:
        counted = provider.records(zone).total
    usage = provider.usage(zone) if needs_usage(zp, counted) else None
    return quota_problem(zone, zp, usage, counted)


def apply_plan(
    plan: Plan,
    provider: DNSProvider,
    zones: dict[str, ZoneInfo],
    progress: Progress,
    check_quota: bool = False,
    workers: int = WORKERS,
    counted: dict[str, int] | None = None,
) -> list[ZoneResult]:
    """Apply every Cloudflare zone of the plan, a few at a time; results sorted by zone."""
    todo = [zp for zp in cloud_zones(plan) if zp.changes]
    countdown = Countdown(len(todo), progress)
    limited: list[str] = []

    def one(zp: ZonePlan) -> ZoneResult:
        counts = {a: sum(1 for c in zp.changes if c.action == a) for a in ACTIONS}
        if limited:
            return ZoneResult(zp.zone, False, f"not attempted: {limited[0]}", counts)
        zone = zones.get(zp.zone)
        if zone is None:
            return ZoneResult(zp.zone, False, "zone not visible to the token", counts)
        try:
            problem = (
                _quota_before(provider, zone, zp, (counted or {}).get(zone.name))
                if check_quota
                else None
            )
            if problem is not None:
                countdown.tick(zp.zone, "refused: over quota")
                return ZoneResult(zp.zone, False, problem, counts)
            message = apply_zone(provider, zone, zp, plan.scope, progress)
        except RateLimited as exc:
            limited.append("rate limited")
            countdown.tick(zp.zone, "FAILED: rate limited")
            return ZoneResult(zp.zone, False, str(exc), counts)
        except ProviderError as exc:
            countdown.tick(zp.zone, "FAILED")
            return ZoneResult(zp.zone, False, str(exc), counts)
        countdown.tick(zp.zone, f"applied {len(zp.changes)} changes")
        return ZoneResult(zp.zone, True, message, counts)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, todo))
    return sorted(results, key=lambda r: r.zone)
