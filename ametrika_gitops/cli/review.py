"""verify, diff, history, codeowners, preview: DNS checks, review and audit."""

from __future__ import annotations

from pathlib import Path

import click

from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.check.project import ACCOUNTS, display_path
from ametrika_gitops.cli import output
from ametrika_gitops.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    account_ids,
    accounts_named,
    check_paths,
    check_selection,
    complete_accounts,
    did_you_mean,
    gate,
    repository_root,
    resolve_account,
)
from ametrika_gitops.errors import AmetrikaError

ACCOUNTS_ARG = click.argument(
    "accounts", nargs=-1, metavar="[ACCOUNT|PATH]...", shell_complete=complete_accounts
)


@click.command()
@ACCOUNTS_ARG
@click.option(
    "--nameserver",
    "nameservers",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Ask this server (repeatable). Default: each zone's own nameservers.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json", "github"]),
    default="text",
    show_default=True,
    help="json: schemas/verify.schema.json; github: workflow annotations at each account file.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=60),
    default=5.0,
    show_default=True,
    help="Seconds to wait for each DNS answer.",
)
@click.pass_context
def verify(
    ctx: click.Context,
    accounts: tuple[str, ...],
    nameservers: tuple[str, ...],
    fmt: str,
    timeout: float,
) -> int:
    """Check in DNS, as a receiving mail server would, that each account may send.

    Hosted accounts: every record of the design (ownership, DKIM CNAMEs and the key behind
    them, return path and its SPF, DMARC, click tracking) is verified, missing, wrong (expected
    against found) or unreachable; exit 1 if a required one is not verified. Custom SMTP
    accounts: advice on SPF and MX, never a failure. The other modes send from the platform's
    domains: nothing of theirs to verify.
    """
    from ametrika_gitops.verify.report import RENDERERS, Report, nothing_to_verify
    from ametrika_gitops.verify.run import parse_server, verify_accounts

    servers = [parse_server(s) for s in nameservers]
    _, results = accounts_named(ctx, accounts)
    if not gate(results):
        return EXIT_FAIL
    valid = [r.account for r in results if r.account]
    skipped = {a.id: why for a in valid if (why := nothing_to_verify(a)) is not None}
    checks, asked = verify_accounts([a for a in valid if a.id not in skipped], servers, timeout)
    report = Report(checks, asked, skipped, _where(results))
    text = RENDERERS[fmt](report)
    click.echo(_paint_verify(text) if fmt == "text" else text, nl=False)
    return EXIT_FAIL if any(c.failed for c in checks) else EXIT_OK


def _where(results: list[Checked]) -> dict[str, tuple[str, int, int]]:
    """Each account's sending domain (or SMTP host) line: where verify's annotations go."""
    out = {}
    for r in results:
        if r.account is None or r.doc is None:
            continue
        key = "hosted" if r.account.sender.hosted else "smtp"
        field = "domain" if key == "hosted" else "host"
        pos = r.doc.at(("sender", key, field))
        out[r.account.id] = (r.path, pos.line, pos.column)
    return out


_VERIFY_STYLES = {"verified": "ok", "missing": "delete", "wrong": "delete", "unreachable": "change"}


def _paint_verify(text: str) -> str:
    def paint(line: str) -> str:
        state = line[2:13].strip() if line.startswith("  ") and not line.startswith("   ") else ""
        kind = _VERIFY_STYLES.get(state) or ("warning" if state == "advice" else "")
        return line[:2] + output.style(state, kind) + line[2 + len(state) :] if kind else line

    return output.paint_lines(text, paint)


@click.command()
@click.option("--base", required=True, metavar="REF", help="The revision before (a git ref).")
@click.option("--head", metavar="REF", help="The revision after. Default: the working tree.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "json"]),
    default="text",
    show_default=True,
    help="markdown: a pull-request comment; html: e-mails side by side; "
    "json: schemas/diff.schema.json.",
)
@click.pass_context
def diff(ctx: click.Context, base: str, head: str | None, fmt: str) -> int:
    """Show the semantic difference of two revisions, per account.

    Both are compiled straight from git (the working tree is not touched): sender and DNS
    changes, and for each e-mail type and locale whose rendering changed, what happened to it
    (overridden, reset to the original, changed, or an original changed upstream under an
    override) with unified diffs of the rendered subject and text and of the sources.
    """
    from ametrika_gitops.build.revision import WORKTREE, git_root, load_revision
    from ametrika_gitops.review.render import RENDERERS
    from ametrika_gitops.review.semantic import diff_revisions

    root = git_root(repository_root(ctx))
    before = load_revision(root, base)
    after = load_revision(root, head or WORKTREE)
    for rev in (before, after):
        for path in rev.invalid:
            click.echo(f"warning: {path} does not validate at {rev.ref}; left out", err=True)
    changes = diff_revisions(before, after)
    text = RENDERERS[fmt](changes, base, head or "working tree")
    click.echo(output.paint_lines(text, _paint_diff) if fmt == "text" else text, nl=False)
    return EXIT_OK


