"""load → schema → rules → templates, for each account file; every finding collected."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ametrika_gitops.check.project import Project
from ametrika_gitops.check.rules import RENDERED_RULES, RULES, RenderedContext, RuleContext
from ametrika_gitops.config.loader import Document, load_file
from ametrika_gitops.config.model import Account, build_account
from ametrika_gitops.config.schema import validate_schema
from ametrika_gitops.diagnostics import Diagnostic, error
from ametrika_gitops.render.bounds import account_budget
from ametrika_gitops.render.emails import Email, Footer, RenderMemo, build_emails
from ametrika_gitops.render.overrides import resolve_overrides


@dataclass(frozen=True)
class Checked:
    """One account file after validation; ``account`` is set only when it has no error."""

    path: str
    doc: Document | None
    account: Account | None
    emails: tuple[Email, ...]
    footers: tuple[Footer, ...]
    diagnostics: tuple[Diagnostic, ...]


def _merge(schema: list[Diagnostic], rules: list[Diagnostic]) -> list[Diagnostic]:
    """Where a rule reports, it says better what the schema found there about the same thing
    (``refines`` of the rule): that schema finding is dropped; any other stays."""
    taken = {
        (d.path, d.line, d.column, code)
        for d in rules
        for code in (RULES[d.code].refines if d.code in RULES else {d.code})
    }
    return [d for d in schema if (d.path, d.line, d.column, d.code) not in taken] + rules


def check_file(project: Project, file: Path, memo: RenderMemo | None = None) -> Checked:
    shown = project.shown(file)
    doc, diags = load_file(file, shown)
    if doc is None:
        return Checked(shown, None, None, (), (), tuple(diags))
    overrides = resolve_overrides(doc, project.root)
    ctx = RuleContext(doc, project.root, project.catalog, project.engine, file.stem, overrides)
    found: list[Diagnostic] = []
    for rule in RULES.values():
        found.extend(rule(ctx))
    diags += _merge(validate_schema(doc, project.validator), found)
    if any(d.is_error for d in diags):
        return Checked(shown, doc, None, (), (), tuple(diags))
    account = build_account(doc.data, shown)
    with account_budget():  # each override is bounded, and so are all of them together
        emails, footers, template_diags = build_emails(
            account, doc, project.catalog, project.engine, overrides, memo
        )
    diags += template_diags
    rendered = RenderedContext(doc, account, project.catalog, emails, footers)
    for check in RENDERED_RULES:
        diags.extend(check(rendered))
    if any(d.is_error for d in diags):
        return Checked(shown, doc, None, (), (), tuple(diags))
    return Checked(shown, doc, account, emails, footers, tuple(diags))


def _unique_ids(results: list[Checked]) -> Iterable[Diagnostic]:
    first: dict[str, Checked] = {}
    for r in results:
        if r.account is None or r.doc is None:
            continue
        other = first.setdefault(r.account.id, r)
        if other is not r:
            pos = r.doc.at(("account", "id"))
            yield error(
                r.path,
                pos.line,
                pos.column,
                "id-unique",
                f"account id '{r.account.id}' is already used by {other.path}",
                "each account has one file; remove or rename one of them",
            )


@contextmanager
def _collector_spared() -> Iterator[None]:
    """Results live as long as the command: keep the cyclic collector from scanning them again
    and again (the cost grew faster than the number of accounts), and leave the collector as
    it was found when done (no process-wide state outlives the call)."""
    frozen_before = gc.get_freeze_count()
    try:
        yield
    finally:
        if frozen_before == 0:
            gc.unfreeze()


def check_files(
    project: Project, files: list[Path], tick: Callable[[], None] | None = None
) -> list[Checked]:
    """Check every file; ``tick`` is called after each one (progress on long runs)."""
    results = []
    memo = RenderMemo()
    with _collector_spared():
        for f in files:
            results.append(check_file(project, f, memo))
            if tick is not None:
                tick()
            gc.freeze()
    dupes = list(_unique_ids(results))
    if dupes:
        by_path = {d.path: d for d in dupes}
        results = [
            Checked(r.path, r.doc, None, (), (), r.diagnostics + (by_path[r.path],))
            if r.path in by_path
            else r
            for r in results
        ]
    return results


def all_diagnostics(results: Iterable[Checked]) -> list[Diagnostic]:
    return sorted({d for r in results for d in r.diagnostics})
