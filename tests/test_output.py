"""Output for people: colour only on a terminal (NO_COLOR, --no-color), --quiet, --verbose,
and progress with counts and an estimate (a redrawn line on a terminal, a line every N seconds
in CI)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ametrika_gitops.cli.main import main
from ametrika_gitops.cli.output import Progress, paint_diff_line, paint_findings, style

from .conftest import MINIMAL, ROOT, WriteAccount
from .pty_helpers import console_script, run_on_terminal

ANSI = re.compile(r"\x1b\[[0-9;]*m")
GMAIL = MINIMAL.replace(
    "mode: ametrika",
    "mode: smtp\n  smtp:\n    host: smtp.gmail.com\n"
    "    username: u\n    password: {{env: P}}\n    from_address: a@example.com",
)


@pytest.fixture
def warning_repo(repo: Path, write_account: WriteAccount) -> Path:
    write_account("warned", GMAIL.format(id="warned"))
    return repo


def test_findings_are_coloured_on_a_terminal(warning_repo: Path) -> None:
    code, screen = run_on_terminal(["validate"], warning_repo)
    assert code == 0
    assert "warning" in screen and ANSI.search(screen), screen
    assert "\x1b[33m\x1b[1mwarning\x1b[0m[smtp-gmail]" in screen


@pytest.mark.parametrize(
    "args, env",
    [
        (["validate"], {"NO_COLOR": "1"}),
        (["--no-color", "validate"], {}),
        (["validate", "--no-color"], {}),
    ],
)
def test_no_color_and_the_option_turn_it_off_on_a_terminal(
    warning_repo: Path, args: list[str], env: dict[str, str]
) -> None:
    code, screen = run_on_terminal(args, warning_repo, env)
    assert code == 0
    assert "warning[smtp-gmail]" in screen and not ANSI.search(screen), screen


def test_no_colour_when_piped_unless_forced(warning_repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    piped = subprocess.run(
        [console_script(), "validate"],
        cwd=warning_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "warning[smtp-gmail]" in piped.stdout and not ANSI.search(piped.stdout + piped.stderr)
    forced = subprocess.run(
        [console_script(), "validate", "--color"],
        cwd=warning_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ANSI.search(forced.stdout)


def test_painters_mark_additions_changes_deletions_errors_warnings() -> None:
    assert paint_diff_line("    +new") == style("    +new", "add")
    assert paint_diff_line("    -old") == style("    -old", "delete")
    assert paint_diff_line("  ~ TXT x") == style("  ~ TXT x", "change")
    assert paint_diff_line("    @@ -1 +1 @@") == style("    @@ -1 +1 @@", "hunk")
    assert paint_diff_line("unchanged") == "unchanged"
    painted = paint_findings("a.yaml:1:2: error[x]: m\nb.yaml:3:4: warning[y]: n\n")
    assert style("error", "error") in painted and style("warning", "warning") in painted
    assert ANSI.sub("", painted) == "a.yaml:1:2: error[x]: m\nb.yaml:3:4: warning[y]: n\n"


def test_quiet_keeps_results_and_findings_drops_the_summary(
    warning_repo: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate"]) == 0
    loud = capsys.readouterr()
    assert "1 account file checked" in loud.err and "warning[smtp-gmail]" in loud.out
    assert main(["--quiet", "validate"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and "warning[smtp-gmail]" in quiet.out
    assert main(["compile", "-q"]) == 0
    assert "wrote 1 bundles" in capsys.readouterr().out  # results stay


def test_verbose_names_each_file(warning_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "repository: " in err
    assert "accounts/warned.yaml: valid" in err
    assert "wrote bundles/warned.json" in err


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_in_ci_prints_a_line_every_interval_with_an_estimate() -> None:
    clock, stream = Clock(), io.StringIO()
    tick = Progress(
        "validate", 10_000, "accounts", stream=stream, tty=False, interval=10, clock=clock
    )
    for _ in range(10_000):
        clock.now += 1 / 256  # exact in binary: 10 s every 2,560 accounts
        tick()
    tick.finish()
    assert stream.getvalue().splitlines() == [
        "validate: 2,560/10,000 accounts (25%), about 29 s left",
        "validate: 5,120/10,000 accounts (51%), about 19 s left",
        "validate: 7,680/10,000 accounts (76%), about 9 s left",
        "validate: 10,000/10,000 accounts (100%) in 39 s",
    ]
    quick = io.StringIO()
    short = Progress("validate", 100, "accounts", stream=quick, tty=False, interval=10, clock=clock)
    for _ in range(100):
        clock.now += 0.05
        short()
    short.finish()
    assert quick.getvalue() == ""  # a 5-second run says nothing


def test_progress_on_a_terminal_redraws_one_line_and_short_runs_show_nothing() -> None:
    clock, stream = Clock(), io.StringIO()
    short = Progress("compile", 5, "accounts", stream=stream, tty=True, clock=clock)
    for _ in range(5):
        clock.now += 0.01
        short()
    short.finish()
    assert stream.getvalue() == ""
    long = Progress("compile", 100, "accounts", stream=stream, tty=True, clock=clock)
    for _ in range(100):
        clock.now += 0.05
        long()
    long.finish()
    out = stream.getvalue()
    assert out.startswith("\r\x1b[K") and out.endswith("in 5 s\n")
    assert out.count("\n") == 1
    assert "about 4 s left" in out


def test_validate_reports_progress_in_ci(warning_repo: Path, write_account: WriteAccount) -> None:
    for i in range(3):
        write_account(f"more{i}", MINIMAL.format(id=f"more{i}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env["AMETRIKA_GITOPS_PROGRESS_INTERVAL"] = "0"  # a line per account: every N seconds, N=0
    run = subprocess.run(
        [sys.executable, "-m", "ametrika_gitops", "validate"],
        cwd=warning_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0
    progress = [line for line in run.stderr.splitlines() if line.startswith("validate: ")]
    assert progress[0].startswith("validate: 1/4 accounts (25%), about ")
    assert progress[-1].startswith("validate: 4/4 accounts (100%) in ")
    assert "validate: " not in run.stdout  # progress never mixes with results
    quiet = subprocess.run(
        [sys.executable, "-m", "ametrika_gitops", "validate", "-q"],
        cwd=warning_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert quiet.stderr == ""


def test_shell_completion_works() -> None:
    env = dict(
        os.environ,
        _AMETRIKA_GITOPS_COMPLETE="bash_complete",
        COMP_WORDS="ametrika-gitops te",
        COMP_CWORD="1",
    )
    run = subprocess.run(
        [console_script()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0
    assert "plain,test-send" in run.stdout.split()
    env.update(COMP_WORDS="ametrika-gitops plan gl", COMP_CWORD="2")  # account ids too
    run = subprocess.run(
        [console_script()], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.stdout.split() == ["plain,globex"]
    source = subprocess.run(
        [console_script()],
        env=dict(os.environ, _AMETRIKA_GITOPS_COMPLETE="bash_source"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "_ametrika_gitops_completion" in source.stdout


def test_the_plan_is_coloured_on_a_terminal_and_plain_in_json(repo: Path) -> None:
    """Additions green on a terminal; the machine formats never carry escape codes."""
    import shutil

    shutil.copy(ROOT / "accounts" / "cafe-du-port.yaml", repo / "accounts")
    code, screen = run_on_terminal(["plan", "--offline"], repo)
    assert code == 0
    added = [line for line in screen.splitlines() if "amk1._domainkey" in line]
    assert added and all(ANSI.search(line) for line in added), screen
    code, screen = run_on_terminal(["plan", "--offline", "--format", "json"], repo)
    assert code == 0 and not ANSI.search(screen)
