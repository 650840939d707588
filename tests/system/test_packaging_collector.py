"""The collector's two installs and the lock files: the hardened unit (systemd-analyze), its
sysusers.d user, the container image definition (hadolint) and compose file, and locks that
pin every dependency pyproject.toml names, each with a hash."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.system.conftest import StartCollector, free_port

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = ROOT / "packaging" / "collector"
UNITS = ROOT / "packaging" / "systemd"
HADOLINT = Path(sys.executable).parent / "hadolint"
MAX_EXPOSURE = 2.0


def exposure(unit: Path) -> float:
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


def test_collector_unit_exposure_is_low() -> None:
    assert exposure(UNITS / "outpost-collector.service") <= MAX_EXPOSURE


def test_operator_guide_states_both_units_exposure() -> None:
    guide = (ROOT / "docs" / "operator-guide.md").read_text()
    for name in ("outpost-agent.service", "outpost-collector.service"):
        stated = re.search(rf"\| `{re.escape(name)}` \| (\d+\.\d) \|", guide)
        assert stated, name
        assert float(stated.group(1)) == exposure(UNITS / name), name


def test_collector_unit_verifies() -> None:
    unit = UNITS / "outpost-collector.service"
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    # The collector is not installed here: only that complaint is allowed.
    problems = [
        line
        for line in done.stderr.splitlines()
        if line.strip() and "/opt/outpost/venv/bin/collector" not in line
    ]
    assert not [p for p in problems if re.search("Unknown|Invalid|Failed|ignoring", p)], problems
    text = unit.read_text()
    assert "User=outpost-collector" in text and "EnvironmentFile=/etc/outpost/collector.env" in text


def test_sysusers_creates_the_collector_user(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(COLLECTOR / "sysusers.conf")],
        check=True,
        capture_output=True,
    )
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert re.search(
        r"^outpost-collector:x:\d+:\d+:Outpost collector:/var/lib/outpost-collector:"
        r"/usr/sbin/nologin$",
        passwd,
        re.M,
    ), passwd


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(COLLECTOR / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    dockerfile = (COLLECTOR / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements/collector.lock" in dockerfile
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and not user[-1].startswith(("0", "root"))


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COLLECTOR / "compose.yaml").read_text())
    return loaded


def test_compose_puts_nginx_alone_in_front() -> None:
    services = _compose()["services"]
    assert set(services) == {"db", "collector", "nginx"}
    published = {name for name, spec in services.items() if spec.get("ports")}
    assert published == {"nginx"}
    assert services["nginx"]["ports"] == ["443:443"]
    build = services["collector"]["build"]
    assert (COLLECTOR / build["context"] / build["dockerfile"]).resolve() == (
        COLLECTOR / "Dockerfile"
    )
    nginx_address = services["nginx"]["networks"]["outpost"]["ipv4_address"]
    env = services["collector"]["environment"]
    assert env["OUTPOST_TRUSTED_PROXIES"] == f"{nginx_address}/32"
    assert env["OUTPOST_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "OUTPOST_METRICS_TOKEN" in env
    for source in (services["nginx"]["volumes"][0].split(":")[0],):
        assert (COLLECTOR / source).is_file(), source
    conf = (COLLECTOR / "nginx.conf").read_text()
    assert "listen 443 ssl;" in conf and "proxy_pass http://collector:8443;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # replaced, never appended


def _pins(lock: Path) -> dict[str, str]:
    """name -> the block of a pip-compile lock for it (the pin line and its hashes)."""
    blocks = re.split(r"\n(?=[a-z0-9])", lock.read_text(), flags=re.I)
    pins = {}
    for block in blocks:
        found = re.match(r"([A-Za-z0-9._-]+)==\S+", block)
        if found:
            pins[re.sub(r"[-_.]+", "-", found.group(1)).lower()] = block
    return pins


def _names(requirements: list[str]) -> set[str]:
    bare = (re.split(r"[<>=\[; ]", r, maxsplit=1)[0] for r in requirements)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in bare}


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("agent.lock", ()), ("collector.lock", ("collector",)), ("build.lock", None)],
)
def test_locks_pin_every_dependency_with_a_hash(lock: str, extras: tuple[str, ...] | None) -> None:
    pins = _pins(ROOT / "requirements" / lock)
    assert pins
    for name, block in pins.items():
        assert "--hash=sha256:" in block, name
    if extras is None:
        assert "pyinstaller" in pins
        return
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"])
    for extra in extras:
        wanted |= _names(project["optional-dependencies"][extra])
    assert wanted <= set(pins), wanted - set(pins)


NGINX_MAIN = """\
worker_processes 1;
pid nginx.pid;
error_log error.log notice;
events {{ worker_connections 64; }}
http {{
    access_log access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
{server}
}}
"""


def test_the_compose_nginx_conf_serves_the_collector_over_tls(
    start_collector: StartCollector,
) -> None:
    """packaging/collector/nginx.conf's server block, as shipped but for its addresses and
    certificate paths, in front of a real collector."""
    assert shutil.which("nginx"), "nginx is required (apt-get install nginx; .ci/run does)"
    collector = start_collector("sqlite", "--trusted-proxy", "127.0.0.1/32")
    # nginx's workers run as nobody and must reach their files: not under pytest's 0700 tree.
    folder = Path(tempfile.mkdtemp(prefix="outpost-compose-nginx-"))
    folder.chmod(0o755)
    (folder / "tmp").mkdir()
    process = None
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(folder / "key.pem"), "-out", str(folder / "fullchain.pem"),
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        port = free_port()
        server = (COLLECTOR / "nginx.conf").read_text()
        for shipped, here in (
            ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
            ("/etc/nginx/tls/", f"{folder}/"),
            ("http://collector:8443;", f"http://127.0.0.1:{collector.port};"),
        ):
            assert shipped in server, shipped
            server = server.replace(shipped, here)
        (folder / "nginx.conf").write_text(NGINX_MAIN.format(server=server))
        process = subprocess.Popen(
            ["nginx", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-e", "stderr",
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=(folder / "stderr.log").open("wb"),
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while True:
            try:
                health = requests.get(
                    f"https://127.0.0.1:{port}/healthz",
                    verify=str(folder / "fullchain.pem"),
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                assert process.poll() is None, (folder / "stderr.log").read_text()
                assert time.monotonic() < deadline, (folder / "stderr.log").read_text()
                time.sleep(0.1)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
