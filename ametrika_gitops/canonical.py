"""The serialisations of bundles and plans: sorted keys, UTF-8, a final newline.

Plans are small and read by people: indented. Bundles are large machine artefacts: compact,
which lets the json module use its C encoder (5x faster; read one with `jq .`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(data: Any) -> str:
    """Indented form, for plans and manifests."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compact(data: Any) -> str:
    """One-line form, for bundles and digests."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def digest(data: Any) -> str:
    return "sha256:" + hashlib.sha256(compact(data).encode("utf-8")).hexdigest()
