"""The offline plan: the records to hand to a DNS administrator, "copy to clipboard" of H8.

Golden files for every format, and the formats' own guarantees."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dns.rdatatype
import dns.zone
import jsonschema
import pytest

from ametrika_gitops.check.pipeline import check_files
from ametrika_gitops.check.project import Project, account_files
from ametrika_gitops.dns.formats import RENDERERS
from ametrika_gitops.dns.offline import offline_plan
from ametrika_gitops.dns.plan import Plan

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
SUFFIX = {"text": "txt", "markdown": "md", "json": "json", "zone": "zone"}


def bundled_plan(project: Project) -> Plan:
    results = check_files(project, account_files((), project.root))
    return offline_plan(r.account for r in results if r.account is not None)


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_plan_format_matches_its_golden_file(project: Project, fmt: str) -> None:
    out = RENDERERS[fmt](bundled_plan(project))
    golden = GOLDEN / f"plan.{SUFFIX[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_json_plan_follows_its_schema(project: Project) -> None:
    schema = json.loads((ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(RENDERERS["json"](bundled_plan(project)))
    jsonschema.validate(data, schema)
    assert data["summary"] == {"create": 10, "update": 0, "delete": 0, "held": 0}


def test_zone_output_is_valid_bind_and_splits_long_txt(project: Project, repo: Path) -> None:
    rua = ",".join(f"mailto:dmarc-report-{i:02d}@reports.example.com" for i in range(8))
    (repo / "accounts" / "long.yaml").write_text(
        f"""\
version: 1
account: {{id: long, name: Long, admins: ["@a"], locales: [en]}}
sender:
  mode: hosted
  from_name: Long
  hosted:
    domain: mail.example.com
    from_address: a@mail.example.com
    verification: "tok-1234567890"
    dmarc: {{policy: reject, rua: "{rua}"}}
""",
        encoding="utf-8",
    )
    local = Project.open(repo)
    results = check_files(local, account_files((), local.root))
    assert [d for r in results for d in r.diagnostics] == []
    text = RENDERERS["zone"](offline_plan(r.account for r in results if r.account))
    zone = dns.zone.from_text(text, origin="example.com.", relativize=False, check_origin=False)
    dmarc = zone.find_rdataset("_dmarc.mail.example.com.", dns.rdatatype.TXT)[0]
    assert len(dmarc.strings) == 2 and all(len(s) <= 255 for s in dmarc.strings)
    assert b"".join(dmarc.strings).decode() == f"v=DMARC1; p=reject; rua={rua}"
    cname = zone.find_rdataset("amk1._domainkey.mail.example.com.", dns.rdatatype.CNAME)[0]
    assert cname.target.to_text() == "amk1.long.dkim.ametrika.com."


def test_no_hosted_account_means_an_empty_plan(project: Project) -> None:
    results = check_files(project, [ROOT / "accounts" / "globex.yaml"])
    plan = offline_plan(r.account for r in results if r.account)
    assert not plan.has_changes
    assert "no DNS record is needed" in RENDERERS["text"](plan)


def test_zones_group_accounts_and_are_sorted(project: Project) -> None:
    plan = bundled_plan(project)
    assert [z.zone for z in plan.zones] == ["acme.fr", "xn--caf-du-port-dbb.fr"]
    assert [z.provider for z in plan.zones] == ["cloudflare", "manual"]
    for z in plan.zones:
        keys = [c.key for c in z.changes]
        assert keys == sorted(keys)


def test_markdown_says_what_to_do_with_each_zone_by_who_writes_it(project: Project) -> None:
    """A manual zone is for the DNS administrator; a zone the tool applies needs no hand."""
    out = RENDERERS["markdown"](bundled_plan(project))
    cloud, manual = out.split("### Zone `xn--caf-du-port-dbb.fr` (manual)")
    assert "Nothing to do by hand" in cloud and "DNS administrator" not in cloud
    assert "For the DNS administrator" in manual and "plan --format zone" in manual
    assert "Cloudflare's dashboard" not in out


def test_markdown_update_rows_show_the_value_they_replace() -> None:
    from ametrika_gitops.dns.plan import UPDATE, Change, ZonePlan
    from ametrika_gitops.dns.records import Purpose, Record

    record = Record("_dmarc.mail.acme.fr", "TXT", "v=DMARC1; p=reject", Purpose.DMARC, "acme")
    change = Change(UPDATE, record, {"content": '"v=DMARC1; p=none"'})
    plan = Plan((ZonePlan("acme.fr", "cloudflare", (change,), ("acme",)),), live=True)
    row = next(line for line in RENDERERS["markdown"](plan).splitlines() if "_dmarc" in line)
    assert '`"v=DMARC1; p=reject"` (was `"v=DMARC1; p=none"`)' in row
    assert "`ametrika-gitops apply` makes these changes" in RENDERERS["markdown"](plan)
