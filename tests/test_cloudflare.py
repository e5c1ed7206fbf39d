"""plan and apply against Cloudflare, through the official SDK over HTTP, against the
emulator on loopback (never a patched SDK). Records of design §5 (H7), ownership of §6."""

from __future__ import annotations

import json
import math

import pytest

from ametrika_gitops.emulator.cloudflare import Fault

from .cloudflare_helpers import (
    TOKEN,
    Env,
    cf_fixture,  # noqa: F401 - the fixture `cf`
    hosted,
)

ACME = [
    ("CNAME", "amb.mail.acme.fr", "acme.bounces.ametrika.com"),
    ("CNAME", "amk1._domainkey.mail.acme.fr", "amk1.acme.dkim.ametrika.com"),
    ("CNAME", "amk2._domainkey.mail.acme.fr", "amk2.acme.dkim.ametrika.com"),
    ("CNAME", "links.mail.acme.fr", "track.ametrika.com"),
    ("TXT", "_ametrika.mail.acme.fr", '"ametrika-domain-verification=acme.Zq9x3JbT0pLw8rVn"'),
    ("TXT", "_dmarc.mail.acme.fr", '"v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.fr"'),
]


def test_every_sender_mode_apply_then_nothing_to_do(cf: Env) -> None:
    code, out, _err = cf.run("plan", "--detailed-exitcode")
    assert code == 2
    assert out.startswith(
        "Plan (live): 6 to add, 0 to change, 0 to delete, in 1 zone; "
        "4 records for the DNS administrator in manual zones\n"
    )
    code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0, out
    assert "acme.fr: applied: 6 changes in 1 batch request (at most 200 changes a request" in out
    assert "xn--caf-du-port-dbb.fr: manual" in out
    assert cf.managed("acme.fr") == sorted(ACME)
    for r in cf.emu.records("acme.fr"):
        assert r["proxied"] is False and r["ttl"] == 1
        assert r["comment"] == "managed-by=ametrika-gitops account=acme"
    # right after an apply the plan is empty, and a second apply writes nothing
    mark = len(cf.emu.log)
    code, out, _ = cf.run("plan", "--detailed-exitcode")
    assert code == 0 and "zone acme.fr (cloudflare; accounts: acme)\n  no changes" in out
    code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0 and "No changes" in out
    assert cf.writes(mark) == []


def test_records_of_others_are_never_touched(cf: Env) -> None:
    cf.emu.add_record("acme.fr", "A", "acme.fr", "192.0.2.10")
    cf.emu.add_record("acme.fr", "TXT", "acme.fr", "v=spf1 include:_spf.example.net ~all")
    cf.emu.add_record("acme.fr", "MX", "mail.acme.fr", "mx.example.net")
    cf.emu.add_record("acme.fr", "TXT", "_ametrika.mail.acme.fr", "something else")
    before = [r for r in cf.emu.records("acme.fr")]
    assert cf.run("apply", "--auto-approve")[0] == 0
    after = {r["id"]: r for r in cf.emu.records("acme.fr")}
    for r in before:
        assert after[r["id"]] == r  # unchanged, to the last field
    assert cf.managed("acme.fr") == sorted(ACME)


def test_an_unowned_record_in_the_way_is_a_conflict_at_the_account(cf: Env) -> None:
    cf.emu.add_record("acme.fr", "TXT", "amk1._domainkey.mail.acme.fr", "v=DKIM1; p=old")
    mark = len(cf.emu.log)
    code, out, err = cf.run("plan")
    assert code == 1  # the account is left out and named; the plan of the others is shown
    assert "zone acme.fr" not in out and "left out: account acme: CNAME amk1" in out
    assert (
        "accounts/acme.yaml:14:13: error[dns-conflict]: CNAME amk1._domainkey.mail.acme.fr "
        "is needed (dkim-active), but a TXT record not managed by ametrika-gitops stands "
        "there"
    ) in err
    assert cf.run("apply", "--auto-approve")[0] == 1
    assert cf.writes(mark) == []


def test_an_existing_dmarc_record_is_kept(cf: Env) -> None:
    cf.emu.add_record("acme.fr", "TXT", "_dmarc.acme.fr", "v=DMARC1; p=reject")
    code, out, _ = cf.run("plan")
    assert code == 0
    assert (
        "note: acme.fr: kept the existing DMARC policy: 'v=DMARC1; p=reject' at _dmarc.acme.fr "
        "(zone acme.fr) applies to mail.acme.fr: p=reject (its p=; no sp=); none added"
    ) in out
    assert "_dmarc.mail.acme.fr" not in out.split("zone xn--")[0]
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert [r for r in cf.managed("acme.fr") if "_dmarc" in r[1]] == []


