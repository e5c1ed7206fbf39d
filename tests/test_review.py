"""diff, history, CODEOWNERS, previews and workflows, on real git repositories built in
temporary folders (several commits, authors, a merge). H1 (admins), H12/H13 (overrides,
reset)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import jsonschema
import pytest
import yaml

from ametrika_gitops.cli.main import main
from ametrika_gitops.review.preview import find_browser

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
AUTHORS = {"alice": "Alice Martin", "bob": "Bob Durand", "carol": "Carol Petit"}


def git(repo: Path, *args: str, who: str = "alice", day: int = 1) -> str:
    date = f"2026-03-{day:02d}T10:00:00+00:00"
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME=AUTHORS[who],
        GIT_AUTHOR_EMAIL=f"{who}@example.com",
        GIT_COMMITTER_NAME=AUTHORS[who],
        GIT_COMMITTER_EMAIL=f"{who}@example.com",
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
    )
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def history_repo(repo: Path) -> Path:
    """base (alice) → feature branch by bob: override added, override reset → on main, carol
    changes an original under acme's override → merge of pull request #7."""
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for name in ("acme", "initech"):
        shutil.copy(ROOT / "accounts" / f"{name}.yaml", repo / "accounts")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Add acme and initech", day=1)
    git(repo, "checkout", "-q", "-b", "feature")
    acme = repo / "accounts" / "acme.yaml"
    edit(
        acme,
        "  alert:\n    en:\n",
        '  alert:\n    fr:\n      subject: "ACME : {{ alert_name }}"\n    en:\n',
    )
    git(repo, "commit", "-qam", "acme: French alert subject", who="bob", day=2)
    edit(
        acme,
        "    en:\n      text: |\n        {{ alert_name }}: {{ metric }} is at {{ value }} "
        "(threshold {{ threshold }}).\n        Open the dashboard: {{ dashboard_url }}\n",
        "",
    )
    git(repo, "commit", "-qam", "acme: back to the original English alert text", who="bob", day=3)
    git(repo, "checkout", "-q", "main")
    (repo / "templates" / "fr" / "insights.subject.j2").write_text(
        "Vos insights pour {{ period.label }}\n", encoding="utf-8"
    )
    edit(
        repo / "accounts" / "initech.yaml",
        "from_name: Initech via Ametrika",
        "from_name: Initech Analytics",
    )
    git(
        repo,
        "commit",
        "-qam",
        "Reword the French insights subject; rename Initech's sender",
        who="carol",
        day=4,
    )
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #7 from bob/feature",
        who="alice",
        day=5,
    )
    return repo


