"""The hostile corpus (issue #12): account files a pull request could hold to exhaust memory or
time, crash the loader, or make the tool and the editor disagree. Each one's findings are
beside it, exactly (file:line:col), as for tests/cases/invalid/; and the real command goes
through all of them in one process within bounded memory, without a traceback.

Regenerate the .expected files with UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ametrika_gitops.check.pipeline import check_files
from ametrika_gitops.check.project import Project
from ametrika_gitops.diagnostics import render

from .conftest import ROOT

HOSTILE = ROOT / "tests" / "cases" / "hostile"
CASES = sorted(HOSTILE.glob("*.yaml"))
PEAK_MB = 300  # the whole corpus, in one process, interpreter and libraries included


@pytest.fixture(autouse=True)
def _in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in the expected files are relative to the repository


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_hostile_case(project: Project, case: Path) -> None:
    expected_file = case.with_suffix(".expected")
    got = render(check_files(project, [case])[0].diagnostics, "text")
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(got, encoding="utf-8")
    assert got == expected_file.read_text(encoding="utf-8")
    assert "error[" in got
    assert "internal error" not in got and "Traceback" not in got


def _limit_memory() -> None:
    # a regression must fail this test, not exhaust the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_the_command_goes_through_the_corpus_in_bounded_memory() -> None:
    start = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-m", "ametrika_gitops", "validate", "--format", "json", *map(str, CASES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
        check=False,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    findings = json.loads(done.stdout)
    assert {Path(f["path"]).stem for f in findings} >= {c.stem for c in CASES}
    assert all(f["line"] >= 1 and f["column"] >= 1 for f in findings)
    # RUSAGE_CHILDREN keeps the largest child so far: only a new peak is this process's
    if peak_kb > start:
        assert peak_kb < PEAK_MB * 1024, f"peak {peak_kb // 1024} MB"
