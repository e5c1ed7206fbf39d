"""Data-driven cases: each invalid file has its expected findings beside it, exactly.

Among them: port and security pairing (H3: smtp-port-security*), the Gmail warning (H4:
smtp-gmail*), the white label (H6: white-label-*), the hosted records' domain (H7:
hosted-from-domain, dns-zone), overrides (H12: template-*).

Regenerate the .expected files with UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ametrika_gitops.check.pipeline import check_files
from ametrika_gitops.check.project import Project
from ametrika_gitops.check.rules import RULES
from ametrika_gitops.diagnostics import render

from .conftest import ROOT

CASES = ROOT / "tests" / "cases"
INVALID = sorted((CASES / "invalid").glob("*.yaml"))
VALID = sorted((CASES / "valid").glob("*.yaml"))


def findings(project: Project, file: Path) -> str:
    return render(check_files(project, [file])[0].diagnostics, "text")


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in the expected files are relative to the repository


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_case(project: Project, case: Path) -> None:
    expected_file = case.with_suffix(".expected")
    got = findings(project, case)
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(got, encoding="utf-8")
    assert got == expected_file.read_text(encoding="utf-8")
    assert "error[" in got or "warning[" in got


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.stem)
def test_valid_case(project: Project, case: Path) -> None:
    assert findings(project, case) == ""


def test_every_rule_has_a_failing_case() -> None:
    expected = "".join(p.with_suffix(".expected").read_text(encoding="utf-8") for p in INVALID)
    missing = [code for code in RULES if f"[{code}]" not in expected]
    assert missing == []


def test_every_rule_documents_a_passing_and_a_failing_example() -> None:
    for code, rule in RULES.items():
        doc = rule.__doc__ or ""
        assert "Passes:" in doc and "Fails" in doc, code


def test_inline_secret_is_never_echoed(project: Project) -> None:
    for name, secret in (
        ("inline-secret", "Sup3r-Secret-Value"),
        ("inline-secret-number", "123456789"),
    ):
        file = CASES / "invalid" / f"{name}.yaml"
        for fmt in ("text", "json", "github"):
            out = render(check_files(project, [file])[0].diagnostics, fmt)
            assert "inline-secret" in out
            assert secret not in out


LOADER_CODES = (
    "empty-file",
    "not-a-mapping",
    "invalid-utf8",
    "yaml-syntax",
    "duplicate-key",
    "yaml-multiple-documents",
    "yaml-merge-key",
    "yaml-complex-key",
    "yaml-recursive-alias",
    "yaml-too-deep",
    "yaml-too-many-nodes",
)


def test_every_loader_error_has_a_case() -> None:
    expected = "".join(p.with_suffix(".expected").read_text(encoding="utf-8") for p in INVALID)
    assert [code for code in LOADER_CODES if f"[{code}]" not in expected] == []


def test_file_over_one_mebibyte(project: Project, tmp_path: Path) -> None:
    # generated rather than stored: a 1 MiB case file would weigh on every clone
    big = tmp_path / "big.yaml"
    big.write_bytes(b"version: 1\n# " + b"x" * (1024 * 1024) + b"\n")
    got = render(check_files(project, [big])[0].diagnostics, "text")
    assert got.endswith(
        ":1:1: error[file-too-large]: file is 1,048,590 bytes; the limit is "
        "1,048,576 (1 MiB); an account file is a few kilobytes: move long "
        "templates to {file: …} overrides\n"
    )
