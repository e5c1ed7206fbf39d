"""pyspf asks dnspython's *default* resolver and offers no way to pass another. Swapping the
default process-wide would send every other lookup of the process (another thread, another
library) to verify's servers while an evaluation runs. Instead pyspf's lookup function is
replaced, once, by one that asks the resolver set for the current context — and, where none is
set, does exactly what pyspf's own does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import dns.exception
import dns.resolver

_RESOLVER: ContextVar[dns.resolver.Resolver | None] = ContextVar("pyspf_resolver", default=None)
_Result = list[tuple[tuple[str, str], Any]]


def _lookup(name: str, qtype: str, tcpfallback: bool = True, timeout: float = 30) -> _Result:
    """pyspf's ``DNSLookup`` contract: ``[((name, qtype), value), …]``; no data is ``[]``; a
    timeout or SERVFAIL is ``spf.TempError``."""
    import spf

    resolver = _RESOLVER.get()
    if resolver is None:
        return list(_ORIGINAL[0](name, qtype, tcpfallback, timeout))
    try:
        answers = resolver.resolve(name, qtype, lifetime=min(timeout, resolver.lifetime))
    except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise spf.TempError(f"DNS {exc}") from None
    out: _Result = []
    for rdata in answers:
        if qtype in ("A", "AAAA"):
            out.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            out.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            out.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            out.append(((name, qtype), rdata.strings))
    return out


_ORIGINAL: list[Any] = []


@contextmanager
def resolver_for_pyspf(resolver: dns.resolver.Resolver) -> Iterator[None]:
    """pyspf evaluations inside this block (in this thread or task) ask ``resolver``."""
    import spf

    if not _ORIGINAL:
        _ORIGINAL.append(spf.DNSLookup)
        spf.DNSLookup = _lookup
    token = _RESOLVER.set(resolver)
    try:
        yield
    finally:
        _RESOLVER.reset(token)
