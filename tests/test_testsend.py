"""test-send and verified recipients over real SMTP servers on loopback (aiosmtpd, TLS
certificates from trustme; smtplib and the ssl module are not patched). H5, H9, H14."""

# the email package types get_body() as Optional: a None fails the test at once
# mypy: disable-error-code="union-attr"
from __future__ import annotations

import email
import email.policy
import quopri
import re
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import trustme

from ametrika_gitops.check.project import Project
from ametrika_gitops.cli.main import main
from ametrika_gitops.mail.recipients import proof_for, write_record

from .conftest import ROOT
from .smtp_helpers import PASSWORD, USER, Script, scripted_server, silent_server, smtp_server

KEY = "k" * 32
QA = "qa@example.com"


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A test CA that the system trust store (through SSL_CERT_FILE) trusts."""
    authority = trustme.CA()
    pem = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    monkeypatch.setenv("AMETRIKA_VERIFY_KEY", KEY)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("AMETRIKA_GITOPS_SMTP_TIMEOUT", "3")
    return authority


def smtp_account(
    repo: Path,
    port: int,
    security: str,
    name: str = "Rapports ACME",
    host: str = "127.0.0.1",
    recipients: tuple[str, ...] = (QA,),
) -> None:
    (repo / "accounts" / "acme.yaml").write_text(
        f"""\
version: 1
account: {{id: acme, name: ACME, admins: ["@a"], locales: [fr, en]}}
sender:
  mode: smtp
  from_name: "{name}"
  reply_to: support@example.com
  smtp:
    host: {host}
    security: {security}
    port: {port}
    username: {USER}
    password: {{env: SMTP_PASSWORD}}
    from_address: reports@example.com
test:
  recipients: [{", ".join(recipients)}]
""",
        encoding="utf-8",
    )


def verified(repo: Path, *addresses: str, account: str = "acme") -> None:
    for a in addresses:
        write_record(KEY.encode(), repo, account, a)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize(
    "kind, security", [("implicit", "ssl-tls"), ("starttls", "starttls"), ("plain", "none")]
)
def test_custom_smtp_sends_every_type_in_every_locale(
    repo: Path, ca: trustme.CA, kind: str, security: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server(kind, ca) as (server, port):
        smtp_account(repo, port, security)
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--junit", "report.xml")
    assert code == 0, out
    assert len(server.messages) == 18  # 9 types x 2 locales, one connection
    assert {m.rcpt_tos[0] for m in server.messages} == {QA}
    assert "18 sent" in out
    suite = ET.parse(repo / "report.xml").getroot()
    assert suite.get("tests") == "18" and suite.get("failures") == "0"


def test_messages_round_trip_non_ascii(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server("implicit", ca) as (server, port):
        smtp_account(repo, port, "ssl-tls", name="Équipe Données — ACME")
        verified(repo, QA)
        assert run(capsys, "test-send", "--type", "insights", "--locale", "fr")[0] == 0
    (received,) = server.messages
    msg = email.message_from_bytes(received.content, policy=email.policy.default)
    assert str(msg["From"]) == "Équipe Données — ACME <reports@example.com>"
    assert str(msg["Subject"]) == "Vos insights de mars 2026"
    assert msg["X-Ametrika-Account"] == "acme" and msg["X-Ametrika-Email-Type"] == "insights"
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Les sessions mobiles progressent vite" in text and "<!DOCTYPE html>" in html
    assert b"\xc3" not in received.content.split(b"\r\n\r\n")[0]  # headers are RFC 2047 encoded
    assert received.mail_from == "reports@example.com"
    # 7-bit on the wire (quoted-printable bodies): nothing for a relay to downgrade, and so
    # no BODY=8BITMIME to declare
    assert received.content.isascii() and received.mail_options == []
    ctes = {p.get_content_type(): p["Content-Transfer-Encoding"] for p in msg.iter_parts()}
    assert ctes == {"text/plain": "quoted-printable", "text/html": "quoted-printable"}


def test_capture_equals_what_the_server_receives(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the clock and the Message-IDs passed in, a captured message is byte for byte
    what the server receives."""
    from datetime import datetime, timezone

    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import Project, account_files
    from ametrika_gitops.mail import testsend

    def prepared() -> list[testsend.Pending]:
        project = Project.open(repo)
        results = check_files(project, account_files((), project.root))
        pending, outcomes = testsend.prepare(
            results,
            testsend.Selection(frozenset({"alert"})),
            repo,
            require_verified=True,
            clock=lambda: datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc),
            message_ids=lambda domain: f"<fixed@{domain}>",
        )
        assert outcomes == []
        return pending

    with smtp_server("starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls")
        verified(repo, QA)
        sent = testsend.send(prepared(), lambda _: None)
        assert [o.status for o in sent] == ["sent", "sent"]
        assert [o.status for o in testsend.capture(prepared(), repo / "cap")] == ["captured"] * 2
    captured = sorted((repo / "cap" / "acme").glob("*.eml"))
    assert [p.name for p in captured] == [f"alert.en.{QA}.eml", f"alert.fr.{QA}.eml"]
    received = sorted(m.content for m in server.messages)
    assert received == sorted(p.read_bytes() for p in captured)
    assert b"\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n" in received[0]
    assert b"\r\nMessage-ID: <fixed@example.com>\r\n" in received[0]


