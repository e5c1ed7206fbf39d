"""The README's promises a newcomer relies on: its first screen is the two commands, CI runs
the second one verbatim, every documented command exists, and what the README tells people to
write stays out of git."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from ametrika_gitops.cli.main import main

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks() -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```$", README, re.DOTALL | re.MULTILINE)


def test_the_first_screen_is_the_two_commands() -> None:
    before_first_block = README[: README.index("```")]
    assert before_first_block.strip() == "# ametrika-gitops"  # nothing before them
    install, tests = (b.strip() for b in _blocks()[:2])
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . && ")
    assert "ametrika-gitops validate" in install
    assert tests.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    assert tests.endswith("python3 -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == tests  # CI runs what the README says, verbatim


def _documented_invocations() -> list[list[str]]:
    found = []
    for block in _blocks():
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.strip().removeprefix("$ ").split("&&"):
                try:
                    words = shlex.split(re.split(r" [|>] | # ", part)[0])
                except ValueError:  # eval "$(…)": not an invocation
                    continue
                while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                    words = words[1:]  # VARIABLE=value before the command
                if len(words) > 1 and words[0] == "ametrika-gitops":
                    found.append(words[1:])
    return found


def test_every_documented_command_and_option_exists(capsys: pytest.CaptureFixture[str]) -> None:
    invocations = _documented_invocations()
    assert len(invocations) > 15
    for words in invocations:
        if words[0].startswith("["):  # the synopsis: ametrika-gitops [--root DIR] …
            words = words[2:]
        command = [words[0]] if words[0] != "recipients" else words[:2]
        capsys.readouterr()
        assert main([*command, "--help"]) == 0, words
        help_text = capsys.readouterr().out
        words = [w.strip("[]") for w in words]
        for i, word in enumerate(words):
            option = word.split("=")[0]
            if not option.startswith("--") or option == "--root":
                continue
            assert option in help_text, (words, option)
            if option == "--format":  # each documented format is offered
                for value in words[i + 1].split("|"):
                    assert value in help_text, (words, value)


@pytest.mark.parametrize(
    "path, ignored",
    [
        ("bundles/acme.json", True),  # compile's default
        ("previews/acme/index.html", True),  # preview's default
        ("captures/globex/alert.en.x.eml", True),  # test-send --capture in the README
        ("plan.json", True),  # plan --out in the README and apply.yml
        ("plan.md", True),
        ("diff.md", True),
        ("diff.html", True),
        ("test-send.xml", True),
        ("build/lib/ametrika_gitops/__init__.py", True),  # pip install .
        (".venv/bin/python", True),
        ("ametrika_gitops/build/new_module.py", False),  # the package's own build/
        ("accounts/newco.yaml", False),
        ("recipients/newco.yaml", False),
    ],
)
def test_what_the_tool_writes_is_ignored_and_what_people_write_is_not(
    path: str, ignored: bool
) -> None:
    run = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False)
    assert (run.returncode == 0) == ignored, path
