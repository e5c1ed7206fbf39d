"""The validated account, as immutable values built once from a schema-valid document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

# The values the schema allows; behaviour is decided on these names, never on free strings.
Mode = Literal["ametrika", "analytics-report", "smtp", "hosted"]
AMETRIKA: Mode = "ametrika"
ANALYTICS_REPORT: Mode = "analytics-report"  # the white label (H6)
SMTP: Mode = "smtp"
HOSTED: Mode = "hosted"
Security = Literal["ssl-tls", "starttls", "none"]
Provider = Literal["cloudflare", "manual"]
CLOUDFLARE: Provider = "cloudflare"
MANUAL: Provider = "manual"

PLATFORM_ADDRESSES: dict[Mode, str] = {
    AMETRIKA: "no-reply@ametrika.com",
    ANALYTICS_REPORT: "no-reply@analytics-report.com",
}
DEFAULT_PORTS: dict[Security, int] = {"ssl-tls": 465, "starttls": 587, "none": 25}


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: Security
    username: str
    password_env: str
    from_address: str


@dataclass(frozen=True)
class Dmarc:
    policy: str = "none"
    rua: str | None = None
    subdomain_policy: str | None = None
    ruf: str | None = None
    pct: int | None = None
    adkim: str | None = None
    aspf: str | None = None


@dataclass(frozen=True)
class Hosted:
    domain: str
    from_address: str
    verification: str | None
    return_path: str
    click_tracking: bool
    dmarc: Dmarc
    provider: Provider
    zone: str | None


@dataclass(frozen=True)
class Sender:
    mode: Mode
    from_name: str
    from_address: str
    reply_to: str | None
    smtp: Smtp | None
    hosted: Hosted | None


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    admins: tuple[str, ...]
    locales: tuple[str, ...]
    sender: Sender
    recipients: tuple[str, ...]
    # templates[type][locale][part] = inline text or {"file": path}; "footer" is a type here
    overrides: Mapping[str, Mapping[str, Mapping[str, Any]]]
    source: str

    def bound(self) -> dict[str, Any]:
        """Catalogue variables that take their value from the account (``bind:``)."""
        return {"account.id": self.id, "account.name": self.name, "sender.mode": self.sender.mode}


def build_account(data: Mapping[str, Any], source: str) -> Account:
    acc, snd = data["account"], data["sender"]
    mode = cast(Mode, snd["mode"])
    smtp = hosted = None
    if mode == SMTP:
        s = snd["smtp"]
        security = cast(Security, s.get("security", "ssl-tls"))
        smtp = Smtp(
            s["host"].rstrip(".").lower(),
            int(s.get("port", DEFAULT_PORTS[security])),
            security,
            s["username"],
            s["password"]["env"],
            s["from_address"],
        )
        address = smtp.from_address
    elif mode == HOSTED:
        h = snd["hosted"]
        dns = h.get("dns", {"provider": "manual"})
        zone = dns.get("zone")
        hosted = Hosted(
            domain=h["domain"].rstrip(".").lower(),
            from_address=h["from_address"],
            verification=h.get("verification"),
            return_path=h.get("return_path", "amb"),
            click_tracking=bool(h.get("click_tracking", False)),
            dmarc=Dmarc(**{k: v for k, v in h.get("dmarc", {}).items()}),
            provider=cast(Provider, dns["provider"]),
            zone=zone.rstrip(".").lower() if zone else None,
        )
        address = hosted.from_address
    else:
        address = PLATFORM_ADDRESSES[mode]
    sender = Sender(mode, snd["from_name"], address, snd.get("reply_to"), smtp, hosted)
    return Account(
        id=acc["id"],
        name=acc["name"],
        admins=tuple(acc["admins"]),
        locales=tuple(acc["locales"]),
        sender=sender,
        recipients=tuple(data.get("test", {}).get("recipients", [])),
        overrides=data.get("templates", {}),
        source=source,
    )
