"""The plan as immutable data; renderers and providers only read it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from ametrika_gitops.canonical import digest
from ametrika_gitops.config.model import MANUAL, Provider
from ametrika_gitops.dns.records import Purpose, Record

FORMAT_VERSION = 2


class _Named(str, Enum):
    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Action(_Named):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


ACTIONS = tuple(Action)
CREATE, UPDATE, DELETE = Action.CREATE, Action.UPDATE, Action.DELETE


class Reason(_Named):
    """Why a managed record is to be deleted (its purpose says what it was for)."""

    NO_LONGER_NEEDED = "no longer needed"  # click tracking off, mode or domain changed
    ACCOUNT_REMOVED = "account-removed"  # its account is not in this repository


@dataclass(frozen=True)
class Change:
    action: Action
    record: Record  # the desired record (for a delete: the record to remove)
    existing: dict[str, Any] | None = None  # the live record, when there is one
    reason: Reason | None = None  # for a delete

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.record.name, self.record.type, ACTIONS.index(self.action), self.record.content)

    @property
    def release(self) -> str:
        """The flag that lets a held deletion go."""
        return f"--allow-delete {self.record.account}"


@dataclass(frozen=True)
class ZonePlan:
    zone: str
    provider: Provider
    changes: tuple[Change, ...]
    accounts: tuple[str, ...]
    fingerprint: str | None = None  # of the live records at ``watched`` names
    zone_id: str | None = None
    batch_limit: int | None = None  # changes per batch request on this zone's plan
    watched: tuple[str, ...] = ()  # the names the plan depends on
    held: tuple[Change, ...] = ()  # deletions nobody allowed: shown, never applied


@dataclass(frozen=True)
class Skipped:
    """An account left out of the plan (a conflict, a delegation, no zone…): exit 1."""

    account: str
    code: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Plan:
    zones: tuple[ZonePlan, ...]
    live: bool
    notes: tuple[str, ...] = ()
    source_commit: str | None = None
    scope: str = ""
    skipped: tuple[Skipped, ...] = ()

    def actionable(self, zone: ZonePlan) -> bool:
        """In a live plan, manual zones are information for the DNS administrator, not
        changes the tool will make."""
        return not self.live or zone.provider != MANUAL

    def count(self, action: Action) -> int:
        return sum(
            1 for z in self.zones if self.actionable(z) for c in z.changes if c.action == action
        )

    @property
    def held(self) -> int:
        return sum(len(z.held) for z in self.zones)

    @property
    def manual_records(self) -> int:
        return sum(len(z.changes) for z in self.zones if not self.actionable(z))

    @property
    def has_changes(self) -> bool:
        """Something to apply (or held, waiting for a person's word)."""
        return any((z.changes and self.actionable(z)) or z.held for z in self.zones)


def record_data(record: Record, scope: str = "") -> dict[str, Any]:
    return {
        "name": record.name,
        "type": record.type,
        "content": record.content,
        "ttl": record.ttl,
        "proxied": record.proxied,
        "comment": record.comment_in(scope),
        "purpose": record.purpose.value,
        "account": record.account,
        "condition": record.condition,
    }


def _change_data(c: Change, scope: str) -> dict[str, Any]:
    return {
        "action": c.action.value,
        "account": c.record.account,
        "reason": c.reason.value if c.reason else None,
        "record": record_data(c.record, scope),
        "existing": c.existing,
    }


def plan_data(plan: Plan) -> dict[str, Any]:
    """The JSON form of a plan, without its seal; documented by schemas/plan.schema.json."""
    return {
        "format_version": FORMAT_VERSION,
        "live": plan.live,
        "notes": list(plan.notes),
        "source_commit": plan.source_commit,
        "ownership_scope": plan.scope,
        "summary": {a.value: plan.count(a) for a in ACTIONS} | {"held": plan.held},
        "skipped": [
            {"account": s.account, "code": s.code, "message": s.message, "hint": s.hint}
            for s in plan.skipped
        ],
        "zones": [
            {
                "zone": z.zone,
                "provider": z.provider,
                "fingerprint": z.fingerprint,
                "zone_id": z.zone_id,
                "batch_limit": z.batch_limit,
                "accounts": list(z.accounts),
                "watched": list(z.watched),
                "changes": [_change_data(c, plan.scope) for c in z.changes],
                "held": [_change_data(c, plan.scope) | {"release": c.release} for c in z.held],
            }
            for z in plan.zones
        ],
    }


def seal_of(data: dict[str, Any]) -> str:
    """The seal: a digest of the canonical JSON of everything in the plan but the seal."""
    return digest({k: v for k, v in data.items() if k != "seal"})


def sealed_data(plan: Plan) -> dict[str, Any]:
    data = plan_data(plan)
    return data | {"seal": seal_of(data)}


def _record(r: dict[str, Any]) -> Record:
    return Record(
        r["name"],
        r["type"],
        r["content"],
        Purpose(r["purpose"]),
        r["account"],
        r["ttl"],
        r["proxied"],
        r["condition"],
    )


def _change(c: dict[str, Any]) -> Change:
    reason = Reason(c["reason"]) if c.get("reason") else None
    return Change(Action(c["action"]), _record(c["record"]), c["existing"], reason)


def plan_from_data(data: dict[str, Any]) -> Plan:
    """Read back a saved JSON plan (validated against schemas/plan.schema.json first)."""
    zones = [
        ZonePlan(
            z["zone"],
            cast(Provider, z["provider"]),
            tuple(_change(c) for c in z["changes"]),
            tuple(z["accounts"]),
            z["fingerprint"],
            z.get("zone_id"),
            z.get("batch_limit"),
            tuple(z.get("watched", ())),
            tuple(_change(c) for c in z.get("held", ())),
        )
        for z in data["zones"]
    ]
    skipped = tuple(
        Skipped(s["account"], s["code"], s["message"], s.get("hint", ""))
        for s in data.get("skipped", ())
    )
    return Plan(
        tuple(zones),
        bool(data["live"]),
        tuple(data["notes"]),
        data.get("source_commit"),
        data.get("ownership_scope", ""),
        skipped,
    )
