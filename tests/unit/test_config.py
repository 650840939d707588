"""Agent configuration: file values, environment overrides, errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.commands.machine import scan_settings_for
from agent.config import ConfigError, load_config
from agent.policy import default_policy


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
    assert len(scan.fingerprint_key) == 32
    assert scan_settings_for(config, default_policy()).fingerprint_key == scan.fingerprint_key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[credentials]\nmax_files = 'many'\n", "line 2: [credentials] max_files: must be a int"),
        ("[agent]\nsevrer = 'x'\n", "line 2: [agent] sevrer: unknown key"),
        ("[agnet]\n", "line 1: [agnet]: unknown table"),
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
