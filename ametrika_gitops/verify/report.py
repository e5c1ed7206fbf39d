"""verify's report: text, markdown, json."""

from __future__ import annotations

import json
from collections.abc import Callable

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


def _line(c: Check) -> str:
    parts = [f"  {c.state:<11} {c.rtype:<5} {c.name}  ({c.purpose})"]
    if c.state in (WRONG, MISSING) and c.expected:
        parts.append(f"      expected: {c.expected}")
        parts.append(f"      found:    {c.found or '(nothing)'}")
    if c.detail:
        parts.append(f"      {c.detail}")
    return "\n".join(parts)


def _warnings(checks: list[Check]) -> str:
    n = sum(c.state == WARNING for c in checks)
    return f", {n} warning{'s' if n != 1 else ''}" if n else ""


def render_text(checks: list[Check], servers: dict[str, str]) -> str:
    out = []
    for account in sorted({c.account for c in checks}):
        mine = [c for c in checks if c.account == account]
        failed = sum(c.failed for c in mine)
        verdict = "all required records verified" if not failed else f"{failed} not verified"
        verdict += _warnings(mine)
        out.append(f"{account}: {verdict} (asked {servers.get(account, '?')})")
        out += [_line(c) for c in mine]
    failed = sum(c.failed for c in checks)
    out.append(f"{len(checks)} checks, {failed} required not verified{_warnings(checks)}")
    return "\n".join(out) + "\n"


def render_markdown(checks: list[Check], servers: dict[str, str]) -> str:
    out = ["## DNS verification", ""]
    for account in sorted({c.account for c in checks}):
        out += [
            f"### `{account}` (asked {servers.get(account, '?')})",
            "",
            "| | State | Type | Name | Purpose | Expected | Found | Detail |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in (c for c in checks if c.account == account):
            cells = [
                SYMBOL.get(c.state, ""),
                c.state,
                c.rtype,
                f"`{c.name}`",
                c.purpose,
                f"`{c.expected}`" if c.expected else "",
                f"`{c.found}`" if c.found else "",
                c.detail,
            ]
            out.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        out.append("")
    return "\n".join(out)


def render_json(checks: list[Check], servers: dict[str, str]) -> str:
    data = {
        "servers": servers,
        "failed": sum(c.failed for c in checks),
        "checks": [c.__dict__ | {"failed": c.failed} for c in checks],
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[list[Check], dict[str, str]], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}
