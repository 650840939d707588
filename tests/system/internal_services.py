"""What an organisation's inside offers, for the namespace tests: a DNS server that answers only
its own names (NXDOMAIN for the rest), plain TCP listeners and a TLS listener. Run in a network
namespace: `python -m tests.system.internal_services --dns 198.51.100.53 --record
intranet.outpost.test=198.51.100.80 --tcp 198.51.100.80:8080 --tls 198.51.100.80:8443:CERT:KEY`;
prints "ready" once every socket listens, serves until killed."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import socket
import ssl
import struct
import sys
import threading

TYPE_A = 1
NXDOMAIN = 3


def question(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, end of the question) of a DNS query; a real one for intranet.outpost.test
    A: 1a2b 0100 0001 0000 0000 0000 08 696e7472616e6574 07 6f7574706f7374 04 74657374 00
    0001 0001."""
    labels, pos = [], 12
    while packet[pos]:
        length = packet[pos]
        labels.append(packet[pos + 1 : pos + 1 + length].decode("ascii").lower())
        pos += 1 + length
    qtype, _qclass = struct.unpack("!HH", packet[pos + 1 : pos + 5])
    return ".".join(labels), qtype, pos + 5


def answer(packet: bytes, records: dict[str, str]) -> bytes:
    """The reply: A records for known names, no data for their other types, NXDOMAIN else."""
    name, qtype, end = question(packet)
    (query_id,) = struct.unpack("!H", packet[:2])
    rcode = 0 if name in records else NXDOMAIN
    answers = []
    if name in records and qtype == TYPE_A:
        address = ipaddress.IPv4Address(records[name]).packed
        answers.append(b"\xc0\x0c" + struct.pack("!HHIH", TYPE_A, 1, 60, 4) + address)
    header = struct.pack("!HHHHHH", query_id, 0x8180 | rcode, 1, len(answers), 0, 0)
    return header + packet[12:end] + b"".join(answers)


def serve_dns(sock: socket.socket, records: dict[str, str]) -> None:
    while True:
        packet, peer = sock.recvfrom(512)
        with contextlib.suppress(IndexError, UnicodeDecodeError, struct.error):
            sock.sendto(answer(packet, records), peer)


def serve_tcp(listener: socket.socket, tls: ssl.SSLContext | None) -> None:
    while True:
        conn, _ = listener.accept()
        if tls is None:
            conn.close()
            continue
        # The probe hangs up right after the handshake; that may interrupt ours.
        with contextlib.suppress(ssl.SSLError, OSError):
            tls.wrap_socket(conn, server_side=True).close()
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dns", help="address to answer DNS on (port 53)")
    parser.add_argument("--record", action="append", default=[], help="NAME=IPV4")
    parser.add_argument("--tcp", action="append", default=[], help="ADDRESS:PORT")
    parser.add_argument("--tls", action="append", default=[], help="ADDRESS:PORT:CERT:KEY")
    args = parser.parse_args()
    threads = []
    if args.dns:
        records = dict(r.lower().split("=", 1) for r in args.record)
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dns.bind((args.dns, 53))
        threads.append(threading.Thread(target=serve_dns, args=(dns, records), daemon=True))
    for spec in args.tcp:
        address, port = spec.rsplit(":", 1)
        listener = socket.create_server((address, int(port)))
        threads.append(threading.Thread(target=serve_tcp, args=(listener, None), daemon=True))
    for spec in args.tls:
        address, port, cert, key = spec.split(":", 3)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        listener = socket.create_server((address, int(port)))
        threads.append(threading.Thread(target=serve_tcp, args=(listener, context), daemon=True))
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or kills us)


if __name__ == "__main__":
    main()
