"""Settings: where the collector keeps its data and how it listens; passed in, never imported."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from server_stub.alerting.destinations import DestinationError, Destinations, parse
from server_stub.rate_limits import check_limit

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MIB = 1024 * 1024
MIN_METRICS_TOKEN = 16


class SettingsError(ValueError):
    """Settings the collector refuses to start with."""


@dataclass(frozen=True)
class Settings:
    """Everything the collector needs to run; create_app(settings) takes it explicitly."""

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8443
    policy_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    max_body_bytes: int = MIB
    enrol_token_ttl_days: int = 7
    session_hours: int = 12
    dev: bool = False
    # POST /api/v1/reports answered by api.fast_path, ahead of FastAPI (--no-report-fast-path).
    report_fast_path: bool = True
    # Seconds between the sweeper's passes (OUTPOST_SWEEP_INTERVAL_S; tests and bench/sweep.py
    # shorten it to start a pass when they want one).
    sweep_interval_s: float = 60.0
    # Rate limits (the `limits` library's notation): reports per device, and failed
    # credentials per client address (OUTPOST_REPORT_RATE_LIMIT, OUTPOST_FAILURE_RATE_LIMIT).
    # Days a report (its whole body) is kept; a device's latest report is kept regardless;
    # 0 keeps every report (OUTPOST_REPORT_RETENTION_DAYS).
    report_retention_days: int = 400
    report_rate_limit: str = "60/minute"
    failure_rate_limit: str = "30/minute"
    # Alerts (server_stub.alerting): where they go and the link they carry to the dashboard.
    public_url: str | None = None  # --public-url; default: the address the collector serves
    alert_webhooks: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()
    smtp_url: str | None = field(default=None, repr=False)  # holds the SMTP password
    alert_from: str | None = None
    # Seconds between the delivery worker's looks at the outbox; the first retry's delay
    # (doubled on each failure); attempts before a delivery is marked failed.
    alert_poll_s: float = 0.5
    alert_retry_base_s: float = 2.0
    alert_max_attempts: int = 12
    alert_lease_s: float = 60.0  # a claimed delivery's hold (OUTPOST_ALERT_LEASE_S)
    # When set (OUTPOST_METRICS_TOKEN), /metrics answers only `Authorization: Bearer <token>`:
    # it shows the fleet's compliance counts.
    metrics_token: str | None = None

    @property
    def dashboard_url(self) -> str:
        """The dashboard's address as people reach it, for links in alerts."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def destinations(self) -> Destinations:
        """The alert destinations; SettingsError names a bad one, never the SMTP password."""
        try:
            return parse(self.alert_webhooks, self.alert_emails, self.smtp_url, self.alert_from)
        except DestinationError as exc:
            raise SettingsError(str(exc)) from None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def check(self) -> None:
        """Refuse unsafe combinations outside development."""
        if not self.sweep_interval_s > 0:
            raise SettingsError("OUTPOST_SWEEP_INTERVAL_S must be more than 0 seconds")
        if not (self.alert_poll_s > 0 and self.alert_retry_base_s > 0):
            raise SettingsError("OUTPOST_ALERT_POLL_S and _RETRY_BASE_S must be more than 0")
        if not self.alert_lease_s >= 3:
            raise SettingsError("OUTPOST_ALERT_LEASE_S must be at least 3 seconds")
        if self.alert_max_attempts < 1:
            raise SettingsError("OUTPOST_ALERT_MAX_ATTEMPTS must be at least 1")
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise SettingsError("--public-url: give the dashboard's http(s):// address")
        self.destinations()
        if self.report_retention_days < 0:
            raise SettingsError("--report-retention-days must be 0 (keep all) or more")
        for name, limit in (
            ("OUTPOST_REPORT_RATE_LIMIT", self.report_rate_limit),
            ("OUTPOST_FAILURE_RATE_LIMIT", self.failure_rate_limit),
        ):
            try:
                check_limit(limit)
            except ValueError as exc:
                raise SettingsError(f"{name}: {limit!r} is no rate limit ({exc})") from exc
        if self.metrics_token is not None and len(self.metrics_token) < MIN_METRICS_TOKEN:
            raise SettingsError(
                f"OUTPOST_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters"
            )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SettingsError("--tls-cert and --tls-key go together")
        loopback = self.host in ("127.0.0.1", "::1", "localhost")
        if not self.tls and not loopback and not self.trusted_proxies and not self.dev:
            raise SettingsError(
                f"refusing plain HTTP on {self.host}: give --tls-cert/--tls-key, listen on "
                "127.0.0.1 behind a TLS proxy (--trusted-proxy), or pass --dev"
            )


