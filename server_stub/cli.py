"""The `collector` command line: argument parsing only; each command is a function elsewhere."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from server_stub import commands
from server_stub.config import SettingsError, settings_from
from server_stub.storage.admins import DEFAULT_TOKEN_DAYS

EXIT_USAGE = 2


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", help="data directory (OUTPOST_DATA_DIR)")
    parser.add_argument(
        "--database-url", metavar="URL", help="postgresql+psycopg://... (OUTPOST_DATABASE_URL)"
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collector", description="Outpost collector")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the collector (API and dashboard)")
    _database_options(serve)
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8443)")
    serve.add_argument("--policy", metavar="FILE", help="organisation policy (TOML)")
    serve.add_argument("--tls-cert", metavar="PEM")
    serve.add_argument("--tls-key", metavar="PEM")
    serve.add_argument("--trusted-proxy", metavar="CIDR", action="append", default=[])
    serve.add_argument("--dev", action="store_true", help="allow plain HTTP off loopback")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--public-url", metavar="URL", help="the dashboard's address, for links in alerts"
    )
    serve.add_argument(
        "--alert-webhook", metavar="URL", action="append", default=[],
        help="send alerts to this webhook (repeatable; OUTPOST_ALERT_WEBHOOKS)",
    )  # fmt: skip
    serve.add_argument(
        "--alert-email", metavar="ADDRESS", action="append", default=[],
        help="send alerts to this address (repeatable; OUTPOST_ALERT_EMAILS)",
    )  # fmt: skip
    serve.add_argument(
        "--smtp-url", metavar="URL",
        help="smtp://user:password@host:587 (STARTTLS) or smtps://...; OUTPOST_SMTP_URL keeps "
        "the password out of the process list",
    )  # fmt: skip
    serve.add_argument("--alert-from", metavar="ADDRESS", help="the alert mails' From")
    serve.add_argument(
        "--report-retention-days",
        type=int,
        metavar="DAYS",
        help="delete older reports; a device's latest is kept (default 400; 0: keep all)",
    )
    serve.add_argument(
        "--no-report-fast-path",
        dest="report_fast_path",
        action="store_false",
        default=None,
        help="serve POST /api/v1/reports through FastAPI's router only (for measuring)",
    )

    device = sub.add_parser("device", help="register or revoke devices").add_subparsers(
        dest="device_command", metavar="ACTION", required=True
    )
    register = device.add_parser("register", help="record an approved device; print its token")
    _database_options(register)
    register.add_argument("name")
    register.add_argument("--owner", required=True)
    register.add_argument("--department", required=True)
    register.add_argument("--approved-by", required=True, help="the head of department")
    register.add_argument("--justification", required=True)
    register.add_argument("--expires", required=True, type=_date, help="approval end, YYYY-MM-DD")
    register.add_argument("--token-ttl", type=int, default=7, metavar="DAYS")
    revoke = device.add_parser("revoke", help="revoke a device: its reports are refused")
    _database_options(revoke)
    revoke.add_argument("name")
    token = device.add_parser("token", help="a new enrolment token for a registered device")
    _database_options(token)
    token.add_argument("name")
    token.add_argument("--token-ttl", type=int, default=7, metavar="DAYS")

    admin = sub.add_parser("admin", help="dashboard users").add_subparsers(
        dest="admin_command", metavar="ACTION", required=True
    )
    create = admin.add_parser("create", help="create a dashboard user")
    _database_options(create)
    create.add_argument("username")
    create.add_argument("--password-stdin", action="store_true", required=True)
    create.add_argument(
        "--role", choices=("admin", "viewer"), default="admin", help="viewer: reads only"
    )
    role = admin.add_parser("role", help="make a user an admin or a viewer")
    _database_options(role)
    role.add_argument("username")
    role.add_argument("role", choices=("admin", "viewer"))
    users = admin.add_parser("list", help="every dashboard user and their role")
    _database_options(users)

    api_token = sub.add_parser("token", help="admin API tokens").add_subparsers(
        dest="token_command", metavar="ACTION", required=True
    )
    token_create = api_token.add_parser("create", help="print a new admin API token")
    _database_options(token_create)
    token_create.add_argument("--name", required=True)
    token_create.add_argument(
        "--expires-days", type=int, default=DEFAULT_TOKEN_DAYS, metavar="DAYS",
        help=f"days the token is valid (default {DEFAULT_TOKEN_DAYS})",
    )  # fmt: skip
    token_list = api_token.add_parser("list", help="every token: created, expires, last used")
    _database_options(token_list)
    token_revoke = api_token.add_parser("revoke", help="revoke a token: it answers 401 at once")
    _database_options(token_revoke)
    token_revoke.add_argument("name")

    sop = sub.add_parser(
        "sop", help="write the SOP for TikTok devices from the policy and the register"
    )
    _database_options(sop)
    sop.add_argument("--policy", metavar="FILE", help="organisation policy (TOML)")
    sop.add_argument("--output", metavar="FILE", help="write here (default: standard output)")

    demo = sub.add_parser("demo", help="run the whole product on this machine")
    demo.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    demo.add_argument("--no-wait", action="store_true", help="exit after the first report")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" noise
    try:
        if args.command == "demo":
            return commands.demo(args.port, wait=not args.no_wait)
        settings = settings_from(
            data_dir=args.data_dir,
            database_url=args.database_url,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            policy_file=getattr(args, "policy", None),
            tls_cert=getattr(args, "tls_cert", None),
            tls_key=getattr(args, "tls_key", None),
            trusted_proxies=getattr(args, "trusted_proxy", None),
            dev=getattr(args, "dev", False),
            report_fast_path=getattr(args, "report_fast_path", None),
            public_url=getattr(args, "public_url", None),
            alert_webhooks=getattr(args, "alert_webhook", None),
            alert_emails=getattr(args, "alert_email", None),
            smtp_url=getattr(args, "smtp_url", None),
            alert_from=getattr(args, "alert_from", None),
            report_retention_days=getattr(args, "report_retention_days", None),
        )
        return commands.run(args, settings)
    except (SettingsError, commands.CommandError) as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
