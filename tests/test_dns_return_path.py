"""Issue #10, item 9: the return-path CNAME's target must publish an MX and an SPF record
(bounces go to the MX; Amazon SES refuses a custom MAIL FROM domain without one). verify
checks both, against a DNS server on loopback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ametrika_gitops.cli.main import main

from .conftest import ROOT
from .dns_helpers import Zones, dns_server


def zones(mx: bool, spf: bool) -> Zones:
    z = Zones()
    z.add("CNAME", "amb.mail.acme.fr", "acme.bounces.ametrika.com")
    if spf:
        z.add("TXT", "acme.bounces.ametrika.com", "v=spf1 ip4:203.0.113.0/24 -all")
    if mx:
        z.add("MX", "acme.bounces.ametrika.com", "10 feedback.ametrika.com")
    z.add("A", "feedback.ametrika.com", "203.0.113.9")
    return z


@pytest.mark.parametrize(
    "mx, spf, state, detail",
    [
        (True, True, "verified", "SPF passes for 203.0.113.25"),
        (False, True, "wrong", "no MX through it (acme.bounces.ametrika.com: NODATA)"),
        (True, False, "wrong", "no valid SPF record through it"),
    ],
)
def test_the_return_path_needs_mx_and_spf(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mx: bool,
    spf: bool,
    state: str,
    detail: str,
) -> None:
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    shutil.copy(ROOT / "accounts" / "acme.yaml", repo / "accounts")
    monkeypatch.setenv("AMETRIKA_PLATFORM_SENDING_IPS", "203.0.113.25")
    with dns_server(zones(mx, spf)) as port:
        capsys.readouterr()
        main(["verify", "acme", "--nameserver", f"127.0.0.1:{port}", "--format", "json"])
        report = json.loads(capsys.readouterr().out)
    check = next(c for c in report["checks"] if c["purpose"] == "return-path")
    assert check["state"] == state
    assert check["detail"].startswith(detail)
