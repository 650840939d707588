"""The client's real address: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import functools
import ipaddress

from server_stub.config import IPNetwork


def _trusted(address: str, proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


@functools.lru_cache(maxsize=4096)  # every report asks about its peer: a few thousand agents
def _plain(address: str) -> str:
    """::ffff:203.0.113.9 (how a dual-stack socket writes an IPv4 client) -> 203.0.113.9."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def client_address(peer: str, forwarded_for: str | None, proxies: tuple[IPNetwork, ...]) -> str:
    return _plain(_client_address(_plain(peer), forwarded_for, proxies))


def _client_address(peer: str, forwarded_for: str | None, proxies: tuple[IPNetwork, ...]) -> str:
    """Walk X-Forwarded-For from the right, past trusted proxies, to the first other hop.

    Sample: peer 127.0.0.1 (a trusted nginx), X-Forwarded-For "203.0.113.9, 10.0.0.2" with
    10.0.0.0/8 also trusted -> 203.0.113.9. A client cannot forge its way in from the left.
    """
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(_plain(hop), proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: fall back to the connection's address
    return hops[0] if hops else peer
