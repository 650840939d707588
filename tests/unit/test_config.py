"""Agent configuration: file values, environment overrides, errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.commands.machine import data_settings_for, scan_settings_for
from agent.config import ConfigError, load_config
from agent.policy import default_policy, parse_policy


def test_values_reach_the_credential_scan(tmp_path: Path) -> None:
    config_file = tmp_path / "agent.toml"
    config_file.write_text(
        '[credentials]\nhomes = ["/home/alice"]\nmax_files = 7\nmax_file_bytes = 1024\n'
        "time_budget_s = 5\n"
    )
    config = load_config(str(config_file), {"OUTPOST_STATE_DIR": str(tmp_path / "state")})
    scan = scan_settings_for(config, default_policy())
    assert (scan.homes, scan.max_files, scan.max_file_bytes) == (("/home/alice",), 7, 1024)
    assert scan.time_budget_s == 5.0
    assert config.state_dir == tmp_path / "state"
    assert "example.ac.uk" in scan.organisation.domains
    assert scan.organisation.names == ("University of Example",)  # for synced folders, vaults
    assert len(scan.fingerprint_key) == 32
    assert scan_settings_for(config, default_policy()).fingerprint_key == scan.fingerprint_key


def test_the_data_scan_shares_the_credential_scans_homes_and_budgets(tmp_path: Path) -> None:
    config_file = tmp_path / "agent.toml"
    config_file.write_text('[credentials]\nhomes = ["/home/alice"]\nmax_files = 7\n')
    config = load_config(str(config_file), {"OUTPOST_STATE_DIR": str(tmp_path / "state")})
    policy = parse_policy(
        '[data]\nmarkings = ["OFFICIAL-SENSITIVE"]\npublic_labels = ["Public", "General"]\n'
        'label_ids = { "f42aa342-8706-4288-bd11-ebb85995028c" = "Confidential" }\n'
    )
    data = data_settings_for(config, policy)
    assert (data.homes, data.max_files, data.time_budget_s) == (("/home/alice",), 7, 60.0)
    assert data.markings == ("OFFICIAL-SENSITIVE",)
    assert data.public_labels == ("Public", "General")
    assert data.label_ids == {"f42aa342-8706-4288-bd11-ebb85995028c": "Confidential"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[credentials]\nmax_files = 'many'\n", "line 2: [credentials] max_files: must be a int"),
        ("[agent]\nsevrer = 'x'\n", "line 2: [agent] sevrer: unknown key"),
        ("[agnet]\n", "line 1: [agnet]: unknown table"),
        ("[spool]\nmax_reports = 0\n", "line 2: [spool] max_reports: must be at least 1"),
        ("[spool]\n\nmax_bytes = '64M'\n", "line 3: [spool] max_bytes: must be a int"),
        ("[agent\n", "not valid TOML"),
    ],
)
def test_errors_name_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    config_file = tmp_path / "agent.toml"
    config_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(str(config_file), {})
    assert message in str(caught.value)


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "absent.toml"), {})


def test_spool_limits_come_from_the_file_and_reach_the_spool(tmp_path: Path) -> None:
    from agent.delivery.send import spool_for

    config_file = tmp_path / "agent.toml"
    config_file.write_text("[spool]\nmax_reports = 10\nmax_bytes = 4096\n")
    config = load_config(str(config_file), {"OUTPOST_STATE_DIR": str(tmp_path / "state")})
    spool = spool_for(config)
    assert (spool.max_reports, spool.max_bytes) == (10, 4096)


def test_default_spool_limits_hold_30_days_offline(linux_report: dict[str, Any]) -> None:
    config = load_config(None, {"OUTPOST_CONFIG": "/nonexistent/agent.toml"})
    every_15_minutes_for_30_days = 30 * 24 * 4
    assert config.spool_max_reports >= every_15_minutes_for_30_days * 1.3
    # This machine's report as the spool keeps it; the byte bound leaves room for 4x larger.
    report_bytes = len(json.dumps(linux_report, separators=(",", ":")))
    assert config.spool_max_bytes >= config.spool_max_reports * report_bytes * 4


def test_an_agent_not_run_as_a_service_says_so(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    assert load_config(env={"OUTPOST_CONFIG": str(tmp_path / "absent.toml")}).service is True
    config.write_text("[agent]\nservice = false\n")
    assert load_config(str(config), env={}).service is False
    config.write_text('[agent]\nservice = "no"\n')
    with pytest.raises(ConfigError, match="must be a bool"):
        load_config(str(config), env={})
