"""Helpers for the Cloudflare tests: an emulator on loopback and the CLI pointed at it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ametrika_gitops.cli.main import main
from ametrika_gitops.emulator.cloudflare import CloudflareEmulator

from .conftest import ROOT

TOKEN = "test-token-0123456789"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Env:
    emu: CloudflareEmulator
    repo: Path
    capsys: pytest.CaptureFixture[str]

    def run(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv))
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def writes(self, since: int = 0) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emu.log[since:] if r.method in WRITES]

    def account(self, name: str, text: str) -> Path:
        path = self.repo / "accounts" / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def managed(self, zone: str) -> list[tuple[str, str, str]]:
        return sorted(
            (r["type"], r["name"], r["content"])
            for r in self.emu.records(zone)
            if (r["comment"] or "").startswith("managed-by=ametrika-gitops")
        )


@pytest.fixture(name="cf")
def cf_fixture(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Env]:
    """An emulator with zone acme.fr (Free plan), the repository's bundled accounts, and the
    environment of a CI job that has the token."""
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for f in (ROOT / "accounts").glob("*.yaml"):
        shutil.copy(f, repo / "accounts")
    emu = CloudflareEmulator(tokens={TOKEN: None})
    emu.add_zone("acme.fr")
    with emu.running():
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", emu.base_url)
        monkeypatch.setenv("AMETRIKA_GITOPS_CF_STRICT", "1")  # SDK: refuse malformed answers
        monkeypatch.delenv("CLOUDFLARE_EMAIL", raising=False)
        monkeypatch.delenv("CLOUDFLARE_API_KEY", raising=False)
        yield Env(emu, repo, capsys)


HOSTED = """\
version: 1
account: {{id: {id}, name: {id}, admins: ["@a"], locales: [en]}}
sender:
  mode: hosted
  from_name: Sender
  hosted:
    domain: {domain}
    from_address: news@{domain}
    dns: {{provider: cloudflare{zone}}}
"""


def hosted(account_id: str, domain: str, zone: str | None = None) -> str:
    return HOSTED.format(id=account_id, domain=domain, zone=f", zone: {zone}" if zone else "")


cf = cf_fixture  # the name test_end_to_end.py imports
