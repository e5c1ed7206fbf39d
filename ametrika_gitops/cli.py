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
from ametrika_gitops.project import Project, account_files, find_root
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


# The other commands register themselves on `cli` (imported here, after it exists).
from ametrika_gitops.commands import dns, mail, review  # noqa: F401


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
