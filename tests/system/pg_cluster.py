"""A throwaway PostgreSQL cluster owned by one test: initdb in a temp dir, a free port, stopped and
started at will (an outage), removed at the end. Never the shared server on 5432.

initdb and postgres refuse to run as root, so the binaries run as the `postgres` user
(runuser); the cluster's directory belongs to it. Needs root and Debian's postgresql package
(.ci/run installs both); without them the test fails and says so, it does not skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.system.conftest import free_port

PG_ROOT = Path("/usr/lib/postgresql")
OWNER = "postgres"
CTL_TIMEOUT_S = 60


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin directory."""
    versions = sorted(
        (p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        pytest.fail(
            f"no PostgreSQL server binaries under {PG_ROOT}: apt-get install postgresql "
            "(.ci/run does)",
            pytrace=False,
        )
    return versions[-1]


@dataclass
class PgCluster:
    root: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @classmethod
    def create(cls) -> PgCluster:
        if os.geteuid() != 0:
            pytest.fail(
                "a throwaway PostgreSQL cluster needs root (to run as postgres)", pytrace=False
            )
        try:
            owner = pwd.getpwnam(OWNER)
        except KeyError:
            pytest.fail(
                f"no {OWNER} user: apt-get install postgresql (.ci/run does)", pytrace=False
            )
        root = Path(tempfile.mkdtemp(prefix="outpost-pg-"))
        os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = cls(root, free_port(), pg_bin())
        cluster._ctl(
            str(cluster.bin / "initdb"), "-D", str(cluster.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        cluster.start()
        return cluster

    def _ctl(self, *argv: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", OWNER, "--", *argv],
            capture_output=True,
            text=True,
            timeout=CTL_TIMEOUT_S,
            check=False,
            cwd=self.root,
        )
        assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}\n{self.log_text()}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        # fsync off: a test cluster, thrown away; -k: its socket in its own dir, not /run.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """fast: connections are cut, as when an operator stops the server; immediate: a crash."""
        self._ctl(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str = "outpost") -> str:
        """A new database; returns its URL for the collector's --database-url."""
        with psycopg.connect(self.libpq_url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def libpq_url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
