"""The zone's record quota, checked before any write (a batch over it fails with 81045, after
earlier batches of the same apply committed)."""

from __future__ import annotations

from ametrika_gitops.dns.plan import CREATE, DELETE, ZonePlan
from ametrika_gitops.dns.provider import ZoneInfo, ZoneUsage

SMALLEST_QUOTA = 200  # no plan holds fewer records: below it, no need to ask


def needs_usage(zp: ZonePlan, counted: int) -> bool:
    """Whether the provider's own count and quota are worth a request."""
    return counted + net_additions(zp) > SMALLEST_QUOTA


def net_additions(zp: ZonePlan) -> int:
    return sum(c.action == CREATE for c in zp.changes) - sum(c.action == DELETE for c in zp.changes)


def quota_problem(
    zone: ZoneInfo, zp: ZonePlan, usage: ZoneUsage | None, counted: int
) -> str | None:
    """Why the zone cannot take the plan's records, or None. ``usage`` is the provider's own
    count and quota when it tells; else ``counted`` (records read) and the plan's quota."""
    added = net_additions(zp)
    if added <= 0:
        return None
    records = usage.records if usage is not None else counted
    quota = usage.quota if usage is not None and usage.quota else zone.record_quota
    if records + added <= quota:
        return None
    plan = zone.plan or "unknown"
    return (
        f"zone {zone.name} holds {records} records and this plan adds {added} more, over its "
        f"quota of {quota} records (Cloudflare plan {plan}); nothing was written to it"
    )


QUOTA_HINT = (
    "spread the accounts over more zones (each account's dns.zone), delete unused records, or "
    "move the zone to a plan with a larger quota (Free: 200 records for zones created since "
    "September 2024, 1,000 before; Pro and Business: 3,500)"
)
