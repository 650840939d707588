"""`collector demo`: the whole product on this machine, with nothing but Python."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import uvicorn

from server_stub.app import create_app
from server_stub.config import Settings, database_url_for
from server_stub.storage.admins import create_admin
from server_stub.storage.clock import utcnow
from server_stub.storage.db import make_engine, session_factory, upgrade
from server_stub.storage.devices import register_device

DEMO_DEVICE = "demo-laptop"


class DemoError(Exception):
    """A demo step that failed; the message says which."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prepare(settings: Settings, password: str) -> str:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        create_admin(session, "admin", password, "demo")
        registration = register_device(
            session,
            name=DEMO_DEVICE,
            owner="Demo User",
            department="Communications",
            approved_by="Head of Department (demo)",
            justification="Demonstration of Outpost on this machine",
            expires=(utcnow() + timedelta(days=90)).date(),
            token_ttl_days=1,
            actor="demo",
        )
    engine.dispose()
    return registration.enrolment_token


def _agent_options(root: Path) -> list[str]:
    """The demo agent's state directory and its configuration: not run as a service (the
    demo sends one report by hand), so its self-check does not fail a service it never has."""
    config = root / "agent.toml"
    if not config.exists():
        config.write_text("[agent]\nservice = false\n", encoding="utf-8")
    return ["--config", str(config), "--state-dir", str(root / "agent")]


def _agent(root: Path, *args: str) -> str:
    """Run the real agent command (its own state dir; the secret in a 0600 file there)."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    argv = [sys.executable, "-m", "agent.cli", *_agent_options(root), *args]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        raise DemoError(f"agent {args[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _stop(signum: int, frame: object) -> None:
    """SIGTERM (kill, a terminal closing, a service manager) stops the demo as Ctrl-C does:
    the collector stops and its temporary data is removed."""
    raise KeyboardInterrupt


def demo(port: int, wait: bool) -> int:
    signal.signal(signal.SIGTERM, _stop)
    root = Path(tempfile.mkdtemp(prefix="outpost-demo-"))
    data_dir = root / "collector"
    data_dir.mkdir()
    port = port or _free_port()
    settings = Settings(data_dir=data_dir, database_url=database_url_for(data_dir, None), port=port)
    password = secrets.token_urlsafe(12)
    token = _prepare(settings, password)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise DemoError(f"the collector could not start on port {port}")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        print(_agent(root, "enroll", "--server", url, "--token", token))
        print(_agent(root, "send"))
        print()
        print(f"Dashboard:  {url}/")
        print("Login:      admin")
        print(f"Password:   {password}   (made for this demo only)")
        options = " ".join(_agent_options(root))
        print(f"Self-check: {sys.executable} -m agent.cli {options} --self-check")
        print(f"Data:       {root} (removed when the demo stops)")
        if wait:
            print("\nPress Ctrl-C to stop.")
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        server.should_exit = True
        thread.join(10)
        shutil.rmtree(root, ignore_errors=True)
    return 0
