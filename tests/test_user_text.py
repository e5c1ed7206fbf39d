"""No internal requirement code in what users read: "(H1)"…"(H14)" and "design §" belong to
the help article's digest and the design, cited by tests and docs only."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from ametrika_gitops.cli.main import cli, main
from ametrika_gitops.mail import recipients, testsend

from .conftest import ROOT

INTERNAL = re.compile(r"\(H\d+\)|\(H\d+[,;:]|design §")


def _commands(group: click.Group, prefix: list[str]) -> Iterator[list[str]]:
    for name, command in group.commands.items():
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _commands(command, [*prefix, name])


def test_help_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [[], *_commands(cli, [])]
    assert len(commands) > 12
    for words in commands:
        capsys.readouterr()
        assert main([*words, "--help"]) == 0
        text = capsys.readouterr().out
        assert not INTERNAL.search(text), (words, INTERNAL.findall(text))


def _strings(node: Any, keys: tuple[str, ...]) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in keys and isinstance(v, str):
                yield v
            yield from _strings(v, keys)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, keys)


def test_schema_descriptions_messages_and_hints() -> None:
    schemas = sorted((ROOT / "schemas").glob("*.schema.json"))
    assert len(schemas) >= 8
    for path in schemas:
        data = json.loads(path.read_text(encoding="utf-8"))
        for text in _strings(data, ("description", "title", "x-message", "x-hint")):
            assert not INTERNAL.search(text), (path.name, text)


def test_every_finding_of_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    cases = sorted(str(p) for p in (ROOT / "tests" / "cases" / "invalid").glob("*.yaml"))
    capsys.readouterr()
    main(["--root", str(ROOT), "validate", "--format", "json", *cases])
    findings = json.loads(capsys.readouterr().out)
    assert len({f["code"] for f in findings}) > 30
    for f in findings:
        assert not INTERNAL.search(f["message"] + f["hint"]), f


def test_messages_of_the_mail_edges() -> None:
    assert not INTERNAL.search(testsend.CUSTOM_HINT)
    assert not INTERNAL.search(testsend.WHITE_LABEL_HINT)


def test_generated_files(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for f in (ROOT / "accounts").iterdir():
        shutil.copy(f, repo / "accounts")
    monkeypatch.setenv(recipients.KEY, "k" * 32)
    assert main(["codeowners"]) == 0
    assert main(["compile"]) == 0
    recipients.write_record(b"k" * 32, repo, "acme", "qa@acme.fr")
    assert (
        main(
            ["new", "newco", "--mode", "ametrika", "--name", "N", "--admin", "@n"]
            + ["--locale", "en"]
        )
        == 0
    )
    generated = [
        repo / ".github" / "CODEOWNERS",
        repo / "recipients" / "acme.yaml",
        repo / "accounts" / "newco.yaml",
        *sorted((repo / "bundles").iterdir()),
    ]
    for path in generated:
        text = path.read_text(encoding="utf-8")
        assert not INTERNAL.search(text), (path.name, INTERNAL.findall(text))
    out = capsys.readouterr()
    assert not INTERNAL.search(out.out + out.err)
