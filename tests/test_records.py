"""The hosted record set of design §5: the DNS records the hosted service needs (H7)."""

from __future__ import annotations

from dataclasses import replace

from ametrika_gitops.config.model import Account, Dmarc, Hosted, Mode, Sender
from ametrika_gitops.dns.records import (
    desired_records,
    dmarc_content,
    organizational_domain,
    txt_chunks,
)

HOSTED = Hosted(
    domain="mail.acme.fr",
    from_address="r@mail.acme.fr",
    verification="tok.123456",
    return_path="amb",
    click_tracking=True,
    dmarc=Dmarc(),
    provider="cloudflare",
    zone=None,
)


def account(hosted: Hosted | None = HOSTED, mode: Mode = "hosted") -> Account:
    sender = Sender(mode, "ACME", "r@mail.acme.fr", None, None, hosted)
    return Account("acme", "ACME", ("@a",), ("fr",), sender, (), {}, "accounts/acme.yaml")


def table(acc: Account) -> list[tuple[str, str, str, str]]:
    return [(r.purpose, r.type, r.name, r.content) for r in desired_records(acc)]


def test_full_record_set_in_the_design_order() -> None:
    assert table(account()) == [
        ("ownership", "TXT", "_ametrika.mail.acme.fr", "ametrika-domain-verification=tok.123456"),
        ("dkim-active", "CNAME", "amk1._domainkey.mail.acme.fr", "amk1.acme.dkim.ametrika.com"),
        ("dkim-standby", "CNAME", "amk2._domainkey.mail.acme.fr", "amk2.acme.dkim.ametrika.com"),
        ("return-path", "CNAME", "amb.mail.acme.fr", "acme.bounces.ametrika.com"),
        (
            "dmarc",
            "TXT",
            "_dmarc.mail.acme.fr",
            "v=DMARC1; p=none; rua=mailto:acme@dmarc.ametrika.com",
        ),
        ("click-tracking", "CNAME", "links.mail.acme.fr", "track.ametrika.com"),
    ]


def test_optional_records_follow_the_settings() -> None:
    minimal = replace(HOSTED, verification=None, click_tracking=False, return_path="bounce")
    purposes = [p for p, *_ in table(account(minimal))]
    assert purposes == ["dkim-active", "dkim-standby", "return-path", "dmarc"]
    assert ("return-path", "CNAME", "bounce.mail.acme.fr", "acme.bounces.ametrika.com") in table(
        account(minimal)
    )


def test_no_records_outside_the_hosted_mode() -> None:
    assert desired_records(account(None, "smtp")) == ()
    assert desired_records(account(None, "ametrika")) == ()


def test_mail_records_are_never_proxied_and_ttl_is_automatic() -> None:
    for r in desired_records(account()):
        assert r.proxied is False and r.ttl == 1
        assert r.comment == "managed-by=ametrika-gitops account=acme"


def test_dmarc_content_and_its_condition() -> None:
    d = Dmarc(
        policy="reject",
        rua="mailto:a@acme.fr",
        subdomain_policy="quarantine",
        pct=50,
        adkim="s",
        aspf="r",
        ruf="mailto:f@acme.fr",
    )
    assert dmarc_content("acme", replace(HOSTED, dmarc=d)) == (
        "v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; aspf=r; rua=mailto:a@acme.fr; "
        "ruf=mailto:f@acme.fr"
    )
    dmarc = next(r for r in desired_records(account()) if r.purpose == "dmarc")
    assert dmarc.condition == "only if no DMARC record exists at mail.acme.fr or acme.fr"


def test_organizational_domain_uses_the_public_suffix_list() -> None:
    assert organizational_domain("mail.acme.co.uk") == "acme.co.uk"
    assert organizational_domain("Mail.ACME.fr.") == "acme.fr"
    assert organizational_domain("a.b.xn--caf-dma.fr") == "xn--caf-dma.fr"


def test_txt_chunks_split_at_255_bytes() -> None:
    assert txt_chunks("a" * 600) == ["a" * 255, "a" * 255, "a" * 90]
    assert txt_chunks("short") == ["short"]
    assert all(len(c.encode()) <= 255 for c in txt_chunks("é" * 300))
