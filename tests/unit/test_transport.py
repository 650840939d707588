"""The agent's side of the wire: URL rules, retries, permanent errors, secret storage."""

from __future__ import annotations

import email.utils
import gzip
import json
import logging
import socket
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path

import pytest

from agent.delivery.secret_store import SecretMissing, load_secret, store_secret
from agent.delivery.transport import Collector, TransportError, check_server_url
from tests.unit.scripted import Script, scripted_server


@pytest.mark.parametrize(
    "url",
    [
        "https://collector.example.org",
        "http://127.0.0.1:8443",
        "http://localhost:1",
        "http://[::1]:9",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert check_server_url(url + "/") == url


@pytest.mark.parametrize("url", ["http://collector.example.org", "ftp://x", "collector:8443"])
def test_refused_urls(url: str) -> None:
    with pytest.raises(ValueError):
        check_server_url(url)


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with scripted_server() as running:
        yield running


def test_report_is_gzipped_with_the_bearer_secret(server: tuple[str, Script]) -> None:
    url, script = server
    Collector(url, secret="osd_canary", backoff_s=0).send_report({"report_id": "r1"})
    path, headers, body = script.received[0]
    assert path == "/api/v1/reports"
    assert headers["Authorization"] == "Bearer osd_canary"
    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == {"report_id": "r1"}


def test_every_attempt_says_when_it_was_sent(server: tuple[str, Script]) -> None:
    """The collector judges the device's clock by the time of sending, not by when a spooled
    report was collected: each attempt carries its own HTTP Date."""
    url, script = server
    script.statuses = [503]
    before = datetime.now(UTC).replace(microsecond=0)
    Collector(url, secret="osd_canary", backoff_s=0).send_report({"report_id": "r1"})
    after = datetime.now(UTC)
    sent = [email.utils.parsedate_to_datetime(h["Date"]) for _, h, _ in script.received]
    assert len(sent) == 2 and all(before <= when <= after for when in sent)


def test_server_errors_are_retried_then_succeed(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [503, 429]
    Collector(url, secret="s", backoff_s=0.01).send_report({})
    assert len(script.received) == 3


def test_permanent_rejection_is_not_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [422]
    with pytest.raises(TransportError) as caught:
        Collector(url, secret="s", backoff_s=0.01).send_report({})
    assert caught.value.status == 422 and caught.value.permanent
    assert "scripted 422" in str(caught.value)
    assert len(script.received) == 1


def test_retry_after_in_seconds_is_waited_for(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [(503, {"Retry-After": "2"})]
    started = time.monotonic()
    Collector(url, secret="s", backoff_s=0).send_report({})
    assert 2.0 <= time.monotonic() - started < 10
    assert len(script.received) == 2


def test_retry_after_as_an_http_date_is_waited_for(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [(429, {"Retry-After": formatdate(time.time() + 3, usegmt=True)})]
    started = time.monotonic()
    Collector(url, secret="s", backoff_s=0).send_report({})
    assert 1.5 <= time.monotonic() - started < 10  # the date has whole seconds
    assert len(script.received) == 2


def test_retry_after_beyond_the_cap_stops_at_once(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [(503, {"Retry-After": "300"})]
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        Collector(url, secret="s", backoff_s=0).send_report({})
    assert time.monotonic() - started < 2
    assert caught.value.status == 503 and caught.value.retry_after_s == 300
    assert not caught.value.permanent and "again in 300 s" in str(caught.value)
    assert len(script.received) == 1


def test_retry_after_waits_add_up_to_one_cap(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [(503, {"Retry-After": "1"}), (503, {"Retry-After": "1"})]
    with pytest.raises(TransportError) as caught:
        Collector(url, secret="s", backoff_s=0, wait_cap_s=1.5).send_report({})
    assert caught.value.retry_after_s == 1 and len(script.received) == 2


def test_an_unreadable_retry_after_falls_back_to_backoff(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [(503, {"Retry-After": "soon"}), (500, {"Retry-After": "100"})]
    Collector(url, secret="s", backoff_s=0.01).send_report({})  # 500's Retry-After: not ours
    assert len(script.received) == 3


def test_unreachable_collector_is_a_clear_error_without_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens here
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransportError) as caught:
        Collector(f"http://127.0.0.1:{port}", secret="osd_canary_secret", backoff_s=0).send_report(
            {}
        )
    assert caught.value.status is None and not caught.value.permanent
    assert "unreachable" in str(caught.value)
    assert "osd_canary_secret" not in str(caught.value) + caplog.text


def test_secret_falls_back_to_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    import keyring.core

    keyring.core.init_backend()
    store = store_secret(tmp_path / "state", "dev-1", "osd_secret_value")
    assert store.startswith("file:")
    path = Path(store.split(":", 1)[1])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_secret(store, "dev-1") == "osd_secret_value"
    path.unlink()
    with pytest.raises(SecretMissing, match="cannot read the device secret file"):
        load_secret(store, "dev-1")


def test_pinned_ca_survives_a_ca_bundle_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """requests lets REQUESTS_CA_BUNDLE override a session's verify; the pin must still hold."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    seen: dict[str, object] = {}

    class Answer:
        status_code = 200

        def json(self) -> dict[str, object]:
            return {}

    collector = Collector("https://collector.example.org", ca_file=str(tmp_path / "pin.pem"))

    def request(method: str, url: str, **kwargs: object) -> Answer:
        seen.update(kwargs)
        return Answer()

    monkeypatch.setattr(collector.session, "request", request)
    collector.send_report({})
    assert seen["verify"] == str(tmp_path / "pin.pem")
