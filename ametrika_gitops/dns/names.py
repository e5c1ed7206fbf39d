"""DNS names as the tool compares them: lower case, A-label, no trailing dot."""

from __future__ import annotations

from functools import lru_cache


def normalize_name(name: str) -> str:
    return name.rstrip(".").lower()


def at_or_below(name: str, ancestor: str) -> bool:
    """``name`` is ``ancestor`` or one of its subdomains (label-wise, not string-wise)."""
    return name == ancestor or name.endswith("." + ancestor)


@lru_cache(maxsize=1)
def _psl() -> object:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The registrable domain (public suffix + 1), per the bundled Public Suffix List."""
    found = _psl().privatesuffix(normalize_name(domain))  # type: ignore[attr-defined]
    return str(found) if found else normalize_name(domain)
