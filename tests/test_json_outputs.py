"""Output for machines: every --format json validates against its schema in schemas/, and
verify --format github annotates the account files like validate does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ametrika_gitops.cli.main import main

from .conftest import ROOT
from .dns_helpers import Zones, dns_server


def schema(name: str) -> jsonschema.Draft202012Validator:
    data = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(data)
    return jsonschema.Draft202012Validator(data)


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def bundled(repo: Path) -> Path:
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for f in (ROOT / "accounts").iterdir():
        shutil.copy(f, repo / "accounts")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "accounts")
    return repo


def test_validate(capsys: pytest.CaptureFixture[str]) -> None:
    cases = sorted(str(p) for p in (ROOT / "tests" / "cases" / "invalid").glob("*.yaml"))
    code, data = run_json(capsys, "--root", str(ROOT), "validate", "--format", "json", *cases)
    assert code == 1 and data
    schema("findings").validate(data)


def test_compile(bundled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "compile", "--format", "json")
    assert code == 0
    schema("compile").validate(data)
    acme = next(a for a in data["accounts"] if a["id"] == "acme")
    assert acme["dns_records"] == 6 and "insights/fr" in acme["overridden"]
    assert acme["hash"] == json.loads((bundled / "bundles" / "acme.json").read_text())["hash"]


def test_test_send(bundled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(
        capsys, "test-send", "globex", "initech", "--capture", "c", "--format", "json"
    )
    assert code == 0
    schema("test-send").validate(data)
    assert data["counts"]["captured"] == 9 and data["counts"]["skipped"] == 1
    assert {r["status"] for r in data["results"]} == {"captured", "skipped"}


def test_diff(bundled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acme = bundled / "accounts" / "acme.yaml"
    text = acme.read_text(encoding="utf-8")
    acme.write_text(
        text.replace("from_name: ACME Rapports", "from_name: ACME Reports")
        .replace("click_tracking: true", "click_tracking: false")
        .replace("zone: acme.fr", "")
        .replace("provider: cloudflare", "provider: cloudflare"),
        encoding="utf-8",
    )
    code, data = run_json(capsys, "diff", "--base", "HEAD", "--format", "json")
    assert code == 0
    schema("diff").validate(data)
    (change,) = data["accounts"]
    assert {"field": "from.name", "before": "ACME Rapports", "after": "ACME Reports"} in change[
        "sender"
    ]
    assert {"field": "hosted.click_tracking", "before": True, "after": False} in change["sender"]
    assert not any("zone_explicit" in s["field"] for s in change["sender"])  # internal
    assert {"action": "delete", "type": "CNAME", "name": "links.mail.acme.fr"}.items() <= change[
        "dns"
    ][0].items()
    capsys.readouterr()
    main(["diff", "--base", "HEAD"])
    text = capsys.readouterr().out
    assert "sender from.name: ACME Rapports → ACME Reports" in text
    assert "sender hosted.click_tracking: true → false" in text
    assert "'" not in text.split("\n  ")[1] and "zone_explicit" not in text


def test_codeowners(bundled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "codeowners", "--check", "--format", "json")
    assert code == 1  # no CODEOWNERS yet
    schema("codeowners").validate(data)
    assert data["up_to_date"] is False and data["written"] is False
    code, data = run_json(capsys, "codeowners", "--format", "json")
    assert code == 0 and data["written"] is True
    schema("codeowners").validate(data)
    rule = {"path": "/accounts/acme.yaml", "owners": ["@acme/marketing-ops", "@alice"]}
    assert rule | {"account": "acme"} in data["rules"]
    code, data = run_json(capsys, "codeowners", "--check", "--format", "json")
    assert code == 0 and data["up_to_date"] is True and data["differences"] == []


def test_history(bundled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "history", "--format", "json")
    assert code == 0 and len(data) == 5
    schema("history").validate(data)


@pytest.fixture
def served() -> Any:
    z = Zones()
    z.add("A", "smtp.globex.example.com", "192.0.2.10")
    with dns_server(z) as port:
        yield port


def test_verify(bundled: Path, served: int, capsys: pytest.CaptureFixture[str]) -> None:
    ns = ["--nameserver", f"127.0.0.1:{served}", "--timeout", "1"]
    code, data = run_json(capsys, "verify", "acme", "globex", "initech", *ns, "--format", "json")
    assert code == 1  # nothing of acme is published on this server
    schema("verify").validate(data)
    assert data["nothing_to_verify"]["initech"].startswith("nothing to verify: in mode ametrika")
    capsys.readouterr()
    assert main(["verify", "acme", "globex", "initech", *ns]) == 1
    text = capsys.readouterr().out
    assert (
        "initech: nothing to verify: in mode ametrika the e-mails leave from ametrika.com" in text
    )
    assert "acme: 6 of 6 required records not verified (asked 127.0.0.1:" in text
    assert "the name does not exist (NXDOMAIN)" in text
    capsys.readouterr()
    assert main(["verify", "acme", "globex", *ns, "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert (
        "::error file=accounts/acme.yaml,line=14,col=13,title=verify-dkim-active::"
        "CNAME amk1._domainkey.mail.acme.fr (dkim-active) is missing: expected "
        "amk1.acme.dkim.ametrika.com, found nothing; the name does not exist (NXDOMAIN)"
    ) in lines
    assert any(
        line.startswith("::warning file=accounts/globex.yaml,line=14,col=11,title=verify-mx::")
        for line in lines
    )


def test_verify_when_the_zone_has_no_nameservers(
    bundled: Path, served: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dns.resolver

    from ametrika_gitops.verify.lookup import make_resolver

    # the resolver of "the world" asks our loopback server, where acme.fr has no NS record
    world = make_resolver([("127.0.0.1", served)], 1)
    monkeypatch.setattr(dns.resolver, "Resolver", lambda *_, **__: world)
    capsys.readouterr()
    assert main(["verify", "acme", "--timeout", "1"]) == 1
    text = capsys.readouterr().out
    assert text.startswith(
        "acme: cannot be verified: no NS records for acme.fr (NXDOMAIN). Check the delegation"
    )
    assert "asked no NS" not in text
