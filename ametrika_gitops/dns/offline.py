"""The offline plan: every desired record is to be added; no live state is read (H8)."""

from __future__ import annotations

from collections.abc import Iterable

from ametrika_gitops.config.model import Account, Provider
from ametrika_gitops.dns.plan import CREATE, Change, Plan, ZonePlan
from ametrika_gitops.dns.records import desired_records, zone_guess

OFFLINE_NOTE = (
    "offline plan: no live zone was read, so every record is listed as to add; "
    "records that already exist with the same content need no change"
)


def offline_plan(accounts: Iterable[Account], note: str = OFFLINE_NOTE) -> Plan:
    by_zone: dict[tuple[str, Provider], list[Account]] = {}
    for account in accounts:
        hosted = account.sender.hosted
        if hosted is not None:
            by_zone.setdefault((zone_guess(account), hosted.provider), []).append(account)
    zones = []
    for (zone, provider), members in sorted(by_zone.items()):
        changes = sorted(
            (Change(CREATE, r) for a in members for r in desired_records(a)), key=lambda c: c.key
        )
        zones.append(ZonePlan(zone, provider, tuple(changes), tuple(sorted(a.id for a in members))))
    return Plan(tuple(zones), live=False, notes=(note,))
