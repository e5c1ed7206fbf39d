"""Shared fixtures: the repository, and throw-away repositories built in temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ametrika_gitops.check.project import Project

if TYPE_CHECKING:
    from .cloudflare_helpers import Env

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


@pytest.fixture(name="cf")
def cf_fixture(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Env]:
    """An emulator with zone acme.fr (Free plan), the repository's bundled accounts, and the
    environment of a CI job that has the token."""
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for f in (ROOT / "accounts").glob("*.yaml"):
        shutil.copy(f, repo / "accounts")
    from ametrika_gitops.emulator.cloudflare import CloudflareEmulator

    from .cloudflare_helpers import TOKEN, Env

    emu = CloudflareEmulator(tokens={TOKEN: None})
    emu.add_zone("acme.fr")
    with emu.running():
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", emu.base_url)
        monkeypatch.setenv("AMETRIKA_GITOPS_CF_STRICT", "1")  # SDK: refuse malformed answers
        monkeypatch.delenv("CLOUDFLARE_EMAIL", raising=False)
        monkeypatch.delenv("CLOUDFLARE_API_KEY", raising=False)
        yield Env(emu, repo, capsys)
