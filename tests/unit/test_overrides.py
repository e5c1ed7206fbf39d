"""Override resolution: each {file: …} read once, unusable paths are problems, not crashes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ametrika_gitops.config.loader import load_bytes
from ametrika_gitops.render.overrides import FileProblem, read_override_file, resolve_overrides

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        ("", "is not a path relative"),
        ("/etc/passwd", "is not a path relative"),
        ("~/x", "is not a path relative"),
        ("a\x00b", "is not a path relative"),
        ("../outside.j2", "leads outside the repository"),
        ("missing.j2", "does not exist"),
        ("dir", "is not a regular file"),
        ("loop", "cannot be read"),
        ("x" * 5000, "cannot be read"),
        ("big.j2", "larger than 1 MiB"),
        ("latin1.j2", "not valid UTF-8"),
    ],
)
def test_unusable_override_files_are_problems(tmp_path: Path, rel: str, message: str) -> None:
    (tmp_path / "dir").mkdir()
    os.symlink("loop", tmp_path / "loop")
    (tmp_path / "big.j2").write_bytes(b"x" * (1024 * 1024 + 1))
    (tmp_path / "latin1.j2").write_bytes("é".encode("latin-1"))
    got = read_override_file(tmp_path, rel)
    assert isinstance(got, FileProblem)
    assert message in got.message
    assert "\x00" not in got.message and "\n" not in got.message


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.j2")
    got = read_override_file(tmp_path, "pipe.j2")
    assert isinstance(got, FileProblem) and "not a regular file" in got.message


def test_resolution_gives_each_part_its_source_and_position(tmp_path: Path) -> None:
    (tmp_path / "o.j2").write_text("Hello {{ account_name }}", encoding="utf-8")
    text = textwrap.dedent("""\
        templates:
          insights:
            fr:
              subject: "Vos insights"
              html: {file: o.j2}
              text: |
                Bonjour
          footer:
            en: {html: 42}
        """)
    doc, diags = load_bytes(text.encode(), "acme.yaml")
    assert doc is not None and not diags
    found = {(o.type_id, o.locale, o.part): o for o in resolve_overrides(doc, tmp_path)}
    subject = found[("insights", "fr", "subject")].source
    assert subject is not None and (subject.file, subject.line, subject.column) == (
        "acme.yaml",
        4,
        16,
    )
    html = found[("insights", "fr", "html")]
    assert html.file == "o.j2" and html.source is not None
    assert (html.source.file, html.source.text) == ("o.j2", "Hello {{ account_name }}")
    block = found[("insights", "fr", "text")].source
    assert block is not None and block.line == 7  # a block scalar starts on the next line
    assert found[("footer", "en", "html")].source is None  # malformed: the schema reports it


def test_validate_opens_each_override_file_once(tmp_path: Path) -> None:
    """Counted with an audit hook in a fresh interpreter: every open() of the file."""
    script = textwrap.dedent(f"""\
        import sys
        opened = []
        def hook(event, args):
            if event == "open" and str(args[0]).endswith("insights.fr.html.j2"):
                opened.append(args[0])
        sys.addaudithook(hook)
        from ametrika_gitops.cli.main import main
        code = main(["--root", {str(ROOT)!r}, "validate", {str(ROOT / "accounts" / "acme.yaml")!r}])
        print(code, len(opened))
        """)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert run.stdout.split() == ["0", "1"], run.stdout + run.stderr
