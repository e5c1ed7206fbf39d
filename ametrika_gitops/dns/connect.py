"""The one place a provider is built, from the environment (the command line's edge). The
SDK and httpx are imported only when a token is set: offline commands never load them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ametrika_gitops.diagnostics import Progress

if TYPE_CHECKING:
    from ametrika_gitops.dns.cloudflare import CloudflareDNS

TOKEN = "CLOUDFLARE_API_TOKEN"


def cloudflare_from_env(progress: Progress, workers: int = 4) -> CloudflareDNS | None:
    """The Cloudflare client when CLOUDFLARE_API_TOKEN is set, else None (offline)."""
    token = os.environ.get(TOKEN, "").strip()
    if not token:
        return None
    from ametrika_gitops.dns.cloudflare import CloudflareDNS
    from ametrika_gitops.dns.pacing import Pacer

    for ignored in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        if os.environ.get(ignored):
            progress(
                f"warning: {ignored} is set and ignored: ametrika-gitops authenticates "
                f"with {TOKEN} only (the SDK would otherwise send it instead of the token)"
            )
    timeout = float(os.environ.get("AMETRIKA_GITOPS_CF_TIMEOUT", "30"))
    strict = os.environ.get("AMETRIKA_GITOPS_CF_STRICT") == "1"
    return CloudflareDNS(
        token,
        os.environ.get("CLOUDFLARE_BASE_URL") or None,
        timeout=timeout,
        strict=strict,
        pacer=Pacer(reserve=workers, progress=progress),
    )
