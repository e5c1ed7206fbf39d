"""Desired records against a live zone: the pure heart of a live plan (design §5, §6).

Values are normalised before comparing (case, trailing dots, TXT quoting and chunking,
automatic TTL, proxied), so that a plan made right after an apply is empty. An account that
cannot be planned safely (a record of someone else in the way, a delegation below which
nothing is served) is left out whole, and the other accounts of the zone go on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ametrika_gitops.canonical import digest
from ametrika_gitops.config.model import CLOUDFLARE
from ametrika_gitops.dns import dmarc
from ametrika_gitops.dns.names import at_or_below, normalize_name
from ametrika_gitops.dns.plan import CREATE, DELETE, UPDATE, Change, Reason, ZonePlan
from ametrika_gitops.dns.provider import LiveRecord, ZoneInfo
from ametrika_gitops.dns.records import Purpose, Record, purpose_of


def unquote_txt(content: str) -> str:
    """'"v=DMARC1; " "p=none"' and 'v=DMARC1; p=none' are the same TXT value."""
    s = content.strip()
    if not s.startswith('"'):
        return s
    return "".join(
        m.group(1).replace('\\"', '"').replace("\\\\", "\\")
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', s)
    )


def normalize_content(rtype: str, content: str) -> str:
    if rtype == "TXT":
        return unquote_txt(content)
    if rtype in ("CNAME", "NS", "MX"):
        return normalize_name(content)
    return content


def delegations(zone: str, live: Iterable[LiveRecord]) -> list[LiveRecord]:
    """NS records below the apex: below them the zone's records are not served."""
    return [r for r in live if r.type == "NS" and normalize_name(r.name) != zone]


def fingerprint(zone: str, live: Iterable[LiveRecord], watched: Iterable[str]) -> str:
    """A digest of the live records a plan depends on: those at the names it watches, and
    the zone's delegations (a new one would hide records). Other edits leave it unchanged."""
    names = set(watched)
    kept = [
        r.as_dict()
        for r in live
        if normalize_name(r.name) in names or (r.type == "NS" and normalize_name(r.name) != zone)
    ]
    return digest(sorted(kept, key=lambda d: str(d["id"])))


DOMAIN = ("sender", "hosted", "domain")


@dataclass(frozen=True)
class Finding:
    """Something about one account: an error leaves the account out of the plan."""

    account: str
    code: str
    message: str
    hint: str = ""
    warning: bool = False
    at: tuple[str, ...] = DOMAIN  # where in the account file it points


CONFLICT_HINT = (
    "ametrika-gitops never replaces a record it did not create: remove or rename that record "
    "in Cloudflare, or choose another sending domain; the other accounts go on"
)


def _describe(existing: LiveRecord, scope: str) -> str:
    mark = existing.mark
    if mark is None:
        whose = "not managed by ametrika-gitops"
    elif mark.scope != scope:
        whose = f"managed by another repository (scope {mark.scope or 'none'!r})"
    else:
        whose = f"managed for account {mark.account}"
    return (
        f"a {existing.type} record {whose} stands there (id {existing.id}, content "
        f"{normalize_content(existing.type, existing.content)!r})"
    )


def adoptable(record: Record, live: LiveRecord, scope: str) -> bool:
    """Same type and content, and not the tool's in this scope: ``adopt`` may take it."""
    return (
        live.type == record.type
        and normalize_content(live.type, live.content)
        == normalize_content(record.type, record.content)
        and live.owner_in(scope) is None
    )


@dataclass(frozen=True)
class ZoneDiff:
    plan: ZonePlan
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class _State:
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)  # live ids kept as they are
    watched: set[tuple[str, str]] = field(default_factory=set)  # (account, name)


def _same(record: Record, live: LiveRecord, scope: str) -> bool:
    return (
        normalize_content(live.type, live.content) == normalize_content(record.type, record.content)
        and live.ttl == record.ttl
        and live.proxied == record.proxied
        and (live.comment or "") == record.comment_in(scope)
    )


