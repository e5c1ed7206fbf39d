"""The plan as immutable data; renderers and providers only read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ametrika_gitops.dns.records import Record

CREATE, UPDATE, DELETE = "create", "update", "delete"
ACTIONS = (CREATE, UPDATE, DELETE)


@dataclass(frozen=True)
class Change:
    action: str
    record: Record  # the desired record (for a delete: the record to remove)
    existing: dict[str, Any] | None = None  # the live record, when there is one

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.record.name, self.record.type, ACTIONS.index(self.action), self.record.content)


@dataclass(frozen=True)
class ZonePlan:
    zone: str
    provider: str
    changes: tuple[Change, ...]
    accounts: tuple[str, ...]
    fingerprint: str | None = None  # of the live zone the plan was made against
    zone_id: str | None = None
    batch_limit: int | None = None  # changes per batch request on this zone's plan


@dataclass(frozen=True)
class Plan:
    zones: tuple[ZonePlan, ...]
    live: bool
    notes: tuple[str, ...] = ()

    def actionable(self, zone: ZonePlan) -> bool:
        """In a live plan, manual zones are information for the DNS administrator, not
        changes the tool will make."""
        return not self.live or zone.provider != "manual"

    def count(self, action: str) -> int:
        return sum(
            1 for z in self.zones if self.actionable(z) for c in z.changes if c.action == action
        )

    @property
    def manual_records(self) -> int:
        return sum(len(z.changes) for z in self.zones if not self.actionable(z))

    @property
    def has_changes(self) -> bool:
        return any(z.changes for z in self.zones if self.actionable(z))


def record_data(record: Record) -> dict[str, Any]:
    return asdict(record) | {"comment": record.comment}


def plan_data(plan: Plan) -> dict[str, Any]:
    """The JSON form of a plan; documented by schemas/plan.schema.json."""
    return {
        "format_version": 1,
        "live": plan.live,
        "notes": list(plan.notes),
        "summary": {a: plan.count(a) for a in ACTIONS},
        "zones": [
            {
                "zone": z.zone,
                "provider": z.provider,
                "fingerprint": z.fingerprint,
                "zone_id": z.zone_id,
                "batch_limit": z.batch_limit,
                "accounts": list(z.accounts),
                "changes": [
                    {
                        "action": c.action,
                        "account": c.record.account,
                        "record": record_data(c.record),
                        "existing": c.existing,
                    }
                    for c in z.changes
                ],
            }
            for z in plan.zones
        ],
    }


def plan_from_data(data: dict[str, Any]) -> Plan:
    """Read back a saved JSON plan (validated against schemas/plan.schema.json first)."""
    zones = []
    for z in data["zones"]:
        changes = []
        for c in z["changes"]:
            r = c["record"]
            record = Record(
                r["name"],
                r["type"],
                r["content"],
                r["purpose"],
                r["account"],
                r["ttl"],
                r["proxied"],
                r["condition"],
            )
            changes.append(Change(c["action"], record, c["existing"]))
        zones.append(
            ZonePlan(
                z["zone"],
                z["provider"],
                tuple(changes),
                tuple(z["accounts"]),
                z["fingerprint"],
                z.get("zone_id"),
                z.get("batch_limit"),
            )
        )
    return Plan(tuple(zones), bool(data["live"]), tuple(data["notes"]))
