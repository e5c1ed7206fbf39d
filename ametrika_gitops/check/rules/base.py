"""What every rule receives, and small helpers to read a document that may be malformed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from ametrika_gitops.config.loader import Document, JsonPath
from ametrika_gitops.config.model import Account
from ametrika_gitops.diagnostics import Diagnostic, error, warning
from ametrika_gitops.render.catalog import Catalog
from ametrika_gitops.render.emails import Email, Footer
from ametrika_gitops.render.engine import Engine
from ametrika_gitops.render.overrides import Override


@dataclass(frozen=True)
class RuleContext:
    doc: Document
    root: Path
    catalog: Catalog
    engine: Engine
    stem: str
    overrides: tuple[Override, ...] = ()
    code: str = ""  # the id of the rule being run: every finding it makes carries it

    def get(self, *path: str | int) -> Any:
        """The value at ``path``, or None when any step is missing or of the wrong type."""
        node: Any = self.doc.data
        for part in path:
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    return None
            elif not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def text(self, *path: str | int) -> str | None:
        value = self.get(*path)
        return value if isinstance(value, str) else None

    def error(
        self, path: JsonPath, message: str, hint: str = "", at_key: bool = False
    ) -> Diagnostic:
        pos = self.doc.key_at(path) if at_key else self.doc.at(path)
        return error(self.doc.path, pos.line, pos.column, self.code, message, hint)

    def warning(self, path: JsonPath, message: str, hint: str = "") -> Diagnostic:
        pos = self.doc.at(path)
        return warning(self.doc.path, pos.line, pos.column, self.code, message, hint)


Check = Callable[[RuleContext], Iterator[Diagnostic]]


@dataclass(frozen=True)
class Rule:
    """A rule: its id (the code of its findings), and the check whose docstring documents it."""

    id: str
    check: Check
    # Schema findings this rule says better: at a place where the rule reports, the schema's
    # finding of one of these codes is dropped (any other schema finding stays).
    refines: frozenset[str] = frozenset()

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self.check.__doc__

    def __call__(self, ctx: RuleContext) -> Iterator[Diagnostic]:
        return self.check(replace(ctx, code=self.id))


def rule(rule_id: str, refines: tuple[str, ...] = ()) -> Callable[[Check], Rule]:
    """Declare a rule where it is written (yamllint-style): ``@rule("id-syntax")``."""

    def register(check: Check) -> Rule:
        return Rule(rule_id, check, frozenset((rule_id, *refines)))

    return register


def rules_of(*modules: ModuleType) -> dict[str, Rule]:
    """The rules defined in ``modules``, in the order they are written; ids are unique."""
    found: dict[str, Rule] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Rule):
                if value.id in found:
                    raise ValueError(f"rule id {value.id} is declared twice")
                found[value.id] = value
    return found


@dataclass(frozen=True)
class RenderedContext:
    """What a rule on the rendered e-mails receives (run only when the account renders)."""

    doc: Document
    account: Account
    catalog: Catalog
    emails: tuple[Email, ...]
    footers: tuple[Footer, ...]
    code: str = ""

    def error_at(self, file: str, line: int, column: int, message: str, hint: str) -> Diagnostic:
        return error(file, line, column, self.code, message, hint)


RenderedCheck = Callable[[RenderedContext], Iterator[Diagnostic]]


@dataclass(frozen=True)
class RenderedRule:
    """The part of a rule that reads rendered output; it shares its id with the rule on the
    document it completes, and lives in the same module."""

    id: str
    check: RenderedCheck

    def __call__(self, ctx: RenderedContext) -> Iterator[Diagnostic]:
        return self.check(replace(ctx, code=self.id))


def rendered_rule(rule_id: str) -> Callable[[RenderedCheck], RenderedRule]:
    def register(check: RenderedCheck) -> RenderedRule:
        return RenderedRule(rule_id, check)

    return register


def rendered_rules_of(*modules: ModuleType) -> tuple[RenderedRule, ...]:
    return tuple(v for m in modules for v in vars(m).values() if isinstance(v, RenderedRule))