def test_every_other_mode_goes_through_the_relay(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    shutil.copytree(ROOT / "overrides", repo / "overrides")
    for name in ("acme", "initech", "umbrella", "cafe-du-port"):
        text = (ROOT / "accounts" / f"{name}.yaml").read_text(encoding="utf-8")
        if "recipients" not in text:
            text += f"test:\n  recipients: [{QA}]\n"
        (repo / "accounts" / f"{name}.yaml").write_text(text, encoding="utf-8")
    verified(repo, "qa@acme.fr", account="acme")
    for name in ("initech", "umbrella", "cafe-du-port"):
        verified(repo, QA, account=name)
    with smtp_server("implicit", ca) as (server, port):
        monkeypatch.setenv(
            "AMETRIKA_RELAY_URL", f"smtps://{USER.replace('@', '%40')}@127.0.0.1:{port}"
        )
        monkeypatch.setenv("AMETRIKA_RELAY_PASSWORD", PASSWORD)
        code, out = run(capsys, "test-send", "--type", "test-message")
    assert code == 0, out
    senders = sorted(
        {
            str(email.message_from_bytes(m.content, policy=email.policy.default)["From"])
            for m in server.messages
        }
    )
    assert len(server.messages) == 6  # acme fr+en, initech en+fr, umbrella fr, cafe-du-port fr
    assert senders == [
        "ACME Rapports <rapports@mail.acme.fr>",  # hosted (H14)
        "Café du Port <bonjour@xn--caf-du-port-dbb.fr>",
        "Initech via Ametrika <no-reply@ametrika.com>",
        "Umbrella Santé <no-reply@analytics-report.com>",
    ]
    hosted = [m for m in server.messages if m.rcpt_tos == ["qa@acme.fr"]]
    assert hosted[0].mail_from == "acme@amb.mail.acme.fr"  # the return path (SPF aligns)


def test_missing_relay_or_password_names_the_variable(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with smtp_server("implicit", ca) as (server, port):
        smtp_account(repo, port, "ssl-tls")
        verified(repo, QA)
        monkeypatch.delenv("SMTP_PASSWORD")
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and "the SMTP password variable SMTP_PASSWORD is not set" in out
    assert server.messages == []


def test_wrong_password_fails_at_auth_with_the_reply(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    with smtp_server("starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls")
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and server.messages == []
    assert "FAILED at AUTH: AUTH failed at 127.0.0.1:" in out and "535" in out
    assert "Gmail servers" in out and "analytics-report.com" in out  # H4, H6: the fallbacks
    assert "wrong" not in out.replace("wrong or", "")


def test_a_server_without_starttls_is_refused(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server("no-starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls")
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and server.messages == []
    assert "FAILED at TLS" in out and "does not offer STARTTLS" in out


@pytest.mark.parametrize("problem", ["untrusted", "wrong-name"])
def test_certificates_are_verified(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    other = trustme.CA() if problem == "untrusted" else ca
    names = ("mail.example.org",) if problem == "wrong-name" else ()
    with smtp_server("implicit", other, names) as (server, port):
        smtp_account(repo, port, "ssl-tls")
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and server.messages == []
    assert "FAILED at TLS" in out and "certificate not trusted" in out


def test_a_server_that_never_answers_is_bounded(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    with silent_server() as port:
        smtp_account(repo, port, "starttls")
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and "FAILED at connect" in out and "no answer within 3 s" in out


def test_unverified_or_forged_recipients_get_nothing(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server("implicit", ca) as (server, port):
        smtp_account(repo, port, "ssl-tls", recipients=(QA, "boss@example.com"))
        verified(repo, QA)
        code, out = run(capsys, "test-send")
        assert code == 1 and "boss@example.com is not a verified recipient of acme" in out
        # a record forged without the key, then a key rotation
        records = repo / "recipients" / "acme.yaml"
        text = records.read_text(encoding="utf-8")
        forged = proof_for(b"not the key, but long enough", "acme", "boss@example.com")
        records.write_text(
            text + f"- address: boss@example.com\n  proof: {forged}\n", encoding="utf-8"
        )
        code, out = run(capsys, "test-send")
        assert code == 1 and "boss@example.com is not a verified recipient" in out
    assert server.messages == []  # nothing at all was sent for the account


def test_rotating_the_key_revokes_every_record(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_account(repo, 2525, "ssl-tls")
    verified(repo, QA)
    monkeypatch.setenv("AMETRIKA_VERIFY_KEY", "r" * 32)
    code, out = run(capsys, "test-send")
    assert code == 1 and f"{QA} is not a verified recipient" in out


def test_verify_confirm_then_test_send(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server("starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls")
        code, out = run(capsys, "recipients", "verify", "acme", QA)
        assert code == 0, out
        (mail,) = server.messages
        body = email.message_from_bytes(mail.content, policy=email.policy.default)
        text = body.get_body(("plain",)).get_content()
        code_sent = re.search(r"^    (\d{8})\r?$", text, re.MULTILINE).group(1)
        assert run(capsys, "recipients", "confirm", "acme", QA, "00000000")[0] == 1
        code, out = run(capsys, "recipients", "confirm", "acme", QA, code_sent)
        assert code == 0 and "commit recipients/acme.yaml" in out
        code, out = run(capsys, "test-send", "--type", "test-message")
        assert code == 0, out
    assert len(server.messages) == 3
    code, out = run(capsys, "recipients", "verify", "acme", "stranger@example.com")
    assert code == 1 and "is not in test.recipients" in out


def test_the_verification_email_is_built_like_every_other(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    """H9: every other test send depends on this one arriving. One From mailbox even with a
    comma in the name, a Date and a Message-ID, multipart, in the account's first locale."""
    with smtp_server("starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls", name="ACME, Inc.")
        code, out = run(capsys, "recipients", "verify", "acme", QA.upper())
        assert code == 0, out
    (mail,) = server.messages
    assert mail.rcpt_tos == [QA] and mail.mail_from == "reports@example.com"
    msg = email.message_from_bytes(mail.content, policy=email.policy.default)
    (sender,) = msg["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("ACME, Inc.", "reports@example.com")
    assert msg["Date"].datetime is not None and msg["Message-ID"].endswith("@example.com>")
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["X-Ametrika-Email-Type"] == "recipient-verification"
    assert msg["X-Ametrika-Locale"] == "fr"  # locales: [fr, en]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    sent = re.search(r"^    (\d{8})\r?$", text, re.MULTILINE).group(1)
    assert str(msg["Subject"]) == f"Code de vérification {sent} pour les e-mails de test de ACME"
    assert f"recipients confirm acme {QA} {sent}" in text
    assert f"recipients confirm acme {QA} {sent}" in html and "<!DOCTYPE html>" in html
    assert run(capsys, "recipients", "confirm", "acme", QA, sent)[0] == 0


def test_the_verification_email_follows_the_accounts_override(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server("starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls")
        acme = repo / "accounts" / "acme.yaml"
        acme.write_text(
            acme.read_text(encoding="utf-8") + "templates:\n  recipient-verification:\n"
            '    fr: {subject: "ACME — votre code {{ code }} pour {{ recipient }}"}\n',
            encoding="utf-8",
        )
        code, out = run(capsys, "recipients", "verify", "acme", QA)
        assert code == 0, out
    (mail,) = server.messages
    msg = email.message_from_bytes(mail.content, policy=email.policy.default)
    subject = str(msg["Subject"])
    assert re.fullmatch(rf"ACME — votre code \d{{8}} pour {re.escape(QA)}", subject), subject
    assert "12345678" not in subject  # the real code, not the catalogue's sample


def test_changed_since_selects_changed_accounts_and_types(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    smtp_account(repo, 2525, "ssl-tls")
    (repo / "accounts" / "other.yaml").write_text(
        "version: 1\naccount: {id: other, name: O, admins: ['@a'], locales: [en]}\n"
        f"sender: {{mode: ametrika, from_name: O}}\ntest: {{recipients: [{QA}]}}\n",
        encoding="utf-8",
    )
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    code, out = run(capsys, "test-send", "--changed-since", "HEAD", "--capture", "c0")
    assert code == 0 and "changed since HEAD: no account" in out
    # an override of one type in one locale
    acme = repo / "accounts" / "acme.yaml"
    acme.write_text(
        acme.read_text(encoding="utf-8") + "templates:\n  alert:\n    fr:\n"
        '      subject: "Alerte ACME : {{ alert_name }}"\n',
        encoding="utf-8",
    )
    code, out = run(capsys, "test-send", "--changed-since", "HEAD", "--capture", "c1")
    assert code == 0
    assert [p.name for p in (repo / "c1").rglob("*.eml")] == [f"alert.fr.{QA}.eml"]
    # an original changed upstream: every account that uses it
    original = repo / "templates" / "en" / "password-reset.subject.j2"
    original.write_text("Choose a new password\n", encoding="utf-8")
    code, out = run(capsys, "test-send", "--changed-since", "HEAD", "--capture", "c2")
    names = sorted(str(p.relative_to(repo / "c2")) for p in (repo / "c2").rglob("*.eml"))
    assert names == [
        f"acme/alert.fr.{QA}.eml",
        f"acme/password-reset.en.{QA}.eml",
        f"other/password-reset.en.{QA}.eml",
    ]
    assert run(capsys, "test-send", "--changed-since", "no-such-ref")[0] == 1


def _relayed_without_8bitmime(data: bytes) -> bytes:
    """What a relay whose next hop lacks 8BITMIME does (RFC 6152 §3): every 8bit part is
    re-encoded as quoted-printable. A 7-bit message passes unchanged."""
    msg = email.message_from_bytes(data, policy=email.policy.SMTP)
    for part in msg.walk():
        if str(part.get("Content-Transfer-Encoding", "")).lower() == "8bit":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            part.replace_header("Content-Transfer-Encoding", "quoted-printable")
            part.set_payload(quopri.encodestring(payload).decode("ascii"))
    return msg.as_bytes(policy=email.policy.SMTP) if not data.isascii() else data


def test_dkim_survives_a_relay_that_downgrades_8bit(project: Project) -> None:
    """Every e-mail of the hosted example, French and English, signed and then relayed by a
    server that downgrades 8-bit parts: the DKIM signature still verifies."""
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.mail.message import build_message, message_bytes

    from .test_verify import dkim_txt

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = dkim_txt(key).encode()
    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / "acme.yaml",), project.root)
    )
    assert checked.account is not None and len(checked.emails) == 18
    broken = []
    for mail in checked.emails:
        raw = message_bytes(build_message(checked.account, mail, "qa@acme.fr"))
        signed = dkim.sign(raw, b"amk1", b"mail.acme.fr", pem) + raw
        relayed = _relayed_without_8bitmime(signed)
        if not dkim.verify(relayed, dnsfunc=lambda name, timeout=5: public):
            broken.append(f"{mail.type_id}/{mail.locale}")
    assert broken == []


def test_8bit_content_and_international_addresses_are_declared(ca: trustme.CA) -> None:
    """BODY=8BITMIME and SMTPUTF8 when a message needs them and the server offers them;
    refused, with nothing sent, when it does not."""
    from ametrika_gitops.mail.transport import Endpoint, SendError, Session

    eight_bit = "Subject: x\r\n\r\nd\u00e9j\u00e0 vu\r\n".encode()
    with smtp_server("starttls", ca, smtputf8=True) as (server, port):
        endpoint = Endpoint("127.0.0.1", port, "starttls", USER, "SMTP_PASSWORD", True)
        with Session(endpoint) as session:
            session.send("reports@example.com", QA, b"Subject: x\r\n\r\nplain\r\n")
            session.send("reports@example.com", QA, eight_bit)
            session.send("reports@example.com", "jos\u00e9@example.com", eight_bit)
    assert [m.mail_options for m in server.messages] == [
        [],
        ["BODY=8BITMIME"],
        ["SMTPUTF8", "BODY=8BITMIME"],
    ]
    assert server.messages[2].rcpt_tos == ["jos\u00e9@example.com"]
    with smtp_server("starttls", ca) as (server, port):  # no SMTPUTF8 offered
        endpoint = Endpoint("127.0.0.1", port, "starttls", USER, "SMTP_PASSWORD", True)
        with Session(endpoint) as session, pytest.raises(SendError) as caught:
            session.send("reports@example.com", "jos\u00e9@example.com", eight_bit)
    assert caught.value.step == "MAIL FROM" and "needs SMTPUTF8" in str(caught.value)
    assert server.messages == []


def test_no_header_injection_even_past_validation(project: Project) -> None:
    """The message builder refuses CR/LF in any header, whatever reaches it."""
    from dataclasses import replace

    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.mail.message import build_message, message_bytes

    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / "initech.yaml",), project.root)
    )
    assert checked.account is not None
    mail = checked.emails[0]
    evil = replace(
        checked.account,
        sender=replace(checked.account.sender, from_name="X\r\nBcc: victim@example.org"),
    )
    with pytest.raises(ValueError):
        message_bytes(build_message(evil, mail, QA))
    with pytest.raises(ValueError):
        message_bytes(build_message(checked.account, mail, "qa@example.com\r\nBcc: v@e.org"))


def _naming_the_platform(data: bytes) -> list[str]:
    """Every header, boundary and decoded body of a message that names Ametrika (raw bytes
    too: a quoted-printable soft break or an encoded word could hide it from one reading)."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    places = [data.decode("ascii")]
    for part in msg.walk():
        places += [f"{k}: {v}" for k, v in part.items() if k.lower() != "to"]
        places.append(part.get_boundary() or "")
        if not part.is_multipart():
            places.append(str(part.get_content()))
    return [p[:80] for p in places if "ametrika" in p.lower()]


def test_white_label_messages_never_name_the_platform(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """H6: in analytics-report mode no header, boundary or body names Ametrika — the headers
    the tool adds itself (Message-ID, its X- headers, boundaries) included."""
    text = (ROOT / "accounts" / "umbrella.yaml").read_text(encoding="utf-8")
    (repo / "accounts" / "umbrella.yaml").write_text(
        text + f"test:\n  recipients: [{QA}]\n", encoding="utf-8"
    )
    code, out = run(capsys, "test-send", "umbrella", "--capture", "cap")
    assert code == 0, out
    captured = sorted((repo / "cap" / "umbrella").glob("*.eml"))
    assert len(captured) == 9  # every type, in French
    for path in captured:
        assert _naming_the_platform(path.read_bytes()) == [], path.name
    msg = email.message_from_bytes(captured[0].read_bytes(), policy=email.policy.default)
    assert msg["X-Analytics-Report-Test"] == "yes"
    with smtp_server("implicit", ca) as (server, port):
        monkeypatch.setenv(
            "AMETRIKA_RELAY_URL", f"smtps://{USER.replace('@', '%40')}@127.0.0.1:{port}"
        )
        monkeypatch.setenv("AMETRIKA_RELAY_PASSWORD", PASSWORD)
        code, out = run(capsys, "recipients", "verify", "umbrella", QA)
        assert code == 0, out
    (mail,) = server.messages
    assert _naming_the_platform(mail.content) == []
    # the other modes keep their headers
    initech = ROOT / "accounts" / "initech.yaml"
    (repo / "accounts" / "initech.yaml").write_text(
        initech.read_text(encoding="utf-8") + f"test:\n  recipients: [{QA}]\n", encoding="utf-8"
    )
    assert run(capsys, "test-send", "initech", "--type", "alert", "--capture", "cap")[0] == 0
    other = email.message_from_bytes(
        (repo / "cap" / "initech" / f"alert.en.{QA}.eml").read_bytes(),
        policy=email.policy.default,
    )
    assert other["X-Ametrika-Test"] == "yes"


def test_a_white_label_leak_past_validation_stops_that_message(project: Project) -> None:
    """Whatever reaches the builder, a white-label message that would name the platform in a
    header the tool adds (here the account id) is refused, naming where."""
    from dataclasses import replace

    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.mail.message import WhiteLabelError, build_message

    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / "umbrella.yaml",), project.root)
    )
    assert checked.account is not None
    mail = checked.emails[0]
    build_message(checked.account, mail, "qa@ametrika.com")  # the tester's own address is fine
    leaky = replace(checked.account, id="ametrika-demo", recipients=(QA,))
    with pytest.raises(WhiteLabelError) as caught:
        build_message(leaky, mail, QA)
    assert "header X-Analytics-Report-Account" in str(caught.value)
    # test-send reports it per message, at its own step, and sends nothing of it
    from ametrika_gitops.mail import testsend

    pending, outcomes = testsend.prepare(
        [replace(checked, account=leaky)],
        testsend.Selection(),
        ROOT,
        require_verified=False,
    )
    assert pending == [] and len(outcomes) == len(checked.emails)
    assert {(o.status, o.step) for o in outcomes} == {("failed", "white label")}


@pytest.mark.parametrize("at", ["GREETING", "EHLO"])
def test_a_server_that_drips_continuation_lines_is_cut_at_the_deadline(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str], at: str
) -> None:
    """#12: a continuation line every second, each read well within the 3 s timeout — the
    command's deadline still ends it (the server would go on for 20 s)."""
    with scripted_server(Script(drip=at)) as port:
        smtp_account(repo, port, "none")
        verified(repo, QA)
        start = time.monotonic()
        code, out = run(capsys, "test-send", "--type", "alert")
        waited = time.monotonic() - start
    assert code == 1 and "FAILED at connect" in out and "no answer within 3 s" in out, out
    assert waited < 15  # bounded by the deadline, well before the server stops dripping


def test_the_whole_session_has_a_deadline(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMETRIKA_GITOPS_SMTP_SESSION_TIMEOUT", "2")
    with scripted_server(Script(drip="GREETING")) as port:
        smtp_account(repo, port, "none")
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and "FAILED at connect" in out
    assert "the SMTP session ran out of time (2 s, AMETRIKA_GITOPS_SMTP_SESSION_TIMEOUT)" in out


def test_date_carries_its_offset_and_only_the_top_has_mime_version(project: Project) -> None:
    from datetime import datetime, timedelta, timezone

    from ametrika_gitops.check.pipeline import check_files
    from ametrika_gitops.check.project import account_files
    from ametrika_gitops.mail.message import build_message, message_bytes

    (checked,) = check_files(
        project, account_files((ROOT / "accounts" / "initech.yaml",), project.root)
    )
    assert checked.account is not None
    mail = checked.emails[0]
    now = build_message(checked.account, mail, QA)  # the default clock: UTC, known offset
    assert now["Date"].endswith(" +0000")
    paris = datetime(2026, 3, 27, 10, 40, tzinfo=timezone(timedelta(hours=1)))
    raw = message_bytes(build_message(checked.account, mail, QA, paris, "<id@example.com>"))
    assert b"\r\nDate: Fri, 27 Mar 2026 10:40:00 +0100\r\n" in raw
    assert b"\r\nMessage-ID: <id@example.com>\r\n" in raw
    assert raw.count(b"MIME-Version:") == 1 and raw.index(b"MIME-Version:") < raw.index(b"\r\n\r\n")


@pytest.mark.parametrize(
    "script, step",
    [
        (Script(drop="MAIL"), "MAIL FROM"),
        (Script(drop="RCPT"), "RCPT"),
        (Script(drop="DATA"), "DATA"),
        (Script(drip="MAIL"), "MAIL FROM"),
        (Script(drip="RCPT"), "RCPT"),
    ],
    ids=["drop-at-mail", "drop-at-rcpt", "drop-at-data", "drip-at-mail", "drip-at-rcpt"],
)
def test_a_failure_names_the_step_it_happened_at(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str], script: Script, step: str
) -> None:
    """#9: a server that hangs up (or never finishes answering) at MAIL FROM or RCPT is
    reported at that step, not at DATA; the next message is not sent on a dead connection."""
    with scripted_server(script) as port:
        smtp_account(repo, port, "none")
        verified(repo, QA)
        start = time.monotonic()
        code, out = run(capsys, "test-send", "--type", "alert")
        waited = time.monotonic() - start
    assert code == 1
    rows = [line for line in out.splitlines() if line.startswith("acme ")]
    assert len(rows) == 2, out
    first = f"{QA}  FAILED at {step}: {step} failed at 127.0.0.1"  # fr, the first locale
    then = f"{QA}  FAILED at connect: connect failed at"
    assert first in rows[1] and then in rows[0], out
    assert "the connection was closed after an earlier failure" in rows[0]
    assert script.commands.count("MAIL") == 1  # nothing more was tried on that connection
    assert waited < 15
    if script.drop:
        assert "the server closed the connection" in out
    else:
        assert "no answer within 3 s" in out


def test_send_errors_are_the_tools_errors() -> None:
    from ametrika_gitops.errors import AmetrikaError
    from ametrika_gitops.mail.transport import SendError

    assert issubclass(SendError, AmetrikaError)


def test_codes_are_valid_today_and_yesterday_only() -> None:
    from datetime import datetime, timedelta, timezone

    from ametrika_gitops.mail.recipients import code_for, code_is_valid, day_of

    key, now = KEY.encode(), datetime(2026, 11, 27, 23, 59, tzinfo=timezone.utc)
    code = code_for(key, "acme", QA, day_of(now))
    assert code == code_for(key, "acme", QA.upper(), day_of(now)) and len(code) == 8
    assert code_is_valid(key, "acme", QA, code, now)
    assert code_is_valid(key, "acme", QA, code, now + timedelta(days=1))
    assert not code_is_valid(key, "acme", QA, code, now + timedelta(days=2))
    assert not code_is_valid(key, "other", QA, code, now)


RECURRING = {"scheduled-report", "insights", "alert"}


def test_recurring_mail_carries_one_click_unsubscribe_and_the_rest_none(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    """RFC 8058, Gmail's and Yahoo's bulk-sender rules: recurring mail (scheduled reports,
    insights, alerts) carries List-Unsubscribe and List-Unsubscribe-Post; password reset,
    e-mail verification and invitations never do."""
    smtp_account(repo, 2525, "ssl-tls")
    assert run(capsys, "test-send", "--capture", "cap")[0] == 0
    seen = set()
    for path in sorted((repo / "cap" / "acme").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        type_id = msg["X-Ametrika-Email-Type"]
        seen.add(type_id)
        if type_id in RECURRING:
            assert msg["List-Unsubscribe"] == "<https://app.example.com/unsubscribe/5e1f0c>"
            assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            # the footer links to the same place, and to the notification settings
            html = msg.get_body(("html",)).get_content()
            text = msg.get_body(("plain",)).get_content()
            assert 'href="https://app.example.com/unsubscribe/5e1f0c"' in html
            assert 'href="https://app.example.com/settings/notifications"' in html
            assert "https://app.example.com/settings/notifications" in text
        else:
            assert "List-Unsubscribe" not in msg and "List-Unsubscribe-Post" not in msg
    assert {"password-reset", "email-verification", "user-invitation"} < seen
    assert RECURRING < seen


def test_the_scheduled_report_test_email_carries_the_file_it_announces(
    repo: Path, ca: trustme.CA, capsys: pytest.CaptureFixture[str]
) -> None:
    """#13: the sample said "the export is attached" and attached nothing. The test e-mail is
    now what the real one will be: multipart/mixed, the alternative parts, and the file."""
    smtp_account(repo, 2525, "ssl-tls")
    assert run(capsys, "test-send", "--capture", "cap")[0] == 0
    for path in sorted((repo / "cap" / "acme").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        files = list(msg.iter_attachments())
        if msg["X-Ametrika-Email-Type"] != "scheduled-report":
            assert msg.get_content_type() == "multipart/alternative" and files == [], path.name
            continue
        assert msg.get_content_type() == "multipart/mixed"
        (file,) = files
        assert file.get_filename() == "weekly-traffic-2026-w12.csv"
        assert file.get_content_type() == "text/csv"
        assert file.get_content().splitlines()[0] in ("day,sessions,users", b"day,sessions,users")
        text = msg.get_body(("plain",)).get_content()
        assert file.get_filename() in text  # the file the text announces is the one attached
        assert path.read_bytes().isascii()


def test_a_timeout_that_is_not_a_number_is_said_not_a_crash(
    repo: Path,
    ca: trustme.CA,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AMETRIKA_GITOPS_SMTP_TIMEOUT", "thirty")
    with smtp_server("starttls", ca) as (server, port):
        smtp_account(repo, port, "starttls")
        verified(repo, QA)
        code, out = run(capsys, "test-send", "--type", "alert")
    assert code == 1 and server.messages == []
    assert "FAILED at connect" in out
    assert "AMETRIKA_GITOPS_SMTP_TIMEOUT must be a number of seconds, such as 30" in out
