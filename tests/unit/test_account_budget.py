"""One time budget per account: overrides each within their own bound cannot add up."""

from __future__ import annotations

from pathlib import Path

import pytest

from ametrika_gitops.check.pipeline import check_file
from ametrika_gitops.check.project import Project
from ametrika_gitops.render import bounds

from ..conftest import MINIMAL

OVERRIDES = """
templates:
  alert:
    en:
      subject: "{% for i in range(3) %}{{ i }}{% endfor %}"
      text: "Hello"
"""


def test_an_account_past_its_budget_gets_a_finding_per_override(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "slow.yaml"
    file.write_text(MINIMAL.format(id="slow") + OVERRIDES, encoding="utf-8")
    assert check_file(project, file).account is not None  # within budget: valid
    monkeypatch.setattr(bounds, "ACCOUNT_SECONDS", 0.0)  # the account's time is already spent
    checked = check_file(project, file)
    assert checked.account is None
    found = [d for d in checked.diagnostics if d.code == "template-limit"]
    assert found and all(
        "the account's overrides together take more than" in d.message for d in found
    )
    lines = file.read_text(encoding="utf-8").splitlines()
    at = {n for n, line in enumerate(lines, start=1) if "subject:" in line or "text:" in line}
    assert {d.line for d in found} == at and len(at) == 2


def test_originals_are_not_counted(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "plain.yaml"
    file.write_text(MINIMAL.format(id="plain"), encoding="utf-8")
    monkeypatch.setattr(bounds, "ACCOUNT_SECONDS", 0.0)
    assert check_file(project, file).account is not None  # trusted originals: no budget
