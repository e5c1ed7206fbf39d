"""The Cloudflare edge: zones, records and batches through the official SDK.

Everything else (what to change) is decided by the pure ``dns.diff``; this module only reads
and writes, paces its requests (``dns.pacing``), and turns the SDK's errors into messages that
say what to do. Only the command line builds it (``dns.connect``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import cloudflare
import httpx

from ametrika_gitops.dns.ownership import MARK
from ametrika_gitops.dns.pacing import Pacer
from ametrika_gitops.dns.provider import (
    Focus,
    Listing,
    LiveRecord,
    ProviderError,
    RateLimited,
    RecordWrite,
    ZoneInfo,
    ZoneUsage,
)
from ametrika_gitops.dns.records import txt_chunks

RECORDS_PER_PAGE = 5_000_000  # the API's maximum: one request reads a zone
FIRST_PAGE = 1000  # every Free zone fits; a larger zone is read in full or in part after it
ZONES_PER_PAGE = 50
RETRY_HINT = "this is usually transient: run the command again (it does only what is left)"

CloudflareError = ProviderError  # the name the messages and older callers know


class Malformed(Exception):
    """An answer that is not what the API documents."""


def _codes(exc: cloudflare.APIStatusError) -> list[tuple[int, str]]:
    body = exc.body if isinstance(exc.body, dict) else {}
    return [
        (int(e.get("code", 0)), str(e.get("message", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]


@contextmanager
def _translated(what: str, base_url: str) -> Iterator[None]:
    try:
        yield
    except cloudflare.RateLimitError as exc:
        retry = exc.response.headers.get("Retry-After", "")
        seconds = int(retry) if retry.isdigit() else 300
        when = (
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
        ).strftime("%H:%M:%S UTC")
        raise RateLimited(
            f"{what}: Cloudflare's rate limit was reached (HTTP 429, 1,200 requests per 5 "
            f"minutes per user); retry after {when} (Retry-After: {seconds} s). A re-run "
            "finishes the work: batches already sent are complete, the rest was not sent"
        ) from None
    except cloudflare.PermissionDeniedError as exc:
        detail = "; ".join(f"code {c}: {m}" for c, m in _codes(exc)) or "HTTP 403"
        raise ProviderError(
            f"{what}: Cloudflare refused the API token ({detail}); check CLOUDFLARE_API_TOKEN "
            "and its permissions (Zone Read and DNS Edit on the zones)"
        ) from None
    except cloudflare.AuthenticationError as exc:
        detail = "; ".join(f"code {c}: {m}" for c, m in _codes(exc)) or "HTTP 401"
        raise ProviderError(
            f"{what}: Cloudflare did not accept the API token ({detail}); "
            "check CLOUDFLARE_API_TOKEN"
        ) from None
    except cloudflare.APIStatusError as exc:
        detail = "; ".join(f"code {c}: {m}" for c, m in _codes(exc)) or f"HTTP {exc.status_code}"
        raise ProviderError(
            f"{what}: Cloudflare answered {exc.status_code} ({detail})",
            frozenset(c for c, _ in _codes(exc)),
        ) from None
    except cloudflare.APIConnectionError as exc:
        raise ProviderError(
            f"{what}: cannot reach the Cloudflare API at {base_url} "
            f"({exc.__class__.__name__}) after retries; {RETRY_HINT}"
        ) from None
    except (cloudflare.APIResponseValidationError, Malformed, ValueError) as exc:
        # a cut or malformed answer (json.JSONDecodeError is a ValueError): Cloudflare's
        # fault or the network's, not a bug of ours
        raise ProviderError(
            f"{what}: Cloudflare's answer could not be read ({exc.__class__.__name__}: "
            f"truncated or malformed JSON); {RETRY_HINT}"
        ) from None


def _total_pages(info: Any) -> int:
    """Pages of a listing, from result_info (total_pages, else total_count / per_page)."""
    if not isinstance(info, dict):
        return 1
    pages = info.get("total_pages")
    if isinstance(pages, (int, float)) and pages >= 1:
        return int(pages)
    total, per_page = info.get("total_count"), info.get("per_page")
    if isinstance(total, (int, float)) and isinstance(per_page, (int, float)) and per_page > 0:
        return max(1, -(-int(total) // int(per_page)))
    return 1


def _zone(raw: Any) -> ZoneInfo:
    """One zone of a raw listing: its id, name, plan (legacy id) and creation date."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise Malformed("a zone has no id")
    if not isinstance(raw.get("name"), str):
        raise Malformed("a zone has no name")
    plan = raw.get("plan") if isinstance(raw.get("plan"), dict) else {}
    legacy = plan.get("legacy_id") if isinstance(plan, dict) else None
    created = raw.get("created_on")
    return ZoneInfo(
        raw["id"],
        raw["name"].lower().rstrip("."),
        legacy.lower() if isinstance(legacy, str) else "",
        created[:10] if isinstance(created, str) else "",
    )


