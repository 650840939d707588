"""Network namespaces for the isolation probe: a laptop behind a hotspot joined to the campus
network (double NAT), or on a public network where the campus ranges are black-holed. Root
only; documentation ranges only (198.51.100.0/24 the campus, 203.0.113.0/24 the laptop's side);
everything made is removed on the way out. Used by tests/system/test_isolation.py and
bench/isolation.py."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "Outpost Test Internal CA"
INTERNAL_NAMES = ("intranet.outpost.test", "wiki.outpost.test")
SERVER = "198.51.100.80"
DNS = "198.51.100.53"
TARGETS = (
    "intranet.outpost.test",
    f"{SERVER}:8080",
    f"https://wiki.outpost.test:8443/ issuer={ISSUER}",
)
Network = Literal["hotspot", "public", "public_silent_dns"]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def in_ns(ns: str, *argv: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, *argv], check=True, capture_output=True, timeout=30)


@dataclass
class Lab:
    """The namespaces made, the agent's among them, and the processes serving in them."""

    agent: str
    interface: str
    namespaces: list[str] = field(default_factory=list)
    services: list[subprocess.Popen[str]] = field(default_factory=list)

    def exec(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.agent)


def _namespace(lab: Lab, name: str) -> str:
    ip("netns", "add", name)
    lab.namespaces.append(name)
    ip("-n", name, "link", "set", "lo", "up")
    return name


def _link(left: str, left_if: str, right: str, right_if: str) -> None:
    """A veth pair from namespace `left` to namespace `right`, both ends up."""
    ip("link", "add", left_if, "type", "veth", "peer", "name", right_if)
    ip("link", "set", left_if, "netns", left)
    ip("link", "set", right_if, "netns", right)
    ip("-n", left, "link", "set", left_if, "up")
    ip("-n", right, "link", "set", right_if, "up")


def _serve(lab: Lab, ns: str, *args: str) -> None:
    """tests/system/internal_services.py in namespace `ns`, waited for until it listens."""
    process = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.system.internal_services", *args],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lab.services.append(process)
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", f"internal services did not start: {process.stderr.read()}"


def certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate whose issuer is the campus's internal CA."""
    cert, key = folder / "internal-cert.pem", folder / "internal-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-keyout", str(key), "-out", str(cert),
         "-subj", f"/O=Outpost Test/CN={ISSUER}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


def _resolver(ns: str, nameserver: str) -> None:
    """`ip netns exec` shows /etc/netns/<ns>/resolv.conf as the namespace's /etc/resolv.conf."""
    folder = Path("/etc/netns") / ns
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resolv.conf").write_text(f"nameserver {nameserver}\noptions timeout:2\n")


