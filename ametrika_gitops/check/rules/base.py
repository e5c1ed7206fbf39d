"""What every rule receives, and small helpers to read a document that may be malformed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ametrika_gitops.config.loader import Document, JsonPath
from ametrika_gitops.diagnostics import Diagnostic, error, warning
from ametrika_gitops.render.catalog import Catalog
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
        self, path: JsonPath, code: str, message: str, hint: str = "", at_key: bool = False
    ) -> Diagnostic:
        pos = self.doc.key_at(path) if at_key else self.doc.at(path)
        return error(self.doc.path, pos.line, pos.column, code, message, hint)

    def warning(self, path: JsonPath, code: str, message: str, hint: str = "") -> Diagnostic:
        pos = self.doc.at(path)
        return warning(self.doc.path, pos.line, pos.column, code, message, hint)


Rule = Callable[[RuleContext], Iterator[Diagnostic]]