def _live(raw: Any) -> LiveRecord:
    """One record of a raw listing, checked field by field (no SDK model: 50,000 records
    decode in a fraction of the time)."""
    if not isinstance(raw, dict):
        raise Malformed("a record is not an object")
    for key in ("id", "name", "type"):
        if not isinstance(raw.get(key), str):
            raise Malformed(f"a record has no {key}")
    ttl = raw.get("ttl", 1)
    comment = raw.get("comment")
    meta = raw.get("meta")
    shadowed = (meta.get("shadowed_by") if isinstance(meta, dict) else None) or []
    return LiveRecord(
        raw["id"],
        raw["name"].lower().rstrip("."),
        raw["type"],
        str(raw.get("content") or ""),
        int(ttl) if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) else 1,
        raw.get("proxied") is True,
        comment if isinstance(comment, str) else None,
        tuple(str(s) for s in shadowed if isinstance(s, str)),
    )


def record_params(record: RecordWrite) -> dict[str, Any]:
    """A record as the API takes it: TXT quoted, in strings of at most 255 bytes."""
    content = record.content
    if record.type == "TXT":
        content = " ".join(
            '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
            for s in txt_chunks(record.content)
        )
    return {
        "type": record.type,
        "name": record.name,
        "content": content,
        "ttl": record.ttl,
        "proxied": record.proxied,
        "comment": record.comment,
    }


class _PacedTransport(httpx.HTTPTransport):
    def __init__(self, pacer: Pacer) -> None:
        super().__init__()
        self.pacer = pacer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pacer.before()
        try:
            response = super().handle_request(request)
        except BaseException:
            self.pacer.failed()
            raise
        self.pacer.after(response.headers)
        return response


