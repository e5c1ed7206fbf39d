"""Plan renderers, chosen by name: text, markdown, json, zone (BIND)."""

from __future__ import annotations

from collections.abc import Callable

from ametrika_gitops.canonical import canonical
from ametrika_gitops.config.model import MANUAL
from ametrika_gitops.dns.diff import normalize_content
from ametrika_gitops.dns.plan import CREATE, DELETE, UPDATE, Change, Plan, ZonePlan, sealed_data
from ametrika_gitops.dns.records import Record, txt_chunks

SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-"}
VERB = {CREATE: "add", UPDATE: "change", DELETE: "delete"}
BIND_TTL = 300  # what Cloudflare's "automatic" TTL means


def _releases(plan: Plan) -> str:
    accounts = sorted({c.record.account for z in plan.zones for c in z.held})
    return " ".join(f"--allow-delete {a}" for a in accounts)


def _seal(plan: Plan) -> str:
    return str(sealed_data(plan)["seal"])


def _summary(plan: Plan) -> str:
    zones = len([z for z in plan.zones if z.changes and plan.actionable(z)])
    out = (
        f"{plan.count(CREATE)} to add, {plan.count(UPDATE)} to change, "
        f"{plan.count(DELETE)} to delete, in {zones} zone{'s' if zones != 1 else ''}"
    )
    if plan.manual_records:
        out += f"; {plan.manual_records} records for the DNS administrator in manual zones"
    if plan.held:
        out += (
            f"; {plan.held} deletion{'s' if plan.held != 1 else ''} held, not applied "
            f"(release with {_releases(plan)} or --max-deletes {plan.held})"
        )
    if plan.skipped:
        accounts = sorted({s.account for s in plan.skipped})
        out += f"; {len(accounts)} account{'s' if len(accounts) != 1 else ''} left out (errors)"
    return out


def _shown(record: Record) -> str:
    if record.type == "TXT":
        return " ".join(f'"{s}"' for s in txt_chunks(record.content))
    return record.content


def _why(c: Change) -> str:
    r = c.record
    what = c.reason.value if c.reason is not None else r.purpose.value
    return f"{what}, account {r.account}" + (f"; {r.condition}" if r.condition else "")


def _left_out(plan: Plan) -> list[str]:
    """One line per reason: a zone over its quota leaves out all its accounts at once."""
    by_message: dict[str, list[str]] = {}
    for s in plan.skipped:
        by_message.setdefault(s.message, []).append(s.account)
    return [
        f"left out: account{'s' if len(a) > 1 else ''} {', '.join(a)}: {m}"
        for m, a in by_message.items()
    ]


def render_text(plan: Plan) -> str:
    out = [f"Plan ({'live' if plan.live else 'offline'}): {_summary(plan)}"]
    out += [f"seal: {_seal(plan)} (compare with the one `apply` shows)"] if plan.live else []
    out += [f"note: {n}" for n in plan.notes]
    out += _left_out(plan)
    for z in plan.zones:
        out.append("")
        out.append(f"zone {z.zone} ({z.provider}; accounts: {', '.join(z.accounts)})")
        if not z.changes and not z.held:
            out.append("  no changes")
        for c in z.changes:
            r = c.record
            out.append(f"  {SYMBOL[c.action]} {r.type:<5} {r.name}  {_shown(r)}")
            out.append(f"          {_why(c)}")
            if c.existing is not None and c.action == UPDATE:
                out.append(f"          was: {c.existing.get('content')}")
        for c in z.held:
            r = c.record
            out.append(f"  held: - {r.type:<5} {r.name}  {_shown(r)}")
            out.append(f"          {_why(c)}; not applied: release with {c.release}")
    if not plan.zones:
        out.append("")
        out.append("No account uses the hosted service: no DNS record is needed.")
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_row(verb: str, c: Change) -> str:
    r = c.record
    content = f"`{_md_cell(_shown(r))}`"
    if c.existing is not None and c.action == UPDATE:  # as the text format: what it replaces
        content += f" (was `{_md_cell(str(c.existing.get('content')))}`)"
    return (
        f"| {verb} | {r.type} | `{r.name}` | {content} "
        f"| Auto | DNS only | {_md_cell(_md_purpose(c))} |"
    )


