"""Helpers for the Cloudflare tests: an emulator on loopback and the CLI pointed at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ametrika_gitops.cli.main import main
from ametrika_gitops.emulator.cloudflare import CloudflareEmulator

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
