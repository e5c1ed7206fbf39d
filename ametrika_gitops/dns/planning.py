"""Between the CLI and Cloudflare: credentials from the environment, live or offline plans,
and the findings that stop a plan (zones not found, conflicts), placed in the account files."""

from __future__ import annotations

import os

from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.diagnostics import Diagnostic, Progress, error
from ametrika_gitops.dns.cloudflare import CloudflareDNS
from ametrika_gitops.dns.live import live_plan
from ametrika_gitops.dns.offline import offline_plan
from ametrika_gitops.dns.plan import Plan

TOKEN = "CLOUDFLARE_API_TOKEN"


def cloudflare_from_env(progress: Progress) -> CloudflareDNS | None:
    """The Cloudflare client when CLOUDFLARE_API_TOKEN is set, else None (offline)."""
    token = os.environ.get(TOKEN, "").strip()
    if not token:
        return None
    for ignored in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        if os.environ.get(ignored):
            progress(
                f"warning: {ignored} is set and ignored: ametrika-gitops authenticates "
                f"with {TOKEN} only (the SDK would otherwise send it instead of the token)"
            )
    timeout = float(os.environ.get("AMETRIKA_GITOPS_CF_TIMEOUT", "30"))
    strict = os.environ.get("AMETRIKA_GITOPS_CF_STRICT") == "1"
    return CloudflareDNS(
        token, os.environ.get("CLOUDFLARE_BASE_URL") or None, timeout=timeout, strict=strict
    )


def _at_domain(checked: Checked, code: str, message: str, hint: str) -> Diagnostic:
    assert checked.doc is not None
    pos = checked.doc.at(("sender", "hosted", "domain"))
    return error(checked.path, pos.line, pos.column, code, message, hint)


def make_plan(
    results: list[Checked], whole_repository: bool, dns: CloudflareDNS | None, progress: Progress
) -> tuple[Plan, list[Diagnostic]]:
    """The plan, and the findings that forbid acting on it (empty when it can be applied)."""
    accounts = [r.account for r in results if r.account is not None]
    if dns is None:
        return offline_plan(accounts), []
    all_ids = {a.id for a in accounts} if whole_repository else None
    plan, problems, conflicts = live_plan(accounts, all_ids, dns, progress)
    by_id = {r.account.id: r for r in results if r.account is not None}
    diags = [
        _at_domain(by_id[p.account], "dns-zone-not-found", p.message, p.hint) for p in problems
    ]
    diags += [
        _at_domain(
            by_id[c.account],
            "dns-conflict",
            c.message,
            "ametrika-gitops never replaces a record it did not create: remove or "
            "rename that record in Cloudflare, or choose another sending domain",
        )
        for c in conflicts
    ]
    return plan, diags
