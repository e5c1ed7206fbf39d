"""A person's word before anything is deleted or applied (design §6, §7).

Every deletion needs its account named (``--allow-delete ACCOUNT``) or must fit within
``--max-deletes N``; the others are *held*: shown with the flag that releases them, never
applied. A sealed plan carries only allowed deletions, and applying it is approved at a
terminal's prompt or, in CI, by ``--auto-approve`` in a protected environment.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from enum import Enum

from ametrika_gitops.dns.plan import DELETE, Plan


def hold_deletions(plan: Plan, allow: Collection[str], max_deletes: int) -> Plan:
    """The plan with its unallowed deletions moved to each zone's ``held``.

    Deletions of named accounts always go; the rest go only if all of them fit within
    ``max_deletes`` (all or none: a threshold never picks some records of a set)."""
    unnamed = [
        c
        for z in plan.zones
        if plan.actionable(z)
        for c in z.changes
        if c.action == DELETE and c.record.account not in allow
    ]
    if len(unnamed) <= max_deletes:
        return plan
    held_ids = {id(c) for c in unnamed}
    zones = tuple(
        replace(
            z,
            changes=tuple(c for c in z.changes if id(c) not in held_ids),
            held=z.held + tuple(c for c in z.changes if id(c) in held_ids),
        )
        for z in plan.zones
    )
    return replace(plan, zones=zones)


class Approval(Enum):
    APPLY = "apply"  # --auto-approve
    ASK = "ask"  # a person at a terminal
    REFUSE = "refuse"  # no terminal and no --auto-approve


def approval(auto_approve: bool, interactive: bool) -> Approval:
    if auto_approve:
        return Approval.APPLY
    return Approval.ASK if interactive else Approval.REFUSE


REFUSAL = (
    "refusing to apply without --auto-approve when not on a terminal; review the plan above "
    "(in CI, --auto-approve in a protected environment whose reviewers approve the job)"
)
