"""Verified test recipients (design §9, H9): a code mailed to the address, then a record in
git that only a holder of AMETRIKA_VERIFY_KEY can produce. Rotating the key revokes them all.

Codes are derived, not stored: HMAC(key, account, address, day), valid today and yesterday.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import datetime, timezone
from pathlib import Path

import yaml

from ametrika_gitops.errors import AmetrikaError

KEY = "AMETRIKA_VERIFY_KEY"
FOLDER = "recipients"
DAY = 86400


def verify_key() -> bytes:
    key = os.environ.get(KEY, "")
    if len(key) < 16:
        raise AmetrikaError(
            f"{KEY} must be set to a secret of at least 16 characters (a CI "
            "secret); it signs and checks verified recipients"
        )
    return key.encode("utf-8")


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(
        key, "\0".join(("ametrika-gitops", *parts)).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def day_of(now: datetime | None = None) -> int:
    """The day number (UTC) a code belongs to; ``now`` is passed in by tests."""
    return int((now or datetime.now(timezone.utc)).timestamp()) // DAY


def code_for(key: bytes, account: str, address: str, day: int | None = None) -> str:
    day = day_of() if day is None else day
    digest = _mac(key, "code-v1", account, address.lower(), str(day))
    return f"{int(digest[:12], 16) % 10**8:08d}"


def code_is_valid(
    key: bytes, account: str, address: str, code: str, now: datetime | None = None
) -> bool:
    today = day_of(now)
    return any(
        hmac.compare_digest(code_for(key, account, address, d), code.strip())
        for d in (today, today - 1)
    )


def proof_for(key: bytes, account: str, address: str) -> str:
    return "hmac-sha256:" + _mac(key, "verified-recipient-v1", account, address.lower())


def records_file(root: Path, account: str) -> Path:
    return root / FOLDER / f"{account}.yaml"


def read_records(root: Path, account: str) -> dict[str, str]:
    """address → proof, as written in recipients/<account>.yaml (absent file: none)."""
    path = records_file(root, account)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = data.get("verified", []) if data.get("account") == account else []
        return {str(e["address"]).lower(): str(e["proof"]) for e in entries}
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError) as exc:
        raise AmetrikaError(
            f"{path} is not a recipients file ({exc.__class__.__name__}); "
            "write it again with `recipients confirm`"
        ) from None


def is_verified(key: bytes, root: Path, account: str, address: str) -> bool:
    proof = read_records(root, account).get(address.lower())
    return proof is not None and hmac.compare_digest(proof, proof_for(key, account, address))


def write_record(key: bytes, root: Path, account: str, address: str) -> Path:
    records = read_records(root, account)
    records[address.lower()] = proof_for(key, account, address)
    path = records_file(root, account)
    path.parent.mkdir(exist_ok=True)
    body = {
        "version": 1,
        "account": account,
        "verified": [{"address": a, "proof": p} for a, p in sorted(records.items())],
    }
    path.write_text(
        f"# Verified test recipients of account {account}, written by\n"
        "# `ametrika-gitops recipients confirm`. A proof is valid only with the "
        f"current {KEY}.\n" + yaml.safe_dump(body, sort_keys=False),
        encoding="utf-8",
    )
    return path
