"""new: an account file for each of the four modes (H2) that validates as written, CODEOWNERS
(H1), the SMTP password's line in the test-send workflow, the next steps (verified recipients,
H9; DNS records, H7, H8); missing options asked on a terminal, refused elsewhere."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from ametrika_gitops.cli.main import main
from ametrika_gitops.config.scaffold import NewAccount, account_text, scalar, with_secret

from .conftest import ROOT
from .pty_helpers import run_on_terminal

COMMON = ["--name", "NewCo", "--admin", "@newco/ops", "--locale", "en"]
MODES = {
    "ametrika": [],
    "analytics-report": ["--from-name", "NewCo Reports", "--reply-to", "data@newco.example"],
    "smtp": [
        "--smtp-host",
        "smtp.newco.example",
        "--smtp-username",
        "reports@newco.example",
        "--from-address",
        "reports@newco.example",
    ],
    "hosted": ["--domain", "mail.newco.example", "--from-address", "reports@mail.newco.example"],
}


@pytest.fixture
def project_repo(repo: Path) -> Path:
    """A repository like this one: accounts, CODEOWNERS and workflows in place."""
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for f in (ROOT / "accounts").iterdir():
        shutil.copy(f, repo / "accounts")
    shutil.copytree(ROOT / ".github", repo / ".github")
    return repo


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("mode", list(MODES))
def test_each_mode_gives_a_valid_file_codeowners_and_next_steps(
    project_repo: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    code, out, err = run(
        capsys, "new", "newco", "--mode", mode, *COMMON, *MODES[mode], "--recipient", "qa@x.example"
    )
    assert code == 0, err
    text = (project_repo / "accounts" / "newco.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/account.schema.json\n")
    assert "# equal to the file name" in text  # each field explained
    assert run(capsys, "validate", "newco")[0] == 0
    assert run(capsys, "codeowners", "--check")[0] == 0  # the pull-request check passes
    codeowners = (project_repo / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    assert "/accounts/newco.yaml                     @newco/ops" in codeowners
    assert "ametrika-gitops recipients verify newco qa@x.example" in out
    assert "AMETRIKA_VERIFY_KEY" in out and "@ametrika/email-platform" in out
    assert "git add accounts/newco.yaml .github/CODEOWNERS" in out


def test_smtp_needs_its_secret_in_the_test_send_workflow(
    project_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "new", "newco", "--mode", "smtp", *COMMON, *MODES["smtp"])
    assert code == 0
    text = (project_repo / "accounts" / "newco.yaml").read_text(encoding="utf-8")
    assert "password: {env: NEWCO_SMTP_PASSWORD}" in text
    assert "port: 465" in text and "security: ssl-tls" in text
    workflow = project_repo / ".github" / "workflows" / "test-send.yml"
    jobs = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"]
    # the step that holds the secrets (only one does): the new one sits beside the others
    (env,) = [
        step["env"]
        for job in jobs.values()
        for step in job.get("steps", [])
        if "GLOBEX_SMTP_PASSWORD" in step.get("env", {})
    ]
    assert env["NEWCO_SMTP_PASSWORD"] == "${{ secrets.NEWCO_SMTP_PASSWORD }}"
    assert env["GLOBEX_SMTP_PASSWORD"] == "${{ secrets.GLOBEX_SMTP_PASSWORD }}"
    assert "Add the secret NEWCO_SMTP_PASSWORD" in out and "test-sends" in out
    assert ".github/workflows/test-send.yml" in out.splitlines()[-1]  # in the git add


def test_hosted_prints_the_records_to_publish(
    project_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "new", "newco", "--mode", "hosted", *COMMON, *MODES["hosted"])
    assert code == 0
    assert "Publish these DNS records in the zone newco.example:" in out
    assert "CNAME amk1._domainkey.mail.newco.example  amk1.newco.dkim.ametrika.com" in out
    assert "ametrika-gitops plan --format zone newco" in out  # manual by default
    assert "ametrika-gitops verify newco" in out
    assert run(capsys, "plan", "newco", "--offline")[0] == 0


def test_without_a_terminal_missing_options_are_named(
    project_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "new", "newco", "--mode", "smtp", "--name", "NewCo")
    assert code == 1
    assert "missing for mode smtp: --admin, --locale, --smtp-host, --smtp-username, " in err
    assert "--from-address" in err
    assert run(capsys, "new", "newco")[2].endswith(
        "missing option --mode (one of ametrika, analytics-report, smtp, hosted)\n"
    )
    assert not (project_repo / "accounts" / "newco.yaml").exists()


def test_bad_values_are_findings_against_their_option_and_nothing_is_written(
    project_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project_repo / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    code, _, err = run(
        capsys,
        "new",
        "newco",
        "--mode",
        "smtp",
        "--name",
        "NewCo",
        "--admin",
        "newco",
        "--locale",
        "de",
        "--smtp-host",
        "smtp.newco.example",
        "--smtp-port",
        "587",
        "--smtp-username",
        "u",
        "--from-address",
        "not-an-address",
    )
    assert code == 1
    assert "--admin: error[admin-syntax]:" in err
    assert "--locale: error[locale-unknown]: no original templates in locale 'de'" in err
    assert "--smtp-port: error[smtp-port-security]: port 587 is not the SSL/TLS port" in err
    assert "--from-address: error[address-invalid]:" in err
    assert not (project_repo / "accounts" / "newco.yaml").exists()
    assert (project_repo / ".github" / "CODEOWNERS").read_text(encoding="utf-8") == before


def test_options_of_another_mode_existing_files_and_bad_ids_are_refused(
    project_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "new", "newco", "--mode", "hosted", *COMMON, "--smtp-host", "h")
    assert code == 1 and "--smtp-host: not used in mode hosted" in err
    code, _, err = run(capsys, "new", "acme", "--mode", "ametrika", *COMMON)
    assert code == 1 and "accounts/acme.yaml already exists" in err
    code, _, err = run(capsys, "new", "NewCo2", "--mode", "ametrika", *COMMON)
    assert code == 1 and "for example newco2" in err


def test_a_terminal_asks_for_what_is_missing(project_repo: Path) -> None:
    code, screen = run_on_terminal(
        ["new", "newco"],
        project_repo,
        answers=["hosted", "NewCo", "@newco/ops", "", "mail.newco.example", ""],
    )
    assert code == 0, screen
    assert "Sender mode (ametrika, analytics-report, smtp, hosted): " in screen
    assert "Locales, the default first (en, fr) [en]: " in screen
    assert "Sender address [reports@mail.newco.example]: " in screen  # from the domain
    text = (project_repo / "accounts" / "newco.yaml").read_text(encoding="utf-8")
    assert "from_address: reports@mail.newco.example" in text
    assert "locales: [en]" in text


@pytest.mark.parametrize(
    "value",
    ["plain", "Café du Port", "yes", "null", "1.5", "@alice", "a: b", "x # y", " padded", "l\nf"],
)
def test_values_survive_the_yaml_round_trip(value: str) -> None:
    assert yaml.safe_load(f"k: {scalar(value)}") == {"k": value}
    spec = NewAccount(id="x1", mode="ametrika", name=value, admins=("@a",), locales=("en",))
    text, fields = account_text(spec)
    data = yaml.safe_load(text)
    assert data["account"]["name"] == value and data["sender"]["from_name"] == value
    name_line = next(n for n, f in fields.items() if f == "name")
    assert text.splitlines()[name_line - 1].startswith("  name: ")


def test_the_workflow_secret_is_added_once_and_only_where_it_belongs() -> None:
    workflow = (ROOT / ".github" / "workflows" / "test-send.yml").read_text(encoding="utf-8")
    once = with_secret(workflow, "NEWCO_SMTP_PASSWORD")
    assert once is not None and with_secret(once, "NEWCO_SMTP_PASSWORD") == once
    assert with_secret(workflow, "GLOBEX_SMTP_PASSWORD") == workflow
    assert with_secret("jobs: {}\n", "X_SMTP_PASSWORD") is None  # the command then says what


def test_a_terminal_asks_again_for_what_was_wrong(project_repo: Path) -> None:
    code, screen = run_on_terminal(
        ["new", "newco", "--mode", "smtp", "--locale", "en,fr", "--smtp-port", "587"],
        project_repo,
        answers=["NewCo", "alice", "smtp.newco.example", "u", "r@newco.example"]
        + ["@alice", "starttls", ""],  # the port's default follows the security: 587
    )
    assert code == 0, screen
    screen = re.sub(r"\x1b\[[0-9;]*m", "", screen)  # colour: it is a terminal
    assert "--admin: error[admin-syntax]" in screen
    assert "--smtp-port: error[smtp-port-security]" in screen
    assert "Please answer again:" in screen
    text = (project_repo / "accounts" / "newco.yaml").read_text(encoding="utf-8")
    assert 'admins: ["@alice"]' in text and "locales: [en, fr]" in text
    assert "security: starttls" in text and "port: 587" in text
