"""The semantic difference of two compiled revisions, per account (pure)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ametrika_gitops.build.bundle import Bundle, BundleEmail
from ametrika_gitops.build.revision import Revision
from ametrika_gitops.diagnostics import printable
from ametrika_gitops.render.engine import ORIGIN_ORIGINAL, ORIGIN_OVERRIDE

PART_FILES = {"subject": "subject.j2", "html": "html.j2", "text": "txt.j2"}
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
INVALID, VALID_AGAIN = "invalid", "valid again"
# Bundle fields that say nothing a reviewer needs: the From header repeats name and address;
# zone_explicit only records whether zone was written or guessed (zone itself is shown).
HIDDEN_FIELDS = frozenset({"from.header", "hosted.zone_explicit"})


def show(value: Any) -> str:
    """A value as a reviewer reads it: text as is (quoted only when blank or padded), true and
    false, (none); a secret reference as {env: NAME}, never a value."""
    if isinstance(value, dict) and set(value) == {"env"}:
        return f"{{env: {value['env']}}}"
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value and value == value.strip() else json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class FieldChange:
    field: str  # "from.name", "smtp.port", "hosted.domain"…
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.field}: {show(self.before)} → {show(self.after)}"


@dataclass(frozen=True)
class RecordChange:
    action: str  # add | delete
    type: str
    name: str
    content: str

    def __str__(self) -> str:
        return f"{'+' if self.action == 'add' else '-'} {self.type} {self.name} {self.content}"


@dataclass
class EmailChange:
    key: str  # "insights/fr" or "footer/fr"
    transitions: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)  # unified diff lines
    source: list[str] = field(default_factory=list)
    three_way: list[str] = field(default_factory=list)
    html_before: str = ""
    html_after: str = ""


@dataclass
class AccountChange:
    account: str
    status: str  # added | removed | changed | invalid | valid again
    sender: list[FieldChange] = field(default_factory=list)
    dns: list[RecordChange] = field(default_factory=list)
    emails: list[EmailChange] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # why the account is invalid

    @property
    def empty(self) -> bool:
        return not (self.sender or self.dns or self.emails or self.other) and (
            self.status == CHANGED
        )

    def lines(self) -> list[str]:
        """One line per item: what history prints."""
        if self.status == ADDED:
            return [f"account added ({len(self.dns)} DNS records)"]
        if self.status == REMOVED:
            return ["account removed"]
        if self.status == INVALID:
            n = len(self.findings)
            return [f"account invalid: {n} error{'s' if n != 1 else ''}", *self.findings]
        out = ["account valid again"] if self.status == VALID_AGAIN else []
        out += [f"sender: {s}" for s in self.sender] + [f"dns: {d}" for d in self.dns]
        out += self.other
        for e in self.emails:
            out += [f"{e.key}: {t}" for t in e.transitions] or [f"{e.key}: rendering changed"]
        return out


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: data}


def _sender(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    a, b = _flat(old), _flat(new)
    out = []
    for key in sorted(set(a) | set(b)):
        if key.endswith(".env") or key in HIDDEN_FIELDS:
            continue
        if a.get(key) != b.get(key):
            out.append(FieldChange(key, a.get(key), b.get(key)))
    for key in sorted({k[:-4] for k in set(a) | set(b) if k.endswith(".env")}):
        va, vb = a.get(key + ".env"), b.get(key + ".env")
        if va != vb:  # a secret reference: its name only, never a value
            out.append(
                FieldChange(
                    key,
                    {"env": va} if va is not None else None,
                    {"env": vb} if vb is not None else None,
                )
            )
    return out


def _records(bundle: Bundle | None) -> set[tuple[str, str, str]]:
    if bundle is None:
        return set()
    return {(r.type, r.name, r.content) for r in bundle.records}


def _udiff(before: str, after: str, label: str) -> list[str]:
    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            f"{label} (before)",
            f"{label} (after)",
            lineterm="",
            n=2,
        )
    )


def _original_path(key: str, part: str) -> str:
    kind, locale = key.split("/")  # kind is an e-mail type, or "footer"
    return f"templates/{locale}/{kind}.{PART_FILES[part]}"


def _email(
    key: str,
    old: BundleEmail | None,
    new: BundleEmail | None,
    before: Revision,
    after: Revision,
) -> EmailChange | None:
    change = EmailChange(key)
    if old is None or new is None:
        change.transitions.append("new e-mail" if old is None else "no longer sent")
        return change
    for part in sorted(set(old.parts) | set(new.parts)):
        o, n = old.parts.get(part), new.parts.get(part)
        if o is None or n is None:
            continue
        if o.origin == ORIGIN_ORIGINAL and n.origin == ORIGIN_OVERRIDE:
            change.transitions.append(f"{part}: original → overridden ({printable(n.file)})")
        elif o.origin == ORIGIN_OVERRIDE and n.origin == ORIGIN_ORIGINAL:
            change.transitions.append(f"{part}: overridden → reset to the original")
        elif o.source != n.source:
            what = (
                "override changed"
                if n.origin == ORIGIN_OVERRIDE
                else (f"original changed upstream ({printable(n.file)})")
            )
            change.transitions.append(f"{part}: {what}")
        elif n.origin == ORIGIN_OVERRIDE:
            path = _original_path(key, part)
            was, now = before.originals.get(path), after.originals.get(path)
            if was is not None and now is not None and was != now:
                change.transitions.append(
                    f"{part}: original changed upstream under this account's override"
                )
                change.three_way += _udiff(was, now, f"{path} (original)")
                change.three_way += [
                    f"the override ({printable(n.file)}) stays:",
                    *n.source.splitlines(),
                ]
        if o.source != n.source:
            change.source += _udiff(o.source, n.source, f"{part} source")
        if part in ("subject", "text") and o.rendered != n.rendered:
            change.rendered += _udiff(o.rendered, n.rendered, f"{part} rendered")
    if "html" in old.parts and "html" in new.parts:
        change.html_before = old.parts["html"].rendered
        change.html_after = new.parts["html"].rendered
    html_changed = change.html_before != change.html_after
    if not (change.transitions or change.rendered or change.source or html_changed):
        return None
    return change


def diff_revisions(
    before: Revision,
    after: Revision,
    previous: Mapping[str, Bundle] | None = None,
) -> list[AccountChange]:
    """Per account, what changed from ``before`` to ``after``. An account that does not
    validate is *invalid* (with its findings), not removed; ``previous`` gives, for accounts
    invalid in ``before``, their last valid bundle, so that a fix is compared with it."""
    out = []
    names = set(before.bundles) | set(after.bundles) | set(before.findings) | set(after.findings)
    for account in sorted(names):
        old, new = before.bundles.get(account), after.bundles.get(account)
        if account in after.findings and new is None:
            if before.findings.get(account) != after.findings[account]:
                shown = [printable(f) for f in after.findings[account]]
                out.append(AccountChange(account, INVALID, findings=shown))
            continue
        again = old is None and account in before.findings
        if again:
            if new is None:  # removed while invalid
                out.append(AccountChange(account, REMOVED))
                continue
            old = (previous or {}).get(account)
        status = ADDED if old is None else REMOVED if new is None else CHANGED
        if again:
            status = VALID_AGAIN
        change = _account(account, status, old, new, before, after)
        if not change.empty:
            out.append(change)
    return out


def _account(
    account: str,
    status: str,
    old: Bundle | None,
    new: Bundle | None,
    before: Revision,
    after: Revision,
) -> AccountChange:
    change = AccountChange(account, status)
    change.sender = _sender(old.sender_data() if old else {}, new.sender_data() if new else {})
    o, n = _records(old), _records(new)
    change.dns = [RecordChange("add", t, name, c) for t, name, c in sorted(n - o)] + [
        RecordChange("delete", t, name, c) for t, name, c in sorted(o - n)
    ]
    if old and new and old.account.admins != new.account.admins:
        change.other.append(
            f"admins: {', '.join(old.account.admins)} → {', '.join(new.account.admins)}"
        )
    mails_old = old.mails if old else {}
    mails_new = new.mails if new else {}
    if old and new:
        for key in sorted(set(mails_old) | set(mails_new)):
            found = _email(key, mails_old.get(key), mails_new.get(key), before, after)
            if found is not None:
                change.emails.append(found)
    return change
