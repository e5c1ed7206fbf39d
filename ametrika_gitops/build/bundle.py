"""Compiled bundles: one deterministic JSON document per account, and a manifest."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ametrika_gitops.canonical import digest, seal
from ametrika_gitops.render.emails import Email, Footer, Part
from ametrika_gitops.config.model import Account
from ametrika_gitops.dns.records import desired_records, zone_guess
from ametrika_gitops.check.pipeline import Checked

FORMAT_VERSION = 1


def _format_from(name: str, address: str) -> str:
    # Display only: the transport (test-send) encodes headers with the email package.
    return f"{name} <{address}>"


def sender_data(account: Account) -> dict[str, Any]:
    s = account.sender
    out: dict[str, Any] = {
        "mode": s.mode,
        "from": {"name": s.from_name, "address": s.from_address,
                 "header": _format_from(s.from_name, s.from_address)},
        "reply_to": s.reply_to,
        "smtp": None,
        "hosted": None,
    }
    if s.smtp:
        out["smtp"] = {"host": s.smtp.host, "port": s.smtp.port, "security": s.smtp.security,
                       "username": s.smtp.username,
                       "password": {"env": s.smtp.password_env}}  # a reference, never a value
    if s.hosted:
        h = s.hosted
        out["hosted"] = {"domain": h.domain, "from_address": h.from_address,
                         "return_path": f"{h.return_path}.{h.domain}",
                         "click_tracking": h.click_tracking, "provider": h.provider,
                         "zone": zone_guess(account), "zone_explicit": h.zone is not None}
    return out


def _part(part: Part) -> dict[str, Any]:
    src = part.source
    return {"origin": src.origin, "file": src.file, "source": src.text,
            "rendered": part.output}


def _email(email: Email) -> dict[str, Any]:
    return {"origin": "override" if email.overridden else "original",
            "parts": {name: _part(p) for name, p in sorted(email.parts.items())}}


def _footer(footer: Footer) -> dict[str, Any]:
    overridden = any(p.source.origin == "override" for p in footer.parts.values())
    return {"origin": "override" if overridden else "original",
            "parts": {name: _part(p) for name, p in sorted(footer.parts.items())}}


def build_bundle(checked: Checked) -> tuple[dict[str, Any], str]:
    """The bundle of one valid account, and its compact JSON text."""
    account = checked.account
    assert account is not None
    templates: dict[str, dict[str, Any]] = {}
    for email in checked.emails:
        templates.setdefault(email.type_id, {})[email.locale] = _email(email)
    body: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "account": {"id": account.id, "name": account.name, "admins": list(account.admins),
                    "locales": list(account.locales), "source": account.source},
        "sender": sender_data(account),
        "test": {"recipients": list(account.recipients)},
        "templates": templates,
        "footer": {f.locale: _footer(f) for f in checked.footers},
        "dns": {"records": [asdict(r) | {"comment": r.comment}
                            for r in desired_records(account)]},
    }
    return seal(body)


def build_manifest(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    accounts = [{"id": b["account"]["id"], "mode": b["sender"]["mode"],
                 "bundle": f"{b['account']['id']}.json", "hash": b["hash"],
                 "source": b["account"]["source"],
                 "overridden": sorted(f"{t}/{loc}" for t, per in b["templates"].items()
                                      for loc, e in per.items() if e["origin"] == "override")}
                for b in sorted(bundles, key=lambda b: str(b["account"]["id"]))]
    body = {"format_version": FORMAT_VERSION, "accounts": accounts}
    return body | {"hash": digest(body)}
