"""Issue #10: plan and apply never harm a production zone. Each test drives the command line
against the Cloudflare API emulator through the official SDK (and a DNS server on loopback
where the organisational domain lives elsewhere), and checks what the zone holds after."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ametrika_gitops.emulator.cloudflare import Fault

from .cloudflare_helpers import (
    Env,
    cf_fixture,  # noqa: F401 - the fixture `cf`
    hosted,
)
from .dns_helpers import Zones, dns_server

MANAGED = "managed-by=ametrika-gitops account="


def only(cf: Env, *accounts: tuple[str, str]) -> None:
    """Replace the bundled accounts by hosted ones: (id, account file text)."""
    for f in (cf.repo / "accounts").glob("*.yaml"):
        f.unlink()
    for name, text in accounts:
        cf.account(name, text)


def names(cf: Env, zone: str) -> set[tuple[str, str]]:
    return {(r["type"], r["name"]) for r in cf.emu.records(zone)}


# -- 5. one conflict stops nothing else ----------------------------------------------------


def test_a_conflict_in_one_zone_leaves_the_others_applied(cf: Env) -> None:
    cf.emu.add_zone("example.com")
    only(
        cf, ("acme", hosted("acme", "mail.acme.fr")), ("other", hosted("other", "mail.example.com"))
    )
    cf.emu.add_record("acme.fr", "TXT", "amb.mail.acme.fr", "someone else's")
    code, out, err = cf.run("apply", "--auto-approve")
    assert code == 1
    assert "accounts/acme.yaml:7:13: error[dns-conflict]: CNAME amb.mail.acme.fr" in err
    assert "example.com: applied: 4 changes" in out
    assert len(cf.managed("example.com")) == 4
    assert cf.managed("acme.fr") == []  # the account with the conflict: nothing at all
    assert [r["content"] for r in cf.emu.records("acme.fr")] == ["someone else's"]


def test_a_conflict_leaves_out_one_account_not_its_zone(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")), ("beta", hosted("beta", "beta.acme.fr")))
    cf.emu.add_record("acme.fr", "A", "amk1._domainkey.beta.acme.fr", "192.0.2.1")
    code, out, err = cf.run("plan", "--detailed-exitcode")
    assert code == 1 and "error[dns-conflict]" in err and "accounts/beta.yaml" in err
    assert "zone acme.fr (cloudflare; accounts: acme)" in out
    assert "left out: account beta" in out
    assert cf.run("apply", "--auto-approve")[0] == 1
    assert {n for _, n, _ in cf.managed("acme.fr")} == {
        "amb.mail.acme.fr",
        "amk1._domainkey.mail.acme.fr",
        "amk2._domainkey.mail.acme.fr",
        "_dmarc.mail.acme.fr",
    }


# -- 2. every deletion needs a person's word; ownership scopes ------------------------------


def test_records_of_accounts_this_checkout_does_not_know_are_held(cf: Env) -> None:
    """A plan from an older checkout must not delete accounts added since."""
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    for label in ("amb", "amk1._domainkey"):
        cf.emu.add_record(
            "acme.fr", "CNAME", f"{label}.new.acme.fr", "x.ametrika.com", comment=MANAGED + "newer"
        )
    before = len(cf.emu.records("acme.fr"))
    code, out, _ = cf.run("plan", "--detailed-exitcode")
    assert code == 2 and "2 deletions held" in out and "release with --allow-delete newer" in out
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert len(cf.emu.records("acme.fr")) == before + 4  # acme added, nothing deleted
    code, _, err = cf.run("apply", "--auto-approve", "--allow-delete", "typo")
    assert code == 0 and "--allow-delete typo: the plan deletes no record of it" in err
    assert cf.run("apply", "--auto-approve", "--allow-delete", "newer")[0] == 0
    assert not any(n.endswith("new.acme.fr") for _, n in names(cf, "acme.fr"))


def test_max_deletes_is_all_or_none(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    for i in range(3):
        cf.emu.add_record("acme.fr", "TXT", f"t{i}.gone.acme.fr", "v", comment=MANAGED + "gone")
    _, out, _ = cf.run("plan", "--max-deletes", "2")
    assert "3 deletions held" in out and "--max-deletes 3" in out
    _code, out, _ = cf.run("plan", "--max-deletes", "3")
    assert "3 to delete" in out and "held" not in out


def write_settings(cf: Env, text: str) -> None:
    (cf.repo / "ametrika-gitops.yaml").write_text(text, encoding="utf-8")


def test_two_repositories_share_a_zone_by_scope(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    production = "managed-by=ametrika-gitops account=prod1"  # a repository without a scope
    other = "managed-by=ametrika-gitops scope=eu account=eu1"
    cf.emu.add_record("acme.fr", "CNAME", "amb.prod.acme.fr", "p.ametrika.com", comment=production)
    cf.emu.add_record("acme.fr", "CNAME", "amb.eu.acme.fr", "e.ametrika.com", comment=other)
    write_settings(cf, "dns:\n  ownership_scope: staging\n")
    code, out, _ = cf.run("apply", "--auto-approve", "--max-deletes", "99")
    assert code == 0 and "delete" not in out.split("\n", 1)[1]
    comments = {r["name"]: r["comment"] for r in cf.emu.records("acme.fr")}
    assert comments["amb.prod.acme.fr"] == production
    assert comments["amb.eu.acme.fr"] == other
    assert comments["amb.mail.acme.fr"] == "managed-by=ametrika-gitops scope=staging account=acme"
    # another scope's record in the way is a conflict, never replaced
    cf.account("two", hosted("two", "eu.acme.fr"))
    code, _, err = cf.run("plan")
    assert code == 1
    assert "a CNAME record managed by another repository (scope 'eu') stands there" in err


def test_records_of_the_no_scope_repository_stay_owned_after_upgrade(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert cf.run("plan", "--detailed-exitcode")[0] == 0  # no settings file: same comments


def test_an_invalid_scope_is_a_finding_at_its_position(cf: Env) -> None:
    write_settings(cf, "dns:\n  ownership_scope: Not A Slug\n  colour: blue\n")
    code, out, err = cf.run("plan")
    assert code == 1 and out == ""
    assert "ametrika-gitops.yaml:2:20: error[ownership-scope]" in err
    assert "ametrika-gitops.yaml:3:3: error[settings-key]: unknown key 'dns.colour'" in err


def test_a_comment_over_the_free_limit_is_reported_at_the_account(cf: Env) -> None:
    long_id = "a" + "b" * 49  # valid (at most 63), but with a 16-character scope: 108 chars
    only(cf, (long_id, hosted(long_id, "mail.acme.fr")))
    write_settings(cf, "dns: {ownership_scope: sixteen-chars-xx}\n")
    code, _, err = cf.run("plan")
    assert code == 1
    assert f"accounts/{long_id}.yaml:2:15: error[dns-comment-too-long]" in err
    assert "has 108 characters; zone acme.fr (free plan) allows 100" in err
    cf.emu.zone_named("acme.fr").plan = "pro"  # 500 on paid plans
    assert cf.run("apply", "--auto-approve")[0] == 0


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_a_saved_plan_is_bound_to_its_commit(cf: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    git(cf.repo, "init", "-q")
    git(cf.repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(cf.repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    head = git(cf.repo, "rev-parse", "HEAD")
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    assert json.loads((cf.repo / "plan.json").read_text())["source_commit"] == head
    mark = len(cf.emu.log)
    code, _, err = cf.run("apply", "--auto-approve", "--expect-commit", "0" * 40, "plan.json")
    assert code == 1 and f"plan.json was made from commit {head}, not {'0' * 40}" in err
    assert cf.writes(mark) == []
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = cf.run("apply", "--auto-approve", "--expect-commit", head[:12], "plan.json")
    assert code == 0 and "--expect-commit" not in err
    assert len(cf.managed("acme.fr")) == 4


def test_in_ci_a_plan_without_expect_commit_is_warned(
    cf: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, _, err = cf.run("apply", "--auto-approve", "plan.json")
    assert code == 0 and "warning: applying a saved plan without --expect-commit" in err


# -- 7. the seal, and a fingerprint of what the plan depends on ------------------------------


def test_an_edited_plan_is_refused(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    path = cf.repo / "plan.json"
    data = json.loads(path.read_text())
    data["zones"][0]["changes"][0]["record"]["content"] = "attacker.example"
    path.write_text(json.dumps(data))
    mark = len(cf.emu.log)
    code, _, err = cf.run("apply", "--auto-approve", "plan.json")
    assert code == 1 and "the plan's seal does not match its content" in err
    assert cf.writes(mark) == [] and cf.managed("acme.fr") == []


def test_an_unrelated_edit_of_the_zone_keeps_a_saved_plan_valid(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    cf.emu.add_record("acme.fr", "A", "www.acme.fr", "192.0.2.7")
    assert cf.run("apply", "--auto-approve", "plan.json")[0] == 0
    assert len(cf.managed("acme.fr")) == 4


def test_a_saved_plan_applies_only_its_allowed_deletions(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    cf.emu.add_record("acme.fr", "TXT", "x.gone.acme.fr", "v", comment=MANAGED + "gone")
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    code, _, err = cf.run("apply", "--auto-approve", "--allow-delete", "gone", "plan.json")
    assert code == 0 and "ignored with a saved plan" in err
    assert ("TXT", "x.gone.acme.fr") in names(cf, "acme.fr")


# -- 3. delegations --------------------------------------------------------------------------


def test_records_below_a_delegation_are_refused_naming_the_ns_record(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")), ("beta", hosted("beta", "beta.acme.fr")))
    ns = cf.emu.add_record("acme.fr", "NS", "mail.acme.fr", "ns1.other.example")
    code, _out, err = cf.run("apply", "--auto-approve")
    assert code == 1
    assert (
        "accounts/acme.yaml:7:13: error[dns-delegated]: amk1._domainkey.mail.acme.fr is below "
        f"the NS record mail.acme.fr → ns1.other.example (id {ns['id']}) in zone acme.fr"
    ) in err
    assert not any(n.endswith("mail.acme.fr") and t != "NS" for t, n in names(cf, "acme.fr"))
    assert len(cf.managed("acme.fr")) == 4  # beta, beside it, is applied


def test_an_explicit_zone_less_specific_than_a_visible_one_is_warned(cf: Env) -> None:
    cf.emu.add_zone("mail.acme.fr")
    only(cf, ("acme", hosted("acme", "news.mail.acme.fr", zone="acme.fr")))
    code, _, err = cf.run("plan")
    assert code == 0
    assert (
        "accounts/acme.yaml:9:39: warning[dns-zone-shadowed]: dns.zone is acme.fr, but the "
        "token also sees zone mail.acme.fr"
    ) in err


# -- 1. never a weaker DMARC policy --------------------------------------------------------


def test_the_organisations_policy_in_another_zone_is_kept(cf: Env) -> None:
    cf.emu.add_zone("example.com")
    cf.emu.add_zone("mail.example.com")
    cf.emu.add_record("example.com", "TXT", "_dmarc.example.com", "v=DMARC1; p=reject")
    only(cf, ("acme", hosted("acme", "mail.example.com")))
    code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0
    assert (
        "kept the existing DMARC policy: 'v=DMARC1; p=reject' at _dmarc.example.com "
        "(zone example.com) applies to mail.example.com: p=reject (its p=; no sp=)"
    ) in out
    assert ("TXT", "_dmarc.mail.example.com") not in names(cf, "mail.example.com")


@pytest.mark.parametrize(
    "served, added",
    [
        ({"_dmarc.example.com": "v=DMARC1; p=quarantine; sp=reject"}, False),
        ({}, True),  # no DMARC anywhere: the account's own is published
    ],
)
def test_the_organisations_policy_on_another_provider_is_read_from_dns(
    cf: Env, monkeypatch: pytest.MonkeyPatch, served: dict[str, str], added: bool
) -> None:
    cf.emu.add_zone("mail.example.com")
    only(cf, ("acme", hosted("acme", "mail.example.com")))
    zones = Zones()
    zones.add("A", "example.com", "192.0.2.1")
    for name, text in served.items():
        zones.add("TXT", name, text)
    with dns_server(zones) as port:
        monkeypatch.setenv("AMETRIKA_GITOPS_NAMESERVER", f"127.0.0.1:{port}")
        code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0
    assert (("TXT", "_dmarc.mail.example.com") in names(cf, "mail.example.com")) is added
    if not added:
        assert "at _dmarc.example.com (DNS) applies to mail.example.com: p=reject (its sp=)" in out


def test_an_unreadable_organisational_dmarc_adds_none(
    cf: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    cf.emu.add_zone("mail.example.com")
    only(cf, ("acme", hosted("acme", "mail.example.com")))
    zones = Zones()
    zones.servfail.add("_dmarc.example.com")
    with dns_server(zones) as port:
        monkeypatch.setenv("AMETRIKA_GITOPS_NAMESERVER", f"127.0.0.1:{port}")
        code, _, err = cf.run("apply", "--auto-approve")
    assert code == 0 and "warning[dmarc-unknown]" in err
    assert ("TXT", "_dmarc.mail.example.com") not in names(cf, "mail.example.com")
    assert len(cf.managed("mail.example.com")) == 3


# -- 4. the record quota -------------------------------------------------------------------


def test_a_plan_over_the_zone_quota_is_refused_before_any_write(cf: Env) -> None:
    cf.emu.add_zone("example.com")
    only(
        cf, ("acme", hosted("acme", "mail.acme.fr")), ("other", hosted("other", "mail.example.com"))
    )
    for i in range(198):  # a new Free zone holds 200
        cf.emu.add_record("acme.fr", "A", f"h{i}.acme.fr", "192.0.2.1")
    code, _out, err = cf.run("apply", "--auto-approve")
    assert code == 1
    assert (
        "error[dns-zone-quota]: zone acme.fr holds 198 records and this plan adds 4 more, over "
        "its quota of 200 records (Cloudflare plan free)"
    ) in err
    assert cf.managed("acme.fr") == [] and len(cf.managed("example.com")) == 4


def test_a_saved_plan_checks_the_quota_again(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    for i in range(197):  # unrelated names: the plan is not stale, the zone is full
        cf.emu.add_record("acme.fr", "A", f"h{i}.acme.fr", "192.0.2.1")
    mark = len(cf.emu.log)
    code, out, _ = cf.run("apply", "--auto-approve", "plan.json")
    assert code == 1 and "acme.fr: FAILED: zone acme.fr holds 197 records" in out
    assert cf.writes(mark) == []


# -- 6. adopt ------------------------------------------------------------------------------


def test_records_published_by_hand_are_adopted(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    for sel in ("amk1", "amk2"):
        cf.emu.add_record(
            "acme.fr", "CNAME", f"{sel}._domainkey.mail.acme.fr", f"{sel}.acme.dkim.ametrika.com"
        )
    code, out, _ = cf.run("plan")
    assert code == 0 and "`ametrika-gitops adopt acme` takes it over" in out
    assert "2 to add" in out  # the return path and DMARC; the DKIM CNAMEs are left as they are
    mark = len(cf.emu.log)
    code, out, _ = cf.run("adopt", "acme", "--auto-approve")
    assert code == 0, out
    assert "2 records to adopt" in out and "acme.fr: adopted: 2 records adopted in 1 batch" in out
    assert [w for w in cf.writes(mark)] == [
        f"POST /client/v4/zones/{cf.emu.zone_named('acme.fr').id}/dns_records/batch"
    ]
    assert len(cf.managed("acme.fr")) == 2
    assert cf.run("apply", "--auto-approve")[0] == 0
    assert cf.run("plan", "--detailed-exitcode")[0] == 0
    assert cf.run("adopt", "--auto-approve")[1].startswith("Nothing to adopt")


def test_adopt_leaves_different_content_a_conflict_and_asks_first(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    cf.emu.add_record("acme.fr", "CNAME", "amb.mail.acme.fr", "elsewhere.example")
    cf.emu.add_record(
        "acme.fr", "CNAME", "amk1._domainkey.mail.acme.fr", "amk1.acme.dkim.ametrika.com"
    )
    mark = len(cf.emu.log)
    code, _, err = cf.run("adopt")
    assert code == 1 and "refusing to apply without --auto-approve" in err
    assert cf.writes(mark) == []
    code, out, _ = cf.run("adopt", "--auto-approve")
    assert "1 record to adopt" in out and "amb.mail" not in out
    assert cf.run("plan")[0] == 1  # the return path is still someone else's


def test_a_dmarc_cname_counts_as_an_existing_dmarc_record(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    cf.emu.add_record("acme.fr", "CNAME", "_dmarc.mail.acme.fr", "acme.dmarc.vendor.example")
    code, out, _ = cf.run("apply", "--auto-approve")
    assert code == 0
    assert "_dmarc is delegated by CNAME acme.dmarc.vendor.example (zone acme.fr)" in out
    assert ("CNAME", "_dmarc.mail.acme.fr") in names(cf, "acme.fr")


# -- 8. the API budget ---------------------------------------------------------------------


def test_twenty_zones_under_a_tight_rate_limit_never_get_429(cf: Env) -> None:
    accounts = []
    for i in range(20):
        cf.emu.add_zone(f"z{i:02d}.example")
        accounts.append((f"a{i:02d}", hosted(f"a{i:02d}", f"mail.z{i:02d}.example")))
    for i in range(5):
        cf.emu.add_zone(f"idle{i}.example")  # zones without accounts are not read
    only(cf, *accounts)
    limiter = cf.emu.limit_rate(quota=30, window=10)
    code, out, err = cf.run("apply", "--auto-approve")
    assert code == 0, out + err
    assert limiter.refused == 0 and all(r.status != 429 for r in cf.emu.log)
    assert "waiting" in err and "zone 20/20" in err and "s left)" in err
    for i in range(20):
        assert len(cf.managed(f"z{i:02d}.example")) == 4
    reads = [r for r in cf.emu.log if r.method == "GET" and r.path.endswith("/dns_records")]
    assert len(reads) == 20


# -- 9. smaller defects --------------------------------------------------------------------


def test_a_truncated_answer_is_a_cloudflare_error_with_a_retry_hint(cf: Env) -> None:
    cf.emu.inject(Fault(method="GET", path_contains="/dns_records", truncate=True))
    code, _, err = cf.run("plan")
    assert code == 1 and "internal error" not in err
    assert "Cloudflare's answer could not be read" in err and "run the command again" in err


def test_a_failed_unproxy_is_not_counted_as_done(cf: Env) -> None:
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("apply", "--auto-approve")[0] == 0
    amb = next(r for r in cf.emu.records("acme.fr") if r["name"] == "amb.mail.acme.fr")
    cf.emu.zone_named("acme.fr").records[amb["id"]]["proxied"] = True  # someone proxied it
    cf.emu.inject(Fault(method="POST", path_contains="/batch", status=400))  # not committed
    code, out, err = cf.run("apply", "--auto-approve")
    assert code == 0, out + err
    assert "re-read the zone: 1 of 1 changes still to make" in err
    amb = next(r for r in cf.emu.records("acme.fr") if r["name"] == "amb.mail.acme.fr")
    assert amb["proxied"] is False


def test_zone_lines_of_an_update_mark_the_record_they_replace(cf: Env) -> None:
    import dns.rdatatype
    import dns.zone

    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("apply", "--auto-approve")[0] == 0
    path = cf.repo / "accounts" / "acme.yaml"
    path.write_text(path.read_text() + "    dmarc: {policy: reject}\n")
    code, out, _ = cf.run("plan", "--format", "zone")
    assert code == 0
    assert (
        '; REPLACES (delete it first): _dmarc.mail.acme.fr.\t300\tIN\tTXT\t"v=DMARC1; p=none; '
        'rua=mailto:acme@dmarc.ametrika.com"'
    ) in out
    zone = dns.zone.from_text(out, origin="acme.fr.", relativize=False, check_origin=False)
    txt = zone.find_rdataset("_dmarc.mail.acme.fr.", dns.rdatatype.TXT)
    assert len(txt) == 1  # pasted, it is one record, not two


def test_offline_commands_do_not_import_the_sdk(repo: Path) -> None:
    import sys

    probe = (
        "import sys\n"
        "from ametrika_gitops.cli.main import main\n"
        "for argv in (['validate'], ['compile', '--out', 'build'], ['plan', '--offline']):\n"
        "    main(argv)\n"
        "print(sorted(m for m in ('cloudflare', 'httpx') if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip().splitlines()[-1] == "[]"


# -- issue #15: a large zone is read in part ----------------------------------------------


def test_one_account_in_a_large_zone_reads_only_what_the_plan_depends_on(cf: Env) -> None:
    cf.emu.add_zone("big.example", plan="pro")
    zone = cf.emu.zone_named("big.example")
    template = cf.emu.add_record("big.example", "A", "h.big.example", "192.0.2.1")
    for i in range(1499):  # unrelated records, copied in directly (setup, not the API)
        rid = f"{i + 10**6:032x}"
        zone.records[rid] = template | {"id": rid, "name": f"h{i}.big.example"}
    only(cf, ("acme", hosted("acme", "mail.big.example")))
    cf.emu.add_record("big.example", "TXT", "amb.mail.big.example", "in the way")
    cf.emu.add_record("big.example", "TXT", "x.old.big.example", "v", comment=MANAGED + "acme")
    cf.emu.add_record("big.example", "NS", "other.big.example", "ns1.other.example")
    mark = len(cf.emu.log)
    code, out, err = cf.run("plan")
    assert code == 1 and "error[dns-conflict]: CNAME amb.mail.big.example" in err
    assert "zone 1/1 big.example: 3 of its 1503 records read" in err
    reads = [r.query for r in cf.emu.log[mark:] if r.path.endswith("/dns_records")]
    assert len(reads) == 5  # the first page, managed records, NS records, the domain, _dmarc
    assert any("name.endswith=.mail.big.example" in q for q in reads)
    # the managed record elsewhere is seen (held for deletion), the conflict stops acme alone
    cf.emu.zone_named("big.example").records.pop(
        next(r["id"] for r in cf.emu.records("big.example") if r["name"] == "amb.mail.big.example")
    )
    code, out, _ = cf.run("plan")
    assert code == 0 and "held: - TXT   x.old.big.example" in out and "4 to add" in out
    assert cf.run("plan", "--out", "plan.json")[0] == 0
    cf.emu.add_record("big.example", "A", "www.big.example", "192.0.2.9")  # unrelated
    assert cf.run("apply", "--auto-approve", "plan.json")[0] == 0
    assert len(cf.managed("big.example")) == 5  # 4 added, the held one kept


def test_a_live_plan_with_held_and_left_out_follows_its_schema(cf: Env) -> None:
    import jsonschema

    only(cf, ("acme", hosted("acme", "mail.acme.fr")), ("beta", hosted("beta", "beta.acme.fr")))
    cf.emu.add_record("acme.fr", "A", "amb.beta.acme.fr", "192.0.2.1")
    cf.emu.add_record("acme.fr", "TXT", "x.gone.acme.fr", "v", comment=MANAGED + "gone")
    code, out, _ = cf.run("plan", "--format", "json", "--out", "plan.json")
    assert code == 1
    data = json.loads(out)
    schema = json.loads((cf.repo / "schemas" / "plan.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["summary"]["held"] == 1 and data["zones"][0]["held"][0]["release"] == (
        "--allow-delete gone"
    )
    assert [s["account"] for s in data["skipped"]] == ["beta"]
    # the seal a reviewer saw is the one apply shows before asking
    _, text, _ = cf.run("plan")
    seal = next(line for line in text.splitlines() if line.startswith("seal: "))
    assert seal.split()[1] == data["seal"]
    code, out, err = cf.run("apply", "--auto-approve", "plan.json")
    assert code == 1 and seal in out and "left out: beta" in err
    assert len(cf.managed("acme.fr")) == 5  # acme's 4 added; gone's held record kept


def test_records_left_in_a_zone_that_no_longer_holds_the_account_are_found_when_named(
    cf: Env,
) -> None:
    cf.emu.add_zone("other.example")
    only(cf, ("acme", hosted("acme", "mail.acme.fr")))
    assert cf.run("apply", "--auto-approve")[0] == 0
    cf.account("acme", hosted("acme", "mail.other.example"))  # moved to another zone
    _, out, _ = cf.run("plan")
    assert "1 zone without accounts of this repository was not read" in out
    assert "no longer needed" not in out
    code, out, _ = cf.run("apply", "--auto-approve", "--allow-delete", "acme")
    assert code == 0 and out.count("no longer needed, account acme") == 4
    assert cf.managed("acme.fr") == [] and len(cf.managed("other.example")) == 4