def test_saved_plan_applies_and_a_stale_one_is_refused(cf: Env) -> None:
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    saved = json.loads((cf.repo / "plan.json").read_text(encoding="utf-8"))
    assert saved["live"] is True and saved["zones"][0]["fingerprint"].startswith("sha256:")
    # someone publishes a record at a name the plan touches
    cf.emu.add_record("acme.fr", "A", "links.mail.acme.fr", "192.0.2.7")
    mark = len(cf.emu.log)
    code, _, err = cf.run("apply", "--auto-approve", "plan.json")
    assert code == 1 and "zone acme.fr changed since the plan was made" in err
    assert cf.writes(mark) == []
    cf.emu.zone_named("acme.fr").records.clear()
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    code, _out, _ = cf.run("apply", "--auto-approve", "plan.json")
    assert code == 0 and cf.managed("acme.fr") == sorted(ACME)


def test_an_offline_plan_cannot_be_applied(cf: Env) -> None:
    assert cf.run("plan", "--offline", "--out", "offline.json")[0] == 0
    code, _, err = cf.run("apply", "offline.json")
    assert code == 1 and "is an offline plan" in err


def test_every_deletion_needs_a_persons_word(cf: Env) -> None:
    """Deletions not allowed by --allow-delete or --max-deletes are held: shown, never applied,
    not an error; --detailed-exitcode says something is pending."""
    assert cf.run("apply", "--auto-approve")[0] == 0
    acme = cf.repo / "accounts" / "acme.yaml"
    acme.write_text(
        acme.read_text(encoding="utf-8").replace("click_tracking: true", "click_tracking: false"),
        encoding="utf-8",
    )
    code, out, _ = cf.run("plan", "--detailed-exitcode")
    assert code == 2
    assert "0 to delete" in out and "1 deletion held, not applied" in out
    assert "  held: - CNAME links.mail.acme.fr  track.ametrika.com" in out
    assert "no longer needed, account acme; not applied: release with --allow-delete acme" in out
    mark = len(cf.emu.log)
    code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0 and "No changes to apply" in out and cf.writes(mark) == []
    assert cf.run("apply", "--auto-approve", "--max-deletes", "1")[0] == 0
    assert ("CNAME", "links.mail.acme.fr", "track.ametrika.com") not in cf.managed("acme.fr")
    # removing the account: its records are held too, until the account is named
    cf.emu.add_record("acme.fr", "A", "acme.fr", "192.0.2.10")
    acme.unlink()
    code, out, _ = cf.run("plan")  # acme.fr holds no account now: not read
    assert code == 0 and "account-removed" not in out
    assert "1 zone without accounts of this repository was not read" in out
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert len(cf.managed("acme.fr")) == 5
    assert cf.run("apply", "--auto-approve", "--allow-delete", "acme")[0] == 0
    assert cf.managed("acme.fr") == []
    assert [r["type"] for r in cf.emu.records("acme.fr")] == ["A"]


def test_leaving_the_hosted_mode_deletes_that_accounts_records(cf: Env) -> None:
    assert cf.run("apply", "--auto-approve")[0] == 0
    cf.account(
        "acme",
        "version: 1\naccount: {id: acme, name: ACME, admins: ['@a'], "
        "locales: [en]}\nsender: {mode: analytics-report, from_name: ACME}\n",
    )
    _code, out, _ = cf.run("plan", "--allow-delete", "acme")
    assert out.count("no longer needed, account acme") == 6 and "held" not in out
    assert cf.run("apply", "--auto-approve", "--allow-delete", "acme")[0] == 0
    assert cf.managed("acme.fr") == []


def test_a_partial_run_does_not_delete_other_accounts_records(cf: Env) -> None:
    cf.emu.add_record(
        "acme.fr",
        "CNAME",
        "amb.old.acme.fr",
        "gone.bounces.ametrika.com",
        comment="managed-by=ametrika-gitops account=gone",
    )
    code, out, _ = cf.run("plan", "accounts/acme.yaml")
    assert code == 0 and "gone" not in out
    code, out, _ = cf.run("plan")
    assert "- CNAME amb.old.acme.fr" in out and "account-removed, account gone" in out