def _campus_through_hotspot(lab: Lab, tag: str, folder: Path) -> None:
    campus = _namespace(lab, f"outpost-campus-{tag}")
    hotspot = _namespace(lab, f"outpost-hotspot-{tag}")
    _link(campus, f"oc{tag}", hotspot, f"ou{tag}")
    _link(hotspot, f"ol{tag}", lab.agent, lab.interface)
    ip("-n", campus, "addr", "add", "198.51.100.1/24", "dev", f"oc{tag}")
    for address in (DNS, SERVER):
        ip("-n", campus, "addr", "add", f"{address}/32", "dev", "lo")
    # The hotspot: a client of the campus network, NATing its own little network behind it
    # and forwarding DNS to the campus resolver it was given.
    ip("-n", hotspot, "addr", "add", "198.51.100.2/24", "dev", f"ou{tag}")
    ip("-n", hotspot, "route", "add", "default", "via", "198.51.100.1")
    ip("-n", hotspot, "addr", "add", "203.0.113.1/24", "dev", f"ol{tag}")
    in_ns(hotspot, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    rules = (
        "table ip hotspot {\n"
        "  chain pre { type nat hook prerouting priority dstnat;\n"
        f'    iifname "ol{tag}" ip daddr 203.0.113.1 udp dport 53 dnat to {DNS}; }}\n'
        "  chain post { type nat hook postrouting priority srcnat;\n"
        f'    oifname "ou{tag}" masquerade; }}\n'
        "}\n"
    )
    subprocess.run(
        ["ip", "netns", "exec", hotspot, "nft", "-f", "-"],
        input=rules, text=True, check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    cert, key = certificate(folder)
    records = [f"--record={name}={SERVER}" for name in INTERNAL_NAMES]
    _serve(lab, campus, "--dns", DNS, *records, "--tcp", f"{SERVER}:8080",
           "--tls", f"{SERVER}:8443:{cert}:{key}")  # fmt: skip
    _resolver(lab.agent, "203.0.113.1")


def _public(lab: Lab, tag: str, silent_dns: bool) -> None:
    mobile = _namespace(lab, f"outpost-mobile-{tag}")
    _link(mobile, f"om{tag}", lab.agent, lab.interface)
    ip("-n", mobile, "addr", "add", "203.0.113.1/24", "dev", f"om{tag}")
    in_ns(mobile, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    # The campus ranges lead nowhere from here: packets to them vanish without an answer.
    ip("-n", mobile, "route", "add", "blackhole", "198.51.100.0/24")
    if silent_dns:
        # The resolver the laptop was given sits behind the router, which drops what is sent
        # to it: every query goes unanswered (the laptop's route to it is added below).
        ip("-n", mobile, "route", "add", "blackhole", "203.0.113.53/32")
        _resolver(lab.agent, "203.0.113.53")
    else:
        _serve(lab, mobile, "--dns", "203.0.113.1")  # knows no names: NXDOMAIN for all
        _resolver(lab.agent, "203.0.113.1")


@contextlib.contextmanager
def lab(network: Network, folder: Path) -> Iterator[Lab]:
    """The agent's namespace (address 203.0.113.2, gateway and resolver 203.0.113.1) on the
    network asked for; all of it removed afterwards, whatever happened."""
    assert shutil.which("ip") and shutil.which("nft"), "iproute2 and nftables are required"
    tag = uuid.uuid4().hex[:6]
    made = Lab(agent=f"outpost-laptop-{tag}", interface=f"oa{tag}")
    try:
        _namespace(made, made.agent)
        if network == "hotspot":
            _campus_through_hotspot(made, tag, folder)
        else:
            _public(made, tag, silent_dns=network == "public_silent_dns")
        ip("-n", made.agent, "addr", "add", "203.0.113.2/24", "dev", made.interface)
        ip("-n", made.agent, "route", "add", "default", "via", "203.0.113.1")
        if network == "public_silent_dns":
            ip("-n", made.agent, "route", "add", "203.0.113.53/32", "via", "203.0.113.1")
        yield made
    finally:
        for process in made.services:
            process.kill()
            process.communicate(timeout=10)
        for ns in reversed(made.namespaces):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        shutil.rmtree(Path("/etc/netns") / made.agent, ignore_errors=True)
        with contextlib.suppress(OSError):  # ours if empty; another test's files keep it
            Path("/etc/netns").rmdir()


# -- a laptop that reaches only its collector, until a split tunnel to the campus appears --------
COLLECTOR_SIDE = "203.0.113.201"  # the root namespace's end of the laptop's link (/30)
LAPTOP = "203.0.113.202"
TUNNEL_CAMPUS, TUNNEL_LAPTOP = "203.0.113.205", "203.0.113.206"  # the tunnel's link (/30)


@contextlib.contextmanager
def collector_link() -> Iterator[Lab]:
    """The laptop's namespace on a /30 to the root namespace, where a collector can listen on
    COLLECTOR_SIDE; no default route, so nothing but the collector is reachable."""
    assert shutil.which("ip"), "iproute2 is required"
    tag = uuid.uuid4().hex[:6]
    made = Lab(agent=f"outpost-laptop-{tag}", interface=f"oa{tag}")
    host_if = f"or{tag}"
    try:
        _namespace(made, made.agent)
        ip("link", "add", host_if, "type", "veth", "peer", "name", made.interface)
        ip("link", "set", made.interface, "netns", made.agent)
        ip("addr", "add", f"{COLLECTOR_SIDE}/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("-n", made.agent, "addr", "add", f"{LAPTOP}/30", "dev", made.interface)
        ip("-n", made.agent, "link", "set", made.interface, "up")
        yield made
    finally:
        for process in made.services:
            process.kill()
            process.communicate(timeout=10)
        for ns in reversed(made.namespaces):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True)


def open_split_tunnel(made: Lab) -> str:
    """A tunnel-like link from the laptop to a campus namespace carrying only the campus range
    (a split tunnel): the laptop gains an address outside the internal ranges and a route to
    198.51.100.0/24; SERVER:8080 answers behind it. Returns the laptop's end."""
    tag = made.agent.rsplit("-", 1)[-1]
    campus = _namespace(made, f"outpost-campus-{tag}")
    laptop_if = f"ot{tag}"
    _link(campus, f"oc{tag}", made.agent, laptop_if)
    ip("-n", campus, "addr", "add", f"{TUNNEL_CAMPUS}/30", "dev", f"oc{tag}")
    ip("-n", campus, "addr", "add", f"{SERVER}/32", "dev", "lo")
    _serve(made, campus, "--tcp", f"{SERVER}:8080")
    ip("-n", made.agent, "addr", "add", f"{TUNNEL_LAPTOP}/30", "dev", laptop_if)
    ip("-n", made.agent, "route", "add", "198.51.100.0/24", "via", TUNNEL_CAMPUS)
    return laptop_if
