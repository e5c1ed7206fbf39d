"""plan, apply and adopt: the DNS records, offline or on Cloudflare. Each command parses, calls
the dns package, renders and returns an exit code; the decisions live in dns/."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ametrika_gitops.cli import output
from ametrika_gitops.cli.common import (
    EXIT_CHANGES,
    EXIT_FAIL,
    EXIT_OK,
    PATHS,
    accounts_named,
    check_paths,
    gate,
    progress,
    repository_root,
)
from ametrika_gitops.diagnostics import Diagnostic, render
from ametrika_gitops.dns.plan import Plan
from ametrika_gitops.errors import AmetrikaError

ALLOW_DELETE = click.option(
    "--allow-delete",
    "allow_delete",
    multiple=True,
    metavar="ACCOUNT",
    help="Allow the deletion of this account's records (repeatable). Deletions not allowed "
    "are held: shown, never applied.",
)
MAX_DELETES = click.option(
    "--max-deletes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Allow up to N deletions of accounts not named by --allow-delete (all or none).",
)
AUTO_APPROVE = click.option(
    "--auto-approve", is_flag=True, help="Do not ask for confirmation (CI, protected environment)."
)
NEEDS_TOKEN = (
    "needs CLOUDFLARE_API_TOKEN (an API token with Zone Read and DNS Edit on the zones); "
    "`plan` works without it"
)


def _report(diags: list[Diagnostic]) -> bool:
    """Print the findings; True when some account was left out (an error)."""
    if diags:
        click.echo(render(diags, "text"), err=True, nl=False)
    errors = {d.path for d in diags if d.is_error}
    if errors:
        click.echo(
            f"{len(errors)} account file{'s' if len(errors) != 1 else ''} left out of the plan "
            "(see the errors above); the other accounts are planned",
            err=True,
        )
    return bool(errors)


def _warn_unused(allow_delete: tuple[str, ...], plan: Plan) -> None:
    from ametrika_gitops.dns.planning import unknown_allowed

    for name in unknown_allowed(allow_delete, plan) if plan.live else ():
        click.echo(f"warning: --allow-delete {name}: the plan deletes no record of it", err=True)


def _approved(auto_approve: bool, question: str) -> bool:
    from ametrika_gitops.dns.guard import REFUSAL, Approval, approval

    decision = approval(auto_approve, sys.stdin.isatty())
    if decision is Approval.REFUSE:
        raise AmetrikaError(REFUSAL)
    if decision is Approval.ASK and not click.confirm(question, default=False):
        click.echo("Nothing applied.", err=True)
        return False
    return True


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
    help="Also save the sealed plan as JSON to this file (for apply).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes or held deletions (0: none, 1: error).",
)
@click.option(
    "--offline", is_flag=True, help="Do not read Cloudflare even when CLOUDFLARE_API_TOKEN is set."
)
@ALLOW_DELETE
@MAX_DELETES
@click.pass_context
def plan(
    ctx: click.Context,
    paths: tuple[Path, ...],
    fmt: str,
    out: Path | None,
    detailed_exitcode: bool,
    offline: bool,
    allow_delete: tuple[str, ...],
    max_deletes: int,
) -> int:
    """Plan the DNS records of the hosted accounts, grouped by zone.

    With CLOUDFLARE_API_TOKEN (and CLOUDFLARE_BASE_URL for another endpoint), the zones of
    the accounts with dns.provider: cloudflare are read and compared: records to add, change
    and delete (only records ametrika-gitops created in this repository's scope; a record of
    anyone else in the way leaves that account out, exit 1). Deletions need --allow-delete
    ACCOUNT or --max-deletes N; the others are held. Without a token, or for dns.provider:
    manual, the plan is offline: every record to add, the list to hand to whoever administers
    the DNS. With no PATH, every account of the repository is in scope, so the records of
    removed accounts are found too.
    """
    from ametrika_gitops.dns.connect import cloudflare_from_env
    from ametrika_gitops.dns.formats import RENDERERS, render_json
    from ametrika_gitops.dns.planning import Request, make_plan

    project, results = check_paths(ctx, paths)
    if not gate(results):
        return EXIT_FAIL
    provider = None if offline else cloudflare_from_env(progress)
    request = Request(frozenset(allow_delete), max_deletes)
    the_plan, diags = make_plan(results, project.root, not paths, provider, progress, request)
    if the_plan is None:
        click.echo(render(diags, "text"), err=True, nl=False)
        click.echo("nothing was planned", err=True)
        return EXIT_FAIL
    left_out = _report(diags)
    _warn_unused(allow_delete, the_plan)
    if out is not None:
        try:
            out.write_text(render_json(the_plan), encoding="utf-8")
        except OSError as exc:
            raise AmetrikaError(f"cannot write the plan to {out}: {exc.strerror}") from None
        click.echo(f"plan saved to {out}", err=True)
    text = RENDERERS[fmt](the_plan)
    # on a terminal, additions green, changes yellow, deletions red (never in machine formats)
    click.echo(
        output.paint_lines(text, output.paint_diff_line) if fmt == "text" else text, nl=False
    )
    if left_out:
        return EXIT_FAIL
    if detailed_exitcode and the_plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


@click.command()
@click.argument(
    "plan_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@AUTO_APPROVE
@ALLOW_DELETE
@MAX_DELETES
@click.option(
    "--expect-commit",
    metavar="SHA",
    help="Refuse a saved plan not made from this commit (in CI: the commit being deployed).",
)
@click.pass_context
def apply(
    ctx: click.Context,
    plan_file: Path | None,
    auto_approve: bool,
    allow_delete: tuple[str, ...],
    max_deletes: int,
    expect_commit: str | None,
) -> int:
    """Apply DNS changes to Cloudflare: one atomic batch request per zone.

    With PLAN_FILE (from plan --out), apply exactly that sealed plan, and refuse, changing
    nothing, if it was edited, if the records it depends on changed since, or if it was not
    made from --expect-commit. Without it, make a fresh plan of every account. Either way the
    plan is shown and confirmed (--auto-approve in CI). Deletions need --allow-delete ACCOUNT
    or --max-deletes N (for a saved plan: when it was made). A zone that fails, or an account
    left out, does not stop the others (exit 1); a re-run finishes the work. Needs
    CLOUDFLARE_API_TOKEN.
    """
    from ametrika_gitops.dns.apply import apply_plan
    from ametrika_gitops.dns.connect import cloudflare_from_env
    from ametrika_gitops.dns.formats import render_text
    from ametrika_gitops.dns.planning import Request, make_plan
    from ametrika_gitops.dns.saved import prepare

    provider = cloudflare_from_env(progress)
    if provider is None:
        raise AmetrikaError(f"apply {NEEDS_TOKEN}")
    if plan_file is not None:
        if allow_delete or max_deletes:
            click.echo(
                "warning: --allow-delete and --max-deletes are ignored with a saved plan: its "
                "deletions were allowed when it was made, and approving it approves them",
                err=True,
            )
        the_plan, zones, counted = prepare(
            plan_file, repository_root(ctx), provider, expect_commit, progress
        )
        left_out = bool(the_plan.skipped)
    else:
        project, results = check_paths(ctx, ())
        if not gate(results):
            return EXIT_FAIL
        request = Request(frozenset(allow_delete), max_deletes)
        fresh, diags = make_plan(results, project.root, True, provider, progress, request)
        if fresh is None:
            click.echo(render(diags, "text"), err=True, nl=False)
            click.echo("nothing was applied", err=True)
            return EXIT_FAIL
        the_plan, left_out = fresh, _report(diags)
        _warn_unused(allow_delete, the_plan)
        zones, counted = {z.name: z for z in provider.zones()}, {}
    click.echo(output.paint_lines(render_text(the_plan), output.paint_diff_line), nl=False)
    if not any(z.changes for z in the_plan.zones if the_plan.actionable(z)):
        click.echo("No changes to apply: the zones already match the accounts.")
        return EXIT_FAIL if left_out else EXIT_OK
    if not _approved(auto_approve, "Apply these changes?"):
        return EXIT_FAIL
    results_by_zone = apply_plan(
        the_plan, provider, zones, progress, check_quota=plan_file is not None, counted=counted
    )
    for zr in results_by_zone:
        click.echo(f"{zr.zone}: {'applied' if zr.ok else 'FAILED'}: {zr.message}")
    for z in the_plan.zones:
        if not the_plan.actionable(z) and z.changes:
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
    if left_out:
        accounts = sorted({s.account for s in the_plan.skipped})
        click.echo(
            f"left out: {', '.join(accounts)} (see the errors); the other accounts were applied"
            if plan_file is not None
            else "some accounts were left out (see the errors); the others were applied",
            err=True,
        )
    if failed or left_out:
        return EXIT_FAIL
    done = sum(sum(zr.counts.values()) for zr in results_by_zone)
    click.echo(
        f"Apply complete: {done} change{'s' if done != 1 else ''} in "
        f"{len(results_by_zone)} zone{'s' if len(results_by_zone) != 1 else ''}."
    )
    return EXIT_OK


@click.command()
@click.argument("accounts", nargs=-1, metavar="[ACCOUNT…]")
@AUTO_APPROVE
@click.pass_context
def adopt(ctx: click.Context, accounts: tuple[str, ...], auto_approve: bool) -> int:
    """Take over records already published by hand.

    Records at an account's desired names with exactly the desired content, but without
    ametrika-gitops's ownership comment in this repository's scope, get that comment (one
    batch per zone), after confirmation (--auto-approve in CI). Records whose content differs
    stay conflicts for `plan`. ACCOUNT: an id or a file; default: every account.
    """
    from ametrika_gitops.dns.adopt import adopt as adopt_records
    from ametrika_gitops.dns.connect import cloudflare_from_env
    from ametrika_gitops.dns.diff import normalize_content
    from ametrika_gitops.dns.planning import plan_adoptions

    project, results = accounts_named(ctx, accounts)
    if not gate(results):
        return EXIT_FAIL
    provider = cloudflare_from_env(progress)
    if provider is None:
        raise AmetrikaError(f"adopt {NEEDS_TOKEN}")
    adoptions, scope, diags = plan_adoptions(results, project.root, provider, progress)
    if diags:
        click.echo(render(diags, "text"), err=True, nl=False)
    errors = any(d.is_error for d in diags)
    if not adoptions:
        click.echo("Nothing to adopt: no record with the desired content lacks the comment.")
        return EXIT_FAIL if errors else EXIT_OK
    click.echo(f"{len(adoptions)} record{'s' if len(adoptions) != 1 else ''} to adopt:")
    for a in adoptions:
        r = a.live
        click.echo(f"  {a.zone.name}: {r.type:<5} {r.name}  {normalize_content(r.type, r.content)}")
        click.echo(
            f"          {a.record.purpose}, account {a.record.account}; comment "
            f"{r.comment or '(none)'!s} → {a.record.comment_in(scope)}"
        )
    if not _approved(auto_approve, "Adopt these records?"):
        return EXIT_FAIL
    outcome = adopt_records(adoptions, provider, scope)
    for zone, ok, message in outcome:
        click.echo(f"{zone}: {'adopted' if ok else 'FAILED'}: {message}")
    return EXIT_FAIL if errors or not all(ok for _, ok, _ in outcome) else EXIT_OK
