"""The compiler's records and the signer agree, before anything touches real DNS: apply an
account to the Cloudflare emulator, serve that zone from a DNS server on loopback, sign a
compiled e-mail with the platform key behind the DKIM CNAME, and check it as a receiver would:
DKIM (dkimpy), SPF (pyspf) and DMARC alignment (H7)."""

from __future__ import annotations

import dkim
import dns.resolver
import pytest
import spf
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ametrika_gitops.check.pipeline import check_files
from ametrika_gitops.check.project import Project, account_files
from ametrika_gitops.dns.diff import unquote_txt
from ametrika_gitops.dns.records import organizational_domain
from ametrika_gitops.mail.message import build_message, envelope_sender, message_bytes

from .cloudflare_helpers import Env
from .dns_helpers import Zones, dns_server, resolver
from .test_verify import dkim_txt

PLATFORM_IP = "203.0.113.25"


def test_applied_records_let_a_signed_compiled_email_pass(
    cf: Env,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cf.run("apply", "--auto-approve")[0] == 0
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    zones = Zones()
    for r in cf.emu.records("acme.fr"):  # the zone exactly as the API holds it
        zones.add(
            r["type"], r["name"], unquote_txt(r["content"]) if r["type"] == "TXT" else r["content"]
        )
    zones.add("MX", "acme.fr", "10 mx.acme.fr")
    zones.add("TXT", "amk1.acme.dkim.ametrika.com", dkim_txt(key))  # the platform's side
    zones.add("TXT", "amk2.acme.dkim.ametrika.com", dkim_txt(key))
    zones.add("TXT", "acme.bounces.ametrika.com", "v=spf1 ip4:203.0.113.0/24 -all")
    zones.add("MX", "acme.bounces.ametrika.com", "10 mx.bounces.ametrika.com")  # bounces
    zones.add("A", "track.ametrika.com", "203.0.113.80")

    project = Project.open(cf.repo)
    (checked,) = check_files(
        project, account_files((cf.repo / "accounts" / "acme.yaml",), project.root)
    )
    account = checked.account
    assert account is not None and account.sender.hosted is not None
    mail = next(e for e in checked.emails if (e.type_id, e.locale) == ("insights", "fr"))
    raw = message_bytes(build_message(account, mail, "qa@acme.fr"))
    domain = account.sender.hosted.domain
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signed = dkim.sign(
        raw,
        b"amk1",
        domain.encode(),
        pem,
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )

    with dns_server(zones) as port:
        res = resolver(port)

        def txt(name: bytes, timeout: int = 5) -> bytes:  # dkimpy's DNS hook, our server
            answer = res.resolve(name.decode().rstrip("."), "TXT")
            return b"".join(answer[0].strings)

        assert dkim.verify(signed + raw, dnsfunc=txt)  # DKIM passes, d= the sending domain
        sender = envelope_sender(account)
        saved = dns.resolver.default_resolver
        dns.resolver.default_resolver = res  # pyspf asks the default resolver: ours
        try:
            result, _ = spf.check2(i=PLATFORM_IP, s=sender, h="mta.ametrika.com")
        finally:
            dns.resolver.default_resolver = saved
        assert result == "pass"
        # DMARC: DKIM aligns strictly (d= is the From domain), SPF relaxed (same org domain)
        from_domain = account.sender.from_address.rpartition("@")[2]
        assert from_domain == domain
        assert organizational_domain(sender.rpartition("@")[2]) == organizational_domain(
            from_domain
        )

        monkeypatch.setenv("AMETRIKA_PLATFORM_SENDING_IPS", PLATFORM_IP)
        code, out, _ = cf.run("verify", "acme", "--nameserver", f"127.0.0.1:{port}")
    assert code == 0, out
    assert "acme: all required records verified" in out
