"""The command line: parse, call, render, map errors to exit codes. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from ametrika_gitops import __version__
from ametrika_gitops.diagnostics import has_errors, render
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.model import Account
from ametrika_gitops.plan.model import Plan
from ametrika_gitops.project import Project, account_files, display_path, find_root
from ametrika_gitops.validate import Checked, all_diagnostics, check_files

EXIT_OK, EXIT_FAIL, EXIT_CHANGES = 0, 1, 2
BUG_URL = "the ametrika-gitops issue tracker"

PATHS = click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))


def _project(root: Path | None, paths: Sequence[Path]) -> Project:
    if root is None:
        try:
            root = find_root(Path.cwd())
        except AmetrikaError:
            if not paths:
                raise
            root = find_root(paths[0] if paths[0].is_dir() else paths[0].parent)
    return Project.open(root)


def _check(ctx: click.Context, paths: tuple[Path, ...]) -> tuple[Project, list[Checked]]:
    project = _project(ctx.obj, paths)
    return project, check_files(project, account_files(paths, project.root))


def _summary(results: list[Checked]) -> str:
    diags = all_diagnostics(results)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    n = len(results)
    return (f"{n} account file{'s' if n != 1 else ''} checked: "
            f"{errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}")


def _gate(results: list[Checked]) -> bool:
    """Print findings on stderr; True when the accounts are valid enough to go on."""
    diags = all_diagnostics(results)
    if diags:
        click.echo(render(diags, "text"), err=True, nl=False)
    if has_errors(diags):
        click.echo(f"{_summary(results)}; nothing was done", err=True)
        return False
    return True


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="ametrika-gitops")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root (the folder with templates/ and schemas/). "
                   "Default: found from the current folder upwards.")
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Ametrika's e-mail settings as code.

    Account files in accounts/ declare how each account's standard e-mails are sent and how
    their templates read. Validate them, compile them into bundles, and plan the DNS records
    of the hosted e-mail service. Exit codes: 0 success, 1 invalid input or failure,
    2 (plan --detailed-exitcode) changes to make.
    """
    ctx.obj = root


@cli.command()
@PATHS
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="text: path:line:col lines; json: objects; github: "
                                      "workflow annotations.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str, strict: bool) -> int:
    """Check account files (default: accounts/) against the schema and the rules.

    Every finding is reported at file:line:col with a fix. Exit 1 on any error (or any
    warning with --strict).
    """
    _, results = _check(ctx, paths)
    diags = all_diagnostics(results)
    output = render(diags, fmt)
    if output:
        click.echo(output, nl=False)
    click.echo(_summary(results), err=True)
    return EXIT_FAIL if has_errors(diags, strict) else EXIT_OK


@cli.command(name="compile")
@PATHS
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build"),
              show_default=True, help="Folder for the bundles and manifest.json.")
@click.pass_context
def compile_cmd(ctx: click.Context, paths: tuple[Path, ...], out: Path) -> int:
    """Validate, then write one deterministic bundle per account and a manifest.

    A bundle holds the resolved sender, every template (its source, origin and rendered
    sample) and the DNS record set. Nothing is written unless every account is valid.
    """
    from ametrika_gitops.compile import write_bundles

    _, results = _check(ctx, paths)
    if not _gate(results):
        return EXIT_FAIL
    for line in write_bundles(results, out):
        click.echo(line)
    return EXIT_OK


def _progress(message: str) -> None:
    click.echo(message, err=True)


@cli.command()
@PATHS
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "zone"]),
              default="text", show_default=True,
              help="zone: BIND lines a DNS administrator can paste.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also save the plan as JSON to this file (for apply).")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when the plan has changes (0: none, 1: error).")
@click.option("--offline", is_flag=True,
              help="Do not read Cloudflare even when CLOUDFLARE_API_TOKEN is set.")
@click.pass_context
def plan(ctx: click.Context, paths: tuple[Path, ...], fmt: str, out: Path | None,
         detailed_exitcode: bool, offline: bool) -> int:
    """Plan the DNS records of the hosted accounts, grouped by zone.

    With CLOUDFLARE_API_TOKEN (and CLOUDFLARE_BASE_URL for another endpoint), the zones of
    the accounts with dns.provider: cloudflare are read and compared: records to add, change
    and delete (only records ametrika-gitops created; a record of anyone else in the way is
    an error). Without it, or for dns.provider: manual, the plan is offline: every record to
    add, the list to hand to whoever administers the DNS (H8). With no PATH, every account
    of the repository is in scope, so the records of removed accounts are deleted too.
    """
    from ametrika_gitops.deploy import cloudflare_from_env, make_plan
    from ametrika_gitops.plan.render import RENDERERS, render_json

    _, results = _check(ctx, paths)
    if not _gate(results):
        return EXIT_FAIL
    dns = None if offline else cloudflare_from_env(_progress)
    the_plan, problems = make_plan(results, not paths, dns, _progress)
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


