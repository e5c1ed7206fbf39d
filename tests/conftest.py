"""Shared fixtures: the repository, and throw-away repositories built in temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ametrika_gitops.check.project import Project

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project() -> Project:
    return Project.open(ROOT)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh repository (templates/, schemas/, empty accounts/), as the working directory."""
    for folder in ("templates", "schemas"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "accounts").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


WriteAccount = Callable[..., Path]


@pytest.fixture
def write_account(repo: Path) -> WriteAccount:
    def write(name: str, text: str) -> Path:
        path = repo / "accounts" / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


MINIMAL = """\
version: 1
account:
  id: {id}
  name: Example
  admins: ["@alice"]
  locales: [en]
sender:
  mode: ametrika
  from_name: Example Reports
"""
