"""A Cloudflare API v4 emulator (zones and DNS records) for tests, on loopback.

It answers what the official SDK sends, with Cloudflare's envelopes, full record objects,
pagination (an empty page past the last), validations (CNAME conflicts, identical records, TTL
range, tokens), the batch endpoint (deletes, patches, puts, posts in that order, all or nothing,
a per-request limit), rate limiting (429 with Retry-After), injected faults and a request log.

It adds no delay of its own: Nagle's algorithm is off and each answer leaves in one write, so a
keep-alive client never waits out a delayed ACK. ``latency_ms`` models a network round trip
instead, the same for every client: it sleeps that long before answering each request (not each
connection; connecting costs nothing extra).

    emu = CloudflareEmulator(tokens={"t0k3n": None})
    emu.add_zone("example.com")
    with emu.running():
        Cloudflare(api_token="t0k3n", base_url=emu.base_url)...

``python -m ametrika_gitops.emulator --zone example.com --token T [--latency-ms 50]`` serves one
from the shell.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from ametrika_gitops.emulator import plans
from ametrika_gitops.emulator.api import ApiError, Fault, LoggedRequest, envelope
from ametrika_gitops.emulator.ratelimit import RateLimiter
from ametrika_gitops.emulator.server import Handler as _Handler
from ametrika_gitops.emulator.shadow import with_shadow_metadata
from ametrika_gitops.emulator.validation import PROXIABLE, validated

__all__ = ["ApiError", "CloudflareEmulator", "Fault", "LoggedRequest", "Zone"]

PREFIX = "/client/v4"


@dataclass
class Zone:
    id: str
    name: str
    plan: str
    created_on: str = "2026-01-01"
    quota: int | None = None  # a raised quota (Enterprise); else the plan's
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def record_quota(self) -> int:
        return self.quota or plans.record_quota(self.plan, self.created_on)


class CloudflareEmulator:
    def __init__(
        self, tokens: dict[str, set[str] | None] | None = None, latency_ms: float = 0
    ) -> None:
        """``tokens`` maps each valid API token to the zone names it sees (None: all);
        ``latency_ms`` is slept before answering each request (a modelled round trip)."""
        if latency_ms < 0:
            raise ValueError("latency_ms must be 0 or more")
        self.latency_ms = latency_ms
        self.tokens = tokens if tokens is not None else {"test-token": None}
        self.zones: dict[str, Zone] = {}
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._ids = 0
        self._clock = 0
        self._rate_budget: int | None = None
        self._retry_after = 300
        self.limiter: RateLimiter | None = None
        self._server: ThreadingHTTPServer | None = None

    # -- set-up and inspection, for tests -------------------------------------------------
    def _next_id(self) -> str:
        self._ids += 1
        return f"{self._ids:032x}"

    def _now(self) -> str:
        self._clock += 1
        t = time.gmtime(1767225600 + self._clock)  # 2026-01-01, advancing one second a write
        return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", t)

    def add_zone(
        self,
        name: str,
        plan: str = "free",
        created_on: str = "2026-01-01",
        quota: int | None = None,
    ) -> str:
        """A zone on a plan (free, pro, business, enterprise); its creation date decides the
        Free quota (200 records since 2024-09-01, 1,000 before)."""
        with self._lock:
            zone = Zone(self._next_id(), name.lower().rstrip("."), plan, created_on, quota)
            self.zones[zone.id] = zone
            return zone.id

    def zone_named(self, name: str) -> Zone:
        return next(z for z in self.zones.values() if z.name == name.lower().rstrip("."))

    def add_record(
        self,
        zone: str,
        type: str,
        name: str,
        content: str,
        ttl: int = 1,
        proxied: bool = False,
        comment: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            z = self.zone_named(zone)
            rec = validated(
                z,
                {
                    "type": type,
                    "name": name,
                    "content": content,
                    "ttl": ttl,
                    "proxied": proxied,
                    "comment": comment,
                },
                z.records,
            )
            return self._insert(z, rec, z.records)

    def records(self, zone: str) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(
                (dict(r) for r in self.zone_named(zone).records.values()),
                key=lambda r: (r["name"], r["type"], r["content"]),
            )

    def rate_limit(self, after: int, retry_after: int = 300) -> None:
        """Answer 429 to every request after the next ``after`` ones, until cleared."""
        with self._lock:
            self._rate_budget, self._retry_after = after, retry_after

    def clear_rate_limit(self) -> None:
        with self._lock:
            self._rate_budget = None
            self.limiter = None

    def limit_rate(self, quota: int = 1200, window: float = 300) -> RateLimiter:
        """Cloudflare's own limit: ``quota`` requests per ``window`` seconds, then every
        request refused for a whole window; ``Ratelimit`` headers on every answer."""
        with self._lock:
            self.limiter = RateLimiter(quota, window)
            return self.limiter

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def requests(self, method: str | None = None, contains: str = "") -> list[LoggedRequest]:
        return [
            r for r in self.log if (method is None or r.method == method) and contains in r.path
        ]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the emulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PREFIX}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @contextmanager
    def running(self) -> Iterator[CloudflareEmulator]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # -- the API ----------------------------------------------------------------------------
    def _zone_json(self, z: Zone) -> dict[str, Any]:
        return {
            "id": z.id,
            "name": z.name,
            "status": "active",
            "paused": False,
            "type": "full",
            "development_mode": 0,
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "original_name_servers": None,
            "original_registrar": None,
            "original_dnshost": None,
            "created_on": f"{z.created_on}T00:00:00.000000Z",
            "modified_on": "2026-01-01T00:00:00.000000Z",
            "activated_on": "2026-01-01T00:00:00.000000Z",
            "meta": {
                "step": 2,
                "custom_certificate_quota": 0,
                "page_rule_quota": 3,
                "phishing_detected": False,
            },
            "owner": {"id": None, "type": "user", "email": None},
            "account": {"id": "0" * 31 + "1", "name": "Emulated account"},
            "permissions": ["#dns_records:edit", "#zone:read"],
            "plan": plans.plan_json(z.plan),
        }

    def _visible(self, token: str | None, z: Zone) -> bool:
        allowed = self.tokens.get(token or "", set())
        return allowed is None or z.name in allowed

    def _insert(
        self,
        z: Zone,
        rec: dict[str, Any],
        records: dict[str, dict[str, Any]],
        rid: str | None = None,
        created: str | None = None,
    ) -> dict[str, Any]:
        now = self._now()
        full = {
            "id": rid or self._next_id(),
            "zone_id": z.id,
            "zone_name": z.name,
            **rec,
            "proxiable": rec["type"] in PROXIABLE,
            "settings": {},
            "meta": {},
            "tags": [],
            "created_on": created or now,
            "modified_on": now,
            "comment_modified_on": now if rec.get("comment") else None,
        }
        records[full["id"]] = full
        return dict(full)

    def _zone(self, token: str | None, zone_id: str) -> Zone:
        z = self.zones.get(zone_id)
        if z is None or not self._visible(token, z):
            raise ApiError(
                403 if z else 404,
                10000 if z else 1001,
                "Authentication error" if z else "Invalid zone identifier",
            )
        return z

    @staticmethod
    def _page(
        items: list[dict[str, Any]], query: dict[str, str], default: int, low: int, high: int
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        try:
            page = int(query.get("page", "1"))
            per_page = int(float(query.get("per_page", str(default))))
        except ValueError as exc:
            raise ApiError(400, 1001, "Invalid pagination parameters") from exc
        if page < 1 or not (low <= per_page <= high):
            raise ApiError(400, 1001, f"per_page must be between {low} and {high}")
        chunk = items[(page - 1) * per_page : page * per_page]
        total_pages = max(1, -(-len(items) // per_page))
        return chunk, {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(items),
            "total_pages": total_pages,
        }

    def handle(
        self, method: str, path: str, query: dict[str, str], token: str | None, body: Any
    ) -> tuple[Any, dict[str, int] | None]:
        if token is None:
            raise ApiError(403, 10000, "Authentication error")
        if token not in self.tokens:
            raise ApiError(403, 9109, "Invalid access token")
        parts = [p for p in path[len(PREFIX) :].split("/") if p]
        if parts == ["zones"] and method == "GET":
            zones = sorted(
                (z for z in self.zones.values() if self._visible(token, z)), key=lambda z: z.name
            )
            if "name" in query:
                zones = [z for z in zones if z.name == query["name"].lower()]
            items, info = self._page([self._zone_json(z) for z in zones], query, 20, 5, 50)
            return items, info
        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            z = self._zone(token, parts[1])
            rest = parts[3:]
            if not rest and method == "GET":
                recs = sorted(z.records.values(), key=lambda r: (r["name"], r["type"], r["id"]))
                # the filters the tool uses (case-insensitive, like Cloudflare's)
                name = query.get("name") or query.get("name.exact")
                if name:
                    recs = [r for r in recs if r["name"] == name.lower().rstrip(".")]
                if "name.endswith" in query:
                    end = query["name.endswith"].lower()
                    recs = [r for r in recs if r["name"].endswith(end)]
                if "comment.startswith" in query:
                    start = query["comment.startswith"].lower()
                    recs = [r for r in recs if (r["comment"] or "").lower().startswith(start)]
                if "type" in query:
                    recs = [r for r in recs if r["type"] == query["type"].upper()]
                page, info = self._page(recs, query, 100, 5, 5_000_000)
                if query.get("include_shadow_metadata") == "true":
                    return with_shadow_metadata(z.name, list(z.records.values()), page), info
                return [dict(r) for r in page], info
            if rest == ["usage"] and method == "GET":
                return {"record_quota": z.record_quota, "record_usage": len(z.records)}, None
            if not rest and method == "POST":
                rec = validated(z, self._object(body), z.records)
                return self._insert(z, rec, z.records), None
            if rest == ["batch"] and method == "POST":
                return self._batch(z, self._object(body)), None
            if len(rest) == 1:
                return self._one(z, method, rest[0], body), None
        raise ApiError(404, 7000, f"No route for that URI: {method} {path}")

    @staticmethod
    def _object(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, 9207, "Request body is invalid.")
        return body

    def _one(self, z: Zone, method: str, rid: str, body: Any) -> dict[str, Any]:
        current = z.records.get(rid)
        if current is None:
            raise ApiError(404, 81044, "Record does not exist.")
        if method == "GET":
            return dict(current)
        if method == "DELETE":
            del z.records[rid]
            return {"id": rid}
        if method in ("PUT", "PATCH"):
            merged = self._object(body) if method == "PUT" else {**current, **self._object(body)}
            rec = validated(z, merged, z.records, replacing=rid)
            return self._insert(z, rec, z.records, rid, current["created_on"])
        raise ApiError(405, 10405, "Method not allowed")

    def _batch(self, z: Zone, body: dict[str, Any]) -> dict[str, Any]:
        ops = {k: body.get(k) or [] for k in ("deletes", "patches", "puts", "posts")}
        if not all(isinstance(v, list) for v in ops.values()):
            raise ApiError(400, 9207, "Request body is invalid.")
        total = sum(len(v) for v in ops.values())
        limit = plans.batch_limit(z.plan)
        if total > limit:
            raise ApiError(
                400, 81064, f"Batch of {total} changes exceeds this zone's limit of {limit}."
            )
        records = {rid: dict(r) for rid, r in z.records.items()}  # all or nothing
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in ops}
        for item in ops["deletes"]:
            rid = item.get("id") if isinstance(item, dict) else None
            if rid not in records:
                raise ApiError(400, 81044, "Record does not exist.")
            out["deletes"].append(records.pop(rid))
        for key in ("patches", "puts"):
            for item in ops[key]:
                rid = item.get("id") if isinstance(item, dict) else None
                if rid not in records:
                    raise ApiError(400, 81044, "Record does not exist.")
                merged = item if key == "puts" else {**records[rid], **item}
                rec = validated(z, merged, records, replacing=rid)
                out[key].append(self._insert(z, rec, records, rid, records[rid]["created_on"]))
        for item in ops["posts"]:
            rec = validated(z, self._object(item), records)
            out["posts"].append(self._insert(z, rec, records))
        z.records = records
        return out

    def answer(
        self, method: str, path: str, query: dict[str, str], token: str | None, body: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, envelope, extra headers) for one request."""
        with self._lock:
            headers: dict[str, str] = {}
            if self.limiter is not None:
                allowed, headers = self.limiter.take()
                if not allowed:
                    message = (
                        f"More than {self.limiter.quota} requests per {self.limiter.window:g} "
                        "seconds reached. Please wait and consider throttling your request speed"
                    )
                    return 429, envelope(None, None, [(10100, message)]), headers
            if self._rate_budget is not None:
                if self._rate_budget <= 0:
                    message = (
                        "More than 1200 requests per 300 seconds reached. Please wait "
                        "and consider throttling your request speed"
                    )
                    return (
                        429,
                        envelope(None, None, [(10100, message)]),
                        {"Retry-After": str(self._retry_after)},
                    )
                self._rate_budget -= 1
            try:
                result, info = self.handle(method, path, query, token, body)
            except ApiError as exc:
                return exc.status, envelope(None, None, [(exc.code, exc.message)]), headers
            return 200, envelope(result, info, []), headers