class CloudflareDNS:
    """Reads and writes one Cloudflare account's zones with the official SDK."""

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 30.0,
        strict: bool = False,
        pacer: Pacer | None = None,
    ) -> None:
        self.base_url = base_url or "https://api.cloudflare.com/client/v4"
        self.pacer = pacer or Pacer()
        self.client = cloudflare.Cloudflare(
            api_token=token,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            http_client=cloudflare.DefaultHttpxClient(transport=_PacedTransport(self.pacer)),
            _strict_response_validation=strict,
        )
        # The SDK reads CLOUDFLARE_EMAIL / CLOUDFLARE_API_KEY from the environment and then
        # sends them *instead of* the token: authenticate with the token only.
        self.client.api_email = None
        self.client.api_key = None
        self._zones: list[ZoneInfo] | None = None

    def zones(self) -> list[ZoneInfo]:
        """Every zone the token can see (one request per 50 zones, once per run)."""
        if self._zones is None:
            self._zones = self._list_zones()
        return list(self._zones)

    def _list_zones(self) -> list[ZoneInfo]:
        out: list[ZoneInfo] = []
        page_no = 1
        with _translated("listing zones", self.base_url):
            while True:
                body = self._get("/zones", {"page": page_no, "per_page": ZONES_PER_PAGE})
                out += [_zone(z) for z in body["result"]]
                # result_info says when to stop: no extra request for the empty last page
                if not body["result"] or page_no >= _total_pages(body.get("result_info")):
                    return out
                page_no += 1

    def _page(
        self, zone: ZoneInfo, page_no: int, per_page: int, **filters: Any
    ) -> tuple[list[LiveRecord], Any]:
        """One page of a listing, decoded without the SDK's models (checked by ``_live``)."""
        params = {"page": page_no, "per_page": per_page, "include_shadow_metadata": "true"}
        body = self._get(f"/zones/{zone.id}/dns_records", params | filters)
        return [_live(r) for r in body["result"]], body.get("result_info")

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """A listing through the SDK's client (its authentication, retries, errors), decoded
        here: the SDK's typed resources and models cost half a second to load and seconds to
        build for a large zone, for fields the plan never reads."""
        response = self.client.get(path, cast_to=httpx.Response, options={"params": params})
        body = json.loads(response.read())
        if not isinstance(body, dict) or not isinstance(body.get("result"), (list, dict)):
            raise Malformed("no result")
        return body

    def _listing(self, zone: ZoneInfo, what: str, **filters: Any) -> list[LiveRecord]:
        out: list[LiveRecord] = []
        page_no = 1
        with _translated(what, self.base_url):
            while True:
                found, info = self._page(zone, page_no, RECORDS_PER_PAGE, **filters)
                out += found
                if not found or page_no >= _total_pages(info):
                    return out
                page_no += 1

    def records(self, zone: ZoneInfo, focus: Focus | None = None) -> Listing:
        """A zone of up to 1,000 records in one request; a larger one in full (one more), or,
        with a focus, only what the plan depends on: its managed records, its NS records and
        the names of the focus (a few small requests instead of megabytes of JSON)."""
        what = f"reading zone {zone.name}"
        with _translated(what, self.base_url):
            first, info = self._page(zone, 1, FIRST_PAGE)
        total = info.get("total_count") if isinstance(info, dict) else None
        if not isinstance(total, int) or total <= len(first):
            return Listing(first, len(first))
        if focus is None:
            return Listing(self._listing(zone, what), total)
        reads: list[dict[str, Any]] = [
            {"comment.startswith": MARK},
            {"type": "NS"},
            *({"name.endswith": "." + s} for s in focus.suffixes),
            *({"name.exact": n} for n in focus.names),
        ]
        found: dict[str, LiveRecord] = {}
        for filters in reads:
            for r in self._listing(zone, what, **filters):
                found.setdefault(r.id, r)
        return Listing(sorted(found.values(), key=lambda r: r.id), total)

    def records_named(self, zone: ZoneInfo, name: str) -> list[LiveRecord]:
        what = f"reading {name} in zone {zone.name}"
        return self._listing(zone, what, **{"name.exact": name})

    def usage(self, zone: ZoneInfo) -> ZoneUsage | None:
        with _translated(f"reading the record quota of zone {zone.name}", self.base_url):
            got = self._get(f"/zones/{zone.id}/dns_records/usage", {})["result"]
        if not isinstance(got, dict):
            return None
        usage, quota = got.get("record_usage"), got.get("record_quota")
        if not isinstance(usage, int) or not isinstance(quota, (int, type(None))):
            return None
        return ZoneUsage(usage, quota)

    def batch(
        self,
        zone: ZoneInfo,
        deletes: Sequence[str],
        patches: Sequence[tuple[str, RecordWrite]],
        posts: Sequence[RecordWrite],
    ) -> None:
        """One atomic batch: deletes, then patches, then posts, in one transaction."""
        kwargs: dict[str, Any] = {}
        if deletes:
            kwargs["deletes"] = [{"id": rid} for rid in deletes]
        if patches:
            kwargs["patches"] = [{"id": rid, **record_params(w)} for rid, w in patches]
        if posts:
            kwargs["posts"] = [record_params(w) for w in posts]
        with _translated(f"applying to zone {zone.name}", self.base_url):
            self.client.dns.records.batch(zone_id=zone.id, **kwargs)