def _paint_diff(line: str) -> str:
    body = line.strip()
    if body.startswith("dns + "):
        return output.style(line, "add")
    if body.startswith("dns - "):
        return output.style(line, "delete")
    if body.startswith("sender ") and " → " in body:
        return output.style(line, "change")
    if line and not line.startswith(" ") and " (" in line:  # an account's heading
        return output.style(line, "heading")
    return output.paint_diff_line(line)


@click.command()
@click.argument(
    "account", required=False, metavar="[ACCOUNT|PATH]", shell_complete=complete_accounts
)
@click.option(
    "--since",
    metavar="DATE",
    help="Only commits after this date: 2026-03-01, yesterday, '2 weeks ago'…",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def history(ctx: click.Context, account: str | None, since: str | None, fmt: str) -> int:
    """Who changed which account's e-mail settings, when, through which pull request.

    Every commit that changed an account's effective configuration (its file, its override
    files, or an original template it uses), with the change in one line per item.
    """
    from ametrika_gitops.build.revision import git_root
    from ametrika_gitops.cli.dates import check_since
    from ametrika_gitops.review import history as hist

    if since is not None:
        since = check_since(since)
    root = git_root(repository_root(ctx))
    if account is not None:
        account = _history_account(root, account)
    entries = hist.history(root, account, since)
    click.echo((hist.render_json if fmt == "json" else hist.render_text)(entries), nl=False)
    return EXIT_OK


def _history_account(root: Path, name: str) -> str:
    """An account id: of a file today, or of one that existed in the history (removed)."""
    from ametrika_gitops.build.revision import git

    try:
        return resolve_account(root, name).stem
    except AmetrikaError:
        looks_like_id = "/" not in name and not name.endswith((".yaml", ".yml"))
        if not looks_like_id:
            raise
    files = git(root, "log", "--format=", "--name-only", "--", ACCOUNTS).split()
    past = {Path(f).stem for f in files if f.endswith((".yaml", ".yml"))}
    if name in past:
        return name
    raise AmetrikaError(
        f"no account '{name}': no file {ACCOUNTS}/{name}.yaml today nor in the history"
        + did_you_mean(name, past | set(account_ids(root)), "accounts")
    )


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if .github/CODEOWNERS is out of date.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: every rule and the differences (schemas/codeowners.schema.json).",
)
@click.pass_context
def codeowners(ctx: click.Context, check: bool, fmt: str) -> int:
    """Write .github/CODEOWNERS from each account's admins and the platform's owners.

    Run it after adding an account or changing its admins (`new` does it for you); the
    pull-request check (--check) fails while the file is out of date.
    """
    from ametrika_gitops.review import codeowners as co

    project, results = check_paths(ctx, ())
    if not gate(results):
        return EXIT_FAIL
    found = co.rules(results, project.catalog.owners)
    wanted = co.render(found)
    differences = co.check(project.root, wanted)
    if check:
        if fmt == "json":
            click.echo(co.render_json(found, differences, written=False), nl=False)
        elif differences:
            click.echo(output.paint_lines("\n".join(differences) + "\n", output.paint_diff_line))
        if differences:
            output.info(f"{co.FILE} is out of date; run `ametrika-gitops codeowners` and commit it")
            return EXIT_FAIL
        output.info(f"{co.FILE} is up to date")
        return EXIT_OK
    target = project.root / co.FILE
    if differences:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(wanted, encoding="utf-8")
        output.info(f"wrote {display_path(target)}")
    else:
        output.info(f"{display_path(target)} was already up to date")
    if fmt == "json":
        click.echo(co.render_json(found, differences, written=bool(differences)), nl=False)
    return EXIT_OK


@click.command()
@click.argument("account", metavar="ACCOUNT|PATH", shell_complete=complete_accounts)
@click.argument("type_id", metavar="[TYPE]", required=False)
@click.option("--locale", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files. Default: previews/ACCOUNT in the repository.",
)
@click.option("--png", is_flag=True, help="Also take screenshots with headless Chromium.")
@click.pass_context
def preview(
    ctx: click.Context,
    account: str,
    type_id: str | None,
    locales: tuple[str, ...],
    out: Path | None,
    png: bool,
) -> int:
    """Render an account's e-mails (HTML and text) with their sample data, and an index."""
    from ametrika_gitops.review.preview import screenshots, write_preview

    project, results = accounts_named(ctx, (account,))
    check_selection(project, (type_id,) if type_id else (), locales)
    if not gate(results):
        return EXIT_FAIL
    checked = results[0]
    assert checked.account is not None
    emails = [
        e
        for e in checked.emails
        if (type_id is None or e.type_id == type_id) and (not locales or e.locale in locales)
    ]
    if not emails:
        raise AmetrikaError(
            f"no e-mail of {checked.account.id} matches "
            f"{type_id or 'any type'} in {', '.join(locales) or 'any locale'}"
        )
    folder = out or project.root / "previews" / checked.account.id
    pages = write_preview(checked.account.id, emails, folder)
    click.echo(f"wrote {len(pages)} e-mails and {display_path(folder / 'index.html')}")
    if png:
        shots = screenshots(pages)
        click.echo(f"wrote {len(shots)} screenshots (PNG) in {display_path(folder)}")
    return EXIT_OK
