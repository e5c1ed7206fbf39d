"""--changed-since REF: which (account, type, locale) e-mails differ from those of REF, read
straight from git (the working tree is not touched)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ametrika_gitops.bundle import sender_data
from ametrika_gitops.canonical import digest
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.project import Project, account_files
from ametrika_gitops.validate import Checked, check_files

Fingerprints = dict[str, tuple[str, dict[tuple[str, str], str]]]


def fingerprints(results: list[Checked]) -> Fingerprints:
    """account → (sender digest, {(type, locale): digest of the rendered e-mail})."""
    out: Fingerprints = {}
    for r in results:
        if r.account is None:
            continue
        mails = {(e.type_id, e.locale): digest({k: p.output for k, p in e.parts.items()})
                 for e in r.emails}
        out[r.account.id] = (digest(sender_data(r.account)), mails)
    return out


def fingerprints_at(root: Path, ref: str) -> Fingerprints:
    try:
        tar = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", ref],
                             capture_output=True, check=True, timeout=120).stdout
    except FileNotFoundError:
        raise AmetrikaError("--changed-since needs git on the PATH") from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AmetrikaError(f"--changed-since {ref}: git cannot read that revision "
                            f"({detail[-1] if detail else exc.returncode}); in CI, fetch it "
                            "first (actions/checkout with fetch-depth: 0)") from None
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            archive.extractall(tmp, filter="data")
        base = Path(tmp)
        if not (base / "templates" / "catalog.yaml").is_file() or not (base / "accounts").is_dir():
            return {}
        project = Project.open(base)
        return fingerprints(check_files(project, account_files((), base)))


def changed(before: Fingerprints, after: Fingerprints) -> dict[str, set[tuple[str, str]]]:
    """The e-mails to test: every one of an account whose sender changed (or that is new),
    else those whose rendering changed (an override, or an original in templates/)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for account, (sender, mails) in after.items():
        old = before.get(account)
        if old is None or old[0] != sender:
            out[account] = set(mails)
            continue
        diff = {k for k, fp in mails.items() if old[1].get(k) != fp}
        if diff:
            out[account] = diff
    return out
