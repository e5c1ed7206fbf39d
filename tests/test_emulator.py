"""The Cloudflare API emulator itself, through the official SDK with strict validation."""

from __future__ import annotations

from collections.abc import Iterator

import cloudflare
import httpx
import pytest

from ametrika_gitops.emulator.cloudflare import CloudflareEmulator, Fault

TOKEN = "emulator-token"


@pytest.fixture
def emu() -> Iterator[CloudflareEmulator]:
    e = CloudflareEmulator(tokens={TOKEN: None, "narrow": {"b.example"}})
    e.add_zone("a.example")
    e.add_zone("b.example", plan="enterprise")
    with e.running():
        yield e


def client(emu: CloudflareEmulator, token: str = TOKEN, retries: int = 0) -> cloudflare.Cloudflare:
    return cloudflare.Cloudflare(
        api_token=token,
        base_url=emu.base_url,
        max_retries=retries,
        _strict_response_validation=True,
    )


def codes(exc: cloudflare.APIStatusError) -> list[int]:
    assert isinstance(exc.body, dict)
    return [e["code"] for e in exc.body["errors"]]


def zone_id(emu: CloudflareEmulator, name: str = "a.example") -> str:
    return emu.zone_named(name).id


def test_zone_list_name_filter_pagination_and_limits(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    page = cf.zones.list(per_page=5)
    assert [z.name for z in page.result] == ["a.example", "b.example"]
    assert page.result_info is not None and page.result_info.total_count == 2
    assert [z.name for z in cf.zones.list(name="b.example").result] == ["b.example"]
    assert cf.zones.list(name="b.example").result[0].plan.legacy_id == "enterprise"
    with pytest.raises(cloudflare.BadRequestError):
        cf.zones.list(per_page=4)  # zones take 5 to 50 a page
    assert [z.name for z in client(emu, "narrow").zones.list().result] == ["b.example"]


def test_record_pagination_ends_with_an_empty_page(emu: CloudflareEmulator) -> None:
    for i in range(12):
        emu.add_record("a.example", "TXT", f"t{i:02d}.a.example", f"v{i}")
    cf = client(emu)
    mark = len(emu.log)
    names = [r.name for r in cf.dns.records.list(zone_id=zone_id(emu), per_page=5)]
    assert names == [f"t{i:02d}.a.example" for i in range(12)]
    pages = [r.query for r in emu.log[mark:]]
    assert len(pages) == 4  # 5 + 5 + 2, then the empty page that stops the SDK
    filtered = cf.dns.records.list(zone_id=zone_id(emu), name={"exact": "t03.a.example"})
    assert [r.content for r in filtered.result] == ["v3"]
    emu.add_record("a.example", "CNAME", "c.a.example", "t.example")
    by_type = cf.dns.records.list(zone_id=zone_id(emu), type="CNAME")
    assert [r.name for r in by_type.result] == ["c.a.example"]


def test_full_record_objects_and_envelopes(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    r = cf.dns.records.create(
        zone_id=zone_id(emu),
        type="CNAME",
        name="www",
        content="Target.Example.",
        ttl=1,
        proxied=True,
        comment="c",
    )
    assert (r.name, r.content, r.proxied, r.proxiable) == (
        "www.a.example",
        "target.example",
        True,
        True,
    )
    raw = httpx.get(
        f"{emu.base_url}/zones/{zone_id(emu)}/dns_records/{r.id}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()
    assert raw["success"] is True and raw["errors"] == [] and raw["messages"] == []
    assert {
        "id",
        "name",
        "type",
        "content",
        "proxiable",
        "proxied",
        "ttl",
        "settings",
        "meta",
        "comment",
        "tags",
        "created_on",
        "modified_on",
    } <= set(raw["result"])


@pytest.mark.parametrize(
    "first, second, code",
    [
        (("A", "x", "192.0.2.1"), ("CNAME", "x", "t.example"), 81053),
        (("CNAME", "x", "t.example"), ("TXT", "x", "hello"), 81054),
        (("TXT", "x", "hello"), ("TXT", "x", '"hello"'), 81058),
    ],
)
def test_cloudflare_validations(
    emu: CloudflareEmulator, first: tuple[str, str, str], second: tuple[str, str, str], code: int
) -> None:
    cf = client(emu)
    zid = zone_id(emu)
    cf.dns.records.create(zone_id=zid, type=first[0], name=first[1], content=first[2], ttl=1)
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cf.dns.records.create(zone_id=zid, type=second[0], name=second[1], content=second[2], ttl=1)
    assert codes(caught.value) == [code]


def test_ttl_proxy_and_missing_record(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    zid = zone_id(emu)
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cf.dns.records.create(zone_id=zid, type="TXT", name="x", content="y", ttl=30)
    assert codes(caught.value) == [9021]
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cf.dns.records.create(zone_id=zid, type="TXT", name="x", content="y", ttl=1, proxied=True)
    assert codes(caught.value) == [9004]
    with pytest.raises(cloudflare.NotFoundError) as nf:
        cf.dns.records.delete("f" * 32, zone_id=zid)
    assert codes(nf.value) == [81044]


def test_put_patch_delete(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    zid = zone_id(emu)
    r = cf.dns.records.create(zone_id=zid, type="TXT", name="x", content="one", ttl=1)
    cf.dns.records.update(r.id, zone_id=zid, type="TXT", name="x", content="two", ttl=300)
    cf.dns.records.edit(r.id, zone_id=zid, type="TXT", name="x", content="three", ttl=300)
    assert [(x["content"], x["ttl"]) for x in emu.records("a.example")] == [("three", 300)]
    cf.dns.records.delete(r.id, zone_id=zid)
    assert emu.records("a.example") == []


def test_batch_order_is_deletes_patches_puts_posts(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    zid = zone_id(emu)
    old = cf.dns.records.create(zone_id=zid, type="TXT", name="x", content="old", ttl=1)
    # the post would be an identical record if the delete did not come first
    out = cf.dns.records.batch(
        zone_id=zid,
        deletes=[{"id": old.id}],
        posts=[{"type": "TXT", "name": "x", "content": "old", "ttl": 1}],
    )
    assert out is not None and len(out.deletes or []) == 1 and len(out.posts or []) == 1
    assert [r["content"] for r in emu.records("a.example")] == ["old"]


def test_batch_is_all_or_nothing(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    zid = zone_id(emu)
    emu.add_record("a.example", "A", "www.a.example", "192.0.2.1")
    before = emu.records("a.example")
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cf.dns.records.batch(
            zone_id=zid,
            posts=[
                {"type": "TXT", "name": "ok", "content": "fine", "ttl": 1},
                {"type": "CNAME", "name": "www", "content": "t.example", "ttl": 1},
            ],
        )
    assert codes(caught.value) == [81053]
    assert emu.records("a.example") == before


def test_batch_limit_depends_on_the_zone_plan(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    posts = [{"type": "TXT", "name": f"n{i}", "content": "v", "ttl": 1} for i in range(201)]
    with pytest.raises(cloudflare.BadRequestError):
        cf.dns.records.batch(zone_id=zone_id(emu), posts=posts)  # Free: 200
    cf.dns.records.batch(zone_id=zone_id(emu, "b.example"), posts=posts)  # paid: 3,500
    assert len(emu.records("b.example")) == 201


def test_tokens(emu: CloudflareEmulator) -> None:
    with pytest.raises(cloudflare.PermissionDeniedError) as caught:
        client(emu, "wrong").zones.list()
    assert codes(caught.value) == [9109]
    with pytest.raises(cloudflare.PermissionDeniedError):
        client(emu, "narrow").dns.records.list(zone_id=zone_id(emu))


def test_rate_limit_answers_429_with_retry_after(emu: CloudflareEmulator) -> None:
    emu.rate_limit(after=1, retry_after=120)
    cf = client(emu)
    cf.zones.list()
    with pytest.raises(cloudflare.RateLimitError) as caught:
        cf.zones.list()
    assert caught.value.response.headers["Retry-After"] == "120"
    assert codes(caught.value) == [10100]
    emu.clear_rate_limit()
    cf.zones.list()


def test_faults_and_the_request_log(emu: CloudflareEmulator) -> None:
    emu.inject(Fault(method="GET", path_contains="/zones", status=500))
    cf = client(emu, retries=1)
    cf.zones.list()  # the SDK retries the 500
    assert [r.status for r in emu.requests("GET", "/zones")] == [500, 200]
    emu.inject(Fault(method="POST", path_contains="/dns_records", status=502, after_commit=True))
    with pytest.raises(cloudflare.BadRequestError) as caught:  # the retry finds it done
        cf.dns.records.create(zone_id=zone_id(emu), type="TXT", name="x", content="y", ttl=1)
    assert codes(caught.value) == [81058]
    assert len(emu.records("a.example")) == 1
    emu.inject(Fault(drop=True))
    with pytest.raises(cloudflare.APIConnectionError):
        client(emu).zones.list()


# -- as strict as Cloudflare (issue #10) ---------------------------------------------------


def test_plan_objects_are_realistic(emu: CloudflareEmulator) -> None:
    free = client(emu).zones.list(name="a.example").result[0]
    assert free.plan is not None and free.plan.legacy_id == "free"
    assert free.plan.id == "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
    paid = client(emu).zones.list(name="b.example").result[0]
    assert paid.plan is not None and len(paid.plan.id or "") == 32 and paid.plan.id != "enterprise"


@pytest.mark.parametrize("created_on, quota", [("2026-01-01", 200), ("2024-08-31", 1000)])
def test_record_quota_of_a_free_zone(created_on: str, quota: int) -> None:
    e = CloudflareEmulator(tokens={TOKEN: None})
    e.add_zone("q.example", created_on=created_on)
    for i in range(quota):
        e.zone_named("q.example").records[f"{i:032x}"] = {"name": f"h{i}", "type": "A"}
    with e.running():
        cf = client(e)
        zid = zone_id(e, "q.example")
        usage = cf.dns.usage.zone.get(zone_id=zid)
        assert usage is not None and (usage.record_usage, usage.record_quota) == (quota, quota)
        with pytest.raises(cloudflare.BadRequestError) as caught:
            cf.dns.records.batch(
                zone_id=zid, posts=[{"type": "TXT", "name": "x", "content": "y", "ttl": 1}]
            )
        assert codes(caught.value) == [81045]


def test_comments_and_tags_follow_the_plan(emu: CloudflareEmulator) -> None:
    cf = client(emu)
    with pytest.raises(cloudflare.BadRequestError) as caught:
        cf.dns.records.create(
            zone_id=zone_id(emu), type="TXT", name="x", content="y", ttl=1, comment="c" * 101
        )
    assert codes(caught.value) == [1004]
    cf.dns.records.create(
        zone_id=zone_id(emu), type="TXT", name="x", content="y", ttl=1, comment="c" * 100
    )
    with pytest.raises(cloudflare.BadRequestError):
        cf.dns.records.create(
            zone_id=zone_id(emu), type="TXT", name="t", content="y", ttl=1, tags=["team:dns"]
        )
    paid = zone_id(emu, "b.example")
    cf.dns.records.create(zone_id=paid, type="TXT", name="x", content="y", ttl=1, comment="c" * 500)
    cf.dns.records.create(zone_id=paid, type="TXT", name="t", content="y", ttl=1, tags=["a:b"])


def test_a_cname_to_itself_is_refused(emu: CloudflareEmulator) -> None:
    with pytest.raises(cloudflare.BadRequestError) as caught:
        client(emu).dns.records.create(
            zone_id=zone_id(emu), type="CNAME", name="loop", content="loop.a.example.", ttl=1
        )
    assert codes(caught.value) == [1004]


def test_records_below_a_delegation_carry_shadow_metadata(emu: CloudflareEmulator) -> None:
    ns = emu.add_record("a.example", "NS", "sub.a.example", "ns1.other.example")
    below = emu.add_record("a.example", "TXT", "x.sub.a.example", "hidden")
    emu.add_record("a.example", "TXT", "top.a.example", "served")
    cf = client(emu)
    page = cf.dns.records.list(zone_id=zone_id(emu), include_shadow_metadata=True)
    meta = {r.name: r.meta for r in page.result}
    assert meta["x.sub.a.example"].shadowed_by == [ns["id"]]
    assert meta["sub.a.example"].shadowed_records_count == 1
    assert meta["top.a.example"].shadowed_by is None
    plain = cf.dns.records.list(zone_id=zone_id(emu))
    assert all(r.meta.shadowed_by is None for r in plain.result)
    assert below["id"] in {r.id for r in plain.result}  # stored all the same


def test_the_rate_limit_blocks_for_a_whole_window(emu: CloudflareEmulator) -> None:
    emu.limit_rate(quota=3, window=2)
    raw = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})
    answers = [raw.get(f"{emu.base_url}/zones") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["Ratelimit"] == '"default";r=2;t=2'
    assert answers[0].headers["Ratelimit-Policy"] == '"default";q=3;w=2'
    assert answers[3].headers["Retry-After"] == "2"
    assert answers[3].json()["errors"][0]["code"] == 10100
    assert raw.get(f"{emu.base_url}/zones").status_code == 429  # still blocked


def test_a_truncated_answer(emu: CloudflareEmulator) -> None:
    emu.inject(Fault(method="GET", path_contains="/zones", truncate=True))
    with pytest.raises(ValueError):  # json.JSONDecodeError, out of the SDK as it is
        client(emu).zones.list()
