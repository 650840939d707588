"""Rate limits at the agents' doors, with the `limits` library: reports per device, and failed
credentials (unknown device secrets, unknown enrolment tokens) per client address.

Only failures count against an address: many laptops on 4G share one carrier address (CGNAT),
and their good reports must never use up each other's budget. A device's own reports count
against its secret, so one stolen or runaway secret cannot flood the history. The windows live
in this process's memory: with --workers N each worker keeps its own, so an address or a device
gets up to N times the limit."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from server_stub.security import token_hash


@dataclass(frozen=True)
class OverLimit:
    """A request refused for its budget: why, and the seconds until the window frees a place."""

    message: str
    retry_after_s: int


def check_limit(text: str) -> RateLimitItem:
    """A limit such as "60/minute" or "10 per second"; ValueError when it is not one."""
    return parse(text)


class DoorLimits:
    """The collector's two budgets, checked before the work they protect."""

    def __init__(self, reports_per_device: str, failures_per_address: str) -> None:
        self.reports = check_limit(reports_per_device)
        self.failures = check_limit(failures_per_address)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def take_report(self, secret: str | None) -> OverLimit | None:
        """Count one report against its device's secret (by hash: a key must never be a
        secret itself); OverLimit when the device has used its budget."""
        if secret is None:
            return None
        key = token_hash(secret)
        if self.limiter.hit(self.reports, "reports", key):
            return None
        return self._over(self.reports, "reports", key, "reports from this device")

    def check_address(self, address: str) -> OverLimit | None:
        """OverLimit while this address has used its budget of failed credentials."""
        if self.limiter.test(self.failures, "failures", address):
            return None
        return self._over(self.failures, "failures", address, "failed credentials from here")

    def count_failure(self, address: str) -> None:
        self.limiter.hit(self.failures, "failures", address)

    def _over(self, item: RateLimitItem, namespace: str, key: str, what: str) -> OverLimit:
        reset_at = self.limiter.get_window_stats(item, namespace, key).reset_time
        wait = max(1, math.ceil(reset_at - time.time()))
        return OverLimit(f"too many {what}: at most {item}; try again in {wait} s", wait)
