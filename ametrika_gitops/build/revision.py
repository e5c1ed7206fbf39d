"""A revision of the repository, compiled: every valid account's bundle, and the originals.

Read from git without touching the working tree (``git archive``), or from the working tree.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ametrika_gitops.build.bundle import Bundle, build_bundle
from ametrika_gitops.check.pipeline import Checked, check_files
from ametrika_gitops.check.project import Project, account_files
from ametrika_gitops.errors import AmetrikaError

WORKTREE = ":worktree"


@dataclass(frozen=True)
class Revision:
    ref: str
    bundles: dict[str, Bundle]  # account id → bundle
    originals: dict[str, str]  # "templates/fr/alert.subject.j2" → text
    invalid: tuple[str, ...]  # account files that did not validate at this revision
    # account id (its file's stem) → the errors that make it invalid here, one line each
    findings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def git(root: Path, *args: str, binary: bool = False) -> Any:
    try:
        run = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, check=True, timeout=120
        )
    except FileNotFoundError:
        raise AmetrikaError("git is needed here and is not on the PATH") from None
    except subprocess.CalledProcessError as exc:
        lines = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AmetrikaError(
            f"git {' '.join(args[:2])}: {lines[-1] if lines else exc.returncode}"
        ) from None
    return run.stdout if binary else run.stdout.decode("utf-8", "replace")


def git_root(start: Path) -> Path:
    return Path(git(start, "rev-parse", "--show-toplevel").strip())


def _compile(tree: Path, ref: str) -> Revision:
    if not (tree / "templates" / "catalog.yaml").is_file():
        return Revision(ref, {}, {}, ())
    project = replace(Project.open(tree), root_relative=True)
    folder = tree / "accounts"
    results = check_files(project, account_files((), tree)) if folder.is_dir() else []
    bundles = {r.account.id: build_bundle(r) for r in results if r.account is not None}
    invalid = tuple(r.path for r in results if r.account is None)
    findings = {Path(r.path).stem: _errors(r) for r in results if r.account is None}
    originals = {
        p.relative_to(tree).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted((tree / "templates").rglob("*.j2"))
    }
    return Revision(ref, bundles, originals, invalid, findings)


def _errors(result: Checked) -> tuple[str, ...]:
    """The errors of an invalid account file, as `path:line:col: code: message` lines."""
    return tuple(
        f"{d.path}:{d.line}:{d.column}: {d.code}: {d.message}"
        for d in sorted(set(result.diagnostics))
        if d.is_error
    )


def load_revision(root: Path, ref: str) -> Revision:
    """``ref`` a git revision, or WORKTREE for the files as they are."""
    if ref == WORKTREE:
        return _compile(root, ref)
    try:
        tar = git(root, "archive", "--format=tar", ref, binary=True)
    except AmetrikaError as exc:
        raise AmetrikaError(
            f"cannot read revision {ref}: {exc}; in CI, fetch it first "
            "(actions/checkout with fetch-depth: 0)"
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            archive.extractall(tmp, filter="data")
        return _compile(Path(tmp), ref)