def normalise(text: str, repo: Path) -> str:
    hashes = re.findall(r"\b[0-9a-f]{10,40}\b", text)
    for i, h in enumerate(dict.fromkeys(hashes)):
        text = text.replace(h, f"<commit {i + 1}>")
    return text


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_diff_text_and_markdown(history_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = git(history_repo, "rev-list", "--max-parents=0", "HEAD").strip()
    code, text = run(capsys, "diff", "--base", base, "--head", "main")
    assert code == 0
    assert "alert/en:\n    text: overridden → reset to the original" in text  # H13
    assert "alert/fr:\n    subject: original → overridden (accounts/acme.yaml)" in text
    assert "subject: original changed upstream under this account's override" in text
    assert "sender from.name: Initech via Ametrika → Initech Analytics" in text
    golden("diff.txt", normalise(text, history_repo))
    code, markdown = run(capsys, "diff", "--base", base, "--head", "main", "--format", "markdown")
    assert "| `acme` | changed |" in markdown and "<details><summary><b>acme</b>" in markdown
    golden("diff.md", normalise(markdown, history_repo))


def test_diff_defaults_to_the_working_tree_and_leaves_it_alone(
    history_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(history_repo / "accounts" / "acme.yaml", "policy: quarantine", "policy: reject")
    before = git(history_repo, "status", "--porcelain")
    code, text = run(capsys, "diff", "--base", "HEAD")
    assert code == 0
    assert "dns + TXT _dmarc.mail.acme.fr v=DMARC1; p=reject; rua=mailto:dmarc@acme.fr" in text
    assert git(history_repo, "status", "--porcelain") == before
    assert run(capsys, "diff", "--base", "HEAD", "--head", "HEAD")[1].startswith(
        "No effective change"
    )


def test_diff_html_shows_old_and_new_side_by_side(
    history_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, page = run(capsys, "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "html")
    assert code == 0 and page.startswith("<!DOCTYPE html>")
    assert page.count('<div class="pair">') >= 2 and 'sandbox="" srcdoc="' in page


def test_markdown_is_truncated_under_githubs_limit(
    history_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(60):
        text = (history_repo / "accounts" / "acme.yaml").read_text(encoding="utf-8")
        text = text.replace("id: acme", f"id: acme{i:02d}").replace("mail.acme.fr", f"m{i}.acme.fr")
        (history_repo / "accounts" / f"acme{i:02d}.yaml").write_text(text, encoding="utf-8")
    git(history_repo, "add", "-A")
    git(history_repo, "commit", "-qm", "many", day=6)
    (history_repo / "templates" / "en" / "alert.txt.j2").write_text(
        "{{ alert_name }}\n" + "A much longer explanation line.\n" * 40 + "{{ dashboard_url }}"
        "\n{{ metric }} {{ value }} {{ threshold }} {{ triggered_at }}\n",
        encoding="utf-8",
    )
    code, markdown = run(capsys, "diff", "--base", "HEAD", "--format", "markdown")
    assert code == 0
    assert len(markdown) < 65_536
    assert "**Truncated:**" in markdown and "did not fit in a comment" in markdown


def test_history_text_and_json(history_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run(capsys, "history")
    assert code == 0
    golden("history.txt", normalise(text, history_repo))
    assert "Bob Durand  #7  acme: French alert subject" in text
    code, text = run(capsys, "history", "acme", "--format", "json")
    import json

    entries = json.loads(text)
    assert {e["account"] for e in entries} == {"acme"}
    assert [e["pull_request"] for e in entries] == [None, 7, 7, None]
    reset = entries[2]["changes"]
    assert reset == ["alert/en: text: overridden → reset to the original"]  # H13
    upstream = entries[3]["changes"]
    assert "insights/fr: subject: original changed upstream under this account's override" in (
        upstream
    )
    code, text = run(capsys, "history", "--since", "2026-03-03T12:00:00+00:00")
    assert "French alert subject" not in text and "Reword" in text


def test_history_works_from_any_folder_and_refuses_shallow_clones(
    history_repo: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(history_repo / "overrides" / "acme")
    code, text = run(capsys, "history", "initech")
    assert code == 0 and "Initech via Ametrika" in text
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", history_repo.as_uri(), str(shallow)],
        check=True,
        capture_output=True,
    )
    monkeypatch.chdir(shallow)
    capsys.readouterr()
    assert main(["history"]) == 1
    assert "shallow clone" in capsys.readouterr().err


def test_codeowners_generate_and_check(
    history_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "codeowners", "--check")[0] == 1
    assert run(capsys, "codeowners")[0] == 0
    text = (history_repo / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    golden("CODEOWNERS", text)
    assert run(capsys, "codeowners", "--check")[0] == 0
    edit(history_repo / "accounts" / "acme.yaml", '"@alice"]', '"@alice", "@zoe"]')
    code, out = run(capsys, "codeowners", "--check")
    assert code == 1
    assert "+/accounts/acme.yaml                      @acme/marketing-ops @alice @zoe" in out


def _png_pixels_vary(path: Path) -> bool:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat))) > 16


def test_preview_files_and_a_real_browser_screenshot(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    shutil.copy(ROOT / "accounts" / "acme.yaml", repo / "accounts")
    code, out = run(capsys, "preview", "acme", "--out", "prev")
    assert code == 0 and "wrote 18 e-mails" in out
    index = (repo / "prev" / "index.html").read_text(encoding="utf-8")
    assert index.count("<tr><td>") == 18 and 'href="insights.fr.html"' in index
    assert (
        (repo / "prev" / "alert.fr.txt")
        .read_text(encoding="utf-8")
        .startswith("Subject: Alerte\u00a0: Baisse du taux de conversion\n")
    )
    if find_browser() is None:
        pytest.skip("headless Chromium is not installed (.ci/run installs Debian's chromium)")
    code, out = run(
        capsys, "preview", "acme", "insights", "--locale", "fr", "--out", "shot", "--png"
    )
    assert code == 0, out
    assert "wrote 2 screenshots" in out
    assert _png_pixels_vary(repo / "shot" / "insights.fr.png")
    # #13: and one on a phone, 375 pixels wide (the PNG's IHDR gives the width)
    mobile = (repo / "shot" / "insights.fr.mobile.png").read_bytes()
    assert struct.unpack(">I", mobile[16:20])[0] == 375
    assert _png_pixels_vary(repo / "shot" / "insights.fr.mobile.png")


def test_preview_png_without_a_browser_says_how_to_get_one(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copy(ROOT / "accounts" / "initech.yaml", repo / "accounts")
    monkeypatch.setenv("PATH", "/nonexistent")
    capsys.readouterr()
    assert main(["preview", "initech", "alert", "--png", "--out", "p"]) == 1
    assert "apt-get install chromium" in capsys.readouterr().err
    assert (repo / "p" / "alert.en.html").exists()


def _invocations() -> list[list[str]]:
    found = []
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    for f in files:
        for job in yaml.safe_load(f.read_text(encoding="utf-8"))["jobs"].values():
            for step in job["steps"]:
                for line in step.get("run", "").splitlines():
                    for part in line.split("&&"):
                        part = part.strip()
                        if part.startswith("ametrika-gitops "):
                            words = shlex.split(re.split(r"[>|]", part)[0])
                            found.append(words[1:])
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    found += [shlex.split(h["entry"])[1:] for h in hooks]
    return found


def test_every_command_and_option_used_in_the_workflows_exists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    invocations = _invocations()
    assert len(invocations) >= 8
    for words in invocations:
        command = words[0]
        code, help_text = run(capsys, command, "--help")
        assert code == 0, command
        for option in (w.split("=")[0] for w in words[1:] if w.startswith("--")):
            assert option in help_text, f"{command} {option}"


# Invalid revisions (issue #12, item 7): an account that does not validate at a commit is
# invalid there, with its findings, not removed; the trail goes on from its last valid state.


@pytest.fixture
def broken_repo(repo: Path) -> Path:
    """globex (custom SMTP, H3): valid → broken (port: 465.0) → fixed with a new sender name."""
    shutil.copy(ROOT / "accounts" / "globex.yaml", repo / "accounts")
    globex = repo / "accounts" / "globex.yaml"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Add globex", day=1)
    edit(globex, "port: 465", "port: 465.0")
    git(repo, "commit", "-qam", "globex: port as a number with a fraction", who="bob", day=2)
    edit(globex, "port: 465.0", "port: 465")
    edit(globex, "from_name: Globex Reports", "from_name: Globex Analytics")
    git(repo, "commit", "-qam", "globex: fix the port, new sender name", who="carol", day=3)
    return repo


def test_history_reports_an_invalid_commit_and_stays_continuous(broken_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, text = run(capsys, "history", "globex", "--format", "json")
    assert code == 0
    schema = json.loads((ROOT / "schemas" / "history.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(json.loads(text))
    entries = [(e["status"], e["changes"]) for e in json.loads(text)]
    assert entries == [
        ("added", ["account added (0 DNS records)"]),
        (
            "invalid",
            [
                "account invalid: 1 error",
                (
                    "accounts/globex.yaml:16:11: wrong-type: sender.smtp.port must be an integer, "
                    "not a number"
                ),
            ],
        ),
        # compared with the last valid commit, not "added" again
        (
            "valid again",
            ["account valid again", "sender: from.name: Globex Reports → Globex Analytics"],
        ),
    ]
    code, text = run(capsys, "history", "globex")
    assert "account removed" not in text and "account invalid: 1 error" in text


def test_diff_shows_an_invalid_account_with_its_findings_not_as_removed(
    broken_repo: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, text = run(capsys, "diff", "--base", "HEAD~2", "--head", "HEAD~1")
    assert code == 0
    assert "(removed)" not in text and "{env: None}" not in text
    assert text.splitlines()[1:] == [
        "",
        "globex (invalid): 1 error",
        (
            "  accounts/globex.yaml:16:11: wrong-type: sender.smtp.port must be an integer, not a "
            "number"
        ),
    ]
    code, markdown = run(
        capsys, "diff", "--base", "HEAD~2", "--head", "HEAD~1", "--format", "markdown"
    )
    assert "| `globex` | invalid |" in markdown and "(removed)" not in markdown
    code, text = run(capsys, "diff", "--base", "HEAD~1", "--head", "HEAD")
    assert "globex (valid again)" in text


# Names from the pull request (issue #12, item 8): escaped in every format


@pytest.fixture
def hostile_names_repo(repo: Path) -> Path:
    shutil.copy(ROOT / "accounts" / "initech.yaml", repo / "accounts")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Add initech", day=1)
    (repo / "overrides").mkdir()
    name = "overrides/x\n### Approved by the security team\n<img src=x onerror=alert(1)>.j2"
    (repo / name).write_text(
        "{{ alert_name }}\n```\n# Injected heading\n{{ dashboard_url }}\n", encoding="utf-8"
    )
    with (repo / "accounts" / "initech.yaml").open("a", encoding="utf-8") as fh:
        fh.write("templates:\n  alert:\n    en:\n      text: {file: " + json.dumps(name) + "}\n")
    # an account file whose name is a heading: invalid (its id cannot match), so shown by name
    (repo / "accounts" / "evil\n### Approved by the security team.yaml").write_text(
        "version: 2\n", encoding="utf-8"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initech: alert text", who="bob", day=2)
    return repo


def test_file_names_cannot_add_lines_to_any_format(hostile_names_repo: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    escaped = "overrides/x\\n### Approved by the security team\\n"
    for fmt in ("text", "markdown", "html"):
        code, out = run(capsys, "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", fmt)
        assert code == 0
        assert not [line for line in out.splitlines() if line.startswith("### Approved")], fmt
        assert fmt == "text" or "<img src=x" not in out, fmt  # markup is escaped
    code, text = run(capsys, "diff", "--base", "HEAD~1", "--head", "HEAD")
    assert f"text: original → overridden ({escaped}<img src=x onerror=alert(1)>.j2)" in text
    code, markdown = run(
        capsys, "diff", "--base", "HEAD~1", "--format", "markdown", "--head", "HEAD"
    )
    # markdown shows a backslash as \\
    shown = escaped.replace("\\", "\\\\") + "&lt;img src=x onerror=alert(1)&gt;.j2"
    assert f"text: original → overridden ({shown})" in markdown
    # the template's own ``` stays inside its code block, which opens and closes with ````
    block = markdown.split("````diff\n", 1)[1].split("\n````\n", 1)[0]
    assert "+```" in block and "+# Injected heading" in block
    code, history = run(capsys, "history", "initech")
    assert not [line for line in history.splitlines() if line.startswith("### Approved")]
