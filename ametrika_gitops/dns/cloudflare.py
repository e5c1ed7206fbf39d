"""The Cloudflare edge: zones, records and batches through the official SDK.

Everything else (what to change) is decided by the pure ``plan.diff``; this module only reads
and writes, and turns the SDK's errors into messages that say what to do.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import cloudflare

from ametrika_gitops.dns.diff import LiveRecord
from ametrika_gitops.dns.records import Record, txt_chunks
from ametrika_gitops.errors import AmetrikaError

FREE_BATCH_LIMIT = 200
PAID_BATCH_LIMIT = 3500
RECORDS_PER_PAGE = 5_000_000  # the API's maximum: one request reads a zone
ZONES_PER_PAGE = 50


class CloudflareError(AmetrikaError):
    """A request to Cloudflare failed; the message says why and what to do."""

    def __init__(self, message: str, codes: frozenset[int] = frozenset()) -> None:
        super().__init__(message)
        self.codes = codes


class RateLimited(CloudflareError):
    pass


@dataclass(frozen=True)
class ZoneInfo:
    id: str
    name: str
    plan: str

    @property
    def batch_limit(self) -> int:
        return FREE_BATCH_LIMIT if self.plan in ("free", "") else PAID_BATCH_LIMIT


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
        raise CloudflareError(
            f"{what}: Cloudflare refused the API token ({detail}); check CLOUDFLARE_API_TOKEN "
            "and its permissions (Zone Read and DNS Edit on the zones)"
        ) from None
    except cloudflare.AuthenticationError as exc:
        detail = "; ".join(f"code {c}: {m}" for c, m in _codes(exc)) or "HTTP 401"
        raise CloudflareError(
            f"{what}: Cloudflare did not accept the API token ({detail}); "
            "check CLOUDFLARE_API_TOKEN"
        ) from None
    except cloudflare.APIStatusError as exc:
        detail = "; ".join(f"code {c}: {m}" for c, m in _codes(exc)) or f"HTTP {exc.status_code}"
        raise CloudflareError(
            f"{what}: Cloudflare answered {exc.status_code} ({detail})",
            frozenset(c for c, _ in _codes(exc)),
        ) from None
    except cloudflare.APIConnectionError as exc:
        raise CloudflareError(
            f"{what}: cannot reach the Cloudflare API at {base_url} "
            f"({exc.__class__.__name__}) after retries"
        ) from None


def _total_pages(info: Any) -> int:
    """Pages of a listing, from result_info (total_pages, else total_count / per_page)."""
    if info is None:
        return 1
    pages = getattr(info, "total_pages", None)
    if isinstance(pages, (int, float)) and pages >= 1:
        return int(pages)
    total, per_page = getattr(info, "total_count", None), getattr(info, "per_page", None)
    if isinstance(total, (int, float)) and isinstance(per_page, (int, float)) and per_page > 0:
        return max(1, -(-int(total) // int(per_page)))
    return 1


def record_params(record: Record) -> dict[str, Any]:
    """A desired record as the API takes it: TXT quoted, in strings of at most 255 bytes."""
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


class CloudflareDNS:
    """Reads and writes one Cloudflare account's zones with the official SDK."""

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 30.0,
        strict: bool = False,
    ) -> None:
        self.base_url = base_url or "https://api.cloudflare.com/client/v4"
        self.client = cloudflare.Cloudflare(
            api_token=token,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
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
                page = self.client.zones.list(page=page_no, per_page=ZONES_PER_PAGE)
                for z in page.result:
                    plan = (z.plan.legacy_id or z.plan.id or "") if z.plan else ""
                    out.append(ZoneInfo(z.id, z.name.lower(), str(plan).lower()))
                # result_info says when to stop: no extra request for the empty last page
                if not page.result or page_no >= _total_pages(page.result_info):
                    return out
                page_no += 1

    def records(self, zone: ZoneInfo) -> list[LiveRecord]:
        """Every record of the zone, in one request when it can."""
        out: list[LiveRecord] = []
        page_no = 1
        with _translated(f"reading zone {zone.name}", self.base_url):
            while True:
                page = self.client.dns.records.list(
                    zone_id=zone.id, page=page_no, per_page=RECORDS_PER_PAGE
                )
                for r in page.result:
                    ttl = r.ttl if isinstance(r.ttl, (int, float)) else 1
                    out.append(
                        LiveRecord(
                            r.id,
                            r.name.lower(),
                            r.type,
                            r.content or "",
                            int(ttl),
                            bool(r.proxied),
                            r.comment,
                        )
                    )
                if not page.result or page_no >= _total_pages(page.result_info):
                    return out
                page_no += 1

    def batch(
        self,
        zone: ZoneInfo,
        deletes: list[str],
        patches: list[dict[str, Any]],
        posts: list[dict[str, Any]],
    ) -> None:
        """One atomic batch: deletes, then patches, then posts, in one transaction."""
        kwargs: dict[str, Any] = {}
        if deletes:
            kwargs["deletes"] = [{"id": rid} for rid in deletes]
        if patches:
            kwargs["patches"] = patches
        if posts:
            kwargs["posts"] = posts
        with _translated(f"applying to zone {zone.name}", self.base_url):
            self.client.dns.records.batch(zone_id=zone.id, **kwargs)