def _dmarc_at(records: list[LiveRecord], zone: str, scope: str, account: str) -> dmarc.Found:
    """A DMARC record at a _dmarc name that is not this account's own (a TXT, or a CNAME)."""
    for r in records:
        if r.owner_in(scope) == account:
            continue
        if r.type == "CNAME":
            return dmarc.Existing(normalize_name(r.name), f"zone {zone}", f"CNAME {r.content}")
        text = normalize_content("TXT", r.content) if r.type == "TXT" else ""
        if dmarc.is_dmarc_text(text):
            return dmarc.Existing(normalize_name(r.name), f"zone {zone}", text)
    return None


def _plan_record(
    rec: Record,
    here: list[LiveRecord],
    zone: str,
    scope: str,
    st: _State,
) -> None:
    """One desired record: a change, a note, or a finding against its account."""
    if rec.type == "CNAME":
        blockers = [r for r in here if r.owner_in(scope) != rec.account]
    else:
        blockers = [r for r in here if r.type == "CNAME" and r.owner_in(scope) != rec.account]
    twins = [r for r in here if adoptable(rec, r, scope)]
    if twins and all(b in twins for b in blockers):
        st.claimed.update(r.id for r in twins)
        st.notes.append(
            f"{zone}: {rec.type} {rec.name} is already published with this content but not "
            f"managed ({rec.purpose}, account {rec.account}); left as it is: "
            f"`ametrika-gitops adopt {rec.account}` takes it over"
        )
        return
    if blockers:
        st.findings.append(
            Finding(
                rec.account,
                "dns-conflict",
                f"{rec.type} {rec.name} is needed ({rec.purpose}), but "
                + _describe(blockers[0], scope),
                CONFLICT_HINT,
            )
        )
        return
    mine = [
        r
        for r in here
        if r.type == rec.type and r.owner_in(scope) == rec.account and r.id not in st.claimed
    ]
    if not mine:
        st.changes.append(Change(CREATE, rec))
        return
    keep = next((r for r in mine if normalize_content(r.type, r.content) == rec.content), mine[0])
    st.claimed.add(keep.id)
    if not _same(rec, keep, scope):
        st.changes.append(Change(UPDATE, rec, keep.as_dict()))
        if rec.purpose == Purpose.DMARC and dmarc.weakens(
            rec.content, normalize_content("TXT", keep.content)
        ):
            st.findings.append(
                Finding(
                    rec.account,
                    "dmarc-weaker",
                    f"this change weakens the DMARC policy of {rec.name[len('_dmarc.') :]} "
                    f"from {normalize_content('TXT', keep.content)!r} to {rec.content!r}",
                    "make sure this is wanted: mail that fails authentication will be "
                    "delivered more often",
                    warning=True,
                    at=("sender", "hosted", "dmarc", "policy"),
                )
            )


def _skip_delegated(
    zone: str, desired: list[Record], live: list[LiveRecord], st: _State
) -> set[str]:
    """Accounts with a record at or below an NS delegation inside the zone."""
    cuts = delegations(zone, live)
    shadowed = {r.id: r for r in live if r.shadowed_by}
    out: set[str] = set()
    for rec in desired:
        if rec.account in out:
            continue
        ns = next((n for n in cuts if at_or_below(rec.name, normalize_name(n.name))), None)
        if ns is None:
            hit = next((r for r in shadowed.values() if normalize_name(r.name) == rec.name), None)
            if hit is None:
                continue
            ns_id = hit.shadowed_by[0]
            ns = next((n for n in live if n.id == ns_id), None)
        out.add(rec.account)
        where = (
            f"the NS record {normalize_name(ns.name)} → {normalize_name(ns.content)} (id {ns.id})"
            if ns is not None
            else "an NS delegation"
        )
        st.findings.append(
            Finding(
                rec.account,
                "dns-delegated",
                f"{rec.name} is below {where} in zone {zone}: Cloudflare would store the "
                "records but never serve them (shadowed)",
                "write the records in the zone that the delegation points to (its "
                "dns.zone, on a provider the token reaches, or provider: manual for its DNS "
                "administrator), or remove the delegation",
            )
        )
    return out


