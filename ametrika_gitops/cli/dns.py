"""plan and apply: the DNS records, offline or on Cloudflare."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ametrika_gitops.check.project import find_root
from ametrika_gitops.cli.common import (
    EXIT_CHANGES,
    EXIT_FAIL,
    EXIT_OK,
    PATHS,
    check_paths,
    gate,
    progress,
)
from ametrika_gitops.diagnostics import render
from ametrika_gitops.dns.plan import Plan
from ametrika_gitops.errors import AmetrikaError


@click.command()
@PATHS
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json", "zone"]),
    default="text",
    show_default=True,
    help="zone: BIND lines a DNS administrator can paste.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan as JSON to this file (for apply).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes (0: none, 1: error).",
)
@click.option(
    "--offline", is_flag=True, help="Do not read Cloudflare even when CLOUDFLARE_API_TOKEN is set."
)
@click.pass_context
def plan(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    offline: bool,
) -> int:
    """Plan the DNS records of the hosted accounts, grouped by zone.

    With CLOUDFLARE_API_TOKEN (and CLOUDFLARE_BASE_URL for another endpoint), the zones of
    the accounts with dns.provider: cloudflare are read and compared: records to add, change
    and delete (only records ametrika-gitops created; a record of anyone else in the way is
    an error). Without it, or for dns.provider: manual, the plan is offline: every record to
    add, the list to hand to whoever administers the DNS. With no PATH, every account
    of the repository is in scope, so the records of removed accounts are deleted too.
    """
    from ametrika_gitops.dns.formats import RENDERERS, render_json
    from ametrika_gitops.dns.planning import cloudflare_from_env, make_plan

    _, results = check_paths(ctx, paths)
    if not gate(results):
        return EXIT_FAIL
    dns = None if offline else cloudflare_from_env(progress)
    the_plan, problems = make_plan(results, not paths, dns, progress)
    if problems:
        click.echo(render(problems, "text"), err=True, nl=False)
        click.echo("the plan cannot be applied; nothing was done", err=True)
        return EXIT_FAIL
    if out is not None:
        out.write_text(render_json(the_plan), encoding="utf-8")
        click.echo(f"plan saved to {out}", err=True)
    click.echo(RENDERERS[fmt](the_plan), nl=False)
    if detailed_exitcode and the_plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


@click.command()
@click.argument(
    "plan_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--auto-approve", is_flag=True, help="Apply a fresh plan without asking.")
@click.option(
    "--max-deletes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Refuse to apply a plan that deletes more records than this (records of "
    "removed accounts do not count).",
)
@click.pass_context
def apply(ctx: click.Context, plan_file: Path | None, auto_approve: bool, max_deletes: int) -> int:
    """Apply DNS changes to Cloudflare: one atomic batch request per zone.

    With PLAN_FILE (from plan --out), apply exactly that plan, and refuse, changing nothing, if
    any of its zones changed since. Without it, make a fresh plan of every account and apply it
    after confirmation (--auto-approve in CI). A zone that fails does not stop the others; a
    re-run finishes the work. Needs CLOUDFLARE_API_TOKEN.
    """
    from ametrika_gitops.dns.apply import apply_plan, deletion_problem, stale_zones
    from ametrika_gitops.dns.formats import render_text
    from ametrika_gitops.dns.planning import cloudflare_from_env, make_plan

    dns = cloudflare_from_env(progress)
    if dns is None:
        raise AmetrikaError(
            "apply needs CLOUDFLARE_API_TOKEN (an API token with Zone Read and "
            "DNS Edit on the zones); `plan` works without it"
        )
    if plan_file is not None:
        the_plan = _read_plan(plan_file)
        zones = {z.name: z for z in dns.zones()}
        stale = stale_zones(the_plan, dns, zones)
        if stale:
            raise AmetrikaError(
                f"{plan_file}: zone{'s' if len(stale) > 1 else ''} "
                f"{', '.join(stale)} changed since the plan was made; nothing "
                "was applied. Make a new plan and review it"
            )
    else:
        _, results = check_paths(ctx, ())
        if not gate(results):
            return EXIT_FAIL
        the_plan, problems = make_plan(results, True, dns, progress)
        if problems:
            click.echo(render(problems, "text"), err=True, nl=False)
            click.echo("the plan cannot be applied; nothing was done", err=True)
            return EXIT_FAIL
        click.echo(render_text(the_plan), nl=False)
        if not the_plan.has_changes:
            click.echo("No changes: the zones already match the accounts.")
            return EXIT_OK
        if not auto_approve:
            if not sys.stdin.isatty():
                raise AmetrikaError(
                    "refusing to apply without --auto-approve when not on a "
                    "terminal; review the plan above, or save it with "
                    "`plan --out` and apply that file"
                )
            if not click.confirm("Apply these changes?", default=False):
                click.echo("Nothing applied.", err=True)
                return EXIT_FAIL
        zones = {z.name: z for z in dns.zones()}
    problem = deletion_problem(the_plan, max_deletes)
    if problem:
        raise AmetrikaError(problem)
    results_by_zone = apply_plan(the_plan, dns, zones, progress)
    for zr in results_by_zone:
        state = "applied" if zr.ok else "FAILED"
        click.echo(f"{zr.zone}: {state}: {zr.message}")
    for z in the_plan.zones:
        if z.provider == "manual" and z.changes:
            click.echo(
                f"{z.zone}: manual: hand its records to the DNS administrator (plan --format zone)"
            )
    failed = [zr for zr in results_by_zone if not zr.ok]
    if failed:
        click.echo(
            f"{len(failed)} zone{'s' if len(failed) != 1 else ''} failed; fix the cause "
            "and run apply again: it does only what is still missing",
            err=True,
        )
        return EXIT_FAIL
    done = sum(sum(zr.counts.values()) for zr in results_by_zone)
    click.echo(
        f"Apply complete: {done} change{'s' if done != 1 else ''} in "
        f"{len(results_by_zone)} zone{'s' if len(results_by_zone) != 1 else ''}."
    )
    return EXIT_OK


def _read_plan(path: Path) -> Plan:
    import json

    import jsonschema

    from ametrika_gitops.dns.plan import plan_from_data

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmetrikaError(f"{path}: not a JSON plan ({exc})") from None
    root = ctx_root()
    schema = json.loads((root / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the document"
        raise AmetrikaError(
            f"{path}: not a plan of this version of ametrika-gitops "
            f"(at {where}: {errors[0].validator} check failed); make it again "
            "with `plan --out`"
        )
    if not data["live"]:
        raise AmetrikaError(
            f"{path} is an offline plan (made without CLOUDFLARE_API_TOKEN): "
            "it knows nothing of the live zones; make it again with the token"
        )
    return plan_from_data(data)


def ctx_root() -> Path:
    ctx = click.get_current_context()
    root = ctx.find_root().obj
    return root if root is not None else find_root(Path.cwd())
