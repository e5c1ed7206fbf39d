"""The record validations of Cloudflare's API, as the emulator applies them: required fields,
TTL range, proxiable types, CNAME exclusivity (81053, 81054), identical records (81058), a CNAME
to itself, comment length and tags by plan, and the zone's record quota (81045)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ametrika_gitops.emulator import plans
from ametrika_gitops.emulator.api import ApiError

if TYPE_CHECKING:
    from ametrika_gitops.emulator.cloudflare import Zone

PROXIABLE = {"A", "AAAA", "CNAME"}


def unquote_txt(content: str) -> str:
    """TXT content as one string: '"a" "b"' and 'ab' are the same record."""
    s = content.strip()
    if not s.startswith('"'):
        return s
    out, i = [], 0
    while i < len(s):
        if s[i] == '"':
            j, buf = i + 1, []
            while j < len(s) and s[j] != '"':
                if s[j] == "\\" and j + 1 < len(s):
                    j += 1
                buf.append(s[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
        else:
            i += 1
    return "".join(out)


def validated(
    z: Zone,
    body: dict[str, Any],
    records: dict[str, dict[str, Any]],
    replacing: str | None = None,
) -> dict[str, Any]:
    for key in ("type", "name"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise ApiError(400, 9000 if key == "type" else 9007, f"DNS record {key} is required")
    rtype = body["type"].upper()
    name = body["name"].lower().rstrip(".")
    if name == "@":
        name = z.name
    elif name != z.name and not name.endswith("." + z.name):
        name = f"{name}.{z.name}"
    content = body.get("content")
    if not isinstance(content, str) or not content:
        raise ApiError(400, 9005, "Content for the record is invalid.")
    ttl = body.get("ttl", 1)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not (ttl == 1 or 60 <= ttl <= 86400):
        raise ApiError(
            400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."
        )
    proxied = bool(body.get("proxied", False))
    if proxied and rtype not in PROXIABLE:
        raise ApiError(400, 9004, "This record type cannot be proxied.")
    if rtype == "CNAME":
        content = content.lower().rstrip(".")
        if content == name:
            # Cloudflare refuses a CNAME to itself; the emulator's code (1004, "DNS
            # Validation Error", the API's code for invalid record data) is not documented
            raise ApiError(
                400, 1004, "DNS Validation Error: CNAME content cannot reference itself."
            )
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ApiError(400, 1004, "DNS Validation Error: comment must be a string.")
    if comment and len(comment) > plans.comment_limit(z.plan):
        raise ApiError(
            400,
            1004,
            f"DNS Validation Error: comment is longer than {plans.comment_limit(z.plan)} "
            "characters, the limit of this zone's plan.",
        )
    if body.get("tags") and not plans.tags_allowed(z.plan):
        raise ApiError(
            400, 1004, "DNS Validation Error: tags are not available on this zone's plan."
        )
    others = [r for rid, r in records.items() if r["name"] == name and rid != replacing]
    if rtype == "CNAME" and any(r["type"] != "CNAME" for r in others):
        raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
    if any(r["type"] == "CNAME" for r in others) and (rtype != "CNAME" or others):
        raise ApiError(400, 81054, "A CNAME record with that host already exists.")

    def same(a: str, b: str) -> bool:
        return unquote_txt(a) == unquote_txt(b) if rtype == "TXT" else a == b

    if any(r["type"] == rtype and same(r["content"], content) for r in others):
        raise ApiError(400, 81058, "An identical record already exists.")
    if replacing is None and len(records) >= z.record_quota:
        raise ApiError(400, 81045, "Record quota exceeded.")
    return {
        "type": rtype,
        "name": name,
        "content": content,
        "ttl": ttl,
        "proxied": proxied,
        "comment": comment if comment else None,
    }
