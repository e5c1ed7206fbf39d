"""What the commands share: the repository, naming accounts, the validation gate, progress,
exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from ametrika_gitops.check.pipeline import Checked, all_diagnostics, check_files
from ametrika_gitops.check.project import ACCOUNTS, Project, account_files, find_root
from ametrika_gitops.cli import output
from ametrika_gitops.config.model import Account
from ametrika_gitops.diagnostics import has_errors, render
from ametrika_gitops.errors import AmetrikaError, ExitCode

EXIT_OK, EXIT_FAIL, EXIT_CHANGES = ExitCode.OK, ExitCode.FAILURE, ExitCode.CHANGES
SUFFIXES = (".yaml", ".yml")


def did_you_mean(word: str, choices: Iterable[str], what: str = "") -> str:
    """'; did you mean 'acme'?', else '; <what>: a, b' (short lists, when ``what``), else ''."""
    known = sorted(set(choices))
    close = difflib.get_close_matches(word, known, n=3, cutoff=0.6)
    if close:
        return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if what and known and len(known) <= 12:
        return f"; {what}: {', '.join(known)}"
    return ""


def account_ids(root: Path) -> list[str]:
    folder = root / ACCOUNTS
    if not folder.is_dir():
        return []
    return sorted(f.stem for f in folder.iterdir() if f.suffix in SUFFIXES and f.is_file())


def resolve_account(root: Path | None, name: str) -> Path:
    """An account named by its id (accounts/<id>.yaml) or by a path (a file or a folder).

    The id wins when both could be meant: ``acme`` is accounts/acme.yaml even if a folder
    called acme sits in the current folder."""
    looks_like_id = "/" not in name and "\\" not in name and not name.endswith(SUFFIXES)
    if root is not None and looks_like_id:
        for suffix in SUFFIXES:
            candidate = root / ACCOUNTS / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    path = Path(name)
    if path.exists():
        return path
    ids = account_ids(root) if root is not None else []
    stem = Path(name).name
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    if looks_like_id:
        message = f"no account '{name}': no file {ACCOUNTS}/{name}.yaml"
        raise AmetrikaError(message + did_you_mean(stem, ids, "accounts"))
    raise AmetrikaError(f"{name}: no such file or folder" + did_you_mean(stem, ids))


def _root_or_none(ctx: click.Context) -> Path | None:
    try:
        return repository_root(ctx)
    except AmetrikaError:
        return None


def _names_to_paths(
    ctx: click.Context, _param: click.Parameter, names: tuple[str, ...]
) -> tuple[Path, ...]:
    if not names:
        return ()
    root = _root_or_none(ctx)
    return tuple(resolve_account(root, n) for n in names)


def complete_accounts(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion: the account ids, and files once the word looks like a path."""
    root = _root_or_none(ctx)
    ids = account_ids(root) if root is not None else []
    items = [CompletionItem(i) for i in ids if i.startswith(incomplete)]
    if not items or "/" in incomplete or incomplete.startswith("."):
        items.append(CompletionItem(incomplete, type="file"))
    return items


PATHS = click.argument(
    "paths",
    nargs=-1,
    metavar="[ACCOUNT|PATH]...",
    callback=_names_to_paths,
    shell_complete=complete_accounts,
)


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
    root = repository_root(ctx, paths)
    output.detail(f"repository: {root}")
    return Project.open(root)


def check_with_progress(project: Project, files: list[Path], label: str) -> list[Checked]:
    tick = output.progress(label, len(files), "accounts")
    results = check_files(project, files, tick)
    tick.finish()
    for r in results:
        output.detail(f"{r.path}: {'valid' if r.account else 'not valid'}")
    return results


def check_paths(
    ctx: click.Context, paths: tuple[Path, ...], label: str = "checking"
) -> tuple[Project, list[Checked]]:
    project = open_project(ctx, paths)
    return project, check_with_progress(project, account_files(paths, project.root), label)


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


def show_findings(text: str) -> None:
    if text:
        click.echo(output.paint_findings(text), err=True, nl=False)


def gate(results: list[Checked]) -> bool:
    """Print findings on stderr; True when the accounts are valid enough to go on."""
    diags = all_diagnostics(results)
    show_findings(render(diags, "text"))
    if has_errors(diags):
        click.echo(f"{summary(results)}; nothing was done", err=True)
        return False
    return True


def progress(message: str) -> None:
    output.info(message)


def accounts_named(ctx: click.Context, names: tuple[str, ...]) -> tuple[Project, list[Checked]]:
    """Validate the named accounts (ids, or paths), or every account."""
    root = _root_or_none(ctx)
    paths = tuple(resolve_account(root, n) for n in names)
    project = open_project(ctx, paths)
    return project, check_with_progress(project, account_files(paths, project.root), "checking")


def one_account(ctx: click.Context, name: str) -> tuple[Project, Account]:
    """One valid account, for the recipients commands (a subgroup: the root is the parent's)."""
    project, results = accounts_named(ctx, (name,))
    account = results[0].account
    if not gate(results) or account is None:
        raise AmetrikaError(f"account {name} is not valid; fix the findings above")
    return project, account


def check_selection(project: Project, types: tuple[str, ...], locales: tuple[str, ...]) -> None:
    """Unknown e-mail types and locales are errors, not an empty selection."""
    for t in types:
        if t not in project.catalog.types:
            raise AmetrikaError(
                f"no e-mail type '{t}'" + did_you_mean(t, project.catalog.types, "e-mail types")
            )
    for loc in locales:
        if loc not in project.catalog.locales:
            raise AmetrikaError(
                f"no locale '{loc}'" + did_you_mean(loc, project.catalog.locales, "locales")
            )