@pytest.mark.parametrize("plan, limit", [("free", 200), ("pro", 3500)])
def test_batches_are_chunked_at_the_zone_plans_limit(cf: Env, plan: str, limit: int) -> None:
    # a Free zone created before September 2024 holds 1,000 records: room for 240
    cf.emu.add_zone("example.com", plan=plan, created_on="2023-05-01")
    n = 60  # 4 records each (no verification token, no click tracking): 240 changes
    for i in range(n):
        cf.account(f"c{i:03d}", hosted(f"c{i:03d}", f"m{i:03d}.example.com", "example.com"))
    mark = len(cf.emu.log)
    code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0, out
    changes = 4 * n
    batches = [r for r in cf.emu.log[mark:] if r.path.endswith("/batch")]
    zone_id = cf.emu.zone_named("example.com").id
    assert len([b for b in batches if zone_id in b.path]) == math.ceil(changes / limit)
    assert f"at most {limit} changes a request" in out
    assert len(cf.managed("example.com")) == changes


def test_request_budget_for_n_new_accounts_in_one_zone(cf: Env) -> None:
    """1 zone lookup + 1 record list + 1 quota read + ceil(changes / limit) batches."""
    for f in (cf.repo / "accounts").glob("*.yaml"):
        f.unlink()
    cf.emu.add_zone("old.example", created_on="2023-05-01")  # Free, 1,000 records
    n = 120
    for i in range(n):
        cf.account(f"n{i:03d}", hosted(f"n{i:03d}", f"m{i:03d}.old.example"))
    mark = len(cf.emu.log)
    assert cf.run("apply", "--auto-approve")[0] == 0
    log = cf.emu.log[mark:]
    zone_lookups = [r for r in log if r.path.endswith("/zones")]
    record_lists = [r for r in log if r.method == "GET" and r.path.endswith("/dns_records")]
    usage = [r for r in log if r.path.endswith("/dns_records/usage")]
    batches = [r for r in log if r.path.endswith("/batch")]
    assert (len(zone_lookups), len(record_lists), len(usage)) == (1, 1, 1)
    assert len(batches) == math.ceil(4 * n / 200)
    assert len(log) == 1 + 1 + 1 + math.ceil(4 * n / 200)


def test_rate_limit_in_the_middle_then_a_rerun_converges(cf: Env) -> None:
    cf.emu.add_zone("example.com", created_on="2023-05-01")
    for i in range(100):  # 400 changes: two batches on a Free zone
        cf.account(f"r{i:03d}", hosted(f"r{i:03d}", f"m{i:03d}.example.com", "example.com"))
    # zones, 2 record lists, 2 quota reads, then one batch
    cf.emu.rate_limit(after=6, retry_after=300)
    code, out, _err = cf.run("apply", "--auto-approve")
    assert code == 1
    assert "rate limit was reached (HTTP 429" in out and "Retry-After: 300 s" in out
    assert "not attempted: rate limited" in out or "FAILED" in out
    cf.emu.clear_rate_limit()
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert len(cf.managed("example.com")) == 400  # none lost, none twice
    assert cf.managed("acme.fr") == sorted(ACME)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(method="POST", path_contains="/batch", status=502, after_commit=True),
        Fault(method="POST", path_contains="/batch", drop=True, after_commit=True),
        Fault(method="POST", path_contains="/batch", status=503),
    ],
)
def test_a_lost_answer_or_a_5xx_during_apply_converges(cf: Env, fault: Fault) -> None:
    cf.emu.inject(fault)
    code, out, err = cf.run("apply", "--auto-approve")
    assert code == 0, out + err
    assert cf.managed("acme.fr") == sorted(ACME)  # no duplicate, nothing lost
    assert cf.run("plan", "--detailed-exitcode")[0] == 0


def test_a_zone_that_fails_does_not_stop_the_others(cf: Env) -> None:
    cf.emu.add_zone("example.com")
    cf.account("other", hosted("other", "mail.example.com"))
    cf.emu.add_record("example.com", "TXT", "_dmarc.mail.example.com", "v=DMARC1; p=none")
    acme_id = cf.emu.zone_named("acme.fr").id
    cf.emu.inject(
        Fault(method="POST", path_contains=f"{acme_id}/dns_records/batch", status=400, times=2)
    )  # the batch, and the one after a re-read
    code, out, _err = cf.run("apply", "--auto-approve")
    assert code == 1
    assert "acme.fr: FAILED" in out and "example.com: applied" in out
    assert len(cf.managed("example.com")) == 3 and cf.managed("acme.fr") == []
    assert cf.run("apply", "--auto-approve")[0] == 0  # the re-run finishes the work
    assert cf.managed("acme.fr") == sorted(ACME)


