"""Renderers of a semantic diff: text, markdown (a pull-request comment), html (side by side),
json (for scripts; schemas/diff.schema.json)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from ametrika_gitops.diagnostics import printable
from ametrika_gitops.review.semantic import AccountChange, EmailChange

GITHUB_LIMIT = 65_536  # characters in a pull-request comment
MARKDOWN_BUDGET = GITHUB_LIMIT - 1_000  # room for the truncation notice


def _head(c: AccountChange) -> str:
    parts = []
    if c.sender:
        parts.append(f"sender: {len(c.sender)} change{'s' if len(c.sender) != 1 else ''}")
    if c.dns:
        parts.append(f"DNS: {len(c.dns)} record{'s' if len(c.dns) != 1 else ''}")
    if c.emails:
        parts.append(f"{len(c.emails)} e-mail{'s' if len(c.emails) != 1 else ''}")
    if c.findings:
        parts.append(f"{len(c.findings)} error{'s' if len(c.findings) != 1 else ''}")
    parts += c.other
    # an invalid account's id is its file's stem, which may hold anything
    name = printable(c.account)
    return f"{name} ({c.status}): " + ("; ".join(parts) or "no effective change")


def _fenced(lines: list[str], info: str = "") -> list[str]:
    """A markdown code block that no line inside it can close: the fence is longer than any
    run of backticks in the lines (CommonMark), since template sources come from the pull
    request."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *lines, fence]


def _md_code(text: str) -> str:
    """``text`` as inline code that it cannot close (CommonMark code spans)."""
    text = printable(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    tick = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{tick}{pad}{text}{pad}{tick}"


def _md_text(text: str) -> str:
    """Text for markdown prose: no HTML, no emphasis, links or table cells from a name."""
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", html.escape(printable(text), quote=False))


def render_text(changes: list[AccountChange], base: str, head: str) -> str:
    base, head = printable(base), printable(head)
    if not changes:
        return f"No effective change between {base} and {head}.\n"
    n = len(changes)
    out = [f"{n} account{'s' if n != 1 else ''} changed between {base} and {head}"]
    for c in changes:
        out += ["", _head(c)]
        out += [f"  {f}" for f in c.findings]
        out += [f"  sender {s}" for s in c.sender] + [f"  dns {d}" for d in c.dns]
        for e in c.emails:
            out.append(f"  {e.key}:")
            out += [f"    {t}" for t in e.transitions]
            out += [f"    {line}" for line in e.three_way + e.rendered + e.source]
            if not (e.rendered or e.source) and e.html_before != e.html_after:
                out.append("    HTML changed (see --format html)")
    return "\n".join(out) + "\n"


def render_markdown(changes: list[AccountChange], base: str, head: str) -> str:
    base, head = _md_code(base), _md_code(head)
    if not changes:
        return f"### E-mail settings\n\nNo effective change between {base} and {head}.\n"
    rows = [
        "### E-mail settings",
        "",
        f"Changes between {base} and {head}.",
        "",
        "| Account | Status | Sender | DNS | E-mails |",
        "|---|---|---|---|---|",
    ]
    for c in changes:
        rows.append(
            f"| {_md_code(c.account)} | {c.status} | {len(c.sender) or ''} | {len(c.dns) or ''} "
            f"| {', '.join(e.key for e in c.emails)} |"
        )
    out = "\n".join(rows) + "\n"
    for i, c in enumerate(changes):
        name = html.escape(printable(c.account))
        body = [f"<details><summary><b>{name}</b>: {html.escape(_head(c))}</summary>", ""]
        if c.findings:
            body += [*_fenced(c.findings), ""]
        if c.sender or c.dns:
            body += [*_fenced([f"sender {s}" for s in c.sender] + [f"dns {d}" for d in c.dns])]
            body += [""]
        for e in c.emails:
            what = "; ".join(e.transitions) or "rendering changed"
            body += [f"**{_md_text(e.key)}** — {_md_text(what)}", ""]
            lines = e.three_way + e.rendered + e.source
            if lines:
                body += [*_fenced(lines, "diff"), ""]
        body += ["</details>", ""]
        block = "\n".join(body)
        if len(out) + len(block) > MARKDOWN_BUDGET:
            rest = len(changes) - i
            out += (
                f"\n> **Truncated:** {rest} more account{'s' if rest != 1 else ''} "
                f"({_md_text(', '.join(x.account for x in changes[i:]))}) did not fit in a comment "
                f"({GITHUB_LIMIT:,} characters). Run `ametrika-gitops diff` locally, or "
                "open the HTML previews of this run.\n"
            )
            break
        out += "\n" + block
    return out


def render_html(changes: list[AccountChange], base: str, head: str) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>E-mail changes {html.escape(base)} → {html.escape(head)}</title>",
        (
            "<style>body{font-family:sans-serif;margin:24px}"
            ".pair{display:flex;gap:16px}.pair>div{flex:1}"
            "iframe{width:100%;height:640px;border:1px solid #ccc}"
            "pre{background:#f6f8fa;padding:8px;overflow:auto}</style></head><body>"
        ),
        f"<h1>E-mail changes: {html.escape(base)} → {html.escape(head)}</h1>",
    ]
    if not changes:
        out.append("<p>No effective change.</p>")
    for c in changes:
        out.append(f"<h2>{html.escape(_head(c))}</h2>")
        if c.findings:
            out.append("<pre>" + html.escape("\n".join(c.findings)) + "</pre>")
        if c.sender or c.dns:
            lines = [str(s) for s in c.sender] + [str(d) for d in c.dns]
            out.append("<pre>" + html.escape("\n".join(lines)) + "</pre>")
        for e in c.emails:
            out.append(
                f"<h3>{html.escape(e.key)}</h3><p>"
                + html.escape("; ".join(e.transitions) or "rendering changed")
                + "</p>"
            )
            if e.html_before or e.html_after:
                out.append(
                    '<div class="pair">'
                    f'<div><h4>Before ({html.escape(base)})</h4><iframe sandbox="" '
                    f'srcdoc="{html.escape(e.html_before)}"></iframe></div>'
                    f'<div><h4>After ({html.escape(head)})</h4><iframe sandbox="" '
                    f'srcdoc="{html.escape(e.html_after)}"></iframe></div></div>'
                )
            lines = e.rendered + e.source
            if lines:
                out.append("<pre>" + html.escape("\n".join(lines)) + "</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _email_data(e: EmailChange) -> dict[str, Any]:
    kind, _, locale = e.key.partition("/")
    return {
        "key": e.key,
        "type": kind,
        "locale": locale,
        "transitions": e.transitions,
        "rendered_diff": e.rendered,
        "source_diff": e.source,
        "original_diff": e.three_way,
        "html_changed": e.html_before != e.html_after,
    }


def render_json(changes: list[AccountChange], base: str, head: str) -> str:
    data = {
        "base": base,
        "head": head,
        "accounts": [
            {
                "account": c.account,
                "status": c.status,
                "sender": [asdict(s) for s in c.sender],
                "dns": [asdict(d) for d in c.dns],
                "other": c.other,
                "emails": [_email_data(e) for e in c.emails],
            }
            for c in changes
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[list[AccountChange], str, str], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
}
