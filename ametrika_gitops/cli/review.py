"""verify, diff, history, codeowners, preview: DNS checks, review and audit."""

from __future__ import annotations

from pathlib import Path

import click

from ametrika_gitops.check.project import display_path
from ametrika_gitops.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    accounts_named,
    check_paths,
    gate,
    repository_root,
)
from ametrika_gitops.errors import AmetrikaError


@click.command()
@click.argument("accounts", nargs=-1)
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
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
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
    accounts: advice on SPF and MX, never a failure.
    """
    from ametrika_gitops.verify.report import RENDERERS
    from ametrika_gitops.verify.run import parse_server, verify_accounts

    servers = [parse_server(s) for s in nameservers]
    _, results = accounts_named(ctx, accounts)
    if not gate(results):
        return EXIT_FAIL
    checks, asked = verify_accounts([r.account for r in results if r.account], servers, timeout)
    click.echo(RENDERERS[fmt](checks, asked), nl=False)
    return EXIT_FAIL if any(c.failed for c in checks) else EXIT_OK


@click.command()
@click.option("--base", required=True, metavar="REF", help="The revision before (a git ref).")
@click.option("--head", metavar="REF", help="The revision after. Default: the working tree.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html"]),
    default="text",
    show_default=True,
    help="markdown: a pull-request comment; html: e-mails side by side.",
)
@click.pass_context
def diff(ctx: click.Context, base: str, head: str | None, fmt: str) -> int:
    """Show the semantic difference of two revisions, per account.

    Both are compiled straight from git (the working tree is not touched): sender and DNS
    changes, and for each e-mail type and locale whose rendering changed, what happened to it
    (overridden, reset to the original (H13), changed, or an original changed upstream under an
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
    click.echo(RENDERERS[fmt](changes, base, head or "working tree"), nl=False)
    return EXIT_OK


@click.command()
@click.argument("account", required=False)
@click.option("--since", metavar="DATE", help="Only commits after this date (git's --since).")
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
    from ametrika_gitops.review import history as hist

    root = git_root(repository_root(ctx))
    entries = hist.history(root, account, since)
    click.echo((hist.render_json if fmt == "json" else hist.render_text)(entries), nl=False)
    return EXIT_OK


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if .github/CODEOWNERS is out of date.")
@click.pass_context
def codeowners(ctx: click.Context, check: bool) -> int:
    """Write .github/CODEOWNERS from each account's admins (H1) and the platform's owners."""
    from ametrika_gitops.review import codeowners as co

    project, results = check_paths(ctx, ())
    if not gate(results):
        return EXIT_FAIL
    wanted = co.generate(results, project.catalog.owners)
    if check:
        differences = co.check(project.root, wanted)
        if differences:
            click.echo("\n".join(differences))
            click.echo(
                f"{co.FILE} is out of date; run `ametrika-gitops codeowners` and commit it",
                err=True,
            )
            return EXIT_FAIL
        click.echo(f"{co.FILE} is up to date", err=True)
        return EXIT_OK
    target = project.root / co.FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(wanted, encoding="utf-8")
    click.echo(f"wrote {display_path(target)}", err=True)
    return EXIT_OK


@click.command()
@click.argument("account")
@click.argument("type_id", metavar="[TYPE]", required=False)
@click.option("--locale", "locales", multiple=True, help="Only this locale (repeatable).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files. Default: build/preview/ACCOUNT.",
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

    _, results = accounts_named(ctx, (account,))
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
    folder = out or Path("build") / "preview" / checked.account.id
    pages = write_preview(checked.account.id, emails, folder)
    click.echo(f"wrote {len(pages)} e-mails and {display_path(folder / 'index.html')}")
    if png:
        shots = screenshots(pages)
        click.echo(f"wrote {len(shots)} screenshots (PNG) in {display_path(folder)}")
    return EXIT_OK