def test_a_slow_api_is_bounded(cf: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMETRIKA_GITOPS_CF_TIMEOUT", "0.3")
    cf.emu.inject(Fault(method="GET", path_contains="/zones", delay=1.0, times=5))
    code, _, err = cf.run("plan")
    assert code == 1 and "cannot reach the Cloudflare API" in err


def test_missing_and_invalid_tokens(cf: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    code, _, err = cf.run("apply", "--auto-approve")
    assert code == 1 and "apply needs CLOUDFLARE_API_TOKEN" in err
    assert cf.run("plan")[0] == 0  # offline without a token
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-the-token")
    code, _, err = cf.run("plan")
    assert code == 1
    assert "Cloudflare refused the API token (code 9109: Invalid access token)" in err
    assert "not-the-token" not in err


def test_cloudflare_email_in_the_environment_is_ignored(
    cf: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "someone@example.com")
    code, _, err = cf.run("apply", "--auto-approve")
    assert code == 0
    assert "warning: CLOUDFLARE_EMAIL is set and ignored" in err
    assert cf.managed("acme.fr") == sorted(ACME)


def test_zone_not_visible_to_the_token(cf: Env) -> None:
    cf.account("lost", hosted("lost", "mail.nowhere.example"))
    code, _, err = cf.run("plan")
    assert code == 1
    assert (
        "accounts/lost.yaml:7:13: error[dns-zone-not-found]: no zone visible to the API "
        "token holds mail.nowhere.example (it sees: acme.fr)"
    ) in err


def test_without_a_terminal_apply_needs_auto_approve(cf: Env) -> None:
    mark = len(cf.emu.log)
    code, _, err = cf.run("apply")
    assert code == 1 and "refusing to apply without --auto-approve" in err
    assert cf.writes(mark) == []


def test_plan_formats_of_a_live_plan(cf: Env) -> None:
    assert cf.run("apply", "--auto-approve")[0] == 0
    acme = cf.repo / "accounts" / "acme.yaml"
    acme.write_text(
        acme.read_text(encoding="utf-8").replace("policy: quarantine", "policy: reject"),
        encoding="utf-8",
    )
    _, out, _ = cf.run("plan", "--format", "json")
    data = json.loads(out)
    change = data["zones"][0]["changes"][0]
    assert (change["action"], change["record"]["content"]) == (
        "update",
        "v=DMARC1; p=reject; rua=mailto:dmarc@acme.fr",
    )
    assert change["existing"]["content"] == '"v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.fr"'
    _, out, _ = cf.run("plan", "--format", "markdown")
    assert "| change | TXT | `_dmarc.mail.acme.fr` |" in out
    _code, out, _ = cf.run("plan", "--format", "zone")
    assert (
        '_dmarc.mail.acme.fr.\t300\tIN\tTXT\t"v=DMARC1; p=reject; rua=mailto:dmarc@acme.fr"' in out
    )
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert (
        "TXT",
        "_dmarc.mail.acme.fr",
        '"v=DMARC1; p=reject; rua=mailto:dmarc@acme.fr"',
    ) in cf.managed("acme.fr")
    assert TOKEN not in out


def test_on_a_terminal_apply_asks_first(cf: Env) -> None:
    """A real pseudo-terminal: the prompt, a 'n' that applies nothing, a 'y' that applies."""
    import os
    import pty
    import subprocess
    import sys

    def answer(reply: bytes) -> tuple[int, str]:
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ametrika_gitops", "apply"],
            cwd=cf.repo,
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        os.close(slave)
        os.write(master, reply)
        out, err = proc.communicate(timeout=60)
        os.close(master)
        return proc.returncode, out.decode() + err.decode()

    code, text = answer(b"n\n")
    assert code == 1 and "Apply these changes? [y/N]" in text and "Nothing applied." in text
    assert cf.managed("acme.fr") == []
    code, text = answer(b"y\n")
    assert code == 0 and "Apply complete: 6 changes in 1 zone." in text
    assert cf.managed("acme.fr") == sorted(ACME)


def test_long_txt_is_sent_quoted_in_255_byte_strings_and_stays_in_sync(cf: Env) -> None:
    rua = ",".join(f"mailto:dmarc-report-{i:02d}@reports.example.com" for i in range(8))
    cf.account("long", hosted("long", "mail.long.acme.fr") + f'    dmarc: {{rua: "{rua}"}}\n')
    assert cf.run("apply", "--auto-approve")[0] == 0
    dmarc = next(r for r in cf.emu.records("acme.fr") if r["name"] == "_dmarc.mail.long.acme.fr")
    first, second = dmarc["content"][1:-1].split('" "')
    assert len(first) == 255 and first + second == f"v=DMARC1; p=none; rua={rua}"
    assert cf.run("plan", "--detailed-exitcode")[0] == 0  # normalised: no change after apply
