"""What each `collector` command does, given parsed arguments and settings."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Any

import uvicorn
from sqlalchemy.orm import Session

from agent.policy import PolicyError, load_catalogue
from server_stub.app import create_app
from server_stub.config import Settings
from server_stub.demo import DemoError
from server_stub.demo import demo as run_demo
from server_stub.http_protocol import NoDelayHttpToolsProtocol
from server_stub.ingest.policy import load_served_policy
from server_stub.metrics import MULTIPROCESS_DIR
from server_stub.sop.document import build_sop
from server_stub.sop.markdown import render_markdown
from server_stub.sop.register import register_entries
from server_stub.storage.admins import (
    AdminError,
    TokenInfo,
    create_admin,
    create_api_token,
    list_api_tokens,
    list_users,
    revoke_api_token,
    set_role,
)
from server_stub.storage.clock import iso, utcnow
from server_stub.storage.db import make_engine, session_factory, upgrade
from server_stub.storage.devices import (
    RegisterError,
    new_enrolment_token,
    register_device,
    revoke_device,
)

CLI_ACTOR = "cli"


class CommandError(Exception):
    """A command that cannot be carried out; printed without a traceback."""


def _environment_for(settings: Settings) -> dict[str, str]:
    """The settings as OUTPOST_* variables, for worker processes that rebuild them."""
    values = {
        "OUTPOST_DATA_DIR": str(settings.data_dir),
        "OUTPOST_DATABASE_URL": settings.database_url,
        "OUTPOST_HOST": settings.host,
        "OUTPOST_PORT": str(settings.port),
        "OUTPOST_POLICY": settings.policy_file or "",
        "OUTPOST_TLS_CERT": settings.tls_cert or "",
        "OUTPOST_TLS_KEY": settings.tls_key or "",
        "OUTPOST_TRUSTED_PROXIES": ",".join(str(n) for n in settings.trusted_proxies),
        "OUTPOST_REPORT_FAST_PATH": "" if settings.report_fast_path else "0",
        "OUTPOST_PUBLIC_URL": settings.public_url or "",
        "OUTPOST_ALERT_WEBHOOKS": ",".join(settings.alert_webhooks),
        "OUTPOST_ALERT_EMAILS": ",".join(settings.alert_emails),
        "OUTPOST_SMTP_URL": settings.smtp_url or "",
        "OUTPOST_ALERT_FROM": settings.alert_from or "",
        "OUTPOST_REPORT_RETENTION_DAYS": str(settings.report_retention_days),
        "OUTPOST_REPORT_RATE_LIMIT": settings.report_rate_limit,
        "OUTPOST_FAILURE_RATE_LIMIT": settings.failure_rate_limit,
    }
    return {k: v for k, v in values.items() if v}


def serve(settings: Settings, workers: int = 1, access_log: bool = False) -> int:
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        app = create_app(settings)  # also checks settings, policy and migrations up front
    except PolicyError as exc:
        raise CommandError(str(exc)) from exc
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "ssl_certfile": settings.tls_cert,
        "ssl_keyfile": settings.tls_key,
        "log_level": "info",
        # One log line per report at hundreds per second costs more than it tells; /metrics
        # counts them. --access-log turns it back on.
        "access_log": access_log,
        # X-Forwarded-For is weighed by the collector itself against --trusted-proxy.
        "proxy_headers": False,
        "server_header": False,
        "http": NoDelayHttpToolsProtocol,
        "loop": "uvloop",
    }
    if workers > 1:
        os.environ.update(_environment_for(settings))
        # Each worker counts into files here; a scrape of any of them sums all (an empty
        # folder per start: counters begin at zero with the collector, as in one process).
        counts = tempfile.mkdtemp(prefix="outpost-metrics-")
        os.environ[MULTIPROCESS_DIR] = counts
        try:
            uvicorn.run(
                "server_stub.app:app_from_environment", factory=True, workers=workers, **options
            )
        finally:
            shutil.rmtree(counts, ignore_errors=True)
    else:
        uvicorn.run(app, **options)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return serve(settings, args.workers, args.access_log)
    if args.command == "sop":
        return write_sop(settings, args.output)
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            if args.command == "device" and args.device_command == "register":
                registration = register_device(
                    session,
                    name=args.name,
                    owner=args.owner,
                    department=args.department,
                    approved_by=args.approved_by,
                    justification=args.justification,
                    expires=args.expires,
                    token_ttl_days=args.token_ttl,
                    actor=CLI_ACTOR,
                )
                print(f"registered {args.name} as device {registration.device_id}")
                print(f"one-time enrolment token (valid {args.token_ttl} days):")
                print(registration.enrolment_token)
            elif args.command == "device" and args.device_command == "revoke":
                revoke_device(session, args.name, CLI_ACTOR)
                print(f"revoked {args.name}")
            elif args.command == "device" and args.device_command == "token":
                print(new_enrolment_token(session, args.name, args.token_ttl, CLI_ACTOR))
            elif args.command == "admin" and args.admin_command == "create":
                password = sys.stdin.readline().rstrip("\n")
                create_admin(session, args.username, password, CLI_ACTOR, args.role)
                print(f"created {args.role} {args.username}")
            elif args.command == "admin" and args.admin_command == "role":
                set_role(session, args.username, args.role, CLI_ACTOR)
                print(
                    f"{args.username} is now {'an admin' if args.role == 'admin' else 'a viewer'}"
                )
            elif args.command == "admin" and args.admin_command == "list":
                for user in list_users(session):
                    print(f"{user.username}\t{user.role}\t{iso(user.created_at)}")
            elif args.command == "token":
                _token_command(session, args)
    except (RegisterError, AdminError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    return 0


def write_sop(settings: Settings, output: str | None) -> int:
    """`collector sop`: the SOP as Markdown from the served policy, the register and the alert
    destinations; a file is written whole (fsynced, then renamed into place) or not at all."""
    try:
        policy = load_served_policy(settings.policy_file).policy
    except PolicyError as exc:
        raise CommandError(str(exc)) from exc
    destinations = settings.destinations()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            register = register_entries(session)
    finally:
        engine.dispose()
    text = render_markdown(
        build_sop(policy, load_catalogue(), register, destinations, utcnow().date())
    )
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        write_whole(output, text)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
    print(f"wrote {output}", file=sys.stderr)
    return 0


def write_whole(path: str, text: str) -> None:
    """Write a file beside its target, fsync it, rename it into place, fsync the folder.

    The SOP is a document to publish: it gets the mode an ordinary new file would (0666 less
    the umask), not mkstemp's 0600.
    """
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".sop-")
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), 0o666 & ~umask)
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError:
        os.unlink(temporary)
        raise
    if os.name == "nt":  # Windows cannot open folders; NTFS journals the rename
        return
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def token_table(tokens: list[TokenInfo]) -> str:
    """`collector token list`: one line per token, tab-separated, with a header."""
    now = utcnow()
    lines = ["name\tcreated\texpires\tlast_used\trevoked\tstatus"]
    for t in tokens:
        status = "live" if t.live(now) else ("revoked" if t.revoked_at else "expired")
        cells = [t.name, iso(t.created_at), iso(t.expires_at), iso(t.last_used_at)]
        cells.append(iso(t.revoked_at))
        lines.append("\t".join(c or "-" for c in cells) + "\t" + status)
    return "\n".join(lines)


def _token_command(session: Session, args: argparse.Namespace) -> None:
    if args.token_command == "create":
        print(create_api_token(session, args.name, CLI_ACTOR, args.expires_days))
    elif args.token_command == "list":
        print(token_table(list_api_tokens(session)))
    elif args.token_command == "revoke":
        revoke_api_token(session, args.name, CLI_ACTOR)
        print(f"revoked token {args.name}")


def demo(port: int, wait: bool) -> int:
    try:
        return run_demo(port, wait)
    except DemoError as exc:
        raise CommandError(str(exc)) from exc
