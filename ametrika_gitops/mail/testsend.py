"""test-send: render, check the recipients, send (or capture), report (design §9)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree as ET

from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.config.model import Account
from ametrika_gitops.diagnostics import Progress
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.mail.message import (
    Clock,
    MessageIds,
    WhiteLabelError,
    build_message,
    envelope_sender,
    message_bytes,
    new_message_id,
    sender_domain,
    utc_now,
)
from ametrika_gitops.mail.recipients import is_verified, verify_key
from ametrika_gitops.mail.transport import Endpoint, SendError, Session, endpoint_for
from ametrika_gitops.render.emails import Email

CUSTOM_HINT = (
    "custom SMTP servers do not always accept this (Gmail servers in particular); "
    "the hosted service or the white-label analytics-report.com always work"
)

WHITE_LABEL_HINT = (
    "in analytics-report mode nothing may name Ametrika: rename what is named, "
    "or use mode: ametrika"
)


Status = Literal["sent", "captured", "failed", "skipped"]


@dataclass(frozen=True)
class Outcome:
    account: str
    type_id: str
    locale: str
    recipient: str
    status: Status
    step: str = ""
    detail: str = ""
    hint: str = ""

    @property
    def label(self) -> str:
        return f"{self.type_id}/{self.locale}" if self.type_id else "-"


@dataclass(frozen=True)
class Selection:
    types: frozenset[str] | None = None
    locales: frozenset[str] | None = None
    changed: dict[str, set[tuple[str, str]]] | None = None  # from --changed-since

    def emails(self, checked: Checked) -> list[Email]:
        assert checked.account is not None
        wanted = None if self.changed is None else self.changed.get(checked.account.id, set())
        return [
            e
            for e in checked.emails
            if (self.types is None or e.type_id in self.types)
            and (self.locales is None or e.locale in self.locales)
            and (wanted is None or (e.type_id, e.locale) in wanted)
        ]


@dataclass(frozen=True)
class Pending:
    account: Account
    mail: Email
    recipient: str
    data: bytes


def _fail_all(items: list[Pending], step: str, detail: str, hint: str) -> list[Outcome]:
    """Every item failed at ``step`` (one outcome each, with the same reason)."""
    return [
        Outcome(
            p.account.id, p.mail.type_id, p.mail.locale, p.recipient, "failed", step, detail, hint
        )
        for p in items
    ]


def prepare(
    results: list[Checked],
    selection: Selection,
    root: Path,
    require_verified: bool,
    clock: Clock = utc_now,
    message_ids: MessageIds = new_message_id,
) -> tuple[list[Pending], list[Outcome]]:
    """The messages to send, and the outcomes already known (refusals, skips). ``clock`` and
    ``message_ids`` give each message its Date and Message-ID."""
    key = verify_key() if require_verified else b""
    pending: list[Pending] = []
    outcomes: list[Outcome] = []
    for checked in results:
        account = checked.account
        if account is None:
            continue
        mails = selection.emails(checked)
        if not mails:
            continue
        if not account.recipients:
            outcomes.append(
                Outcome(
                    account.id,
                    "",
                    "",
                    "",
                    "skipped",
                    "",
                    "no test.recipients in the account file: nothing to send to",
                )
            )
            continue
        unverified = [
            r
            for r in account.recipients
            if require_verified and not is_verified(key, root, account.id, r)
        ]
        if unverified:
            # H9: one unverified address and nothing is sent for the account
            outcomes += [
                Outcome(
                    account.id,
                    "",
                    "",
                    r,
                    "failed",
                    "verify",
                    f"{r} is not a verified recipient of {account.id}",
                    f"verify it: ametrika-gitops recipients verify {account.id} {r}",
                )
                for r in unverified
            ]
            continue
        for mail in mails:
            for rcpt in account.recipients:
                try:
                    msg = build_message(
                        account, mail, rcpt, clock(), message_ids(sender_domain(account))
                    )
                    data = message_bytes(msg)
                except WhiteLabelError as exc:
                    outcomes.append(
                        Outcome(
                            account.id,
                            mail.type_id,
                            mail.locale,
                            rcpt,
                            "failed",
                            "white label",
                            str(exc),
                            WHITE_LABEL_HINT,
                        )
                    )
                    continue
                pending.append(Pending(account, mail, rcpt, data))
    return pending, outcomes


def capture(pending: list[Pending], folder: Path) -> list[Outcome]:
    out = []
    for p in pending:
        target = folder / p.account.id / f"{p.mail.type_id}.{p.mail.locale}.{p.recipient}.eml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(p.data)
        out.append(
            Outcome(
                p.account.id,
                p.mail.type_id,
                p.mail.locale,
                p.recipient,
                "captured",
                detail=str(target),
            )
        )
    return out


def send(pending: list[Pending], progress: Progress) -> list[Outcome]:
    """One SMTP session per server, reused for all its messages."""
    groups: dict[tuple[str, int, str, str | None], tuple[Endpoint, list[Pending]]] = {}
    outcomes: list[Outcome] = []
    for p in pending:
        try:
            endpoint = endpoint_for(p.account)
        except AmetrikaError as exc:
            outcomes += _fail_all([p], "connect", str(exc), "")
            continue
        groups.setdefault(endpoint.key, (endpoint, []))[1].append(p)
    for endpoint, items in groups.values():
        hint = CUSTOM_HINT if endpoint.custom else ""
        try:
            with Session(endpoint) as session:
                for p in items:
                    try:
                        session.send(envelope_sender(p.account), p.recipient, p.data)
                    except SendError as exc:
                        outcomes += _fail_all([p], exc.step, str(exc), hint)
                        progress(
                            f"FAILED {p.account.id} {p.mail.type_id}/{p.mail.locale} → "
                            f"{p.recipient}: {exc}"
                        )
                        continue
                    outcomes.append(
                        Outcome(
                            p.account.id,
                            p.mail.type_id,
                            p.mail.locale,
                            p.recipient,
                            "sent",
                            detail=endpoint.describe(),
                        )
                    )
                    progress(
                        f"sent {p.account.id} {p.mail.type_id}/{p.mail.locale} → {p.recipient}"
                    )
        except SendError as exc:
            outcomes += _fail_all(items, exc.step, str(exc), hint)
            progress(f"FAILED {endpoint.describe()}: {exc}")
        except AmetrikaError as exc:  # a missing password variable: before any connection
            outcomes += _fail_all(items, "AUTH", str(exc), "")
            progress(f"FAILED {endpoint.describe()}: {exc}")
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    rows = [("account", "e-mail", "recipient", "result")]
    for o in sorted(outcomes, key=lambda o: (o.account, o.label, o.recipient)):
        result = o.status if o.status != "failed" else f"FAILED at {o.step}: {o.detail}"
        if o.status == "skipped":
            result = f"skipped: {o.detail}"
        rows.append((o.account, o.label, o.recipient or "-", result))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows]
    counts = {
        s: sum(o.status == s for o in outcomes) for s in ("sent", "captured", "failed", "skipped")
    }
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to send")
    hints = sorted({o.hint for o in outcomes if o.status == "failed" and o.hint})
    lines += [f"hint: {h}" for h in hints]
    return "\n".join(lines) + "\n"


def junit(outcomes: list[Outcome], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="ametrika-gitops test-send",
        tests=str(len(outcomes)),
        failures=str(sum(o.status == "failed" for o in outcomes)),
        skipped=str(sum(o.status == "skipped" for o in outcomes)),
    )
    for o in sorted(outcomes, key=lambda o: (o.account, o.label, o.recipient)):
        case = ET.SubElement(
            suite, "testcase", classname=o.account, name=f"{o.label} -> {o.recipient or '-'}"
        )
        if o.status == "failed":
            failure = ET.SubElement(case, "failure", message=f"{o.step}: {o.detail}")
            failure.text = o.hint
        elif o.status == "skipped":
            ET.SubElement(case, "skipped", message=o.detail)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
