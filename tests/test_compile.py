"""Bundles: deterministic, complete, free of secret values, all or nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ametrika_gitops.cli.main import main

from .conftest import MINIMAL, ROOT, WriteAccount


def compile_to(out: Path, *args: str) -> int:
    return main(["--root", str(ROOT), "compile", "--out", str(out), *args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_compile_is_byte_identical_on_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert compile_to(tmp_path / "a") == 0
    assert compile_to(tmp_path / "b") == 0
    first = snapshot(tmp_path / "a")
    assert first == snapshot(tmp_path / "b")
    assert sorted(first) == [
        "acme.json",
        "cafe-du-port.json",
        "globex.json",
        "initech.json",
        "manifest.json",
        "umbrella.json",
    ]


def test_bundle_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert compile_to(tmp_path) == 0
    acme = json.loads((tmp_path / "acme.json").read_text(encoding="utf-8"))
    assert acme["sender"]["from"] == {
        "name": "ACME Rapports",
        "address": "rapports@mail.acme.fr",
        "header": "ACME Rapports <rapports@mail.acme.fr>",
    }
    insights_fr = acme["templates"]["insights"]["fr"]
    assert insights_fr["origin"] == "override"
    assert insights_fr["parts"]["html"]["file"] == "overrides/acme/insights.fr.html.j2"
    assert insights_fr["parts"]["subject"]["rendered"] == "Vos insights ACME de mars 2026"
    assert "ACME Analytics — 12 rue des Lilas" in insights_fr["parts"]["text"]["rendered"]
    alert_fr = acme["templates"]["alert"]["fr"]
    assert alert_fr["origin"] == "original"
    assert alert_fr["parts"]["subject"]["file"] == "templates/fr/alert.subject.j2"
    assert {r["purpose"] for r in acme["dns"]["records"]} == {
        "ownership",
        "dkim-active",
        "dkim-standby",
        "return-path",
        "dmarc",
        "click-tracking",
    }
    assert acme["hash"].startswith("sha256:")
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert [a["id"] for a in manifest["accounts"]] == [
        "acme",
        "cafe-du-port",
        "globex",
        "initech",
        "umbrella",
    ]
    assert manifest["accounts"][0]["hash"] == acme["hash"]


def test_secrets_stay_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("GLOBEX_SMTP_PASSWORD", "s3cr3t-value-in-env")
    assert compile_to(tmp_path) == 0
    globex = json.loads((tmp_path / "globex.json").read_text(encoding="utf-8"))
    assert globex["sender"]["smtp"]["password"] == {"env": "GLOBEX_SMTP_PASSWORD"}
    for f in tmp_path.iterdir():
        assert "s3cr3t-value-in-env" not in f.read_text(encoding="utf-8")


def test_compile_prints_originals_and_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert compile_to(tmp_path) == 0
    out = capsys.readouterr().out
    assert (
        "acme: hosted, 6 DNS records; 15 of 18 templates original; overridden: alert/en, "
        "insights/en, insights/fr; footer overridden: en, fr"
    ) in out
    assert "initech: ametrika, 0 DNS records; 18 of 18 templates original\n" in out


def test_nothing_is_written_when_an_account_is_invalid(
    repo: Path, write_account: WriteAccount
) -> None:
    write_account("good", MINIMAL.format(id="good"))
    write_account("bad", MINIMAL.format(id="bad").replace("mode: ametrika", "mode: carrier"))
    assert main(["compile", "--out", "out"]) == 1
    assert not (repo / "out").exists()


def test_reset_and_removed_accounts_update_the_output(
    repo: Path, write_account: WriteAccount
) -> None:
    """H13: removing an override returns the type to the original; a removed account's
    bundle is removed too."""
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    acme = write_account("acme", (ROOT / "accounts" / "acme.yaml").read_text(encoding="utf-8"))
    write_account("other", MINIMAL.format(id="other"))
    assert main(["compile"]) == 0
    bundle = json.loads((repo / "bundles" / "acme.json").read_text(encoding="utf-8"))
    assert bundle["templates"]["alert"]["en"]["origin"] == "override"
    text = acme.read_text(encoding="utf-8")
    acme.write_text(text[: text.index("  alert:\n")], encoding="utf-8")
    (repo / "accounts" / "other.yaml").unlink()
    assert main(["compile"]) == 0
    bundle = json.loads((repo / "bundles" / "acme.json").read_text(encoding="utf-8"))
    alert = bundle["templates"]["alert"]["en"]
    assert alert["origin"] == "original"
    assert alert["parts"]["text"]["source"] == (
        repo / "templates" / "en" / "alert.txt.j2"
    ).read_text(encoding="utf-8")
    assert sorted(p.name for p in (repo / "bundles").iterdir()) == ["acme.json", "manifest.json"]


def test_bundle_hash_is_the_digest_of_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ametrika_gitops.canonical import compact, digest

    monkeypatch.chdir(ROOT)
    assert compile_to(tmp_path) == 0
    text = (tmp_path / "acme.json").read_text(encoding="utf-8")
    bundle = json.loads(text)
    assert compact(bundle) == text  # the file is the canonical compact form
    claimed = bundle.pop("hash")
    assert claimed == digest(bundle)
