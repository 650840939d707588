"""The isolation probe on real loopback sockets (TCP, TLS, a silent server), and replayed."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from agent.facts.context import Context, ParseError
from agent.facts.probes import isolation
from agent.facts.probes.isolation.settings import IsolationSettings, Target
from agent.facts.probes.isolation.tls_parse import parse_issuer
from agent.facts.recording import RecordingContext
from agent.facts.runner import run_probe
from agent.facts.schema import report_schema
from tests.replay import ReplayContext, UnexpectedAccess

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
ISSUER = "/C=GB/O=University of Example/CN=Example Internal CA"


class Server:
    """A loopback listener: accepts and, with TLS, answers the handshake; `silent` accepts the
    connection and never says a word (a TLS handshake waits on it until its time is up)."""

    def __init__(self, tls: ssl.SSLContext | None = None, silent: bool = False) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.tls, self.silent = tls, silent
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            self.held.append(conn)
            if self.tls is not None and not self.silent:
                # The probe hangs up right after its handshake; that may interrupt ours.
                with contextlib.suppress(ssl.SSLError, OSError):
                    self.held.append(self.tls.wrap_socket(conn, server_side=True))

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-keyout", str(key), "-out", str(cert), "-subj", ISSUER],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    server = Server(context)
    yield server
    server.close()


@pytest.fixture
def tcp_server() -> Iterator[Server]:
    server = Server()
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def targets_of(ctx: Context, *targets: Target, **settings: Any) -> list[dict[str, Any]]:
    result = run_probe(ctx, isolation.probe(IsolationSettings(targets=targets, **settings)))
    assert result.status == "ok", result.error
    assert result.data is not None
    return list(result.data["targets"])


def test_an_answering_address_is_reachable_by_the_loopback(tcp_server: Server) -> None:
    text = f"127.0.0.1:{tcp_server.port}"
    [found] = targets_of(Context(), Target(text, "127.0.0.1", tcp_server.port))
    assert found["target"] == text
    assert found["reachable"] is True and found["answer"] == "connected"
    assert found["resolved"] is None, "an address has nothing to resolve"
    assert found["interface"] == "lo"


def test_a_closed_port_refuses_and_is_not_reachable() -> None:
    port = closed_port()
    [found] = targets_of(Context(), Target(f"127.0.0.1:{port}", "127.0.0.1", port))
    assert (found["reachable"], found["answer"]) == (False, "refused")


def test_a_name_resolves_and_says_whether_its_address_is_internal(tcp_server: Server) -> None:
    name = Target("localhost", "localhost")
    with_port = Target(f"localhost:{tcp_server.port}", "localhost", tcp_server.port)
    inside, named = targets_of(Context(), name, with_port, internal_cidrs=LOOPBACK)
    assert (inside["resolved"], inside["internal_address"], inside["reachable"]) == (
        True,
        True,
        None,
    )
    assert inside["answer"] == "resolved"
    assert (named["resolved"], named["reachable"], named["answer"]) == (True, True, "connected")
    elsewhere = (ipaddress.ip_network("10.0.0.0/8"),)
    [outside] = targets_of(Context(), name, internal_cidrs=elsewhere)
    assert outside["internal_address"] is False
    [no_ranges] = targets_of(Context(), name)
    assert no_ranges["internal_address"] is None


def test_tls_with_the_expected_issuer_is_reachable_another_is_not(tls_server: Server) -> None:
    url = f"https://127.0.0.1:{tls_server.port}/"
    expected = Target(url, "127.0.0.1", tls_server.port, tls=True, issuer="example internal ca")
    other = Target(url + " x", "127.0.0.1", tls_server.port, tls=True, issuer="Other CA")
    any_issuer = Target(url + " y", "127.0.0.1", tls_server.port, tls=True)
    ours, theirs, anyone = targets_of(Context(), expected, other, any_issuer)
    assert (ours["reachable"], ours["answer"]) == (True, "connected")
    assert (theirs["reachable"], theirs["answer"]) == (False, "other_issuer")
    assert (anyone["reachable"], anyone["answer"]) == (True, "connected")


def test_tls_to_a_plain_tcp_server_fails_the_handshake() -> None:
    # A server that answers the ClientHello with plain text is no TLS server.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_nonsense() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(1024)
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer_nonsense, daemon=True).start()
    try:
        target = Target(f"https://127.0.0.1:{port}/", "127.0.0.1", port, tls=True)
        [found] = targets_of(Context(), target)
    finally:
        listener.close()
    assert (found["reachable"], found["answer"]) == (False, "tls_failed")


def test_a_silent_server_costs_no_more_than_the_budget(certificate: tuple[Path, Path]) -> None:
    """Three endpoints that accept and never answer the TLS handshake: the probe ends with the
    budget, each one a timeout (nothing answered), not reachable."""
    servers = [Server(silent=True) for _ in range(3)]
    try:
        targets = [
            Target(f"https://127.0.0.1:{s.port}/", "127.0.0.1", s.port, tls=True) for s in servers
        ]
        started = time.monotonic()
        found = targets_of(Context(), *targets, budget_s=0.3)
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.close()
    assert [(t["reachable"], t["answer"]) for t in found] == [(False, "timeout")] * 3
    assert elapsed < 0.3 + 0.25, f"the probe took {elapsed:.2f} s with a 0.3 s budget"
    assert all(250 <= t["duration_ms"] <= 550 for t in found), found


def test_no_targets_is_an_empty_answer() -> None:
    for settings in (None, IsolationSettings()):
        result = run_probe(Context(), isolation.probe(settings))
        assert result.status == "ok"
        assert result.data == {"targets": [], "budget_ms": 800}


def test_what_is_recorded_replays_to_the_same_answer(
    tcp_server: Server, tls_server: Server
) -> None:
    targets = (
        Target("localhost", "localhost"),
        Target(f"127.0.0.1:{tcp_server.port}", "127.0.0.1", tcp_server.port),
        Target(f"127.0.0.1:{closed_port()}", "127.0.0.1", closed_port()),
        Target("https://localhost/ issuer=Example", "localhost", tls_server.port, True, "Example"),
    )
    recorder = RecordingContext()
    live = targets_of(recorder, *targets, internal_cidrs=LOOPBACK)
    replayed = targets_of(ReplayContext(recorder.recording), *targets, internal_cidrs=LOOPBACK)

    def without_time(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in t.items() if k != "duration_ms"} for t in found]

    assert without_time(replayed) == without_time(live)
    assert [t["answer"] for t in live] == ["resolved", "connected", "refused", "connected"]
    assert set(recorder.recording) >= {"resolve", "routes", "connects", "calls"}


RECORDED_LAPTOP_OUTSIDE: dict[str, Any] = {
    # A laptop on 4G (wwan0): the internal name does not exist for the mobile network's resolver,
    # the internal address times out, the second name's resolver fails.
    "os": "linux",
    "resolve": {
        "intranet.example.ac.uk": [],
        "ldap.example.ac.uk": {"fails": "error", "message": "the resolver did not answer"},
    },
    "routes": {"10.20.0.5": "100.64.3.7"},
    "connects": {"10.20.0.5 443 -": {"outcome": "timeout", "certificate": None}},
    "calls": {
        "net_if_addrs": {
            "wwan0": [{"family": "inet", "address": "100.64.3.7", "netmask": "255.255.255.252"}]
        }
    },
}


def test_a_recorded_laptop_outside() -> None:
    found = targets_of(
        ReplayContext(RECORDED_LAPTOP_OUTSIDE),
        Target("intranet.example.ac.uk", "intranet.example.ac.uk"),
        Target("10.20.0.5:443", "10.20.0.5", 443),
        Target("ldap.example.ac.uk:636", "ldap.example.ac.uk", 636),
    )
    assert [(t["resolved"], t["reachable"], t["answer"], t["interface"]) for t in found] == [
        (False, None, "not_found", None),
        (None, False, "timeout", "wwan0"),
        (None, None, "no_answer", None),
    ]


def test_replay_refuses_a_target_the_recording_does_not_hold() -> None:
    ctx = ReplayContext(RECORDED_LAPTOP_OUTSIDE)
    with pytest.raises(UnexpectedAccess):
        ctx.resolve("wiki.example.ac.uk")
    with pytest.raises(UnexpectedAccess):
        ctx.connect("10.20.0.6", 443, 1.0, None)


def test_the_issuer_of_a_real_certificate(certificate: tuple[Path, Path]) -> None:
    der = ssl.PEM_cert_to_DER_cert(certificate[0].read_text())
    assert parse_issuer(der) == "C=GB, O=University of Example, CN=Example Internal CA"


@pytest.mark.parametrize(
    "der",
    [b"", b"\x04\x02ab", b"\x30\x82\x01", b"\x30\x03\x30\x01\x02", b"\x30\x85\x00\x00\x00\x00\x01"],
)
def test_a_broken_certificate_is_a_parse_error(der: bytes) -> None:
    with pytest.raises(ParseError):
        parse_issuer(der)


def test_a_report_of_an_agent_older_than_the_probe_is_still_valid(
    linux_report: dict[str, Any],
) -> None:
    """The probe came after schema v1 shipped: the collector must keep accepting reports
    without it (NET-009 then says unknown, or N/A without targets)."""
    older = {**linux_report, "probes": dict(linux_report["probes"])}
    del older["probes"]["isolation"]
    jsonschema.Draft202012Validator(report_schema()).validate(older)
    assert "isolation" in linux_report["probes"]
    with pytest.raises(jsonschema.ValidationError):
        del older["probes"]["network"]
        jsonschema.Draft202012Validator(report_schema()).validate(older)
