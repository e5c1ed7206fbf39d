"""The checks of each record of design §5, as a receiving mail server would make them."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

import dns.resolver

from ametrika_gitops.config.model import Account
from ametrika_gitops.dns.records import Record, desired_records, organizational_domain
from ametrika_gitops.verify import doubts
from ametrika_gitops.verify.lookup import NODATA, OK, Answer, query
from ametrika_gitops.verify.spf_dns import resolver_for_pyspf
from ametrika_gitops.verify.states import (
    ADVICE,
    ADVICE_OK,
    MISSING,
    PASSING,
    UNREACHABLE,
    VERIFIED,
    WRONG,
    State,
)

PLATFORM_IPS = "AMETRIKA_PLATFORM_SENDING_IPS"


@dataclass(frozen=True)
class Check:
    account: str
    purpose: str
    rtype: str
    name: str
    state: State
    expected: str = ""
    found: str = ""
    detail: str = ""
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.required and self.state not in PASSING


@dataclass(frozen=True)
class Resolvers:
    """``zone``: asks the customer zone's servers; ``world``: everything else (platform names,
    report domains). The same resolver with --nameserver."""

    zone: dns.resolver.Resolver
    world: dns.resolver.Resolver


def _unanswered(rec: Record, ans: Answer, what: str = "") -> Check:
    state = UNREACHABLE if not ans.reachable else MISSING
    detail = f"{what}{ans.status}" if what else ans.status
    return Check(rec.account, rec.purpose, rec.type, rec.name, state, rec.content, "", detail)


def dkim_key_problem(txt: str) -> tuple[State, str]:
    """(state, detail) of the DKIM key record behind a selector."""
    import dkim.crypto
    import dkim.util

    try:
        tags = dkim.util.parse_tag_value(txt.encode())
    except Exception:  # noqa: BLE001 - dkimpy raises its own InvalidTagValueList
        return WRONG, "not a DKIM key record (tag=value; list expected)"
    if tags.get(b"v", b"DKIM1") != b"DKIM1":
        return WRONG, "v= is not DKIM1"
    if tags.get(b"k", b"rsa") != b"rsa":
        return WRONG, f"k={tags[b'k'].decode()} (rsa expected)"
    p = tags.get(b"p")
    if p is None:
        return WRONG, "no p= (public key) tag"
    if not p.strip():
        return WRONG, "empty p=: the key is revoked"
    try:
        key = dkim.crypto.parse_public_key(base64.b64decode(b"".join(p.split()), validate=True))
        bits = int(key["modulus"]).bit_length()
    except Exception:  # noqa: BLE001 - bad base64 or DER, whatever dkimpy says
        return WRONG, "p= is not a base64 DER RSA public key"
    if bits < 1024:
        return WRONG, f"{bits}-bit key: receivers reject keys under 1024 bits (RFC 8301)"
    size = f"{bits}-bit key; 2048 bits recommended" if bits < 2048 else f"{bits}-bit RSA key"
    doubt = doubts.dkim_key_doubt(tags)
    if doubt is not None:
        return doubt[0], f"{size}; {doubt[1]}"
    return VERIFIED, size


def platform_ips() -> list[str]:
    return [ip.strip() for ip in os.environ.get(PLATFORM_IPS, "").split(",") if ip.strip()]


def spf_for(
    domain: str, sender: str, ips: list[str], helo: str, resolver: dns.resolver.Resolver
) -> tuple[bool, str]:
    """Evaluate SPF (pyspf) for each address; (all pass, detail)."""
    import spf

    results = []
    with resolver_for_pyspf(resolver):
        for ip in ips:
            result, explanation = spf.check2(i=ip, s=sender, h=helo)
            results.append((ip, result, explanation))
    bad = [f"{ip}: {r}" for ip, r, _ in results if r != "pass"]
    if bad:
        return False, f"SPF of {domain} does not pass for " + ", ".join(bad)
    return True, f"SPF passes for {', '.join(ips)}"


def _check_cname(rec: Record, r: Resolvers) -> Check:
    ans = query(r.zone, rec.name, "CNAME")
    if ans.status == NODATA and rec.purpose.startswith("dkim"):
        instead = doubts.instead_of_cname(rec.name, r.zone)
        if instead is not None:
            return Check(rec.account, rec.purpose, "CNAME", rec.name, WRONG, rec.content, *instead)
    if ans.status != OK:
        return _unanswered(rec, ans)
    found = ", ".join(ans.values)
    if ans.values != (rec.content,):
        return Check(rec.account, rec.purpose, "CNAME", rec.name, WRONG, rec.content, found)
    if rec.purpose.startswith("dkim"):
        key = query(r.world, rec.content, "TXT")
        if key.status != OK:
            # The CNAME is right: what is wrong is on the platform's side, behind it.
            state = UNREACHABLE if not key.reachable else WRONG
            return Check(
                rec.account,
                rec.purpose,
                "CNAME",
                rec.name,
                state,
                f"a DKIM key (TXT v=DKIM1) at {rec.content}",
                f"no key there ({key.status})",
                f"no DKIM key behind it ({rec.content}: {key.status}); the CNAME itself is "
                "right: the platform must publish the key",
            )
        if len(key.values) != 1:
            return Check(
                rec.account,
                rec.purpose,
                "CNAME",
                rec.name,
                WRONG,
                rec.content,
                found,
                f"{len(key.values)} TXT records at {rec.content}; one key expected",
            )
        state, detail = dkim_key_problem(key.values[0])
        return Check(rec.account, rec.purpose, "CNAME", rec.name, state, rec.content, found, detail)
    if rec.purpose == "return-path":
        return _check_return_path(rec, found, r)
    return Check(rec.account, rec.purpose, "CNAME", rec.name, VERIFIED, rec.content, found)


def _check_return_path(rec: Record, found: str, r: Resolvers) -> Check:
    """The return path is a custom MAIL FROM domain: bounces go to its MX, and receivers
    check its SPF. Both must be published where the CNAME points (Amazon SES, for one,
    refuses a MAIL FROM domain without an MX)."""
    import checkdmarc.spf

    mx = query(r.world, rec.name, "MX")
    if mx.status != OK:
        state = UNREACHABLE if not mx.reachable else WRONG
        return Check(
            rec.account,
            rec.purpose,
            "CNAME",
            rec.name,
            state,
            rec.content,
            found,
            f"no MX through it ({rec.content}: {mx.status}): bounces cannot be delivered, "
            "and senders such as Amazon SES refuse a MAIL FROM domain without one; the "
            "platform must publish an MX and an SPF record at its return-path host",
        )
    result: dict[str, Any] = checkdmarc.spf.check_spf(rec.name, resolver=r.world)
    if not result.get("valid") or not result.get("record"):
        return Check(
            rec.account,
            rec.purpose,
            "CNAME",
            rec.name,
            WRONG,
            rec.content,
            found,
            f"no valid SPF record through it: {result.get('error', 'none found')}",
        )
    problem = _return_path_doubt(rec, result, r)
    if problem is not None:
        return Check(
            rec.account, rec.purpose, "CNAME", rec.name, problem[0], rec.content, found, problem[1]
        )
    ips = platform_ips()
    if not ips:
        return Check(
            rec.account,
            rec.purpose,
            "CNAME",
            rec.name,
            VERIFIED,
            rec.content,
            found,
            f"SPF valid ({result['dns_lookups']} lookups); set {PLATFORM_IPS} to "
            "evaluate it for the platform's addresses",
        )
    ok, detail = spf_for(rec.name, f"{rec.account}@{rec.name}", ips, rec.name, r.world)
    return Check(
        rec.account,
        rec.purpose,
        "CNAME",
        rec.name,
        VERIFIED if ok else WRONG,
        rec.content,
        found,
        detail,
    )


def _return_path_doubt(
    rec: Record, spf_result: dict[str, Any], r: Resolvers
) -> tuple[State, str] | None:
    """A return path whose SPF lets anyone pass, or whose MX refuses bounces."""
    nobody, _ = spf_for(
        rec.name, f"{rec.account}@{rec.name}", [doubts.NOBODY_IP], rec.name, r.world
    )
    open_to_all = doubts.spf_lets_anyone_pass(spf_result, nobody)
    if open_to_all is not None:
        return WRONG, open_to_all
    return doubts.null_mx(rec.name, r.world)


def _check_ownership(rec: Record, r: Resolvers) -> Check:
    ans = query(r.zone, rec.name, "TXT")
    if ans.status != OK:
        return _unanswered(rec, ans)
    found = " | ".join(ans.values)
    if ans.values == (rec.content,):
        return Check(rec.account, rec.purpose, "TXT", rec.name, VERIFIED, rec.content, found)
    detail = (
        f"{len(ans.values)} TXT records; exactly one expected" if rec.content in ans.values else ""
    )
    return Check(rec.account, rec.purpose, "TXT", rec.name, WRONG, rec.content, found, detail)


def _check_dmarc(rec: Record, domain: str, r: Resolvers) -> Check:
    import checkdmarc.dmarc

    probe = query(r.world, rec.name, "TXT")
    if not probe.reachable:  # checkdmarc would call a timeout "no record"
        return _unanswered(rec, probe)

    result: Any = checkdmarc.dmarc.check_dmarc(domain, resolver=r.world)
    org = organizational_domain(domain)
    if not result.get("valid"):
        error = str(result.get("error", ""))
        if (
            "does not exist" in error
            or "not have a DMARC" in error.lower()
            or not result.get("record")
            and "multiple" not in error.lower()
        ):
            return Check(
                rec.account,
                "dmarc",
                "TXT",
                rec.name,
                MISSING,
                rec.content,
                "",
                f"no DMARC record at _dmarc.{domain} nor _dmarc.{org}: {error}",
            )
        return Check(
            rec.account,
            "dmarc",
            "TXT",
            rec.name,
            WRONG,
            rec.content,
            str(result.get("record") or "") or doubts.dmarc_records(domain, r.world),
            error,
        )
    tags = result.get("tags") or result.get("parsed", {}).get("tags", {})
    _, headline, doubt = doubts.effective_dmarc(domain, result.get("location", domain), tags)
    notes = [headline]
    if tags.get("aspf", {}).get("value") == "s":
        notes.append(
            "aspf=s: SPF can never align with the return path <rp>.D; only DKIM will pass DMARC"
        )
    notes += [str(w) for w in result.get("warnings", [])]
    return Check(
        rec.account,
        "dmarc",
        "TXT",
        f"_dmarc.{result.get('location', domain)}",
        doubt or VERIFIED,
        rec.content,
        str(result.get("record", "")),
        "; ".join(notes),
    )


def verify_hosted(account: Account, r: Resolvers) -> list[Check]:
    hosted = account.sender.hosted
    assert hosted is not None
    checks = []
    for rec in desired_records(account):
        if rec.type == "CNAME":
            checks.append(_check_cname(rec, r))
        elif rec.purpose == "ownership":
            checks.append(_check_ownership(rec, r))
        elif rec.purpose == "dmarc":
            checks.append(_check_dmarc(rec, hosted.domain, r))
    return checks


def advise_smtp(account: Account, r: Resolvers) -> list[Check]:
    """Custom SMTP: advice, never a failure — the account's own DNS is its own business."""
    import checkdmarc.spf

    smtp = account.sender.smtp
    assert smtp is not None
    domain = smtp.from_address.rpartition("@")[2].lower()
    out = []
    mx = query(r.world, domain, "MX")
    out.append(
        Check(
            account.id,
            "mx",
            "MX",
            domain,
            ADVICE_OK if mx.status == OK else ADVICE,
            "",
            ", ".join(mx.values),
            "replies and bounces can reach the domain"
            if mx.status == OK
            else f"no MX ({mx.status}): replies to {domain} may not arrive",
            False,
        )
    )
    spf_result: Any = checkdmarc.spf.check_spf(domain, resolver=r.world)
    problems = []
    if not spf_result.get("valid"):
        problems.append(str(spf_result.get("error", "no valid SPF record")))
    else:
        if (spf_result.get("dns_lookups") or 0) > 10:
            problems.append(f"{spf_result['dns_lookups']} DNS lookups (limit 10, RFC 7208 §4.6.4)")
        if (spf_result.get("void_dns_lookups") or 0) > 2:
            problems.append(f"{spf_result['void_dns_lookups']} void lookups (limit 2)")
    if not problems:
        hosts = query(r.world, smtp.host, "A")
        ips = list(hosts.values) if hosts.status == OK else []
        if ips:
            ok, detail = spf_for(domain, smtp.from_address, ips, smtp.host, r.world)
            if not ok:
                problems.append(f"{detail} (the addresses of {smtp.host})")
    out.append(
        Check(
            account.id,
            "spf",
            "TXT",
            domain,
            ADVICE if problems else ADVICE_OK,
            "",
            str(spf_result.get("record") or ""),
            "; ".join(problems) or "SPF valid and authorises the SMTP server",
            False,
        )
    )
    return out
