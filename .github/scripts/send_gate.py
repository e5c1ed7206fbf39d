#!/usr/bin/env python3
"""Decide whether a test-send run may hold the secrets (.github/workflows/test-send.yml).

Run from the workspace of the gate job: tool/ holds the base branch (the tool, trusted), data/
the pull request's head (read as data only). The event's fields come from the environment:
EVENT, ACTION, LABEL, REPO, HEAD_REPO, SENDER, BEFORE, BASE_SHA, HEAD_SHA. Writes `decision`
(send | defer | none | fail | ignore), `reason` and `base` (the revision test-send compares
with) to $GITHUB_OUTPUT.

A pull request gets the secrets only when it comes from this repository, changes nothing but
data (accounts, overrides, templates, recipients; Markdown and CODEOWNERS are neutral), and
sends no SMTP password to a server, user or account it was not already going to on the base
branch — or when a maintainer added the approval label to the commit being tested.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

APPROVAL_LABEL = "test-send-approved"
MAINTAINER_ROLES = frozenset({"admin", "maintain"})
DATA = ("accounts/", "overrides/", "templates/", "recipients/")
NEUTRAL = re.compile(r"[^/]+\.md|\.github/CODEOWNERS")
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


class NotCompiled(Exception):
    """`compile` refused a revision's accounts."""


@dataclass(frozen=True)
class Decision:
    action: str  # send | defer | none | fail | ignore
    reason: str


@dataclass(frozen=True)
class Destination:
    """Where an SMTP password goes: to this server and user, for this account."""

    account: str
    host: str
    port: int
    security: str
    username: str
    password_env: str

    def __str__(self) -> str:
        return (
            f"{self.account}: {self.password_env} to {self.username}@{self.host}:{self.port} "
            f"({self.security})"
        )


def shown(paths: Iterable[str], limit: int = 5) -> str:
    """File names from the pull request, quoted so that no control character gets through."""
    paths = sorted(paths)
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(ascii(p) for p in paths[:limit]) + more


def decide(
    *,
    event: str,
    action: str,
    label: str,
    labeller_role: str,
    fork: bool,
    changed: Iterable[str],
    symlinks: Iterable[str],
    new_destinations: Callable[[], list[Destination]],
) -> Decision:
    """The gate, as a pure function of the event and the pull request's content."""
    approved = False
    if action == "labeled":
        if label != APPROVAL_LABEL:
            return Decision("ignore", f"label {label!r} is not {APPROVAL_LABEL!r}")
        if labeller_role not in MAINTAINER_ROLES:
            return Decision(
                "ignore",
                f"the label was added by someone whose role is "
                f"{labeller_role or 'unknown'}; only a maintainer's label (admin "
                "or maintain role) approves a test send",
            )
        approved = True
    if event == "push":
        return Decision("send", "a push to the default branch (reviewed)")
    if links := list(symlinks):
        return Decision(
            "fail",
            f"the pull request holds symbolic links ({shown(links)}); "
            "account data never needs one, and a link could make the tool read "
            "files outside the repository",
        )
    changed = set(changed)
    if not any(path.startswith(DATA) for path in changed):
        return Decision("none", "no account, override, template or recipient file changed")
    if approved:
        return Decision("send", f"approved by a maintainer's {APPROVAL_LABEL!r} label")
    later = (
        f"the test sends run after the merge, or now if a maintainer adds the label "
        f"{APPROVAL_LABEL!r}"
    )
    if fork:
        return Decision("defer", f"the pull request comes from a fork; {later}")
    if tool := [p for p in changed if not p.startswith(DATA) and not NEUTRAL.fullmatch(p)]:
        return Decision(
            "defer",
            f"the pull request changes the tool or the pipeline "
            f"({shown(tool)}), so no secret is handed to this run; {later}",
        )
    if new := new_destinations():
        return Decision(
            "defer",
            "an SMTP password would go somewhere it does not go on the "
            f"base branch ({'; '.join(map(str, new))}); {later}",
        )
    return Decision("send", "data-only change from this repository")


