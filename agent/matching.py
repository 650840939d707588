"""Matching a value against the organisation: host and domain names, IP ranges (a leaf)."""

from __future__ import annotations

import functools
import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4096)
def host_of(value: str) -> str:
    """The host or domain part of an e-mail, URL, UNC path, realm or host name."""
    text = value.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)  # URL scheme
    text = text.lstrip("\\/")
    text = re.split(r"[/\\:]", text, maxsplit=1)[0]  # path, port
    return text.rsplit("@", 1)[-1].rstrip(".")


def domain_matches(value: str, domain: str) -> bool:
    """Equal to the domain or a subdomain of it (a.example.org matches example.org, not
    example.org.evil.com or badexample.org)."""
    host, domain = host_of(value), domain.lower().strip(".")
    return host == domain or host.endswith("." + domain)


@functools.lru_cache(maxsize=4096)  # a fleet reports the same few addresses again and again
def ip_address(text: str) -> IPAddress | None:
    """An IP address (a zone such as %eth0 dropped), or None for anything else."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def network_containing(text: str, networks: list[IPNetwork]) -> IPNetwork | None:
    """The first range that holds this IP address; None for names and addresses outside."""
    address = ip_address(text)
    if address is None:
        return None
    for network in networks:
        if address.version == network.version and address in network:
            return network
    return None
