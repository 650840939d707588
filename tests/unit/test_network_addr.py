"""server_stub.network.client_address: X-Forwarded-For is believed only from trusted proxies,
walked from the right, so a client cannot forge its way in from the left."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server_stub.config import IPNetwork
from server_stub.network import client_address


def nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


LOCAL = nets("127.0.0.1/32")
CHAIN = nets("127.0.0.1/32", "10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        # no header, or no trusted proxy: the connection's address
        ("127.0.0.1", None, LOCAL, "127.0.0.1"),
        ("127.0.0.1", "", LOCAL, "127.0.0.1"),
        ("127.0.0.1", "203.0.113.9", (), "127.0.0.1"),
        ("192.0.2.5", "203.0.113.9", LOCAL, "192.0.2.5"),  # peer not a trusted proxy
        # one trusted proxy
        ("127.0.0.1", "203.0.113.9", LOCAL, "203.0.113.9"),
        ("127.0.0.1", " 203.0.113.9 ", LOCAL, "203.0.113.9"),
        # forged entries on the left are skipped: the right-most untrusted hop wins
        ("127.0.0.1", "198.18.0.1, 203.0.113.9", LOCAL, "203.0.113.9"),
        ("127.0.0.1", "10.9.9.9, 203.0.113.9", LOCAL, "203.0.113.9"),
        # a chain of trusted proxies
        ("127.0.0.1", "203.0.113.9, 10.0.0.2", CHAIN, "203.0.113.9"),
        ("127.0.0.1", "198.18.0.1, 203.0.113.9, 10.0.0.2, 10.0.0.3", CHAIN, "203.0.113.9"),
        # every hop trusted: the left-most one
        ("127.0.0.1", "10.0.0.7, 10.0.0.2", CHAIN, "10.0.0.7"),
        # empty entries are ignored
        ("127.0.0.1", ",, 203.0.113.9 ,", LOCAL, "203.0.113.9"),
        ("127.0.0.1", " , ", LOCAL, "127.0.0.1"),
        # garbage falls back to the connection's address, never into the result
        ("127.0.0.1", "unknown", LOCAL, "127.0.0.1"),
        ("127.0.0.1", "203.0.113.9:4711", LOCAL, "127.0.0.1"),
        ("127.0.0.1", "<script>", LOCAL, "127.0.0.1"),
        ("127.0.0.1", "203.0.113.9, garbage", LOCAL, "127.0.0.1"),
        # IPv6, normalised
        ("::1", "2001:DB8:0:0::9", nets("::1/128"), "2001:db8::9"),
        ("127.0.0.1", "2001:db8::9", LOCAL, "2001:db8::9"),
        # an IPv4 network never trusts an IPv6 peer, and a peer that is no address is not trusted
        ("::1", "203.0.113.9", LOCAL, "::1"),
        ("testclient", "203.0.113.9", LOCAL, "testclient"),
    ],
)
def test_client_address(
    peer: str, forwarded: str | None, proxies: tuple[IPNetwork, ...], expected: str
) -> None:
    assert client_address(peer, forwarded, proxies) == expected


addresses = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.text(max_size=20),
)


@given(peer=st.ip_addresses(v=4).map(str), hops=st.lists(addresses, max_size=6))
def test_without_trusted_proxies_the_header_is_never_believed(peer: str, hops: list[str]) -> None:
    assert client_address(peer, ", ".join(hops), ()) == peer


def _parsed(text: str) -> str | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


@given(hops=st.lists(addresses, max_size=6))
def test_the_answer_is_an_address_the_header_or_the_peer_named(hops: list[str]) -> None:
    header = ", ".join(hops)
    result = client_address("127.0.0.1", header, CHAIN)
    named = {_parsed(hop) for hop in header.split(",")} | {"127.0.0.1"}
    assert result in named
    ipaddress.ip_address(result)  # always a real address: it goes into a 45-character column


@given(
    forged=st.lists(st.ip_addresses(v=4).map(str), max_size=4),
    real=st.ip_addresses(v=4).filter(lambda a: not a.is_loopback and a not in CHAIN[1]),
)
def test_nothing_written_on_the_left_changes_the_answer(forged: list[str], real: object) -> None:
    header = ", ".join([*forged, str(real), "10.0.0.2"])
    assert client_address("127.0.0.1", header, CHAIN) == str(real)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # what a dual-stack proxy listening on [::] writes for an IPv4 client
        ("127.0.0.1", "::ffff:203.0.113.9", "203.0.113.9"),
        ("127.0.0.1", "198.18.0.1, ::ffff:203.0.113.9", "203.0.113.9"),
        # a mapped peer is the IPv4 proxy it stands for
        ("::ffff:127.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("::ffff:192.0.2.5", "203.0.113.9", "192.0.2.5"),
        # a mapped hop of a trusted proxy is skipped like the proxy itself
        ("127.0.0.1", "203.0.113.9, ::ffff:127.0.0.1", "203.0.113.9"),
    ],
)
def test_ipv4_mapped_addresses_are_ipv4(peer: str, forwarded: str, expected: str) -> None:
    """NET-008 compares the result with IPv4 egress ranges: ::ffff:a.b.c.d must not slip by."""
    assert client_address(peer, forwarded, LOCAL) == expected
