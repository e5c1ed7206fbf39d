"""The command line: formats, exit codes (design §7, §8), and the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ametrika_gitops import __version__
from ametrika_gitops.cli.main import main

from .conftest import MINIMAL, ROOT, WriteAccount

BAD = MINIMAL.replace(
    "mode: ametrika",
    "mode: smtp\n  smtp:\n    host: smtp.example.com\n"
    "    port: 587\n    username: u\n    password: {{env: P}}\n"
    "    from_address: a@example.com",
)
WARN = MINIMAL.replace(
    "mode: ametrika",
    "mode: smtp\n  smtp:\n    host: smtp.gmail.com\n"
    "    username: u\n    password: {{env: P}}\n    from_address: a@example.com",
)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("validate", "compile", "plan"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [
        ["nonsense"],
        ["validate", "--format", "xml"],
        ["plan", "--bogus"],
        ["validate", "no/such/file.yaml"],
    ],
)
def test_usage_errors_exit_1_without_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--root", str(ROOT), *argv]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" in err.lower()


def test_validate_bundled_accounts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["validate"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "5 account files checked: 0 errors, 0 warnings" in captured.err


def test_validate_error_formats(
    repo: Path, write_account: WriteAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    write_account("x1", BAD.format(id="x1"))
    assert main(["validate"]) == 1
    text = capsys.readouterr().out
    assert text == (
        "accounts/x1.yaml:11:11: error[smtp-port-security]: port 587 is not the "
        "SSL/TLS port; use 465, or security: starttls\n"
    )
    assert main(["validate", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data == [
        {
            "path": "accounts/x1.yaml",
            "line": 11,
            "column": 11,
            "code": "smtp-port-security",
            "severity": "error",
            "message": "port 587 is not the SSL/TLS port",
            "hint": "use 465, or security: starttls",
        }
    ]
    assert main(["validate", "--format", "github"]) == 1
    assert capsys.readouterr().out == (
        "::error file=accounts/x1.yaml,line=11,col=11,title=smtp-port-security::port 587 is "
        "not the SSL/TLS port; use 465, or security: starttls\n"
    )


def test_warnings_pass_unless_strict(
    repo: Path, write_account: WriteAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    write_account("x1", WARN.format(id="x1"))
    assert main(["validate"]) == 0
    assert "warning[smtp-gmail]" in capsys.readouterr().out
    assert main(["validate", "--strict"]) == 1


def test_duplicate_ids_across_folders(
    repo: Path, write_account: WriteAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    write_account("x1", MINIMAL.format(id="x1"))
    (repo / "more").mkdir()
    (repo / "more" / "x1.yaml").write_text(MINIMAL.format(id="x1"), encoding="utf-8")
    assert main(["validate", "accounts", "more"]) == 1
    out = capsys.readouterr().out
    assert (
        "more/x1.yaml:3:7: error[id-unique]: account id 'x1' is already used by "
        "accounts/x1.yaml" in out
    )


def test_plan_exit_codes_and_out(
    repo: Path, write_account: WriteAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    write_account("x1", MINIMAL.format(id="x1"))
    assert main(["plan", "--detailed-exitcode"]) == 0  # nothing hosted: no changes
    shutil.copy(ROOT / "accounts" / "cafe-du-port.yaml", repo / "accounts")
    assert main(["plan", "--detailed-exitcode", "--out", "plan.json"]) == 2
    assert main(["plan"]) == 0
    saved = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    assert saved["summary"]["create"] == 4
    capsys.readouterr()
    write_account("x2", BAD.format(id="x2"))
    assert main(["plan", "--detailed-exitcode"]) == 1
    captured = capsys.readouterr()
    assert "error[smtp-port-security]" in captured.err and "nothing was done" in captured.err
    assert captured.out == ""


def test_plan_is_deterministic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    outputs = []
    for _ in range(2):
        assert main(["plan", "--format", "json"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


def test_not_in_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
    assert "no ametrika-gitops repository here" in capsys.readouterr().err


def test_internal_error_asks_for_a_bug_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ametrika_gitops.cli.common as cli_module

    def broken(*_: object) -> None:
        raise KeyError("boom")

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(cli_module, "check_files", broken)
    monkeypatch.delenv("AMETRIKA_GITOPS_DEBUG", raising=False)
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "internal error (KeyError)" in err and "please report it" in err
    assert "Traceback" not in err


def _console_script() -> str:
    found = shutil.which("ametrika-gitops")
    if found is None:
        candidate = Path(sys.executable).parent / "ametrika-gitops"
        found = str(candidate) if candidate.exists() else None
    if found is None:
        pytest.fail("the console script is not installed: run the README's install command")
    return found


def test_installed_console_script(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    run = subprocess.run(
        [_console_script(), "validate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "5 account files checked" in run.stderr
    run = subprocess.run(
        [_console_script(), "plan", "--format", "zone", "--detailed-exitcode"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2
    assert (ROOT / "tests" / "golden" / "plan.zone").read_text(encoding="utf-8") == run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "ametrika_gitops", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0 and __version__ in run.stdout
