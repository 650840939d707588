"""Talking to the collector: HTTPS with verification, bearer secret, gzip, retries with jitter,
and the waits a busy collector asks for (Retry-After)."""

from __future__ import annotations

import email.utils
import gzip
import ipaddress
import json
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from agent import __version__

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
RETRYABLE = {408, 429, 500, 502, 503, 504}
# The longest one `agent send` waits in all for a busy collector (429/503 with Retry-After); a
# longer wait is left to the service (last_exchange.retry_not_before), the report spooled.
WAIT_CAP_S = 60.0


class TransportError(Exception):
    """A failed exchange; `status` is the HTTP status, None when the collector was unreachable;
    `retry_after_s` how long the collector asked the agent to wait before trying again."""

    def __init__(
        self, message: str, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        if retry_after_s is not None:
            message += f" (it asked to be sent again in {retry_after_s:.0f} s)"
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def permanent(self) -> bool:
        """A 4xx other than 408/429: sending the same thing again cannot succeed."""
        return self.status is not None and 400 <= self.status < 500 and self.status not in RETRYABLE


def check_server_url(url: str) -> str:
    """HTTPS only; plain HTTP only to this machine (tests, the demo)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"{url}: plain http is allowed only to loopback; use https")
    return url.rstrip("/")


@dataclass
class Collector:
    """One collector, reached with the device secret (if enrolled) and an optional pinned CA."""

    server: str
    ca_file: str | None = None
    secret: str | None = None
    attempts: int = 3
    backoff_s: float = 0.5
    wait_cap_s: float = WAIT_CAP_S
    waited_s: float = field(default=0.0, init=False)  # Retry-After waits so far, this run

    def __post_init__(self) -> None:
        self.server = check_server_url(self.server)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"outpost-agent/{__version__}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"} if self.secret else {}

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request, retried on network faults, 5xx, 408 and 429 with backoff and jitter, or
        after the wait the collector asked for; a wait beyond the cap raises at once."""
        url = self.server + path
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        for attempt in range(1, self.attempts + 1):
            # The time of sending, by this device's clock: the collector judges the clock by it,
            # not by a spooled report's collection time.
            headers["Date"] = email.utils.formatdate(usegmt=True)
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                    # Per request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
                    # session's verify, which would silently unpin the enrolment CA.
                    verify=self.ca_file or True,
                    **kwargs,
                )
            except requests.exceptions.SSLError as exc:
                raise TransportError(f"TLS verification failed for {self.server}: {exc}") from exc
            except requests.RequestException as exc:
                error = TransportError(f"collector {self.server} unreachable: {type(exc).__name__}")
            else:
                if response.status_code < 400 or response.status_code == 304:
                    return response
                asked = retry_after(response, time.time())
                error = TransportError(_describe(response), response.status_code, asked)
                if error.permanent:
                    raise error
            if attempt == self.attempts:
                break
            if error.retry_after_s is None:
                delay = self.backoff_s * 2 ** (attempt - 1)
                time.sleep(delay + random.uniform(0, delay))  # jitter spreads a fleet's retries
            elif self.waited_s + error.retry_after_s > self.wait_cap_s:
                raise error  # longer than this run may wait: kept for the next one
            else:
                self.waited_s += error.retry_after_s
                time.sleep(error.retry_after_s)
        raise error

    def enroll(self, token: str, hostname: str, hardware_id_hash: str | None) -> dict[str, Any]:
        body = {"token": token, "hostname": hostname, "hardware_id_hash": hardware_id_hash}
        result: dict[str, Any] = self._request("POST", "/api/v1/enroll", json=body).json()
        return result

    def send_report(self, report: dict[str, Any]) -> dict[str, Any]:
        body = gzip.compress(json.dumps(report, separators=(",", ":")).encode(), 6)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        response = self._request("POST", "/api/v1/reports", data=body, headers=headers)
        result: dict[str, Any] = response.json()
        return result

    def fetch_policy(self, etag: str | None) -> tuple[str | None, str | None]:
        """(policy text, ETag); text is None when the cached copy is still current (304)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", "/api/v1/policy", headers=headers)
        if response.status_code == 304:
            return None, etag
        return response.text, response.headers.get("ETag")

    def healthy(self) -> bool:
        return self._request("GET", "/healthz").status_code == 200


def retry_after(response: requests.Response, now: float) -> float | None:
    """Seconds the collector asked to wait on a 429 or 503: Retry-After as seconds or as an
    HTTP date; None when it said nothing usable (then the usual backoff applies)."""
    value = response.headers.get("Retry-After", "").strip()
    if response.status_code not in (429, 503) or not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        log.warning("collector sent an unreadable Retry-After: %r", value[:40])
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _describe(response: requests.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:200]
    if isinstance(detail, dict):
        detail = detail.get("message", detail)
    return f"collector answered {response.status_code}: {detail}"
