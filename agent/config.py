"""AgentConfig: the agent's settings from a TOML file and OUTPOST_* environment variables."""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.toml_lines import located

# The spool's bounds hold 30 days offline at the default 15-minute interval (30 * 24 * 4 =
# 2,880 reports) with room for the extra reports network changes trigger (4,000 leaves 37 more
# a day). A report is ~4.3 kB of JSON (with the applications and data-label probes); 128 MiB lets
# reports average 32 kB (a developer laptop's credential findings, classified files) before the
# byte bound bites first.
SPOOL_MAX_REPORTS = 4_000
SPOOL_MAX_BYTES = 128 * 1024 * 1024


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, line and key."""


def default_state_dir() -> Path:
    """Where the agent keeps its secret, spool and cached policy, per OS and privilege."""
    if sys.platform.startswith("win"):
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Outpost"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/Outpost")
    if os.geteuid() == 0:
        return Path("/var/lib/outpost")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "outpost"


def default_config_file() -> Path:
    if sys.platform.startswith("win"):
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "Outpost" / "agent.toml"
    if sys.platform == "darwin":
        return Path("/Library/Application Support/Outpost/agent.toml")
    return Path("/etc/outpost/agent.toml")


@dataclass(frozen=True)
class AgentConfig:
    """Settings; every field has a safe default so that a missing file is a valid config."""

    source: str = "defaults"
    server: str | None = None
    ca_file: str | None = None
    state_dir: Path = field(default_factory=default_state_dir)
    credential_homes: tuple[str, ...] = ()
    max_file_bytes: int = 2 * 1024 * 1024
    max_files: int = 200_000  # a developer's home passes 50,000 files easily
    time_budget_s: float = 60.0
    spool_max_reports: int = SPOOL_MAX_REPORTS
    spool_max_bytes: int = SPOOL_MAX_BYTES
    # False where the agent is deliberately not run as a service (the quick start's demo): the
    # self-check then says the service check does not apply, instead of failing it.
    service: bool = True


_KEYS: dict[str, dict[str, type]] = {
    "agent": {"server": str, "ca_file": str, "state_dir": str, "service": bool},
    "credentials": {
        "homes": list,
        "max_file_bytes": int,
        "max_files": int,
        "time_budget_s": float,
    },
    "spool": {"max_reports": int, "max_bytes": int},
}
POSITIVE = {"spool.max_reports", "spool.max_bytes"}


def _validate(raw: dict[str, Any], source: str, text: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for table, values in raw.items():
        if table not in _KEYS or not isinstance(values, dict):
            raise ConfigError(located(source, text, table, None, "unknown table"))
        for key, value in values.items():
            expected = _KEYS[table].get(key)
            if expected is None:
                raise ConfigError(located(source, text, table, key, "unknown key"))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (
                isinstance(value, bool) and expected is not bool
            ):
                problem = f"must be a {expected.__name__}"
                raise ConfigError(located(source, text, table, key, problem))
            if f"{table}.{key}" in POSITIVE and isinstance(value, int) and value < 1:
                raise ConfigError(located(source, text, table, key, "must be at least 1"))
            flat[f"{table}.{key}"] = value
    return flat


def load_config(path: str | None = None, env: dict[str, str] | None = None) -> AgentConfig:
    """Read the config file (explicit path must exist; the default may be absent), then env."""
    env = dict(os.environ) if env is None else env
    file = Path(path or env.get("OUTPOST_CONFIG") or default_config_file())
    flat: dict[str, Any] = {}
    source = "defaults"
    if file.exists() or path:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read the configuration: {exc.strerror}") from exc
        try:
            flat = _validate(tomllib.loads(text), str(file), text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        source = str(file)
    state_dir = env.get("OUTPOST_STATE_DIR") or flat.get("agent.state_dir")
    return AgentConfig(
        source=source,
        server=env.get("OUTPOST_SERVER") or flat.get("agent.server"),
        ca_file=env.get("OUTPOST_CA_FILE") or flat.get("agent.ca_file"),
        state_dir=Path(state_dir) if state_dir else default_state_dir(),
        credential_homes=tuple(flat.get("credentials.homes", ())),
        max_file_bytes=flat.get("credentials.max_file_bytes", AgentConfig.max_file_bytes),
        max_files=flat.get("credentials.max_files", AgentConfig.max_files),
        time_budget_s=flat.get("credentials.time_budget_s", AgentConfig.time_budget_s),
        spool_max_reports=flat.get("spool.max_reports", SPOOL_MAX_REPORTS),
        spool_max_bytes=flat.get("spool.max_bytes", SPOOL_MAX_BYTES),
        service=flat.get("agent.service", True),
    )
