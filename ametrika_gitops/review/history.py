"""history: the commits that changed an account's effective configuration, from git log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ametrika_gitops.build.bundle import Bundle
from ametrika_gitops.build.revision import WORKTREE, Revision, git, load_revision
from ametrika_gitops.diagnostics import printable
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.render.engine import ORIGIN_OVERRIDE
from ametrika_gitops.review.semantic import diff_revisions

PATHS = ("accounts", "templates", "overrides", "schemas")
_PR = re.compile(r"(?:\(#(\d+)\)|[Pp]ull request #(\d+))")
_SEP = "\x1f"


@dataclass(frozen=True)
class Entry:
    commit: str
    date: str
    author: str
    pull_request: int | None
    subject: str
    account: str
    status: str  # added | removed | changed | invalid | valid again
    changes: tuple[str, ...]


def _pr_numbers(root: Path) -> dict[str, int]:
    """commit → the pull request that brought it in (from merge commits' messages)."""
    out: dict[str, int] = {}
    for line in git(root, "log", "--merges", f"--format=%H{_SEP}%P{_SEP}%s").splitlines():
        commit, parents, subject = line.split(_SEP, 2)
        m = _PR.search(subject)
        ps = parents.split()
        if not m or len(ps) < 2:
            continue
        number = int(m.group(1) or m.group(2))
        out.setdefault(commit, number)
        for c in git(root, "rev-list", f"{ps[0]}..{ps[1]}").split():
            out.setdefault(c, number)
    return out


def _override_files(root: Path) -> list[str]:
    """{file: …} overrides outside the usual folders, as the accounts name them today."""
    revision = load_revision(root, WORKTREE)
    files = {
        part.file
        for b in revision.bundles.values()
        for mail in b.mails.values()
        for part in mail.parts.values()
        if part.origin == ORIGIN_OVERRIDE
    }
    return sorted(f for f in files if f.split("/")[0] not in PATHS and (root / f).is_file())


def history(root: Path, account: str | None, since: str | None) -> list[Entry]:
    if git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise AmetrikaError(
            "this is a shallow clone: its history is cut short, so `history` "
            "would be wrong; fetch all of it (git fetch --unshallow, or "
            "actions/checkout with fetch-depth: 0)"
        )
    args = ["log", "--no-merges", "--reverse", f"--format=%H{_SEP}%P{_SEP}%an{_SEP}%aI{_SEP}%s"]
    if since:
        args.append(f"--since={since}")
    lines = git(root, *args, "--", *PATHS, *_override_files(root)).splitlines()
    prs = _pr_numbers(root)
    cache: dict[str, Revision] = {}
    parents: dict[str, str | None] = {}

    def rev(ref: str) -> Revision:
        if ref not in cache:
            cache[ref] = load_revision(root, ref)
        return cache[ref]

    def first_parent(ref: str) -> str | None:
        if ref not in parents:
            found = git(root, "log", "-1", "--format=%P", ref).split()
            parents[ref] = found[0] if found else None
        return parents[ref]

    def last_valid(ref: str | None, account: str) -> Bundle | None:
        """The account's bundle at the nearest first-parent ancestor where it validates."""
        while ref is not None:
            revision = rev(ref)
            if account in revision.bundles:
                return revision.bundles[account]
            if account not in revision.findings:
                return None  # not there at all: a fix is its first valid configuration
            ref = first_parent(ref)
        return None

    empty = Revision("(none)", {}, {}, ())
    entries = []
    for line in lines:
        commit, parent_list, author, date, subject = line.split(_SEP, 4)
        parent = parent_list.split()[0] if parent_list else None
        before = rev(parent) if parent else empty
        after = rev(commit)
        # an account invalid before this commit is compared with its last valid configuration
        previous = {
            a: bundle
            for a in before.findings
            if a in after.bundles and (bundle := last_valid(parent, a)) is not None
        }
        for change in diff_revisions(before, after, previous):
            if account is not None and change.account != account:
                continue
            m = _PR.search(subject)
            pr = int(m.group(1) or m.group(2)) if m else prs.get(commit)
            entries.append(
                Entry(
                    commit,
                    date,
                    author,
                    pr,
                    subject,
                    change.account,
                    change.status,
                    tuple(change.lines()),
                )
            )
    return entries


def render_text(entries: list[Entry]) -> str:
    if not entries:
        return "No change of effective configuration found.\n"
    out = []
    for e in entries:
        pr = f"  #{e.pull_request}" if e.pull_request else ""
        who, what = printable(e.author), printable(e.subject)
        name = printable(e.account)  # an invalid account's id is its file's stem
        out.append(f"{e.date[:10]}  {e.commit[:10]}  {name}  {who}{pr}  {what}")
        out += [f"    {printable(c)}" for c in e.changes]
    return "\n".join(out) + "\n"


def render_json(entries: list[Entry]) -> str:
    import json

    return (
        json.dumps(
            [e.__dict__ | {"changes": list(e.changes)} for e in entries],
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
