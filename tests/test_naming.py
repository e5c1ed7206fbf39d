"""One way to name an account (its id or its file, in every command), and typos that used to
pass silently with exit 0: unknown accounts, e-mail types, locales and dates are errors with a
"did you mean"."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ametrika_gitops.cli.dates import check_since
from ametrika_gitops.cli.main import main
from ametrika_gitops.errors import AmetrikaError

from .conftest import ROOT


@pytest.fixture
def bundled(repo: Path) -> Path:
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for f in (ROOT / "accounts").iterdir():
        shutil.copy(f, repo / "accounts")
    return repo


@pytest.fixture
def committed(bundled: Path) -> Path:
    env_args = ["-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=bundled, check=True)
    subprocess.run(["git", "add", "-A"], cwd=bundled, check=True)
    subprocess.run(["git", *env_args, "commit", "-qm", "accounts"], cwd=bundled, check=True)
    return bundled


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# (command with the account in the place of {}, what the output shows when it worked)
BY_ID_OR_PATH = [
    (["validate", "{}"], ""),
    (["compile", "{}", "--out", "b"], "wrote 1 bundles"),
    (["plan", "{}", "--offline"], "Plan (offline)"),
    (["test-send", "{}", "--capture", "c"], "captured"),
    (["preview", "{}", "--out", "p"], "wrote 18 e-mails"),
    (["verify", "initech"], "nothing to verify"),
]


@pytest.mark.parametrize("argv, shows", BY_ID_OR_PATH)
@pytest.mark.parametrize("name", ["acme", "accounts/acme.yaml"])
def test_every_command_takes_an_id_or_a_path(
    bundled: Path, capsys: pytest.CaptureFixture[str], argv: list[str], shows: str, name: str
) -> None:
    if argv[0] == "verify":
        name = name.replace("acme", "initech")
    code, out, err = run(capsys, *[a.replace("{}", name) for a in argv])
    assert code == 0, err
    assert shows in out


def test_ids_work_from_any_folder(
    bundled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(bundled / "templates")
    assert run(capsys, "plan", "acme", "--offline", "--format", "zone")[0] == 0


def test_history_takes_an_id_or_a_path(committed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    by_id = run(capsys, "history", "acme")
    by_path = run(capsys, "history", "accounts/acme.yaml")
    assert by_id[0] == by_path[0] == 0
    assert by_id[1] == by_path[1] and "acme" in by_id[1]
    (committed / "accounts" / "initech.yaml").unlink()  # removed: still in the history
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@e.example", "commit", "-qam", "rm"],
        cwd=committed,
        check=True,
    )
    code, out, _ = run(capsys, "history", "initech")
    assert code == 0 and "account removed" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["plan", "acmee"],
            "no account 'acmee': no file accounts/acmee.yaml; did you mean 'acme'?",
        ),
        (["validate", "acmee"], "did you mean 'acme'?"),
        (["verify", "globx"], "did you mean 'globex'?"),
        (["test-send", "acmee", "--capture", "c"], "did you mean 'acme'?"),
        (["preview", "acmee"], "did you mean 'acme'?"),
        (["validate", "accounts/acmee.yaml"], "accounts/acmee.yaml: no such file or folder"),
        (
            ["test-send", "acme", "--type", "alerts", "--capture", "c"],
            "no e-mail type 'alerts'; did you mean 'alert'?",
        ),
        (
            ["test-send", "acme", "--locale", "de", "--capture", "c"],
            "no locale 'de'; locales: en, fr",
        ),
        (["preview", "acme", "insight"], "no e-mail type 'insight'; did you mean 'insights'?"),
        (["preview", "acme", "--locale", "fre"], "no locale 'fre'; did you mean 'fr'?"),
    ],
)
def test_typos_are_errors_with_a_suggestion(
    bundled: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert message in err
    assert not (bundled / "c").exists()


def test_history_typos(committed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "history", "acmee")
    assert code == 1
    assert "no account 'acmee': no file accounts/acmee.yaml today nor in the history" in err
    assert "did you mean 'acme'?" in err
    code, _, err = run(capsys, "history", "--since", "yesterdayy")
    assert code == 1 and "did you mean 'yesterday'?" in err
    assert run(capsys, "history", "--since", "yesterday")[0] == 0


def test_a_selection_that_is_valid_but_empty_says_why(
    bundled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "test-send", "globex", "--locale", "fr", "--capture", "c")
    assert code == 0
    assert "nothing to send: no account uses locale fr (globex: en)" in err


@pytest.mark.parametrize(
    "text",
    ["2026-03-01", "2026-03-01 14:00", "2026-03-01T14:00:00+01:00", "today", "Yesterday"]
    + ["now", "2 weeks ago", "1 day ago", "3.days.ago", "2 months", "@1700000000"],
)
def test_dates_git_reads_as_meant(text: str) -> None:
    assert check_since(text) == text


@pytest.mark.parametrize(
    "text, suggestion",
    [
        ("yesterdayy", "yesterday"),
        ("tody", "today"),
        ("2 weeek ago", "2 weeks ago"),
        ("1 dya ago", "1 day ago"),
        ("2026-02-30", ""),
        ("last tuesday", ""),
        ("soon", ""),
    ],
)
def test_dates_git_would_misread(text: str, suggestion: str) -> None:
    with pytest.raises(AmetrikaError) as err:
        check_since(text)
    assert ("did you mean" in str(err.value)) == bool(suggestion)
    assert f"'{suggestion}'" in str(err.value) if suggestion else "for example" in str(err.value)


@pytest.mark.parametrize(
    "stem, value, hint",
    [
        ("NewCo2", "newco2", "rename the file to newco2.yaml"),
        ("NewCo2", "New_Co", "rename the file to newco2.yaml and set id: newco2"),
        ("newco2", "NewCo2", "set id: newco2"),
        ("newco2", "newco3", "rename the file to newco3.yaml, or set id: newco2"),
    ],
)
def test_id_hints_suggest_only_valid_ids(
    repo: Path, capsys: pytest.CaptureFixture[str], stem: str, value: str, hint: str
) -> None:
    from .conftest import MINIMAL

    (repo / "accounts" / f"{stem}.yaml").write_text(MINIMAL.format(id=value), encoding="utf-8")
    code, out, _ = run(capsys, "validate")
    assert code == 1
    line = next(line for line in out.splitlines() if "[id-matches-file]" in line)
    assert line.endswith(f"differs from the file name '{stem}'; {hint}")