@cli.command()
@click.argument("plan_file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply a fresh plan without asking.")
@click.option("--max-deletes", type=click.IntRange(min=0), default=0, show_default=True,
              help="Refuse to apply a plan that deletes more records than this (records of "
                   "removed accounts do not count).")
@click.pass_context
def apply(ctx: click.Context, plan_file: Path | None, auto_approve: bool,
          max_deletes: int) -> int:
    """Apply DNS changes to Cloudflare: one atomic batch request per zone.

    With PLAN_FILE (from plan --out), apply exactly that plan, and refuse, changing nothing, if
    any of its zones changed since. Without it, make a fresh plan of every account and apply it
    after confirmation (--auto-approve in CI). A zone that fails does not stop the others; a
    re-run finishes the work. Needs CLOUDFLARE_API_TOKEN.
    """
    from ametrika_gitops.apply import apply_plan, deletion_problem, stale_zones
    from ametrika_gitops.deploy import cloudflare_from_env, make_plan
    from ametrika_gitops.plan.render import render_text

    dns = cloudflare_from_env(_progress)
    if dns is None:
        raise AmetrikaError("apply needs CLOUDFLARE_API_TOKEN (an API token with Zone Read and "
                            "DNS Edit on the zones); `plan` works without it")
    if plan_file is not None:
        the_plan = _read_plan(plan_file)
        zones = {z.name: z for z in dns.zones()}
        stale = stale_zones(the_plan, dns, zones)
        if stale:
            raise AmetrikaError(f"{plan_file}: zone{'s' if len(stale) > 1 else ''} "
                                f"{', '.join(stale)} changed since the plan was made; nothing "
                                "was applied. Make a new plan and review it")
    else:
        _, results = _check(ctx, ())
        if not _gate(results):
            return EXIT_FAIL
        the_plan, problems = make_plan(results, True, dns, _progress)
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
                raise AmetrikaError("refusing to apply without --auto-approve when not on a "
                                    "terminal; review the plan above, or save it with "
                                    "`plan --out` and apply that file")
            if not click.confirm("Apply these changes?", default=False):
                click.echo("Nothing applied.", err=True)
                return EXIT_FAIL
        zones = {z.name: z for z in dns.zones()}
    problem = deletion_problem(the_plan, max_deletes)
    if problem:
        raise AmetrikaError(problem)
    results_by_zone = apply_plan(the_plan, dns, zones, _progress)
    for zr in results_by_zone:
        state = "applied" if zr.ok else "FAILED"
        click.echo(f"{zr.zone}: {state}: {zr.message}")
    for z in the_plan.zones:
        if z.provider == "manual" and z.changes:
            click.echo(f"{z.zone}: manual: hand its records to the DNS administrator "
                       "(plan --format zone)")
    failed = [zr for zr in results_by_zone if not zr.ok]
    if failed:
        click.echo(f"{len(failed)} zone{'s' if len(failed) != 1 else ''} failed; fix the cause "
                   "and run apply again: it does only what is still missing", err=True)
        return EXIT_FAIL
    done = sum(sum(zr.counts.values()) for zr in results_by_zone)
    click.echo(f"Apply complete: {done} change{'s' if done != 1 else ''} in "
               f"{len(results_by_zone)} zone{'s' if len(results_by_zone) != 1 else ''}.")
    return EXIT_OK


def _accounts_named(ctx: click.Context, names: tuple[str, ...]) -> tuple[Project, list[Checked]]:
    """Validate the named accounts (ids, or paths), or every account."""
    project = _project(ctx.obj, ())
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists():
            path = project.root / "accounts" / f"{name}.yaml"
        if not path.exists():
            raise AmetrikaError(f"no account '{name}' (no file accounts/{name}.yaml)")
        paths.append(path)
    return project, check_files(project, account_files(tuple(paths), project.root))


