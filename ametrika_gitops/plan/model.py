"""The plan as immutable data; renderers and providers only read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ametrika_gitops.records import Record

CREATE, UPDATE, DELETE = "create", "update", "delete"
ACTIONS = (CREATE, UPDATE, DELETE)


@dataclass(frozen=True)
class Change:
    action: str
    record: Record  # the desired record (for a delete: the record to remove)
    existing: dict[str, Any] | None = None  # the live record, when there is one

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.record.name, self.record.type, ACTIONS.index(self.action),
                self.record.content)


@dataclass(frozen=True)
class ZonePlan:
    zone: str
    provider: str
    changes: tuple[Change, ...]
    accounts: tuple[str, ...]
    fingerprint: str | None = None


@dataclass(frozen=True)
class Plan:
    zones: tuple[ZonePlan, ...]
    live: bool
    notes: tuple[str, ...] = ()

    def count(self, action: str) -> int:
        return sum(1 for z in self.zones for c in z.changes if c.action == action)

    @property
    def has_changes(self) -> bool:
        return any(z.changes for z in self.zones)


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
            {"zone": z.zone, "provider": z.provider, "fingerprint": z.fingerprint,
             "accounts": list(z.accounts),
             "changes": [{"action": c.action, "account": c.record.account,
                          "record": record_data(c.record), "existing": c.existing}
                         for c in z.changes]}
            for z in plan.zones
        ],
    }
