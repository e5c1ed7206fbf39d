"""Between the command line and the provider: the live or offline plan of checked accounts,
and what stops part of it (zones not found, conflicts, delegations, quotas), placed in the
account files as findings."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.diagnostics import Diagnostic, Progress, error, warning
from ametrika_gitops.dns import dmarc
from ametrika_gitops.dns.adopt import Adoption, find_adoptions
from ametrika_gitops.dns.diff import Finding
from ametrika_gitops.dns.live import Options, live_plan
from ametrika_gitops.dns.offline import offline_plan
from ametrika_gitops.dns.plan import DELETE, Plan
from ametrika_gitops.dns.provider import DNSProvider
from ametrika_gitops.dns.saved import source_commit
from ametrika_gitops.dns.settings import load_settings


@dataclass(frozen=True)
class Request:
    """What the person asked for: the deletions they allow."""

    allow_delete: frozenset[str] = frozenset()
    max_deletes: int = 0


def _placed(checked: Checked, f: Finding) -> Diagnostic:
    assert checked.doc is not None
    pos = checked.doc.at(f.at)
    make = warning if f.warning else error
    return make(checked.path, pos.line, pos.column, f.code, f.message, f.hint)


def make_plan(
    results: list[Checked],
    root: Path,
    whole_repository: bool,
    provider: DNSProvider | None,
    progress: Progress,
    request: Request = Request(),
    lookup: dmarc.Lookup | None = None,
) -> tuple[Plan | None, list[Diagnostic]]:
    """The plan, and the findings about it: errors name the accounts left out of it. No plan
    when the repository's settings are invalid."""
    accounts = [r.account for r in results if r.account is not None]
    if provider is None:
        return offline_plan(accounts), []
    settings, diags = load_settings(root)
    if any(d.is_error for d in diags):
        return None, diags
    all_ids = {a.id for a in accounts} if whole_repository else None
    options = Options(
        scope=settings.ownership_scope,
        allow_delete=frozenset(request.allow_delete),
        max_deletes=request.max_deletes,
        source_commit=source_commit(root),
    )
    plan, findings = live_plan(
        accounts, all_ids, provider, progress, lookup or dmarc.dns_lookup(), options
    )
    by_id = {r.account.id: r for r in results if r.account is not None}
    diags += [_placed(by_id[f.account], f) for f in findings if f.account in by_id]
    return plan, diags


def plan_adoptions(
    results: list[Checked], root: Path, provider: DNSProvider, progress: Progress
) -> tuple[list[Adoption], str, list[Diagnostic]]:
    """The records ``adopt`` would take over, the scope, and the findings (none when the
    repository's settings are invalid)."""
    settings, diags = load_settings(root)
    if any(d.is_error for d in diags):
        return [], "", diags
    accounts = [r.account for r in results if r.account is not None]
    adoptions, findings = find_adoptions(accounts, provider, settings.ownership_scope, progress)
    by_id = {r.account.id: r for r in results if r.account is not None}
    diags += [_placed(by_id[f.account], f) for f in findings if f.account in by_id]
    return adoptions, settings.ownership_scope, diags


def unknown_allowed(allow: Collection[str], plan: Plan) -> list[str]:
    """--allow-delete names that match no deletion (a typo would otherwise pass silently)."""
    deleting = {
        c.record.account for z in plan.zones for c in (*z.changes, *z.held) if c.action == DELETE
    }
    return sorted(a for a in allow if a not in deleting)