def _one_account(ctx: click.Context, name: str) -> tuple[Project, Account]:
    """One valid account, for the recipients commands (a subgroup: the root is the parent's)."""
    project, results = _accounts_named(ctx.find_root(), (name,))
    account = results[0].account
    if not _gate(results) or account is None:
        raise AmetrikaError(f"account {name} is not valid; fix the findings above")
    return project, account


@cli.command(name="test-send")
@click.argument("accounts", nargs=-1)
@click.option("--type", "types", multiple=True, help="Only this e-mail type (repeatable).")
@click.option("--locale", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option("--changed-since", metavar="REF",
              help="Only the accounts and e-mails whose sender or rendering differ from REF.")
@click.option("--capture", type=click.Path(file_okay=False, path_type=Path),
              help="Write the exact messages as .eml files here instead of sending them.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a JUnit report: one test case per e-mail and recipient.")
@click.pass_context
def test_send(ctx: click.Context, accounts: tuple[str, ...], types: tuple[str, ...],
              locales: tuple[str, ...], changed_since: str | None, capture: Path | None,
              junit: Path | None) -> int:
    """Send each selected e-mail, rendered with its sample data, from the account's sender.

    Custom SMTP accounts send through their own server (H14); the other modes through the
    platform relay (AMETRIKA_RELAY_URL, AMETRIKA_RELAY_PASSWORD). Only to the account's
    test.recipients, each verified (H9; AMETRIKA_VERIFY_KEY checks the records in
    recipients/). Exit 1 if any send failed or any recipient is not verified.
    """
    from ametrika_gitops.mail import testsend
    from ametrika_gitops.mail.changes import changed, fingerprints, fingerprints_at

    project, results = _accounts_named(ctx, accounts)
    if not _gate(results):
        return EXIT_FAIL
    selected_changes = None
    if changed_since:
        selected_changes = changed(fingerprints_at(project.root, changed_since),
                                   fingerprints(results))
        click.echo(f"changed since {changed_since}: "
                   f"{', '.join(sorted(selected_changes)) or 'no account'}", err=True)
    selection = testsend.Selection(frozenset(types) or None, frozenset(locales) or None,
                                   selected_changes)
    pending, outcomes = testsend.prepare(results, selection, project.root,
                                         require_verified=capture is None)
    if capture is not None:
        outcomes += testsend.capture(pending, capture)
    elif sys.stderr.isatty() and pending:
        with click.progressbar(length=len(pending), label="sending", file=sys.stderr) as bar:
            outcomes += testsend.send(pending, lambda _: bar.update(1))
    else:
        outcomes += testsend.send(pending, _progress)
    click.echo(testsend.summary(outcomes), nl=False)
    if junit is not None:
        testsend.junit(outcomes, junit)
    return EXIT_FAIL if any(o.status == "failed" for o in outcomes) else EXIT_OK


@cli.group()
def recipients() -> None:
    """Verify the addresses test e-mails may go to (H9)."""


@recipients.command(name="verify")
@click.argument("account")
@click.argument("address")
@click.pass_context
def recipients_verify(ctx: click.Context, account: str, address: str) -> int:
    """Mail a confirmation code to ADDRESS, from ACCOUNT's sender.

    ADDRESS must be in the account's test.recipients. Needs AMETRIKA_VERIFY_KEY.
    """
    from email.message import EmailMessage
    from email.policy import SMTP

    from ametrika_gitops.mail.message import envelope_sender
    from ametrika_gitops.mail.recipients import code_for, verify_key
    from ametrika_gitops.mail.transport import SendError, Session, endpoint_for

    key = verify_key()
    _, acc = _one_account(ctx, account)
    if address.lower() not in {r.lower() for r in acc.recipients}:
        raise AmetrikaError(f"{address} is not in test.recipients of {acc.id}; add it there "
                            "first (in a reviewed pull request)")
    code = code_for(key, acc.id, address)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"{acc.sender.from_name} <{acc.sender.from_address}>"
    msg["To"] = address
    msg["Subject"] = f"Verification code for test e-mails of {acc.name}: {code}"
    msg["X-Ametrika-Verification"] = acc.id
    msg.set_content(
        f"Your verification code is {code}.\n\nIt allows test e-mails of the account "
        f"{acc.name} to be sent to this address. To confirm, run:\n\n"
        f"    ametrika-gitops recipients confirm {acc.id} {address} {code}\n\n"
        "The code is valid until tomorrow. If you did not expect it, ignore this e-mail.\n")
    try:
        with Session(endpoint_for(acc)) as session:
            session.send(envelope_sender(acc), address, msg.as_bytes(policy=SMTP))
    except SendError as exc:
        raise AmetrikaError(f"the code could not be sent: {exc}") from None
    click.echo(f"a code was sent to {address}; then: ametrika-gitops recipients confirm "
               f"{acc.id} {address} CODE")
    return EXIT_OK


@recipients.command(name="confirm")
@click.argument("account")
@click.argument("address")
@click.argument("code")
@click.pass_context
def recipients_confirm(ctx: click.Context, account: str, address: str, code: str) -> int:
    """Record ADDRESS as verified for ACCOUNT, given the CODE it received."""
    from ametrika_gitops.mail.recipients import code_is_valid, verify_key, write_record

    key = verify_key()
    project, acc = _one_account(ctx, account)
    if not code_is_valid(key, acc.id, address, code):
        raise AmetrikaError(f"wrong or expired code for {address}; ask for a new one with "
                            f"ametrika-gitops recipients verify {acc.id} {address}")
    path = write_record(key, project.root, acc.id, address)
    click.echo(f"{address} is verified for {acc.id}: commit {display_path(path)}")
    return EXIT_OK


@cli.command()
@click.argument("accounts", nargs=-1)
@click.option("--nameserver", "nameservers", multiple=True, metavar="HOST[:PORT]",
              help="Ask this server (repeatable). Default: each zone's own nameservers.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True)
@click.option("--timeout", type=click.FloatRange(min=0.1, max=60), default=5.0,
              show_default=True, help="Seconds to wait for each DNS answer.")
@click.pass_context
def verify(ctx: click.Context, accounts: tuple[str, ...], nameservers: tuple[str, ...],
           fmt: str, timeout: float) -> int:
    """Check in DNS, as a receiving mail server would, that each account may send.

    Hosted accounts: every record of the design (ownership, DKIM CNAMEs and the key behind
    them, return path and its SPF, DMARC, click tracking) is verified, missing, wrong (expected
    against found) or unreachable; exit 1 if a required one is not verified. Custom SMTP
    accounts: advice on SPF and MX, never a failure.
    """
    from ametrika_gitops.verify.report import RENDERERS
    from ametrika_gitops.verify.run import parse_server, verify_accounts

    servers = [parse_server(s) for s in nameservers]
    _, results = _accounts_named(ctx, accounts)
    if not _gate(results):
        return EXIT_FAIL
    checks, asked = verify_accounts([r.account for r in results if r.account], servers, timeout)
    click.echo(RENDERERS[fmt](checks, asked), nl=False)
    return EXIT_FAIL if any(c.failed for c in checks) else EXIT_OK


@cli.command()
@click.option("--base", required=True, metavar="REF", help="The revision before (a git ref).")
@click.option("--head", metavar="REF", help="The revision after. Default: the working tree.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "html"]),
              default="text", show_default=True,
              help="markdown: a pull-request comment; html: e-mails side by side.")
@click.pass_context
def diff(ctx: click.Context, base: str, head: str | None, fmt: str) -> int:
    """Show the semantic difference of two revisions, per account.

    Both are compiled straight from git (the working tree is not touched): sender and DNS
    changes, and for each e-mail type and locale whose rendering changed, what happened to it
    (overridden, reset to the original (H13), changed, or an original changed upstream under an
    override) with unified diffs of the rendered subject and text and of the sources.
    """
    from ametrika_gitops.review.render import RENDERERS
    from ametrika_gitops.review.revision import WORKTREE, git_root, load_revision
    from ametrika_gitops.review.semantic import diff_revisions

    root = ctx.obj or git_root(Path.cwd())
    before = load_revision(root, base)
    after = load_revision(root, head or WORKTREE)
    for rev in (before, after):
        for path in rev.invalid:
            click.echo(f"warning: {path} does not validate at {rev.ref}; left out", err=True)
    changes = diff_revisions(before, after)
    click.echo(RENDERERS[fmt](changes, base, head or "working tree"), nl=False)
    return EXIT_OK


@cli.command()
@click.argument("account", required=False)
@click.option("--since", metavar="DATE", help="Only commits after this date (git's --since).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def history(ctx: click.Context, account: str | None, since: str | None, fmt: str) -> int:
    """Who changed which account's e-mail settings, when, through which pull request.

    Every commit that changed an account's effective configuration (its file, its override
    files, or an original template it uses), with the change in one line per item.
    """
    from ametrika_gitops.review import history as hist
    from ametrika_gitops.review.revision import git_root

    root = ctx.obj or git_root(Path.cwd())
    entries = hist.history(root, account, since)
    click.echo((hist.render_json if fmt == "json" else hist.render_text)(entries), nl=False)
    return EXIT_OK


@cli.command()
@click.option("--check", is_flag=True, help="Exit 1 if .github/CODEOWNERS is out of date.")
@click.pass_context
def codeowners(ctx: click.Context, check: bool) -> int:
    """Write .github/CODEOWNERS from each account's admins (H1) and the platform's owners."""
    from ametrika_gitops.review import codeowners as co

    project, results = _check(ctx, ())
    if not _gate(results):
        return EXIT_FAIL
    wanted = co.generate(results, project.catalog.owners)
    if check:
        differences = co.check(project.root, wanted)
        if differences:
            click.echo("\n".join(differences))
            click.echo(f"{co.FILE} is out of date; run `ametrika-gitops codeowners` and commit "
                       "it", err=True)
            return EXIT_FAIL
        click.echo(f"{co.FILE} is up to date", err=True)
        return EXIT_OK
    target = project.root / co.FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(wanted, encoding="utf-8")
    click.echo(f"wrote {display_path(target)}", err=True)
    return EXIT_OK


@cli.command()
@click.argument("account")
@click.argument("type_id", metavar="[TYPE]", required=False)
@click.option("--locale", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the files. Default: build/preview/ACCOUNT.")
@click.option("--png", is_flag=True, help="Also take screenshots with headless Chromium.")
@click.pass_context
def preview(ctx: click.Context, account: str, type_id: str | None, locales: tuple[str, ...],
            out: Path | None, png: bool) -> int:
    """Render an account's e-mails (HTML and text) with their sample data, and an index."""
    from ametrika_gitops.review.preview import screenshots, write_preview

    _, results = _accounts_named(ctx, (account,))
    if not _gate(results):
        return EXIT_FAIL
    checked = results[0]
    assert checked.account is not None
    emails = [e for e in checked.emails if (type_id is None or e.type_id == type_id)
              and (not locales or e.locale in locales)]
    if not emails:
        raise AmetrikaError(f"no e-mail of {checked.account.id} matches "
                            f"{type_id or 'any type'} in {', '.join(locales) or 'any locale'}")
    folder = out or Path("build") / "preview" / checked.account.id
    pages = write_preview(checked.account.id, emails, folder)
    click.echo(f"wrote {len(pages)} e-mails and {display_path(folder / 'index.html')}")
    if png:
        shots = screenshots(pages)
        click.echo(f"wrote {len(shots)} screenshots (PNG) in {display_path(folder)}")
    return EXIT_OK


def _read_plan(path: Path) -> Plan:
    import json

    import jsonschema

    from ametrika_gitops.plan.model import plan_from_data

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmetrikaError(f"{path}: not a JSON plan ({exc})") from None
    root = ctx_root()
    schema = json.loads((root / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the document"
        raise AmetrikaError(f"{path}: not a plan of this version of ametrika-gitops "
                            f"(at {where}: {errors[0].validator} check failed); make it again "
                            "with `plan --out`")
    if not data["live"]:
        raise AmetrikaError(f"{path} is an offline plan (made without CLOUDFLARE_API_TOKEN): "
                            "it knows nothing of the live zones; make it again with the token")
    return plan_from_data(data)


def ctx_root() -> Path:
    ctx = click.get_current_context()
    root = ctx.find_root().obj
    return root if root is not None else find_root(Path.cwd())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: every outcome becomes an exit code; no traceback reaches the user."""
    try:
        rv = cli.main(args=list(argv) if argv is not None else None,
                      prog_name="ametrika-gitops", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_FAIL
    except click.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_FAIL
    except AmetrikaError as exc:
        click.echo(f"ametrika-gitops: error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error of ours
        return EXIT_FAIL
    except Exception as exc:  # the last line of defence
        if os.environ.get("AMETRIKA_GITOPS_DEBUG"):
            raise
        click.echo(f"ametrika-gitops: internal error ({exc.__class__.__name__}). This is a bug: "
                   f"please report it to {BUG_URL} with the command you ran; set "
                   "AMETRIKA_GITOPS_DEBUG=1 to see the traceback.", err=True)
        return EXIT_FAIL
    return rv if isinstance(rv, int) else EXIT_OK
