"""A saved plan (``plan --out``): read back, its schema and seal checked, bound to its commit
and to the live records it depends on. Refusals raise AmetrikaError: nothing is applied."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema

from ametrika_gitops.config.model import CLOUDFLARE
from ametrika_gitops.dns.diff import fingerprint
from ametrika_gitops.dns.plan import Plan, plan_from_data, seal_of, sealed_data
from ametrika_gitops.dns.provider import DNSProvider, Focus, ZoneInfo
from ametrika_gitops.errors import AmetrikaError

PLAN_SCHEMA = "schemas/plan.schema.json"


def source_commit(root: Path) -> str | None:
    """The commit the accounts were read from (git HEAD), or None outside git."""
    try:
        run = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = run.stdout.strip()
    return sha if run.returncode == 0 and len(sha) >= 40 else None


def read_plan(path: Path, root: Path) -> Plan:
    """The plan in ``path``, after checking its schema and its seal."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmetrikaError(f"{path}: not a JSON plan ({exc})") from None
    try:
        schema = json.loads((root / PLAN_SCHEMA).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmetrikaError(f"cannot read {PLAN_SCHEMA}: {exc}") from None
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the document"
        raise AmetrikaError(
            f"{path}: not a plan of this version of ametrika-gitops "
            f"(at {where}: {errors[0].validator} check failed); make it again "
            "with `plan --out`"
        )
    if data["seal"] != seal_of(data):
        raise AmetrikaError(
            f"{path}: the plan's seal does not match its content: it was changed after "
            "`plan --out` wrote it; nothing was applied. Make the plan again and review it"
        )
    if not data["live"]:
        raise AmetrikaError(
            f"{path} is an offline plan (made without CLOUDFLARE_API_TOKEN): "
            "it knows nothing of the live zones; make it again with the token"
        )
    return plan_from_data(data)


def check_commit(plan: Plan, path: Path, expect: str | None, progress: Any) -> None:
    """--expect-commit: the plan must come from the commit being deployed."""
    if expect is None:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            progress(
                "warning: applying a saved plan without --expect-commit: a re-run of an old "
                "job would apply an old plan; pass --expect-commit ${{ github.sha }}"
            )
        return
    wanted = expect.strip().lower()
    got = plan.source_commit
    if got is None or len(wanted) < 7 or not got.startswith(wanted):
        raise AmetrikaError(
            f"{path} was made from commit {got or '(none recorded)'}, not {expect}: it is not "
            "the plan of the commit being deployed; nothing was applied. Plan again from "
            f"{expect}"
        )


def stale_zones(
    plan: Plan,
    provider: DNSProvider,
    zones: dict[str, ZoneInfo],
    counted: dict[str, int] | None = None,
) -> list[str]:
    """Zones whose records at the plan's names changed since the plan was made; ``counted``
    receives the number of records read in each zone."""
    stale = []
    for zp in plan.zones:
        if zp.provider != CLOUDFLARE or not zp.changes:  # held deletions are not applied
            continue
        zone = zones.get(zp.zone)
        if zone is None:
            stale.append(f"{zp.zone} (no longer visible to the token)")
        elif zp.fingerprint is None:
            stale.append(f"{zp.zone} (the plan has no fingerprint: make it with a token)")
        else:
            listing = provider.records(zone, Focus.of(zone.name, zp.watched))
            if counted is not None:
                counted[zone.name] = listing.total
            if fingerprint(zone.name, listing.records, zp.watched) != zp.fingerprint:
                stale.append(zp.zone)
    return stale


def prepare(
    path: Path,
    root: Path,
    provider: DNSProvider,
    expect_commit: str | None,
    progress: Any,
) -> tuple[Plan, dict[str, ZoneInfo], dict[str, int]]:
    """The saved plan, ready to apply, or an AmetrikaError that says why not."""
    plan = read_plan(path, root)
    check_commit(plan, path, expect_commit, progress)
    zones = {z.name: z for z in provider.zones()}
    counted: dict[str, int] = {}
    stale = stale_zones(plan, provider, zones, counted)
    if stale:
        raise AmetrikaError(
            f"{path}: zone{'s' if len(stale) > 1 else ''} {', '.join(stale)} changed since the "
            "plan was made (records at the names it touches); nothing was applied. Make a new "
            "plan and review it"
        )
    progress(f"{path}: seal {data_seal(plan)} verified")
    return plan, zones, counted


def data_seal(plan: Plan) -> str:
    return str(sealed_data(plan)["seal"])