def destinations(build: Path) -> set[Destination]:
    """The SMTP destinations of a `compile --out` folder; KeyError if its format is unknown."""
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    found = set()
    for entry in manifest["accounts"]:
        bundle = json.loads((build / entry["bundle"]).read_text(encoding="utf-8"))
        smtp = bundle["sender"]["smtp"]
        if smtp is not None:
            found.add(
                Destination(
                    entry["id"],
                    str(smtp["host"]).lower().rstrip("."),
                    int(smtp["port"]),
                    smtp["security"],
                    smtp["username"],
                    smtp["password"]["env"],
                )
            )
    return found


def compiled(folder: Path, out: Path, what: str) -> Path:
    if subprocess.run(
        ["ametrika-gitops", "compile", "--out", str(out)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        check=False,
    ).returncode:
        raise NotCompiled(what)
    return out


def new_destinations(tool: Path, data: Path) -> list[Destination]:
    """Destinations in the pull request that the base branch does not have (all, if unknown)."""
    with tempfile.TemporaryDirectory() as scratch:
        base = destinations(compiled(tool, Path(scratch, "base"), "the base branch"))
        head = destinations(compiled(data, Path(scratch, "head"), "the pull request"))
    return sorted(head - base, key=str)


def git(data: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(data), *args],
        check=True,
        capture_output=True,
        text=True,
        errors="backslashreplace",
    ).stdout


def changed_paths(data: Path, base: str) -> list[str]:
    return list(
        filter(
            None, git(data, "diff", "-z", "--name-only", "--no-renames", base, "HEAD").split("\0")
        )
    )


def symlinks(data: Path) -> list[str]:
    entries = filter(None, git(data, "ls-files", "-s", "-z").split("\0"))
    return [entry.split("\t", 1)[1] for entry in entries if entry.startswith("120000 ")]


def labeller_role(repo: str, login: str) -> str:
    if not LOGIN.fullmatch(login):
        return ""
    result = subprocess.run(
        ["gh", "api", f"repos/{repo}/collaborators/{login}/permission", "--jq", ".role_name"],
        check=False,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def comparison_base(data: Path, env: dict[str, str]) -> str:
    """What test-send compares with: the merge base of a pull request, the commit before a push."""
    if env["EVENT"] == "push":
        before = env.get("BEFORE", "")
        present = (
            SHA.fullmatch(before)
            and set(before) != {"0"}
            and not subprocess.run(
                ["git", "-C", str(data), "cat-file", "-e", f"{before}^{{commit}}"],
                check=False,
                capture_output=True,
            ).returncode
        )
        if present:
            return before
        return git(data, "rev-parse", "HEAD~1").strip()
    if not SHA.fullmatch(env["BASE_SHA"]):
        raise ValueError(f"not a commit: {env['BASE_SHA']!r}")
    return git(data, "merge-base", env["BASE_SHA"], "HEAD").strip()


def main() -> int:
    env = dict(os.environ)
    tool, data = Path("tool"), Path("data")
    base = comparison_base(data, env)
    try:
        decision = decide(
            event=env["EVENT"],
            action=env.get("ACTION", ""),
            label=env.get("LABEL", ""),
            labeller_role=(
                labeller_role(env["REPO"], env.get("SENDER", ""))
                if env.get("ACTION") == "labeled"
                else ""
            ),
            fork=env["EVENT"] != "push" and env.get("HEAD_REPO") != env["REPO"],
            changed=changed_paths(data, base) if env["EVENT"] != "push" else (),
            symlinks=symlinks(data) if env["EVENT"] != "push" else (),
            new_destinations=lambda: new_destinations(tool, data),
        )
    except NotCompiled as error:
        decision = Decision(
            "fail",
            f"the accounts of {error} do not compile, so nothing can "
            "be sent (see validate in the pull-request workflow)",
        )
    except (KeyError, TypeError, ValueError, OSError) as error:
        decision = Decision("fail", f"cannot tell where SMTP passwords would go ({error!r})")
    reason = " ".join(decision.reason.split())  # one line: it goes into $GITHUB_OUTPUT
    print(f"{decision.action}: {reason}")
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"decision={decision.action}\nreason={reason}\nbase={base}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
