"""What a zone's Cloudflare plan allows, as the emulator enforces it.

Sources: developers.cloudflare.com — dns/troubleshooting/records-quota (records per zone),
dns/manage-dns-records/reference/record-attributes (comments: 100 characters on Free, 500 on
paid plans; tags on paid plans only), dns/manage-dns-records/how-to/batch-record-changes
(200 changes a batch on Free, 3,500 on paid plans); the SDK's ``Zone.plan`` type
(``cloudflare/types/zones/zone.py``: an opaque ``id``, a ``legacy_id``).
"""

from __future__ import annotations

import hashlib
from typing import Any

FREE = "free"
FREE_QUOTA_SINCE = "2024-09-01"
FREE_PLAN_ID = "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee"  # what the API shows for the Free plan
NAMES = {"free": "Free Website", "pro": "Pro Website", "business": "Business Website"}
PRICES = {"free": 0, "pro": 25, "business": 250}


def plan_json(legacy_id: str) -> dict[str, Any]:
    """A zone's ``plan`` object: a 32-hex ``id``, the readable ``legacy_id``."""
    plan_id = (
        FREE_PLAN_ID if legacy_id == FREE else hashlib.sha256(legacy_id.encode()).hexdigest()[:32]
    )
    return {
        "id": plan_id,
        "name": NAMES.get(legacy_id, legacy_id.title() + " Website"),
        "price": PRICES.get(legacy_id, 0),
        "currency": "USD",
        "frequency": "monthly" if legacy_id != FREE else "",
        "is_subscribed": legacy_id != FREE,
        "can_subscribe": legacy_id != FREE,
        "legacy_id": legacy_id,
        "legacy_discount": False,
        "externally_managed": False,
    }


def batch_limit(plan: str) -> int:
    return 200 if plan == FREE else 3500


def comment_limit(plan: str) -> int:
    return 100 if plan == FREE else 500


def tags_allowed(plan: str) -> bool:
    return plan != FREE


def record_quota(plan: str, created_on: str) -> int:
    if plan != FREE:
        return 3500
    return 1000 if created_on[:10] < FREE_QUOTA_SINCE else 200
