"""Which servers to ask, then the checks of each account."""

from __future__ import annotations

import ipaddress
import socket

import dns.resolver

from ametrika_gitops.config.model import Account
from ametrika_gitops.dns.records import zone_guess
from ametrika_gitops.errors import AmetrikaError
from ametrika_gitops.verify.checks import Check, Resolvers, advise_smtp, verify_hosted
from ametrika_gitops.verify.lookup import OK, make_resolver, query
from ametrika_gitops.verify.states import UNREACHABLE


def parse_server(text: str) -> tuple[str, int]:
    """HOST, HOST:PORT, [IPv6] or [IPv6]:PORT."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, p = text.partition(":")
        if not p.isdigit():
            raise AmetrikaError(f"--nameserver {text}: the port must be a number")
        port = int(p)
    if not host or not 0 < port < 65536:
        raise AmetrikaError(f"--nameserver {text}: expected HOST or HOST:PORT")
    try:
        ipaddress.ip_address(host)
        return host, port
    except ValueError:
        pass
    try:  # a name: ask its address once, here
        return str(socket.getaddrinfo(host, port, proto=socket.IPPROTO_UDP)[0][4][0]), port
    except (OSError, UnicodeError):
        raise AmetrikaError(
            f"--nameserver {text}: {host} is neither an IP address nor a name that resolves"
        ) from None


def authoritative(
    account: Account, world: dns.resolver.Resolver, lifetime: float, port: int = 53
) -> tuple[dns.resolver.Resolver | None, str]:
    """A resolver that asks the zone's own nameservers (from its NS records)."""
    zone = zone_guess(account)
    ns = query(world, zone, "NS")
    if ns.status != OK:
        return None, f"no NS records for {zone} ({ns.status})"
    addresses = []
    for host in ns.values:
        a = query(world, host, "A")
        addresses += [(ip, port) for ip in a.values] if a.status == OK else []
    if not addresses:
        return None, f"the nameservers of {zone} ({', '.join(ns.values)}) have no address"
    return make_resolver(addresses, lifetime), f"{zone}'s nameservers " + ", ".join(ns.values)


def verify_accounts(
    accounts: list[Account], servers: list[tuple[str, int]], lifetime: float
) -> tuple[list[Check], dict[str, str]]:
    import checkdmarc.utils

    # checkdmarc keeps answers for 30 minutes, across resolvers: a verification right after
    # an apply must see the zone as it is now.
    checkdmarc.utils.DNS_CACHE.clear()
    checks: list[Check] = []
    asked: dict[str, str] = {}
    given = make_resolver(servers, lifetime) if servers else None
    world = given or dns.resolver.Resolver()
    if given is None:
        world.lifetime = lifetime
    for account in accounts:
        if account.sender.hosted is not None:
            zone_resolver: dns.resolver.Resolver | None = given
            label = ", ".join(f"{h}:{p}" for h, p in servers)
            if given is None:
                zone_resolver, label = authoritative(account, world, lifetime)
            asked[account.id] = label
            if zone_resolver is None:
                checks.append(
                    Check(
                        account.id,
                        "nameservers",
                        "NS",
                        zone_guess(account),
                        UNREACHABLE,
                        detail=label,
                    )
                )
                continue
            checks += verify_hosted(account, Resolvers(zone_resolver, world))
        elif account.sender.smtp is not None:
            asked[account.id] = ", ".join(f"{h}:{p}" for h, p in servers) or "system resolver"
            checks += advise_smtp(account, Resolvers(world, world))
    return checks, asked
