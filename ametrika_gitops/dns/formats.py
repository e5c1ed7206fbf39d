"""Plan renderers, chosen by name: text, markdown, json, zone (BIND)."""

from __future__ import annotations

from collections.abc import Callable

from ametrika_gitops.canonical import canonical
from ametrika_gitops.dns.plan import CREATE, DELETE, UPDATE, Change, Plan, plan_data
from ametrika_gitops.dns.records import Record, txt_chunks

SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-"}
VERB = {CREATE: "add", UPDATE: "change", DELETE: "delete"}
BIND_TTL = 300  # what Cloudflare's "automatic" TTL means


def _summary(plan: Plan) -> str:
    zones = len([z for z in plan.zones if z.changes and plan.actionable(z)])
    out = (
        f"{plan.count(CREATE)} to add, {plan.count(UPDATE)} to change, "
        f"{plan.count(DELETE)} to delete, in {zones} zone{'s' if zones != 1 else ''}"
    )
    if plan.manual_records:
        out += f"; {plan.manual_records} records for the DNS administrator in manual zones"
    return out


def _shown(record: Record) -> str:
    if record.type == "TXT":
        return " ".join(f'"{s}"' for s in txt_chunks(record.content))
    return record.content


def render_text(plan: Plan) -> str:
    out = [f"Plan ({'live' if plan.live else 'offline'}): {_summary(plan)}"]
    out += [f"note: {n}" for n in plan.notes]
    for z in plan.zones:
        out.append("")
        out.append(f"zone {z.zone} ({z.provider}; accounts: {', '.join(z.accounts)})")
        if not z.changes:
            out.append("  no changes")
        for c in z.changes:
            r = c.record
            out.append(f"  {SYMBOL[c.action]} {r.type:<5} {r.name}  {_shown(r)}")
            out.append(
                f"          {r.purpose}, account {r.account}"
                + (f"; {r.condition}" if r.condition else "")
            )
            if c.existing is not None and c.action == UPDATE:
                out.append(f"          was: {c.existing.get('content')}")
    if not plan.zones:
        out.append("")
        out.append("No account uses the hosted service: no DNS record is needed.")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    out = [f"## DNS plan ({'live' if plan.live else 'offline'})", "", f"**{_summary(plan)}**", ""]
    out += [f"> {n}" for n in plan.notes]
    for z in plan.zones:
        out += [
            "",
            f"### Zone `{z.zone}` ({z.provider})",
            "",
            f"Accounts: {', '.join(f'`{a}`' for a in z.accounts)}",
            "",
        ]
        if not z.changes:
            out.append("No changes.")
            continue
        out += [
            "| | Type | Name | Content | TTL | Proxy | Purpose |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in z.changes:
            r = c.record
            purpose = f"{r.purpose} ({r.account})" + (f" — {r.condition}" if r.condition else "")
            out.append(
                f"| {VERB[c.action]} | {r.type} | `{r.name}` | `{_md_cell(_shown(r))}` "
                f"| Auto | DNS only | {_md_cell(purpose)} |"
            )
    if plan.zones:
        out += [
            "",
            (
                "In Cloudflare's dashboard: DNS → Records → Add record; copy each Type, "
                "Name and Content, keep TTL on Auto and the proxy off (DNS only)."
            ),
        ]
    return "\n".join(out) + "\n"


def render_json(plan: Plan) -> str:
    return canonical(plan_data(plan))


def _bind_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bind_line(c: Change) -> str:
    r = c.record
    data = (
        " ".join(_bind_string(s) for s in txt_chunks(r.content))
        if r.type == "TXT"
        else f"{r.content}."
    )
    return f"{r.name}.\t{BIND_TTL}\tIN\t{r.type}\t{data}"


def render_zone(plan: Plan) -> str:
    out = [f"; ametrika-gitops DNS plan ({'live' if plan.live else 'offline'}): {_summary(plan)}"]
    for z in plan.zones:
        out += [";", f"; zone {z.zone} ({z.provider}); accounts: {', '.join(z.accounts)}"]
        for c in z.changes:
            r = c.record
            if c.action == DELETE:
                out.append(f"; delete: {_bind_line(c)}")
                continue
            out.append(
                f"; {r.purpose} (account {r.account})" + (f"; {r.condition}" if r.condition else "")
            )
            out.append(_bind_line(c))
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Plan], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
    "zone": render_zone,
}
