"""Shadowed records: below an NS record inside a zone (a delegation), Cloudflare keeps the
records but never serves them. With ``include_shadow_metadata=true`` each record's ``meta``
says so (``shadowed_by``: the NS records' ids; on the NS record, ``shadowed_records_count``),
as the SDK's ``RecordResponse.meta`` documents (cloudflare/types/dns/record_response.py)."""

from __future__ import annotations

from typing import Any


def _at_or_below(name: str, cut: str) -> bool:
    return name == cut or name.endswith("." + cut)


def with_shadow_metadata(
    zone: str, records: list[dict[str, Any]], shown: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Copies of ``shown`` (some of the zone's ``records``) with their shadow metadata."""
    cuts = [r for r in records if r["type"] == "NS" and r["name"] != zone]
    out = []
    for r in shown:
        meta = dict(r.get("meta") or {})
        by = [
            ns["id"]
            for ns in cuts
            if _at_or_below(r["name"], ns["name"])
            and not (r["type"] == "NS" and r["name"] == ns["name"])
        ]
        if by:
            meta["shadowed_by"] = by
        if r in cuts:
            meta["shadowed_records_count"] = sum(
                1
                for o in records
                if _at_or_below(o["name"], r["name"])
                and not (o["type"] == "NS" and o["name"] == r["name"])
            )
        out.append(r | {"meta": meta})
    return out
