"""DNS answers told apart: found, NXDOMAIN, NODATA, SERVFAIL, timeout (dnspython)."""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

OK, NXDOMAIN, NODATA, SERVFAIL, TIMEOUT = "ok", "NXDOMAIN", "NODATA", "SERVFAIL", "timeout"


@dataclass(frozen=True)
class Answer:
    status: str
    values: tuple[str, ...] = ()

    @property
    def reachable(self) -> bool:
        return self.status in (OK, NXDOMAIN, NODATA)


def make_resolver(servers: list[tuple[str, int]], lifetime: float) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [dns.nameserver.Do53Nameserver(host, port=port) for host, port in servers]
    r.lifetime = lifetime
    r.timeout = lifetime
    return r


def query(resolver: dns.resolver.Resolver, name: str, rtype: str) -> Answer:
    """TXT strings are joined as RFC 6376 §3.6.2.2 says (no separator); CNAME targets and
    names are lower case, without the trailing dot. A TXT query follows CNAMEs."""
    try:
        answer = resolver.resolve(name, rtype, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return Answer(NXDOMAIN)
    except dns.resolver.NoAnswer:
        return Answer(NODATA)
    except dns.resolver.NoNameservers:
        return Answer(SERVFAIL)
    except (dns.resolver.LifetimeTimeout, dns.exception.Timeout):
        return Answer(TIMEOUT)
    values = []
    for rdata in answer:
        if rdata.rdtype == dns.rdatatype.TXT:
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif rdata.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.NS, dns.rdatatype.MX):
            target = rdata.exchange if rdata.rdtype == dns.rdatatype.MX else rdata.target
            values.append(target.to_text().rstrip(".").lower())
        else:
            values.append(rdata.to_text())
    return Answer(OK, tuple(values))
