"""Settings: where the collector keeps its data and how it listens; passed in, never imported."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

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
    # When set (OUTPOST_METRICS_TOKEN), /metrics answers only `Authorization: Bearer <token>`:
    # it shows the fleet's compliance counts.
    metrics_token: str | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def check(self) -> None:
        """Refuse unsafe combinations outside development."""
        if not self.sweep_interval_s > 0:
            raise SettingsError("OUTPOST_SWEEP_INTERVAL_S must be more than 0 seconds")
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
        report_retention_days=retention,
        report_rate_limit=env.get("OUTPOST_REPORT_RATE_LIMIT") or Settings.report_rate_limit,
        failure_rate_limit=env.get("OUTPOST_FAILURE_RATE_LIMIT") or Settings.failure_rate_limit,
        metrics_token=env.get("OUTPOST_METRICS_TOKEN") or None,
    )
