"""--changed-since REF: which (account, type, locale) e-mails differ from those of REF, read
straight from git (the working tree is not touched) by review.revision."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ametrika_gitops.build.bundle import Bundle, build_bundle
from ametrika_gitops.build.revision import load_revision
from ametrika_gitops.canonical import digest
from ametrika_gitops.check.pipeline import Checked

Fingerprints = dict[str, tuple[str, dict[tuple[str, str], str]]]


def fingerprints(bundles: Iterable[Bundle]) -> Fingerprints:
    """account → (sender digest, {(type, locale): digest of the rendered e-mail})."""
    out: Fingerprints = {}
    for b in bundles:
        mails = {
            (e.kind, e.locale): digest({k: p.rendered for k, p in e.parts.items()})
            for e in b.emails
        }
        out[b.id] = (b.sender_digest(), mails)
    return out


def current(results: list[Checked]) -> Fingerprints:
    return fingerprints(build_bundle(r) for r in results if r.account is not None)


def at(root: Path, ref: str) -> Fingerprints:
    return fingerprints(load_revision(root, ref).bundles.values())


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
