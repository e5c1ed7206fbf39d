"""Compiled bundles: one typed, frozen value per account, serialised only when written.

A bundle is what an account compiles to: the resolved sender, every e-mail and footer (source,
origin and rendered sample) and the DNS record set. Its JSON form (``Bundle.sealed()``) is
deterministic; readers of a revision (review, --changed-since) use the value, not the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ametrika_gitops.canonical import digest, seal
from ametrika_gitops.check.pipeline import Checked
from ametrika_gitops.config.model import Account
from ametrika_gitops.dns.records import Record, desired_records, zone_guess
from ametrika_gitops.render.emails import Email, Footer, Part
from ametrika_gitops.render.engine import ORIGIN_ORIGINAL, ORIGIN_OVERRIDE, Origin

FORMAT_VERSION = 1
FOOTER = "footer"


@dataclass(frozen=True)
class BundlePart:
    """One part (subject, html, text) of an e-mail as compiled."""

    origin: Origin
    file: str
    source: str
    rendered: str

    @classmethod
    def of(cls, part: Part) -> BundlePart:
        src = part.source
        return cls(src.origin, src.file, src.text, part.output)


@dataclass(frozen=True)
class BundleEmail:
    """An e-mail type (or the footer) in one locale."""

    kind: str  # an e-mail type id, or "footer"
    locale: str
    parts: Mapping[str, BundlePart]

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.locale}"

    @property
    def origin(self) -> Origin:
        overridden = any(p.origin == ORIGIN_OVERRIDE for p in self.parts.values())
        return ORIGIN_OVERRIDE if overridden else ORIGIN_ORIGINAL

    def data(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "parts": {name: asdict(p) for name, p in sorted(self.parts.items())},
        }


@dataclass(frozen=True)
class Bundle:
    account: Account
    emails: tuple[BundleEmail, ...]  # by (type, locale)
    footers: tuple[BundleEmail, ...]  # by locale
    records: tuple[Record, ...]

    @property
    def id(self) -> str:
        return self.account.id

    @property
    def mails(self) -> dict[str, BundleEmail]:
        """Every e-mail and footer by key ("insights/fr", "footer/fr")."""
        return {m.key: m for m in (*self.emails, *self.footers)}

    @property
    def overridden(self) -> list[str]:
        """The e-mails (type/locale) with at least one overridden part."""
        return sorted(e.key for e in self.emails if e.origin == ORIGIN_OVERRIDE)

    @property
    def footers_overridden(self) -> list[str]:
        return sorted(f.locale for f in self.footers if f.origin == ORIGIN_OVERRIDE)

    def sender_data(self) -> dict[str, Any]:
        return sender_data(self.account)

    def sender_digest(self) -> str:
        return digest(self.sender_data())

    def data(self) -> dict[str, Any]:
        """The JSON form (without its hash); documented by the bundle's format_version."""
        account = self.account
        templates: dict[str, dict[str, Any]] = {}
        for email in self.emails:
            templates.setdefault(email.kind, {})[email.locale] = email.data()
        return {
            "format_version": FORMAT_VERSION,
            "account": {
                "id": account.id,
                "name": account.name,
                "admins": list(account.admins),
                "locales": list(account.locales),
                "source": account.source,
            },
            "sender": self.sender_data(),
            "test": {"recipients": list(account.recipients)},
            "templates": templates,
            "footer": {f.locale: f.data() for f in self.footers},
            "dns": {"records": [asdict(r) | {"comment": r.comment} for r in self.records]},
        }

    def sealed(self) -> tuple[str, str]:
        """(hash, compact JSON text) of the bundle, as written to disk."""
        body, text = seal(self.data())
        return str(body["hash"]), text


def _format_from(name: str, address: str) -> str:
    # Display only: the transport (test-send) encodes headers with the email package.
    return f"{name} <{address}>"


def sender_data(account: Account) -> dict[str, Any]:
    """The resolved sender as data: what a reviewer compares between two revisions."""
    s = account.sender
    out: dict[str, Any] = {
        "mode": s.mode,
        "from": {
            "name": s.from_name,
            "address": s.from_address,
            "header": _format_from(s.from_name, s.from_address),
        },
        "reply_to": s.reply_to,
        "smtp": None,
        "hosted": None,
    }
    if s.smtp:
        out["smtp"] = {
            "host": s.smtp.host,
            "port": s.smtp.port,
            "security": s.smtp.security,
            "username": s.smtp.username,
            "password": {"env": s.smtp.password_env},  # a reference, never a value
        }
    if s.hosted:
        h = s.hosted
        out["hosted"] = {
            "domain": h.domain,
            "from_address": h.from_address,
            "return_path": f"{h.return_path}.{h.domain}",
            "click_tracking": h.click_tracking,
            "provider": h.provider,
            "zone": zone_guess(account),
            "zone_explicit": h.zone is not None,
        }
    return out


def _email(email: Email) -> BundleEmail:
    parts = {name: BundlePart.of(p) for name, p in email.parts.items()}
    return BundleEmail(email.type_id, email.locale, parts)


def _footer(footer: Footer) -> BundleEmail:
    parts = {name: BundlePart.of(p) for name, p in footer.parts.items()}
    return BundleEmail(FOOTER, footer.locale, parts)


def build_bundle(checked: Checked) -> Bundle:
    """The bundle of one valid account."""
    account = checked.account
    assert account is not None
    return Bundle(
        account,
        tuple(_email(e) for e in checked.emails),
        tuple(_footer(f) for f in checked.footers),
        tuple(desired_records(account)),
    )


@dataclass(frozen=True)
class Written:
    """A bundle as written: what the manifest lists."""

    bundle: Bundle
    hash: str
    text: str


def build_manifest(written: list[Written]) -> dict[str, Any]:
    accounts = [
        {
            "id": w.bundle.id,
            "mode": w.bundle.account.sender.mode,
            "bundle": f"{w.bundle.id}.json",
            "hash": w.hash,
            "source": w.bundle.account.source,
            "overridden": w.bundle.overridden,
        }
        for w in sorted(written, key=lambda w: w.bundle.id)
    ]
    body = {"format_version": FORMAT_VERSION, "accounts": accounts}
    return body | {"hash": digest(body)}
