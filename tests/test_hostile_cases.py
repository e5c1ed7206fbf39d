"""The hostile corpus (issue #12): account files a pull request could hold to exhaust memory or
time, crash the loader, or make the tool and the editor disagree. Each one's findings are
beside it, exactly (file:line:col), as for tests/cases/invalid/; and the real command goes
through all of them in one process within bounded memory, without a traceback.

Regenerate the .expected files with UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
"""

from __future__ import annotations

import json
import os
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


# the real command in a process whose address space is limited: a regression must fail this
# test, not exhaust the machine (set in the child itself: preexec_fn is unsafe with threads).
# Its peak is read from /proc/self/status (VmHWM, the high-water mark of its own memory map):
# wait4's ru_maxrss would also count the parent's, whose map a vfork child borrows until exec.
LIMITED = """\
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from ametrika_gitops.cli.main import main
try:
    code = main()
finally:
    with open("/proc/self/status", encoding="ascii") as status:
        hwm = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(hwm)
raise SystemExit(code)
"""


def test_the_command_goes_through_the_corpus_in_bounded_memory(tmp_path: Path) -> None:
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", LIMITED, "validate", "--format", "json"]
            + [str(c) for c in CASES],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "PEAK_FILE": str(tmp_path / "peak")},
        )
        child.wait()
    errors = err.read_text(encoding="utf-8")
    assert child.returncode == 1, errors
    assert "Traceback" not in errors and "internal error" not in errors
    findings = json.loads(out.read_text(encoding="utf-8"))
    assert {Path(f["path"]).stem for f in findings} >= {c.stem for c in CASES}
    assert all(f["line"] >= 1 and f["column"] >= 1 for f in findings)
    peak_kb = int((tmp_path / "peak").read_text(encoding="ascii"))
    assert peak_kb < PEAK_MB * 1024, f"peak {peak_kb // 1024} MB"
