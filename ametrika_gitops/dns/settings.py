"""The repository's own settings, ``ametrika-gitops.yaml`` at its root (optional):

    dns:
      ownership_scope: staging   # two repositories sharing a zone: each touches only its own

Findings at file:line:col, like the account files'.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ametrika_gitops.config.loader import load_file
from ametrika_gitops.diagnostics import Diagnostic, error
from ametrika_gitops.dns.ownership import SCOPE

SETTINGS_FILE = "ametrika-gitops.yaml"


@dataclass(frozen=True)
class Settings:
    ownership_scope: str = ""


def _unknown(data: dict[str, Any], allowed: set[str]) -> list[str]:
    return sorted(k for k in data if k not in allowed)


def load_settings(root: Path, shown: str = SETTINGS_FILE) -> tuple[Settings, list[Diagnostic]]:
    """The settings, or the defaults when the file does not exist."""
    path = root / SETTINGS_FILE
    if not path.is_file() or not path.read_text(encoding="utf-8", errors="replace").strip():
        return Settings(), []  # absent or empty: the defaults
    doc, diags = load_file(path, shown)
    if doc is None or diags:
        return Settings(), diags
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        pos = doc.at(())
        return Settings(), [
            error(shown, pos.line, pos.column, "settings-type", "expected a mapping", "")
        ]
    found: list[Diagnostic] = []
    for key in _unknown(data, {"dns"}):
        pos = doc.key_at((key,))
        found.append(
            error(shown, pos.line, pos.column, "settings-key", f"unknown key '{key}'", "known: dns")
        )
    dns = data.get("dns", {})
    if not isinstance(dns, dict):
        pos = doc.at(("dns",))
        found.append(error(shown, pos.line, pos.column, "settings-type", "dns: expected a mapping"))
        return Settings(), found
    for key in _unknown(dns, {"ownership_scope"}):
        pos = doc.key_at(("dns", key))
        found.append(
            error(
                shown,
                pos.line,
                pos.column,
                "settings-key",
                f"unknown key 'dns.{key}'",
                "known: dns.ownership_scope",
            )
        )
    scope = dns.get("ownership_scope", "")
    if not isinstance(scope, str) or not SCOPE.match(scope):
        pos = doc.at(("dns", "ownership_scope"))
        found.append(
            error(
                shown,
                pos.line,
                pos.column,
                "ownership-scope",
                "dns.ownership_scope must be 1 to 16 lower-case letters, digits or hyphens, "
                "starting with a letter or digit",
                "for example: production, staging",
            )
        )
        scope = ""
    return Settings(scope), found