def _md_purpose(c: Change) -> str:
    r = c.record
    what = c.reason.value if c.reason is not None else r.purpose.value
    return f"{what} ({r.account})" + (f" — {r.condition}" if r.condition else "")


def render_markdown(plan: Plan) -> str:
    out = [f"## DNS plan ({'live' if plan.live else 'offline'})", "", f"**{_summary(plan)}**", ""]
    out += [f"Seal: `{_seal(plan)}`", ""] if plan.live else []
    out += [f"> {n}" for n in plan.notes]
    if plan.skipped:
        out += ["", "Left out of this plan (errors):", ""]
        out += [f"- `{s.account}`: {_md_cell(s.message)}" for s in plan.skipped]
    for z in plan.zones:
        out += [
            "",
            f"### Zone `{z.zone}` ({z.provider})",
            "",
            f"Accounts: {', '.join(f'`{a}`' for a in z.accounts)}",
            "",
        ]
        if not z.changes and not z.held:
            out.append("No changes.")
            continue
        out += [
            "| | Type | Name | Content | TTL | Proxy | Purpose |",
            "|---|---|---|---|---|---|---|",
        ]
        out += [_md_row(VERB[c.action], c) for c in z.changes]
        out += [_md_row(f"held: delete (`{c.release}`)", c) for c in z.held]
        out += ["", _md_next_step(plan, z)]
    return "\n".join(out) + "\n"


def _md_next_step(plan: Plan, zone: ZonePlan) -> str:
    """What a reader does with the zone's rows: it depends on who writes the zone."""
    if zone.provider == MANUAL:
        return (
            "For the DNS administrator: add these records at the zone's DNS provider, TTL "
            "automatic (or 300 s) and, on Cloudflare, the proxy off (DNS only); "
            "`ametrika-gitops plan --format zone` gives them as BIND lines to paste."
        )
    if plan.live:
        return "Nothing to do by hand: `ametrika-gitops apply` makes these changes once approved."
    return (
        "Nothing to do by hand: with `CLOUDFLARE_API_TOKEN`, `ametrika-gitops plan` compares "
        "these records with the live zone and `ametrika-gitops apply` makes the changes."
    )


def render_json(plan: Plan) -> str:
    return canonical(sealed_data(plan))


def _bind_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _bind_data(rtype: str, content: str) -> str:
    if rtype == "TXT":
        return " ".join(_bind_string(s) for s in txt_chunks(content))
    return f"{content.rstrip('.')}."


def _bind_line(r: Record) -> str:
    return f"{r.name}.\t{BIND_TTL}\tIN\t{r.type}\t{_bind_data(r.type, r.content)}"


def _old_line(c: Change) -> str:
    e = c.existing or {}
    rtype = str(e.get("type", c.record.type))
    content = normalize_content(rtype, str(e.get("content", "")))
    return f"{c.record.name}.\t{BIND_TTL}\tIN\t{rtype}\t{_bind_data(rtype, content)}"


def render_zone(plan: Plan) -> str:
    out = [f"; ametrika-gitops DNS plan ({'live' if plan.live else 'offline'}): {_summary(plan)}"]
    for z in plan.zones:
        out += [";", f"; zone {z.zone} ({z.provider}); accounts: {', '.join(z.accounts)}"]
        for c in z.changes:
            r = c.record
            if c.action == DELETE:
                out.append(f"; delete: {_bind_line(r)}")
                continue
            out.append(
                f"; {r.purpose} (account {r.account})" + (f"; {r.condition}" if r.condition else "")
            )
            if c.action == UPDATE:
                # pasted as is, the new line would sit beside the old one (two TXT records)
                out.append(f"; REPLACES (delete it first): {_old_line(c)}")
            out.append(_bind_line(r))
        for c in z.held:
            out.append(f"; held, not applied (release with {c.release}): {_bind_line(c.record)}")
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Plan], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
    "zone": render_zone,
}
