"""The applications probe's parsers on real shapes, and PATCH-005's policy values."""

from __future__ import annotations

import plistlib

import pytest

from agent.facts.context import ParseError
from agent.facts.probes.applications.darwin_parse import parse_bundle_version
from agent.facts.probes.applications.linux_parse import (
    is_snap_transitional,
    parse_desktop_entry,
    parse_dpkg_versions,
    parse_flatpak_versions,
    parse_rpm_versions,
    parse_snap_version,
    tiktok_web_app_browser,
    upstream_version,
)
from agent.facts.probes.applications.versions import own_version
from agent.facts.probes.applications.windows_parse import parse_browsers
from agent.policy import PolicyError, parse_policy
from agent.policy.loader import default_policy_text

# Captured on Debian 12 (bookworm), dpkg-query with the probe's format.
DPKG_REAL = "chromium\t156.0.8078.114-1~deb12u1\tii \nfirefox\t\tun \nfirefox-esr\t\tun \n"


def test_dpkg_lists_only_installed_packages() -> None:
    assert parse_dpkg_versions(DPKG_REAL) == {"chromium": "156.0.8078.114-1~deb12u1"}
    assert parse_dpkg_versions("firefox-esr\t115.6.0esr-1~deb12u1\trc \n") == {}
    with pytest.raises(ParseError):
        parse_dpkg_versions("chromium 156\n")


@pytest.mark.parametrize(
    ("deb", "upstream"),
    [
        ("156.0.8078.114-1~deb12u1", "156.0.8078.114"),
        ("1:115.6.0esr-1~deb12u1", "115.6.0esr"),
        ("131.0.6778.85-1", "131.0.6778.85"),
        ("1.73.97", "1.73.97"),
    ],
)
def test_upstream_version(deb: str, upstream: str) -> None:
    assert upstream_version(deb) == upstream


def test_snap_transitional_and_its_version() -> None:
    assert is_snap_transitional("1:1snap1-0ubuntu5")
    assert not is_snap_transitional("1:115.6.0esr-1~deb12u1")
    assert parse_snap_version("name: firefox\nversion: '133.0.3-1'\n") == "133.0.3-1"
    with pytest.raises(ParseError):
        parse_snap_version("name: firefox\n")


def test_rpm_skips_packages_not_installed() -> None:
    text = "package google-chrome-stable is not installed\nfirefox\t133.0.3\n"
    assert parse_rpm_versions(text) == {"firefox": "133.0.3"}
    with pytest.raises(ParseError):
        parse_rpm_versions("error: rpmdb open failed\n")


def test_flatpak_versions_by_application_id() -> None:
    text = "com.brave.Browser\t1.73.97\norg.chromium.Chromium\t\n"
    assert parse_flatpak_versions(text) == {
        "com.brave.Browser": "1.73.97",
        "org.chromium.Chromium": "",
    }
    with pytest.raises(ParseError):
        parse_flatpak_versions("error: No installations\n")


@pytest.mark.parametrize(
    ("file_name", "text", "browser"),
    [
        (
            "chrome-abc-Default.desktop",
            "[Desktop Entry]\nName=TikTok\nExec=x --app-id=abc\n",
            "chrome",
        ),
        (
            "msedge-abc-Default.desktop",
            "[Desktop Entry]\nName=TikTok\nExec=x --app-id=abc\n",
            "edge",
        ),
        (
            "chrome-abc-Default.desktop",
            "[Desktop Entry]\nName=YouTube\nExec=x --app-id=abc\n",
            None,
        ),
        (
            "chrome-abc-Default.desktop",
            "[Desktop Entry]\nName=TikTok\nExec=x --url=tiktok.com\n",
            None,
        ),
        ("tiktok.desktop", "[Desktop Entry]\nName=TikTok\nExec=x --app-id=abc\n", None),
        # A key of another group is not the entry's own.
        (
            "chrome-a-Default.desktop",
            "[Desktop Action x]\nName=TikTok\n[Desktop Entry]\nName=Maps\n",
            None,
        ),
    ],
)
def test_tiktok_web_app_shortcuts(file_name: str, text: str, browser: str | None) -> None:
    assert tiktok_web_app_browser(file_name, parse_desktop_entry(text)) == browser


def test_bundle_version_from_xml_and_binary_plists() -> None:
    record = {"CFBundleShortVersionString": "18.1.1"}
    assert parse_bundle_version(plistlib.dumps(record)) == "18.1.1"
    assert parse_bundle_version(plistlib.dumps(record, fmt=plistlib.FMT_BINARY)) == "18.1.1"
    for broken in (plistlib.dumps(record)[:60], plistlib.dumps({"CFBundleName": "x"}), b""):
        with pytest.raises(ParseError):
            parse_bundle_version(broken)


@pytest.mark.parametrize(
    ("name", "reported", "own"),
    [
        ("brave", "131.1.73.97", "1.73.97"),  # bundle and exe: Chromium major in front
        ("brave", "1.73.97", "1.73.97"),  # the deb
        ("chrome", "131.0.6778.86", "131.0.6778.86"),
    ],
)
def test_each_browser_keeps_one_version_scheme(name: str, reported: str, own: str) -> None:
    assert own_version(name, reported) == own


def test_windows_browser_records_need_a_name_and_path() -> None:
    with pytest.raises(ParseError, match="no Name or Path"):
        parse_browsers('{"browsers":{"ok":true,"value":{"Name":"chrome"}}}')


def test_browser_minimums_name_known_browsers_only() -> None:
    policy = parse_policy(default_policy_text())
    assert policy.values["patches"]["min_browser_versions"]["chrome"] == "150"
    text = default_policy_text().replace('chrome = "150"', 'chrom = "150"')
    with pytest.raises(PolicyError, match="unknown browser 'chrom'"):
        parse_policy(text)
    with pytest.raises(PolicyError, match="min_browser_versions"):
        parse_policy(default_policy_text().replace('chrome = "150"', 'chrome = "latest"'))
