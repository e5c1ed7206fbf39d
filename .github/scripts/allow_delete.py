#!/usr/bin/env python3
"""Run a plan command with `--allow-delete ID` for each account whose deletion a person allowed.

    allow_delete.py [--deleted-between BASE HEAD] [--accounts "ID ID…"] -- COMMAND…

Two sources, both read as data: the account files deleted between two commits (a reviewed pull
request that removes an account), and the ids typed into the apply workflow's dispatch form
(click tracking turned off, a mode changed). Every id must be a valid account id; COMMAND is
exec'd with its arguments as a list, so no shell ever sees a file name or an input.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence

ACCOUNT_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
ACCOUNT_FILE = re.compile(r"accounts/([^/]+)\.ya?ml")
REVISION = re.compile(r"[0-9a-f]{7,64}|HEAD(~[0-9]+)?")


class Refused(Exception):
    """An input that is not what it claims to be; the run stops, nothing is planned."""


def deleted_accounts(base: str, head: str) -> list[str]:
    """Ids of the account files (accounts/ID.yaml) deleted from BASE to HEAD, in the current repo.

    A rename counts as a deletion of the old id (--no-renames). Names that are not account
    files, or whose stem is not a valid id, are skipped with a warning: they never were accounts.
    If BASE is not in the clone (the first push, a force-push), nothing is allowed: the plan
    then holds those deletions and says how to release them.
    """
    for revision in (base, head):
        if not REVISION.fullmatch(revision):
            raise Refused(f"not a commit: {revision!r}")
    if (
        set(base) == {"0"}
        or subprocess.run(
            ["git", "cat-file", "-e", f"{base}^{{commit}}"], check=False, capture_output=True
        ).returncode
    ):
        print(
            f"warning: commit {base} is not in this clone; deletions stay held "
            "(release them with the apply workflow's allow_delete input)",
            file=sys.stderr,
        )
        return []
    names = subprocess.run(
        [
            "git",
            "diff",
            "-z",
            "--name-only",
            "--no-renames",
            "--diff-filter=D",
            base,
            head,
            "--",
            "accounts/",
        ],
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    ids = set()
    for raw in filter(None, names):
        name = raw.decode("utf-8", "backslashreplace")
        match = ACCOUNT_FILE.fullmatch(name)
        if match and ACCOUNT_ID.fullmatch(match[1]):
            ids.add(match[1])
        else:
            print(f"warning: {name!r} is not an account file; ignored", file=sys.stderr)
    return sorted(ids)


def typed_accounts(text: str) -> list[str]:
    """The space-separated ids of a dispatch input; any invalid one refuses the whole input."""
    words = text.split()
    invalid = [word for word in words if not ACCOUNT_ID.fullmatch(word)]
    if invalid:
        raise Refused(
            f"not account ids: {', '.join(map(repr, invalid))} "
            "(expected lower-case letters, digits and hyphens, 2 to 63 characters)"
        )
    return sorted(set(words))


def command_line(command: Sequence[str], accounts: Sequence[str]) -> list[str]:
    return [*command, *(arg for account in accounts for arg in ("--allow-delete", account))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deleted-between", nargs=2, metavar=("BASE", "HEAD"))
    parser.add_argument("--accounts", default="", metavar="IDS")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    try:
        accounts = set(typed_accounts(args.accounts))
        if args.deleted_between:
            accounts.update(deleted_accounts(*args.deleted_between))
    except Refused as error:
        print(f"::error::{error}", file=sys.stderr)
        return 1
    allowed = sorted(accounts)
    print(f"deletions allowed for: {', '.join(allowed) or '(none)'}", file=sys.stderr)
    argv_out = command_line(args.command, allowed)
    os.execvp(argv_out[0], argv_out)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
