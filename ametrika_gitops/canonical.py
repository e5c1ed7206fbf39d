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


def seal(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Add ``hash`` (the digest of the compact body) to ``body``; return it and its compact text.

    Each top-level value is encoded once and reused for both the digest and the text.
    """
    parts = {
        json.dumps(k, ensure_ascii=False): json.dumps(
            v, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        for k, v in body.items()
    }
    text = "{" + ",".join(f"{k}:{v}" for k, v in sorted(parts.items())) + "}\n"
    sealed = body | {"hash": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()}
    parts['"hash"'] = json.dumps(sealed["hash"])
    return sealed, "{" + ",".join(f"{k}:{v}" for k, v in sorted(parts.items())) + "}\n"
