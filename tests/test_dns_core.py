"""The pure core of dns/ as tables: in-memory zones, no server (milliseconds)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from ametrika_gitops.dns import dmarc
from ametrika_gitops.dns.apply import batches, pending
from ametrika_gitops.dns.diff import ZoneDiff, diff_zone, fingerprint
from ametrika_gitops.dns.guard import Approval, approval, hold_deletions
from ametrika_gitops.dns.ownership import FREE_COMMENT_LIMIT, Mark, managed_comment, parse_mark
from ametrika_gitops.dns.pacing import Pacer, parse
from ametrika_gitops.dns.plan import (
    CREATE,
    DELETE,
    UPDATE,
    Change,
    Plan,
    Reason,
    plan_data,
    plan_from_data,
    seal_of,
    sealed_data,
)
from ametrika_gitops.dns.provider import LiveRecord, ZoneInfo, ZoneUsage
from ametrika_gitops.dns.quota import quota_problem
from ametrika_gitops.dns.records import Purpose, Record
from ametrika_gitops.emulator.ratelimit import RateLimiter

ZONE = ZoneInfo("z1", "acme.fr", "free", "2026-01-01")
MINE = "managed-by=ametrika-gitops account=acme"


def rec(
    name: str, rtype: str = "CNAME", content: str = "t.example", account: str = "acme"
) -> Record:
    purpose = Purpose.DMARC if name.startswith("_dmarc.") else Purpose.RETURN_PATH
    return Record(name, rtype, content, purpose, account)


def live(
    rid: str,
    name: str,
    rtype: str = "CNAME",
    content: str = "t.example",
    comment: str | None = MINE,
    ttl: int = 1,
    proxied: bool = False,
) -> LiveRecord:
    return LiveRecord(rid, name, rtype, content, ttl, proxied, comment)


def plan_of(
    desired: list[Record],
    zone: list[LiveRecord],
    scope: str = "",
    known: set[str] | None = None,
    outside: Mapping[str, dmarc.Found] | None = None,
) -> ZoneDiff:
    accounts = {r.account for r in desired}
    org_of = {r.name.split(".", 1)[1]: "acme.fr" for r in desired}
    return diff_zone(ZONE, desired, zone, scope, accounts, known, org_of, outside)


def actions(zd: ZoneDiff) -> list[tuple[str, str]]:
    return [(c.action.value, c.record.name) for c in zd.plan.changes]


# -- diff_zone -----------------------------------------------------------------------------

CASES = [
    # (what, desired, live, expected changes, expected finding codes)
    ("empty zone: create", [rec("amb.m.acme.fr")], [], [("create", "amb.m.acme.fr")], []),
    ("same: nothing", [rec("amb.m.acme.fr")], [live("1", "amb.m.acme.fr")], [], []),
    (
        "other content: update",
        [rec("amb.m.acme.fr")],
        [live("1", "amb.m.acme.fr", content="old.example")],
        [("update", "amb.m.acme.fr")],
        [],
    ),
    (
        "proxied: update",
        [rec("amb.m.acme.fr")],
        [live("1", "amb.m.acme.fr", proxied=True)],
        [("update", "amb.m.acme.fr")],
        [],
    ),
    (
        "not desired: delete",
        [rec("amb.m.acme.fr")],
        [live("1", "amb.m.acme.fr"), live("2", "links.m.acme.fr")],
        [("delete", "links.m.acme.fr")],
        [],
    ),
    (
        "someone else's: conflict",
        [rec("amb.m.acme.fr")],
        [live("1", "amb.m.acme.fr", "TXT", "x", None)],
        [],
        ["dns-conflict"],
    ),
    (
        "same content unmanaged: left for adopt",
        [rec("amb.m.acme.fr")],
        [live("1", "amb.m.acme.fr", comment=None)],
        [],
        [],
    ),
    (
        "below a delegation",
        [rec("amb.m.acme.fr")],
        [live("9", "m.acme.fr", "NS", "ns1.other.example", None)],
        [],
        ["dns-delegated"],
    ),
    (
        "apex NS is not a delegation",
        [rec("amb.m.acme.fr")],
        [live("9", "acme.fr", "NS", "ns1.cf.example", None)],
        [("create", "amb.m.acme.fr")],
        [],
    ),
]


@pytest.mark.parametrize("what, desired, zone, changes, codes", CASES, ids=[c[0] for c in CASES])
def test_diff_zone(
    what: str,
    desired: list[Record],
    zone: list[LiveRecord],
    changes: list[tuple[str, str]],
    codes: list[str],
) -> None:
    zd = plan_of(desired, zone)
    assert actions(zd) == changes
    assert [f.code for f in zd.findings] == codes


def test_a_conflict_leaves_out_the_whole_account_and_only_it() -> None:
    desired = [rec("amb.m.acme.fr"), rec("links.m.acme.fr"), rec("amb.b.acme.fr", account="b")]
    zone = [
        live("1", "links.m.acme.fr", "A", "192.0.2.1", None),
        live("2", "amb.m.acme.fr", content="old.example"),
    ]
    zd = plan_of(desired, zone)
    assert actions(zd) == [("create", "amb.b.acme.fr")]  # acme's update is not made either
    assert zd.plan.accounts == ("b",)


def test_scopes() -> None:
    theirs = "managed-by=ametrika-gitops scope=prod account=gone"
    zone = [
        live("1", "x.acme.fr", comment=theirs),
        live("2", "y.acme.fr", comment=MINE.replace("acme", "gone")),
    ]
    assert actions(plan_of([], zone, scope="", known={"acme"})) == [("delete", "y.acme.fr")]
    assert actions(plan_of([], zone, scope="prod", known={"acme"})) == [("delete", "x.acme.fr")]
    assert actions(plan_of([], zone, scope="staging", known={"acme"})) == []
    assert actions(plan_of([], zone, scope="", known=None)) == []  # a partial run judges none


def test_dmarc_decisions() -> None:
    want = rec("_dmarc.m.acme.fr", "TXT", "v=DMARC1; p=none")
    org = live("1", "_dmarc.acme.fr", "TXT", '"v=DMARC1; p=reject"', None)
    assert actions(plan_of([want], [org])) == []
    assert (
        actions(
            plan_of([want], [live("1", "_dmarc.m.acme.fr", content="vendor.example", comment=None)])
        )
        == []
    )
    assert actions(plan_of([want], [])) == [("create", "_dmarc.m.acme.fr")]
    outside = {"acme.fr": dmarc.Unknown("_dmarc.acme.fr", "timeout")}
    zd = plan_of([want], [], outside=outside)
    # the organisational domain's _dmarc is in this zone: the zone is the truth, not outside
    assert actions(zd) == [("create", "_dmarc.m.acme.fr")] and zd.findings == ()
    weaker = plan_of([want], [live("1", "_dmarc.m.acme.fr", "TXT", "v=DMARC1; p=reject")])
    assert actions(weaker) == [("update", "_dmarc.m.acme.fr")]
    assert [(f.code, f.warning) for f in weaker.findings] == [("dmarc-weaker", True)]


@pytest.mark.parametrize(
    "new, old, weaker",
    [
        ("v=DMARC1; p=none", "v=DMARC1; p=quarantine", True),
        ("v=DMARC1; p=reject", "v=DMARC1; p=quarantine", False),
        ("v=DMARC1; p=reject; pct=50", "v=DMARC1; p=reject", True),
        ("v=DMARC1; p=none; pct=50", "v=DMARC1; p=none", False),
        ("v=DMARC1; p=quarantine", "v=DMARC1; p=quarantine; pct=bogus", False),
    ],
)
def test_weakens(new: str, old: str, weaker: bool) -> None:
    assert dmarc.weakens(new, old) is weaker


def test_the_policy_a_subdomain_gets() -> None:
    e = dmarc.Existing("_dmarc.acme.fr", "DNS", "v=DMARC1; p=none; sp=reject")
    assert e.policy_for(subdomain=True) == "reject" and e.policy_for(subdomain=False) == "none"
    assert "(its sp=)" in e.describe("mail.acme.fr")


def test_fingerprint_covers_only_the_watched_names_and_delegations() -> None:
    zone = [live("1", "amb.m.acme.fr"), live("2", "www.acme.fr", "A", "192.0.2.1", None)]
    base = fingerprint("acme.fr", zone, ["amb.m.acme.fr"])
    assert (
        fingerprint(
            "acme.fr",
            [*zone, live("3", "other.acme.fr", "A", "192.0.2.2", None)],
            ["amb.m.acme.fr"],
        )
        == base
    )
    assert (
        fingerprint(
            "acme.fr",
            [*zone, live("4", "sub.acme.fr", "NS", "ns.example", None)],
            ["amb.m.acme.fr"],
        )
        != base
    )
    assert fingerprint("acme.fr", [replace(zone[0], ttl=300), zone[1]], ["amb.m.acme.fr"]) != base


# -- deletions, seal -----------------------------------------------------------------------


def deletion(account: str) -> Change:
    return Change(
        DELETE,
        rec(f"x.{account}.acme.fr", account=account),
        {"id": account},
        Reason.ACCOUNT_REMOVED,
    )


@pytest.mark.parametrize(
    "allow, max_deletes, applied",
    [
        ((), 0, []),
        (("a",), 0, ["a"]),
        ((), 3, ["a", "b", "b"]),
        ((), 2, []),  # all or none
        (("a",), 2, ["a", "b", "b"]),
    ],
)
def test_hold_deletions(allow: tuple[str, ...], max_deletes: int, applied: list[str]) -> None:
    zp = plan_of([], []).plan
    plan = Plan((replace(zp, changes=(deletion("a"), deletion("b"), deletion("b"))),), live=True)
    out = hold_deletions(plan, allow, max_deletes)
    assert [c.record.account for c in out.zones[0].changes] == applied
    assert len(out.zones[0].held) == 3 - len(applied)


def test_a_plan_survives_json_and_its_seal_binds_it() -> None:
    zd = plan_of([rec("amb.m.acme.fr")], [live("2", "links.m.acme.fr")])
    plan = hold_deletions(Plan((zd.plan,), live=True, source_commit="f" * 40, scope="s"), (), 0)
    data = sealed_data(plan)
    assert plan_from_data(data) == plan
    assert data["seal"] == seal_of(data)
    tampered = dict(data, source_commit="0" * 40)
    assert seal_of(tampered) != data["seal"]
    assert plan_data(plan_from_data(data)) | {"seal": data["seal"]} == data


def test_approval() -> None:
    assert approval(True, False) is Approval.APPLY
    assert approval(False, True) is Approval.ASK
    assert approval(False, False) is Approval.REFUSE


# -- apply's pure parts --------------------------------------------------------------------


def test_batches_keep_the_apis_order_within_the_limit() -> None:
    changes = (
        [Change(CREATE, rec(f"c{i}")) for i in range(5)]
        + [deletion("d")]
        + [Change(UPDATE, rec("u"), {"id": "u"})]
    )
    chunks = batches(changes, 3)
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert [c.action for c in chunks[0]] == [DELETE, UPDATE, CREATE]
    assert batches([], 200) == []


def test_pending_counts_ttl_and_proxy() -> None:
    want = rec("amb.m.acme.fr")
    change = Change(UPDATE, want, {"id": "1"})
    assert pending([change], [live("1", "amb.m.acme.fr")], "") == []
    assert pending([change], [live("1", "amb.m.acme.fr", proxied=True)], "") == [change]
    assert pending([change], [live("1", "amb.m.acme.fr", ttl=300)], "") == [change]
    assert pending([change], [], "") == [Change(CREATE, want)]  # the record went: create it


# -- ownership, quota, pacing --------------------------------------------------------------


def test_ownership_marks() -> None:
    assert parse_mark(MINE) == Mark("", "acme")
    assert parse_mark(managed_comment("acme", "eu")) == Mark("eu", "acme")
    assert parse_mark("managed-by=ametrika-gitops account=acme (by hand)") is None
    assert parse_mark(None) is None


def test_which_ids_fit_a_free_zone_with_a_scope() -> None:
    assert len(managed_comment("a" * 63)) <= FREE_COMMENT_LIMIT  # every id, without a scope
    for scope_len in (1, 8, 16):
        for id_len in range(2, 64):
            fits = len(managed_comment("a" * id_len, "s" * scope_len)) <= FREE_COMMENT_LIMIT
            assert fits is (id_len + scope_len <= 58)


@pytest.mark.parametrize(
    "zone, usage, counted, creates, problem",
    [
        (ZONE, None, 196, 4, False),
        (ZONE, None, 197, 4, True),
        (replace(ZONE, created_on="2024-08-31"), None, 990, 10, False),
        (replace(ZONE, plan="pro"), None, 3000, 400, False),
        (ZONE, ZoneUsage(10, 5000), 10, 400, False),  # a raised quota
        (ZONE, ZoneUsage(199, None), 0, 4, True),  # the provider's count wins
    ],
)
def test_quota(
    zone: ZoneInfo, usage: ZoneUsage | None, counted: int, creates: int, problem: bool
) -> None:
    zp = replace(
        plan_of([], []).plan, changes=tuple(Change(CREATE, rec(f"n{i}")) for i in range(creates))
    )
    assert (quota_problem(zone, zp, usage, counted) is not None) is problem


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = 0.0, 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_the_pacer_never_lets_the_emulators_limiter_refuse() -> None:
    clock = Clock()
    limiter = RateLimiter(30, 10, clock)
    pacer = Pacer(reserve=1, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        pacer.before()
        ok, headers = limiter.take()
        assert ok
        pacer.after({k.lower(): v for k, v in headers.items()})
        clock.now += 0.01
    assert limiter.refused == 0 and clock.slept >= 30  # three windows waited out


def test_ratelimit_header() -> None:
    assert parse('"default";r=50;t=30') == {"r": 50, "t": 30}
    assert parse(None) == {} and parse("garbage") == {}
