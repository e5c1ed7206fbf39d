"""A real DNS server on loopback (dnslib) serving test zones, with SERVFAIL and silence on
demand; queried by the code under test with dnspython over UDP/TCP like any server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dns.nameserver
import dns.resolver
import dnslib
from dnslib.server import BaseResolver, DNSLogger, DNSServer

TYPES = {"A": dnslib.A, "CNAME": dnslib.CNAME, "TXT": dnslib.TXT, "MX": None, "NS": dnslib.NS}


def txt_strings(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]


@dataclass
class Zones:
    """name → [(type, value)]; every name under ``apexes`` not listed is NXDOMAIN."""

    records: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    servfail: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)

    def add(self, rtype: str, name: str, value: str) -> None:
        self.records.setdefault(name.lower().rstrip("."), []).append((rtype, value))

    def remove(self, name: str, rtype: str | None = None) -> None:
        key = name.lower().rstrip(".")
        self.records[key] = [r for r in self.records.get(key, []) if rtype not in (None, r[0])]
        if not self.records[key]:
            del self.records[key]


def _rr(name: str, rtype: str, value: str) -> dnslib.RR:
    if rtype == "TXT":
        rdata: Any = dnslib.TXT(txt_strings(value))
    elif rtype == "MX":
        pref, host = value.split()
        rdata = dnslib.MX(host, int(pref))
    else:
        rdata = TYPES[rtype](value)
    return dnslib.RR(name, getattr(dnslib.QTYPE, rtype), rdata=rdata, ttl=60)


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, zones: Zones) -> None:
        self.zones = zones

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        qname = str(request.q.qname).lower().rstrip(".")
        qtype = dnslib.QTYPE[request.q.qtype]
        if qname in self.zones.silent:
            time.sleep(30)  # longer than any client waits
            return None
        if qname in self.zones.servfail:
            reply.header.rcode = dnslib.RCODE.SERVFAIL
            return reply
        name, hops = qname, 0
        while hops < 8:
            found = self.zones.records.get(name)
            if found is None:
                below = any(n.endswith("." + name) for n in self.zones.records)
                if name == qname and not below:  # an empty non-terminal is NODATA
                    reply.header.rcode = dnslib.RCODE.NXDOMAIN
                return reply
            cname = [v for t, v in found if t == "CNAME"]
            if cname and qtype != "CNAME":
                reply.add_answer(_rr(name, "CNAME", cname[0]))
                name, hops = cname[0].lower().rstrip("."), hops + 1
                continue
            for t, v in found:
                if t == qtype or qtype == "ANY":
                    reply.add_answer(_rr(name, t, v))
            return reply
        return reply


@contextmanager
def dns_server(zones: Zones) -> Iterator[int]:
    quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
    server = DNSServer(_Resolver(zones), port=0, address="127.0.0.1", logger=quiet)
    server.start_thread()
    try:
        yield int(server.server.server_address[1])
    finally:
        server.stop()


def resolver(port: int, lifetime: float = 2.0) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [dns.nameserver.Do53Nameserver("127.0.0.1", port=port)]
    r.lifetime = lifetime
    return r
