"""Linux: a netlink socket subscribed to link, address and route changes; idle costs nothing."""

from __future__ import annotations

import logging
import select
import socket

log = logging.getLogger(__name__)

# rtnetlink multicast groups (linux/rtnetlink.h).
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = (
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
)


class NetlinkWatcher:
    """Blocks in select() until the kernel announces a network change."""

    # DNS or Wi-Fi changes without an address or route change send nothing: look anyway.
    check_every_s = 60.0

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        # A signal handler cannot interrupt select() (PEP 475 retries it): it writes here.
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)

    @classmethod
    def open(cls) -> NetlinkWatcher | None:
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            sock.bind((0, GROUPS))
        except (OSError, AttributeError) as exc:  # not Linux, or netlink refused (sandbox)
            log.info("netlink unavailable (%s): polling for network changes instead", exc)
            return None
        sock.setblocking(False)
        return cls(sock)

    def wait(self, timeout: float) -> bool:
        readable, _, _ = select.select([self.sock, self._wake_read], [], [], max(timeout, 0.0))
        if self._wake_read in readable:
            self._wake_read.recv(64)
            return False
        if not readable:
            return False
        while True:  # drain the burst: one change often sends several messages
            try:
                self.sock.recv(65536)
            except BlockingIOError:
                return True

    def wake(self) -> None:
        self._wake_write.send(b"!")

    def close(self) -> None:
        for sock in (self.sock, self._wake_read, self._wake_write):
            sock.close()
