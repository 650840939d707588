"""The credential store registry: each store module's finders per OS, and every Linux finder
of the Wi-Fi, VPN, developer and NetworkManager stores over a real home."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from agent.facts.context import Context
from agent.facts.probes.credentials import probe, stores
from agent.facts.probes.credentials.stores import developer, networkmanager, vpn, wifi
from agent.facts.runner import run_probe
from tests.unit.test_probe_fixtures import scan_settings

MODULES: dict[str, ModuleType] = {
    "wifi": wifi,
    "vpn": vpn,
    "developer": developer,
    "networkmanager": networkmanager,
}


@pytest.mark.system
@pytest.mark.skipif(sys.platform != "linux", reason="reads this Linux machine's real paths")
def test_real_home_on_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Linux finders over a real home folder, through the real Context and runner."""
    home = tmp_path / "alice"
    files = {
        ".ssh/config": "Host uni\n  HostName login.example.ac.uk\n  IdentityFile ~/.ssh/id_uni\n",
        ".ssh/id_uni": "-----BEGIN OPENSSH PRIVATE KEY-----\nCANARY-real-ssh\n-----END OPENSSH",
        ".ssh/known_hosts": _hashed_line("ssh.example.ac.uk") + " ssh-ed25519 AAAA\n",
        ".git-credentials": "https://ab1234:CANARY-real-git@git.example.ac.uk\n",
        ".netrc": "machine ftp.example.ac.uk login ab1234 password CANARY-real-netrc\n",
        ".docker/config.json": '{"auths": {"registry.example.ac.uk": {"auth": "CANARY-real-d"}}}',
        "Downloads/uni.ovpn": "remote vpn.example.ac.uk 1194\n<key>\nCANARY-real-ovpn\n</key>\n",
        ".anyconnect": "<P><DefaultHostAddress>vpn.example.ac.uk.evil.com</DefaultHostAddress></P>",
    }
    for name, text in files.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text, encoding="utf-8")
    linux = tuple(f for m in MODULES.values() for f in m.FINDERS.linux)
    monkeypatch.setattr(stores, "finders_for", lambda ctx: linux)
    result = run_probe(Context(), probe(scan_settings({"homes": [str(home)]})))
    assert result.status == "ok", result.error
    assert result.data is not None
    mine = {(f["store"], f["identity"]) for f in result.data["findings"] if f["location"][0] == "~"}
    assert mine == {
        ("ssh", "login.example.ac.uk"),
        ("ssh", "ssh.example.ac.uk"),
        ("git_credentials", "ab1234@git.example.ac.uk"),
        ("netrc", "ab1234@ftp.example.ac.uk"),
        ("docker", "registry.example.ac.uk"),
        ("openvpn", "vpn.example.ac.uk"),
    }
    assert "CANARY" not in json.dumps(result.data)


def _hashed_line(host: str) -> str:
    salt = b"outpost-test-salt-20"
    digest = hmac.new(salt, host.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def test_finders_are_exported_per_os() -> None:
    for module in (wifi, vpn, developer):
        assert module.FINDERS.linux and module.FINDERS.darwin and module.FINDERS.windows
    assert networkmanager.FINDERS.linux
    assert networkmanager.FINDERS.darwin == networkmanager.FINDERS.windows == ()
    for module in MODULES.values():
        for finders in (module.FINDERS.linux, module.FINDERS.darwin, module.FINDERS.windows):
            assert all(callable(f) and f.__name__.startswith("find_") for f in finders)
