"""verify's report: text, markdown, json (schemas/verify.schema.json), github annotations."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ametrika_gitops.config.model import PLATFORM_ADDRESSES, Account
from ametrika_gitops.diagnostics import Diagnostic, error, render, warning
from ametrika_gitops.verify.checks import Check
from ametrika_gitops.verify.states import MISSING, WARNING, WRONG

SYMBOL = {
    "verified": "✔",
    "warning": "⚠",
    "missing": "✘",
    "wrong": "✘",
    "unreachable": "?",
    "ok": "·",
    "advice": "!",
}
# What a bare DNS status means, for people (the JSON keeps the status itself).
MEANING = {
    "NXDOMAIN": "the name does not exist (NXDOMAIN)",
    "NODATA": "the name exists but holds no record of this type (NODATA)",
    "SERVFAIL": "the servers failed to answer (SERVFAIL)",
    "timeout": "no answer came in time",
}


@dataclass(frozen=True)
class Report:
    checks: list[Check]
    servers: dict[str, str]  # account → the servers asked
    skipped: dict[str, str] = field(default_factory=dict)  # account → why nothing is verified
    where: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # file, line, column


def nothing_to_verify(account: Account) -> str | None:
    """Why an account has no record to check, or None when it has some."""
    mode = account.sender.mode
    if mode in PLATFORM_ADDRESSES:
        domain = PLATFORM_ADDRESSES[mode].rpartition("@")[2]
        return (
            f"nothing to verify: in mode {mode} the e-mails leave from {domain}, whose DNS "
            "records the platform publishes; only the hosted mode needs records in your DNS, "
            "and custom SMTP gets advice"
        )
    return None


def _sentence(detail: str) -> str:
    return MEANING.get(detail, detail)


def _line(c: Check) -> str:
    parts = [f"  {c.state:<11} {c.rtype:<5} {c.name}  ({c.purpose})"]
    if c.state in (WRONG, MISSING) and c.expected:
        parts.append(f"      expected: {c.expected}")
        parts.append(f"      found:    {c.found or '(nothing)'}")
    if c.detail:
        parts.append(f"      {_sentence(c.detail)}")
    return "\n".join(parts)


def _warnings(checks: list[Check]) -> str:
    n = sum(c.state == WARNING for c in checks)
    return f", {n} warning{'s' if n != 1 else ''}" if n else ""


def _nameservers_failed(mine: list[Check]) -> Check | None:
    return next((c for c in mine if c.purpose == "nameservers"), None)


def _verdict(account: str, mine: list[Check], servers: dict[str, str]) -> str:
    ns = _nameservers_failed(mine)
    if ns is not None:
        return (
            f"{account}: cannot be verified: {_sentence(ns.detail)}. Check the delegation of "
            f"{ns.name}, or name a server to ask with --nameserver HOST"
        )
    required = [c for c in mine if c.required]
    failed = sum(c.failed for c in mine)
    asked = f"(asked {servers.get(account, '?')})"
    if not required:
        return f"{account}: advice only, nothing required {asked}"
    if not failed:
        return f"{account}: all required records verified{_warnings(mine)} {asked}"
    return (
        f"{account}: {failed} of {len(required)} required records not verified"
        f"{_warnings(mine)} {asked}"
    )


def render_text(report: Report) -> str:
    out = []
    checks = report.checks
    for account in sorted({c.account for c in checks} | set(report.skipped)):
        if account in report.skipped:
            out.append(f"{account}: {report.skipped[account]}")
            continue
        mine = [c for c in checks if c.account == account]
        out.append(_verdict(account, mine, report.servers))
        if _nameservers_failed(mine) is None:
            out += [_line(c) for c in mine]
    failed = sum(c.failed for c in checks)
    n = len(checks)
    out.append(
        f"{n} check{'s' if n != 1 else ''}, {failed} required "
        f"record{'s' if failed != 1 else ''} not verified{_warnings(checks)}"
    )
    return "\n".join(out) + "\n"


def render_markdown(report: Report) -> str:
    out = ["## DNS verification", ""]
    checks = report.checks
    for account in sorted({c.account for c in checks} | set(report.skipped)):
        if account in report.skipped:
            out += [f"### `{account}`", "", report.skipped[account].capitalize() + ".", ""]
            continue
        mine = [c for c in checks if c.account == account]
        out += [
            f"### `{account}` (asked {report.servers.get(account, '?')})",
            "",
            "| | State | Type | Name | Purpose | Expected | Found | Detail |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in mine:
            cells = [
                SYMBOL.get(c.state, ""),
                c.state,
                c.rtype,
                f"`{c.name}`",
                c.purpose,
                f"`{c.expected}`" if c.expected else "",
                f"`{c.found}`" if c.found else "",
                _sentence(c.detail),
            ]
            out.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        out.append("")
    return "\n".join(out)


def render_json(report: Report) -> str:
    checks = report.checks
    data = {
        "servers": report.servers,
        "failed": sum(c.failed for c in checks),
        "checks": [c.__dict__ | {"failed": c.failed} for c in checks],
        "nothing_to_verify": report.skipped,
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _annotation(c: Check, where: tuple[str, int, int]) -> Diagnostic | None:
    path, line, column = where
    what = f"{c.rtype} {c.name} ({c.purpose})"
    if c.purpose == "nameservers":
        return error(path, line, column, "verify-nameservers", _sentence(c.detail))
    if c.state == "advice":
        return warning(path, line, column, f"verify-{c.purpose}", _sentence(c.detail))
    if not c.failed:
        return None
    message = f"{what} is {c.state}"
    if c.expected:
        message += f": expected {c.expected}, found {c.found or 'nothing'}"
    return error(path, line, column, f"verify-{c.purpose}", message, _sentence(c.detail))


def render_github(report: Report) -> str:
    """Workflow annotations at the line of each account's domain (or SMTP host)."""
    found = []
    for c in report.checks:
        where = report.where.get(c.account)
        note = _annotation(c, where) if where else None
        if note is not None:
            found.append(note)
    return render(found, "github")


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
    "github": render_github,
}
