"""Record ownership by comment (design §6): the mark the tool writes, and reading it back.

``managed-by=ametrika-gitops account=<A>`` without a scope (what every release wrote so far, so
zones stay owned after an upgrade), ``managed-by=ametrika-gitops scope=<S> account=<A>`` for a
repository that sets ``dns.ownership_scope``. A scope is at most 16 characters so that, with
account ids up to 42 characters, the comment fits the 100 characters of a Free zone; longer
ids are reported at the account (the paid plans allow 500).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARK = "managed-by=ametrika-gitops"
SCOPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,15}$")
_PARSE = re.compile(
    r"^managed-by=ametrika-gitops(?: scope=([a-z0-9][a-z0-9-]*))? account=([a-z0-9][a-z0-9-]*)$"
)
# Cloudflare: comments hold 100 characters on Free zones, 500 on paid plans
# (developers.cloudflare.com/dns/manage-dns-records/reference/record-attributes/).
FREE_COMMENT_LIMIT = 100
PAID_COMMENT_LIMIT = 500


def managed_comment(account: str, scope: str = "") -> str:
    """The ownership mark of design §6 on every record the tool creates."""
    return f"{MARK} scope={scope} account={account}" if scope else f"{MARK} account={account}"


@dataclass(frozen=True)
class Mark:
    scope: str  # "" for a repository without a scope
    account: str


def parse_mark(comment: str | None) -> Mark | None:
    """The owner named by a record's comment, when ametrika-gitops wrote it."""
    m = _PARSE.match((comment or "").strip())
    return Mark(m.group(1) or "", m.group(2)) if m else None
