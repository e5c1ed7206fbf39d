"""What the commands share: the repository, validation gate, progress, exit codes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ametrika_gitops.check.pipeline import Checked, all_diagnostics, check_files
from ametrika_gitops.check.project import Project, account_files, find_root
from ametrika_gitops.config.model import Account
from ametrika_gitops.diagnostics import has_errors, render
from ametrika_gitops.errors import AmetrikaError, ExitCode

EXIT_OK, EXIT_FAIL, EXIT_CHANGES = ExitCode.OK, ExitCode.FAILURE, ExitCode.CHANGES

PATHS = click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))


def repository_root(ctx: click.Context, paths: Sequence[Path] = ()) -> Path:
    """The one way to find the repository: --root, else the current folder or above, else the
    folder of the first file named."""
    root: Path | None = ctx.find_root().obj
    if root is not None:
        return root
    try:
        return find_root(Path.cwd())
    except AmetrikaError:
        if not paths:
            raise
        return find_root(paths[0] if paths[0].is_dir() else paths[0].parent)


def open_project(ctx: click.Context, paths: Sequence[Path] = ()) -> Project:
    return Project.open(repository_root(ctx, paths))


def check_paths(ctx: click.Context, paths: tuple[Path, ...]) -> tuple[Project, list[Checked]]:
    project = open_project(ctx, paths)
    return project, check_files(project, account_files(paths, project.root))


def summary(results: list[Checked]) -> str:
    diags = all_diagnostics(results)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    n = len(results)
    return (
        f"{n} account file{'s' if n != 1 else ''} checked: "
        f"{errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}"
    )


def gate(results: list[Checked]) -> bool:
    """Print findings on stderr; True when the accounts are valid enough to go on."""
    diags = all_diagnostics(results)
    if diags:
        click.echo(render(diags, "text"), err=True, nl=False)
    if has_errors(diags):
        click.echo(f"{summary(results)}; nothing was done", err=True)
        return False
    return True


def progress(message: str) -> None:
    click.echo(message, err=True)


def accounts_named(ctx: click.Context, names: tuple[str, ...]) -> tuple[Project, list[Checked]]:
    """Validate the named accounts (ids, or paths), or every account."""
    project = open_project(ctx)
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists():
            path = project.root / "accounts" / f"{name}.yaml"
        if not path.exists():
            raise AmetrikaError(f"no account '{name}' (no file accounts/{name}.yaml)")
        paths.append(path)
    return project, check_files(project, account_files(tuple(paths), project.root))


def one_account(ctx: click.Context, name: str) -> tuple[Project, Account]:
    """One valid account, for the recipients commands (a subgroup: the root is the parent's)."""
    project, results = accounts_named(ctx, (name,))
    account = results[0].account
    if not gate(results) or account is None:
        raise AmetrikaError(f"account {name} is not valid; fix the findings above")
    return project, account