def diff_zone(
    zone: ZoneInfo,
    desired: list[Record],
    live: list[LiveRecord],
    scope: str,
    in_scope: set[str],
    known: set[str] | None,
    org_of: Mapping[str, str],
    outside: Mapping[str, dmarc.Found] | None = None,
) -> ZoneDiff:
    """Plan one zone.

    ``in_scope``: accounts of this run; their managed records not desired are deleted.
    ``known``: every account of the repository when the run covers it all, else None; managed
    records (in this scope) of accounts not in it are deleted too (the account was removed).
    ``org_of``: organisational domain of each sending domain; ``outside``: the DMARC record of
    the organisational domains whose _dmarc name is not in this zone (another zone, DNS).
    """
    by_name: dict[str, list[LiveRecord]] = {}
    for r in live:
        by_name.setdefault(normalize_name(r.name), []).append(r)
    outside = outside or {}
    st = _State()
    skipped = _skip_delegated(zone.name, desired, live, st)
    for rec in desired:
        if rec.account in skipped:
            continue
        st.watched.add((rec.account, rec.name))
        here = by_name.get(rec.name, [])
        if rec.purpose == Purpose.DMARC:
            domain = rec.name[len("_dmarc.") :]
            org = org_of.get(domain, domain)
            org_name = f"_dmarc.{org}"
            at_org: dmarc.Found = None
            if org != domain:
                if at_or_below(org_name, zone.name):
                    st.watched.add((rec.account, org_name))
                    at_org = _dmarc_at(by_name.get(org_name, []), zone.name, scope, "")
                else:
                    at_org = outside.get(org)
            at_domain = _dmarc_at(here, zone.name, scope, rec.account)
            twin = next((r for r in here if adoptable(rec, r, scope)), None)
            decision = dmarc.decide(domain, org, at_domain, at_org)
            if not decision.publish:
                if twin is not None:
                    st.claimed.add(twin.id)
                    decision = dmarc.Decision(
                        False,
                        decision.note + f"; `ametrika-gitops adopt {rec.account}` takes it over",
                    )
                st.notes.append(f"{zone.name}: {decision.note} (account {rec.account})")
                if decision.warning:
                    st.findings.append(
                        Finding(rec.account, "dmarc-unknown", decision.note, "", warning=True)
                    )
                continue
        _plan_record(rec, here, zone.name, scope, st)
    failed = skipped | {f.account for f in st.findings if not f.warning}
    changes = [c for c in st.changes if c.record.account not in failed]
    for r in live:
        owner = r.owner_in(scope)
        if owner is None or r.id in st.claimed or owner in failed:
            continue
        if owner in in_scope:
            reason = Reason.NO_LONGER_NEEDED
        elif known is not None and owner not in known:
            reason = Reason.ACCOUNT_REMOVED
        else:
            continue  # an account outside this run: not ours to judge
        name = normalize_name(r.name)
        content = normalize_content(r.type, r.content)
        gone = Record(
            name, r.type, content, purpose_of(name, r.type, content), owner, r.ttl, r.proxied
        )
        changes.append(Change(DELETE, gone, r.as_dict(), reason))
        st.watched.add((owner, name))
    accounts = sorted(
        {c.record.account for c in changes}
        | {d.account for d in desired if d.account not in failed}
    )
    watched = tuple(sorted({n for a, n in st.watched if a not in failed}))
    plan = ZonePlan(
        zone.name,
        CLOUDFLARE,
        tuple(sorted(changes, key=lambda c: c.key)),
        tuple(accounts),
        fingerprint(zone.name, live, watched),
        zone.id,
        zone.batch_limit,
        watched,
    )
    return ZoneDiff(plan, tuple(st.findings), tuple(st.notes))