def database_url_for(data_dir: Path, explicit: str | None) -> str:
    return explicit or f"sqlite:///{data_dir / 'collector.db'}"


def settings_from(
    *,
    data_dir: str | None = None,
    database_url: str | None = None,
    host: str | None = None,
    port: int | None = None,
    policy_file: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    trusted_proxies: list[str] | None = None,
    dev: bool = False,
    report_fast_path: bool | None = None,
    public_url: str | None = None,
    alert_webhooks: list[str] | None = None,
    alert_emails: list[str] | None = None,
    smtp_url: str | None = None,
    alert_from: str | None = None,
    report_retention_days: int | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Command-line values first, then OUTPOST_* environment variables, then defaults."""
    env = dict(os.environ) if env is None else env
    folder = Path(data_dir or env.get("OUTPOST_DATA_DIR") or "./outpost-data")
    proxies = trusted_proxies or [
        p for p in env.get("OUTPOST_TRUSTED_PROXIES", "").split(",") if p.strip()
    ]
    try:
        networks = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)
    except ValueError as exc:
        raise SettingsError(f"--trusted-proxy: {exc}") from exc
    try:
        sweep_interval_s = float(env.get("OUTPOST_SWEEP_INTERVAL_S") or "60")
    except ValueError as exc:
        raise SettingsError(f"OUTPOST_SWEEP_INTERVAL_S: {exc}") from exc
    timing = _alert_timing(env)
    retention = report_retention_days
    try:
        if retention is None:
            retention = int(env.get("OUTPOST_REPORT_RETENTION_DAYS") or "400")
    except ValueError as exc:
        raise SettingsError(f"OUTPOST_REPORT_RETENTION_DAYS: {exc}") from exc
    return Settings(
        data_dir=folder,
        database_url=database_url_for(folder, database_url or env.get("OUTPOST_DATABASE_URL")),
        host=host or env.get("OUTPOST_HOST", "127.0.0.1"),
        port=port or int(env.get("OUTPOST_PORT", "8443")),
        policy_file=policy_file or env.get("OUTPOST_POLICY"),
        tls_cert=tls_cert or env.get("OUTPOST_TLS_CERT"),
        tls_key=tls_key or env.get("OUTPOST_TLS_KEY"),
        trusted_proxies=networks,
        dev=dev,
        report_fast_path=(
            report_fast_path
            if report_fast_path is not None
            else env.get("OUTPOST_REPORT_FAST_PATH", "1") != "0"
        ),
        sweep_interval_s=sweep_interval_s,
        public_url=public_url or env.get("OUTPOST_PUBLIC_URL") or None,
        alert_webhooks=tuple(alert_webhooks or _listed(env, "OUTPOST_ALERT_WEBHOOKS")),
        alert_emails=tuple(alert_emails or _listed(env, "OUTPOST_ALERT_EMAILS")),
        smtp_url=smtp_url or env.get("OUTPOST_SMTP_URL") or None,
        alert_from=alert_from or env.get("OUTPOST_ALERT_FROM") or None,
        alert_poll_s=float(timing["OUTPOST_ALERT_POLL_S"]),
        alert_retry_base_s=float(timing["OUTPOST_ALERT_RETRY_BASE_S"]),
        alert_max_attempts=int(timing["OUTPOST_ALERT_MAX_ATTEMPTS"]),
        alert_lease_s=timing["OUTPOST_ALERT_LEASE_S"],
        report_retention_days=retention,
        report_rate_limit=env.get("OUTPOST_REPORT_RATE_LIMIT") or Settings.report_rate_limit,
        failure_rate_limit=env.get("OUTPOST_FAILURE_RATE_LIMIT") or Settings.failure_rate_limit,
        metrics_token=env.get("OUTPOST_METRICS_TOKEN") or None,
    )


def _listed(env: dict[str, str], name: str) -> list[str]:
    return [item.strip() for item in env.get(name, "").split(",") if item.strip()]


def _alert_timing(env: dict[str, str]) -> dict[str, float]:
    defaults = Settings(Path("."), "")
    found = {
        "OUTPOST_ALERT_POLL_S": defaults.alert_poll_s,
        "OUTPOST_ALERT_RETRY_BASE_S": defaults.alert_retry_base_s,
        "OUTPOST_ALERT_MAX_ATTEMPTS": float(defaults.alert_max_attempts),
        "OUTPOST_ALERT_LEASE_S": defaults.alert_lease_s,
    }
    for name in found:
        text = env.get(name)
        try:
            found[name] = float(text) if text else found[name]
        except ValueError:
            raise SettingsError(f"{name}: {text!r} is not a number") from None
    return found
