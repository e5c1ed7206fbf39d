"""verify against a real DNS server on loopback (dnslib), queried with dnspython; keys made
per test. Design §5 (H7): the records a receiving server needs to see."""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ametrika_gitops.cli.main import main
from ametrika_gitops.verify.checks import dkim_key_problem

from .conftest import ROOT
from .dns_helpers import Zones, dns_server

PLATFORM_IP = "203.0.113.25"


def dkim_txt(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    size = (
        bytes([n])
        if n < 128
        else bytes([0x80 | ((n.bit_length() + 7) // 8)])
        + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + size + body


def weak_key_txt(bits: int) -> str:
    """An RSA public key of ``bits`` bits (cryptography refuses to make one under 1024)."""
    modulus = (1 << (bits - 1)) | 1

    def integer(v: int) -> bytes:
        return _der(0x02, v.to_bytes((v.bit_length() + 8) // 8, "big"))

    rsa_key = _der(0x30, integer(modulus) + integer(65537))
    algo = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    spki = _der(0x30, algo + _der(0x03, b"\x00" + rsa_key))
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(spki).decode()


@pytest.fixture(scope="module")
def platform_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def acme_zones(key: rsa.RSAPrivateKey) -> Zones:
    z = Zones()
    z.add("TXT", "_ametrika.mail.acme.fr", "ametrika-domain-verification=acme.Zq9x3JbT0pLw8rVn")
    z.add("CNAME", "amk1._domainkey.mail.acme.fr", "amk1.acme.dkim.ametrika.com")
    z.add("CNAME", "amk2._domainkey.mail.acme.fr", "amk2.acme.dkim.ametrika.com")
    z.add("CNAME", "amb.mail.acme.fr", "acme.bounces.ametrika.com")
    z.add("TXT", "_dmarc.mail.acme.fr", "v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.fr")
    z.add("CNAME", "links.mail.acme.fr", "track.ametrika.com")
    z.add("TXT", "amk1.acme.dkim.ametrika.com", dkim_txt(key))
    z.add("TXT", "amk2.acme.dkim.ametrika.com", dkim_txt(key))
    z.add("TXT", "acme.bounces.ametrika.com", "v=spf1 ip4:203.0.113.0/24 -all")
    z.add("MX", "acme.bounces.ametrika.com", "10 mx.bounces.ametrika.com")  # bounces arrive
    z.add("A", "track.ametrika.com", "203.0.113.80")
    z.add("MX", "acme.fr", "10 mx.acme.fr")  # where the DMARC reports (rua) go
    return z


@pytest.fixture
def acme_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "overrides", repo / "overrides")
    shutil.copy(ROOT / "accounts" / "acme.yaml", repo / "accounts")
    shutil.copy(ROOT / "accounts" / "globex.yaml", repo / "accounts")
    monkeypatch.setenv("AMETRIKA_PLATFORM_SENDING_IPS", PLATFORM_IP)
    return repo


@pytest.fixture
def served(platform_key: rsa.RSAPrivateKey) -> Iterator[tuple[Zones, int]]:
    zones = acme_zones(platform_key)
    with dns_server(zones) as port:
        yield zones, port


def verify(port: int, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = main(
        [
            "verify",
            "acme",
            "--nameserver",
            f"127.0.0.1:{port}",
            "--format",
            "json",
            "--timeout",
            "1",
            *extra,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def check_of(report: dict, purpose: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in report["checks"] if c["purpose"] == purpose)


def states(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {c["purpose"]: c["state"] for c in report["checks"]}


def test_all_verified(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = verify(served[1], capsys)
    assert code == 0
    assert states(report) == {
        p: "verified"
        for p in (
            "ownership",
            "dkim-active",
            "dkim-standby",
            "return-path",
            "dmarc",
            "click-tracking",
        )
    }
    details = {c["purpose"]: c["detail"] for c in report["checks"]}
    assert details["dkim-active"] == "2048-bit RSA key"
    assert details["return-path"] == f"SPF passes for {PLATFORM_IP}"
    assert details["dmarc"].startswith("p=quarantine at _dmarc.mail.acme.fr")
    capsys.readouterr()
    assert main(["verify", "acme", "--nameserver", f"127.0.0.1:{served[1]}"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("acme: all required records verified (asked 127.0.0.1:")


@pytest.mark.parametrize(
    "name, purpose",
    [
        ("_ametrika.mail.acme.fr", "ownership"),
        ("amk1._domainkey.mail.acme.fr", "dkim-active"),
        ("amk2._domainkey.mail.acme.fr", "dkim-standby"),
        ("amb.mail.acme.fr", "return-path"),
        ("_dmarc.mail.acme.fr", "dmarc"),
        ("links.mail.acme.fr", "click-tracking"),
    ],
)
def test_each_record_missing(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
    name: str,
    purpose: str,
) -> None:
    zones, port = served
    zones.remove(name)
    code, report = verify(port, capsys)
    assert code == 1
    assert states(report)[purpose] == "missing"
    assert [p for p, s in states(report).items() if s != "verified"] == [purpose]


def test_wrong_cname_target_shows_expected_and_found(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.remove("amb.mail.acme.fr")
    zones.add("CNAME", "amb.mail.acme.fr", "bounces.other-esp.example")
    code, report = verify(port, capsys)
    check = check_of(report, "return-path")
    assert code == 1 and check["state"] == "wrong"
    assert (check["expected"], check["found"]) == (
        "acme.bounces.ametrika.com",
        "bounces.other-esp.example",
    )


def test_no_key_behind_the_dkim_cname(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.remove("amk1.acme.dkim.ametrika.com")
    code, report = verify(port, capsys)
    check = check_of(report, "dkim-active")
    assert code == 1 and check["state"] == "wrong"
    assert check["detail"].startswith(
        "no DKIM key behind it (amk1.acme.dkim.ametrika.com: NXDOMAIN); the CNAME itself is right"
    )
    # #13: expected and found say what differs, instead of the same CNAME target twice
    assert check["expected"] == "a DKIM key (TXT v=DKIM1) at amk1.acme.dkim.ametrika.com"
    assert check["found"] == "no key there (NXDOMAIN)"


def test_a_512_bit_key_is_rejected(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.remove("amk2.acme.dkim.ametrika.com")
    zones.add("TXT", "amk2.acme.dkim.ametrika.com", weak_key_txt(512))
    code, report = verify(port, capsys)
    check = check_of(report, "dkim-standby")
    assert code == 1 and check["state"] == "wrong" and check["detail"].startswith("512-bit key")


def test_dkim_key_records() -> None:
    assert dkim_key_problem("v=DKIM1; k=rsa; p=") == ("wrong", "empty p=: the key is revoked")
    assert dkim_key_problem("v=DKIM1; k=ed25519; p=AAAA")[0] == "wrong"
    assert dkim_key_problem("v=DKIM1; p=not*base64")[1].startswith("p= is not a base64")
    assert dkim_key_problem(weak_key_txt(1024)) == (
        "verified",
        "1024-bit key; 2048 bits recommended",
    )


def test_two_dmarc_records(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.add("TXT", "_dmarc.mail.acme.fr", "v=DMARC1; p=none")
    code, report = verify(port, capsys)
    check = check_of(report, "dmarc")
    assert code == 1 and check["state"] == "wrong" and "ultiple" in check["detail"]
    # #13: found shows the records, not "(nothing)"
    assert sorted(check["found"].split(" | ")) == [
        "v=DMARC1; p=none",
        "v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.fr",
    ]


def test_dmarc_of_the_organisational_domain_counts(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.remove("_dmarc.mail.acme.fr")
    zones.add("TXT", "_dmarc.acme.fr", "v=DMARC1; p=reject")
    code, report = verify(port, capsys)
    check = check_of(report, "dmarc")
    assert code == 0 and check["state"] == "verified" and "_dmarc.acme.fr" in check["detail"]


def test_strict_spf_alignment_is_said(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.remove("_dmarc.mail.acme.fr")
    zones.add("TXT", "_dmarc.mail.acme.fr", "v=DMARC1; p=reject; aspf=s")
    _, report = verify(port, capsys)
    check = check_of(report, "dmarc")
    assert check["state"] == "verified" and "aspf=s: SPF can never align" in check["detail"]


def test_spf_of_the_return_path_must_pass_for_the_platform(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMETRIKA_PLATFORM_SENDING_IPS", "198.51.100.7")
    code, report = verify(served[1], capsys)
    check = check_of(report, "return-path")
    assert code == 1 and check["state"] == "wrong" and "198.51.100.7: fail" in check["detail"]


def test_servfail_and_silence_are_unreachable_and_bounded(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.servfail.add("_ametrika.mail.acme.fr")
    zones.servfail.add("_dmarc.mail.acme.fr")
    zones.silent.add("amk2._domainkey.mail.acme.fr")
    start = time.monotonic()
    code, report = verify(port, capsys)
    assert time.monotonic() - start < 15
    checks = {c["purpose"]: c for c in report["checks"]}
    assert code == 1
    assert (checks["ownership"]["state"], checks["ownership"]["detail"]) == (
        "unreachable",
        "SERVFAIL",
    )
    assert (checks["dkim-standby"]["state"], checks["dkim-standby"]["detail"]) == (
        "unreachable",
        "timeout",
    )
    assert (checks["dmarc"]["state"], checks["dmarc"]["detail"]) == ("unreachable", "SERVFAIL")


def test_nxdomain_and_nodata_are_told_apart(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    zones, port = served
    zones.remove("_ametrika.mail.acme.fr")
    zones.add("A", "_ametrika.mail.acme.fr", "192.0.2.1")  # the name exists, no TXT: NODATA
    zones.remove("links.mail.acme.fr")
    _, report = verify(port, capsys)
    checks = {c["purpose"]: c for c in report["checks"]}
    assert checks["ownership"]["detail"] == "NODATA"
    assert checks["click-tracking"]["detail"] == "NXDOMAIN"


def test_smtp_accounts_get_advice_not_failures(
    acme_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    z = Zones()
    includes = " ".join(f"include:s{i}.globex.example.com" for i in range(11))
    z.add("TXT", "globex.example.com", f"v=spf1 {includes} -all")
    for i in range(11):
        z.add("TXT", f"s{i}.globex.example.com", "v=spf1 ip4:192.0.2.0/24 -all")
    z.add("A", "smtp.globex.example.com", "192.0.2.10")
    with dns_server(z) as port:
        capsys.readouterr()
        code = main(
            [
                "verify",
                "globex",
                "--nameserver",
                f"127.0.0.1:{port}",
                "--format",
                "json",
                "--timeout",
                "1",
            ]
        )
        report = json.loads(capsys.readouterr().out)
    assert code == 0  # advice never fails
    checks = {c["purpose"]: c for c in report["checks"]}
    assert checks["mx"]["state"] == "advice" and "no MX" in checks["mx"]["detail"]
    assert checks["spf"]["state"] == "advice"
    assert checks["spf"]["detail"] == (
        "Parsing the SPF record requires 11/10 maximum DNS lookups (RFC 7208 § 4.6.4)"
    )
    assert all(not c["required"] for c in report["checks"])


def test_markdown_report(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert (
        main(["verify", "acme", "--nameserver", f"127.0.0.1:{served[1]}", "--format", "markdown"])
        == 0
    )
    out = capsys.readouterr().out
    assert "| ✔ | verified | CNAME | `amk1._domainkey.mail.acme.fr` | dkim-active |" in out


def test_by_default_the_zones_own_nameservers_are_asked(
    acme_repo: Path, served: tuple[Zones, int]
) -> None:
    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import Project, account_files
    from ametrika_gitops.verify.lookup import query
    from ametrika_gitops.verify.run import authoritative

    from .dns_helpers import resolver

    zones, port = served
    zones.add("NS", "acme.fr", "ns1.acme.fr")
    zones.add("A", "ns1.acme.fr", "127.0.0.1")
    project = Project.open(acme_repo)
    (checked,) = check_files(
        project, account_files((acme_repo / "accounts" / "acme.yaml",), project.root)
    )
    assert checked.account is not None
    found, label = authoritative(checked.account, resolver(port), 1.0, port=port)
    assert label == "acme.fr's nameservers ns1.acme.fr" and found is not None
    assert query(found, "_ametrika.mail.acme.fr", "TXT").values == (
        "ametrika-domain-verification=acme.Zq9x3JbT0pLw8rVn",
    )
    zones.remove("acme.fr", "NS")
    missing, label = authoritative(checked.account, resolver(port), 1.0, port=port)
    assert missing is None and label == "no NS records for acme.fr (NODATA)"


def test_reports_to_another_domain_need_its_authorisation(
    acme_repo: Path, served: tuple[Zones, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """RFC 7489 §7.1: other.org must publish mail.acme.fr._report._dmarc.other.org."""
    zones, port = served
    zones.remove("_dmarc.mail.acme.fr")
    zones.add("TXT", "_dmarc.mail.acme.fr", "v=DMARC1; p=reject; rua=mailto:reports@other.org")
    zones.add("MX", "other.org", "10 mx.other.org")
    code, report = verify(port, capsys)
    check = check_of(report, "dmarc")
    assert "other.org does not indicate that it accepts DMARC reports" in check["detail"]
    zones.add("TXT", "mail.acme.fr._report._dmarc.other.org", "v=DMARC1")
    code, report = verify(port, capsys)
    check = check_of(report, "dmarc")
    assert code == 0 and "does not indicate" not in check["detail"]


def test_nameserver_arguments() -> None:
    from ametrika_gitops.errors import AmetrikaError
    from ametrika_gitops.verify.run import parse_server

    assert parse_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_server("[::1]:53") == ("::1", 53)
    assert parse_server("192.0.2.1") == ("192.0.2.1", 53)
    assert parse_server("localhost:5300")[1] == 5300
    for bad in ("bad:port:x", "1.2.3.4:dns", "no-such-host.invalid", "1.2.3.4:70000"):
        with pytest.raises(AmetrikaError):
            parse_server(bad)


def test_spf_evaluation_asks_the_given_resolver_and_leaves_the_default_alone(
    served: tuple[Zones, int],
) -> None:
    """#9: pyspf asks dnspython's default resolver; verify passes its own instead of swapping
    the default for the whole process (another thread's lookups would go to verify's
    servers meanwhile)."""
    import dns.nameserver
    import dns.resolver

    from ametrika_gitops.verify.checks import spf_for

    default_seen: list[bool] = []

    class Watching(dns.resolver.Resolver):
        def resolve(self, *args: Any, **kwargs: Any) -> Any:
            default_seen.append(dns.resolver.default_resolver is self)
            return super().resolve(*args, **kwargs)

    port = served[1]
    ours = Watching(configure=False)
    ours.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", port=port)]
    ours.lifetime = 2.0
    before = dns.resolver.default_resolver
    ok, detail = spf_for(
        "amb.mail.acme.fr", "acme@amb.mail.acme.fr", [PLATFORM_IP], "amb.mail.acme.fr", ours
    )
    assert (ok, detail) == (True, f"SPF passes for {PLATFORM_IP}")
    assert default_seen and not any(default_seen)
    assert dns.resolver.default_resolver is before


def _key_with(key: rsa.RSAPrivateKey, tags: str) -> str:
    return dkim_txt(key).replace("v=DKIM1; k=rsa;", f"v=DKIM1; k=rsa; {tags};")


def test_a_key_restricted_to_sha1_is_wrong_and_testing_mode_a_warning(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
    platform_key: rsa.RSAPrivateKey,
) -> None:
    """#13: h=sha1 makes every rsa-sha256 signature fail; t=y lets receivers ignore them."""
    zones, port = served
    zones.remove("amk1.acme.dkim.ametrika.com")
    zones.add("TXT", "amk1.acme.dkim.ametrika.com", _key_with(platform_key, "h=sha1"))
    zones.remove("amk2.acme.dkim.ametrika.com")
    zones.add("TXT", "amk2.acme.dkim.ametrika.com", _key_with(platform_key, "t=y"))
    code, report = verify(port, capsys)
    active, standby = check_of(report, "dkim-active"), check_of(report, "dkim-standby")
    assert code == 1 and active["state"] == "wrong" and "h=sha1" in active["detail"]
    assert "rsa-sha256 signatures fail" in active["detail"]
    assert standby["state"] == "warning" and "t=y: the key is in testing mode" in standby["detail"]
    assert not standby["failed"]
    # testing mode alone: a warning, not a failure (exit 0), said in the headline
    zones.remove("amk1.acme.dkim.ametrika.com")
    zones.add("TXT", "amk1.acme.dkim.ametrika.com", _key_with(platform_key, "h=sha1:sha256"))
    assert verify(port, capsys)[0] == 0
    capsys.readouterr()
    assert main(["verify", "acme", "--nameserver", f"127.0.0.1:{port}"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("acme: all required records verified, 1 warning (asked")
    assert "  warning     CNAME amk2._domainkey.mail.acme.fr  (dkim-standby)" in text


@pytest.mark.parametrize(
    "spf",
    ["v=spf1 +all", "v=spf1 ip4:203.0.113.0/24 all", "v=spf1 include:open.example.net -all"],
)
def test_a_return_path_that_lets_anyone_pass_spf_is_wrong(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
    spf: str,
) -> None:
    """#13: with +all (or an include that ends in it) any sender passes SPF for the return
    path — and DMARC through SPF alignment — while the platform's own address passes too."""
    zones, port = served
    zones.remove("acme.bounces.ametrika.com", "TXT")
    zones.add("TXT", "acme.bounces.ametrika.com", spf)
    zones.add("TXT", "open.example.net", "v=spf1 +all")
    code, report = verify(port, capsys)
    check = check_of(report, "return-path")
    assert code == 1 and check["state"] == "wrong", check
    assert "any server passes SPF for the return path" in check["detail"]


@pytest.mark.parametrize(
    "record, state",
    [(None, "wrong"), (("MX", "0 ."), "wrong"), (("A", "203.0.113.9"), "wrong")],
    ids=["nothing", "null-mx", "address-only"],
)
def test_a_return_path_must_be_able_to_receive_bounces(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
    record: tuple[str, str] | None,
    state: str,
) -> None:
    """#13 (with #10's MX check): no MX at the return path, or a null MX that refuses mail:
    bounces have nowhere to go, and receivers may refuse the MAIL FROM domain."""
    zones, port = served
    zones.remove("acme.bounces.ametrika.com", "MX")
    if record is not None:
        zones.add(record[0], "acme.bounces.ametrika.com", record[1])
    code, report = verify(port, capsys)
    check = check_of(report, "return-path")
    assert check["state"] == state and code == 1, check
    if record is not None and record[0] == "MX":
        assert "null MX" in check["detail"]
    else:
        assert check["detail"].startswith("no MX through it")


def test_an_organisational_policy_whose_sp_is_none_is_not_reject(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """#13: p=reject; sp=none at the organisational domain applies none to mail.acme.fr."""
    zones, port = served
    zones.remove("_dmarc.mail.acme.fr")
    zones.add("TXT", "_dmarc.acme.fr", "v=DMARC1; p=reject; sp=none; rua=mailto:d@acme.fr")
    code, report = verify(port, capsys)
    check = check_of(report, "dmarc")
    assert code == 0 and check["state"] == "warning"
    assert check["detail"].startswith(
        "p=none applies to mail.acme.fr: sp=none at _dmarc.acme.fr (its p=reject covers "
        "acme.fr only); DMARC is not enforced on the sending domain"
    )
    assert not check["detail"].startswith("p=reject")


def test_a_key_published_as_txt_instead_of_the_cname_is_wrong_not_missing(
    acme_repo: Path,
    served: tuple[Zones, int],
    capsys: pytest.CaptureFixture[str],
    platform_key: rsa.RSAPrivateKey,
) -> None:
    zones, port = served
    zones.remove("amk1._domainkey.mail.acme.fr")
    zones.add("TXT", "amk1._domainkey.mail.acme.fr", dkim_txt(platform_key))
    code, report = verify(port, capsys)
    check = check_of(report, "dkim-active")
    assert code == 1 and check["state"] == "wrong"
    assert check["expected"] == "amk1.acme.dkim.ametrika.com"
    assert check["found"].startswith("TXT v=DKIM1; k=rsa; p=") and check["found"].endswith("…")
    assert "instead of the CNAME" in check["detail"] and "NODATA" not in check["detail"]
