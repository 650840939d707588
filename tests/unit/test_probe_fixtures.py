"""Every recorded case under tests/fixtures/<probe>/<os>/ replays through the real runner."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from agent.facts.context import Context
from agent.facts.probes import PROBES, credentials
from agent.facts.probes.credentials import stores
from agent.facts.probes.credentials.homes import list_homes
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.settings import Organisation, ScanSettings
from agent.facts.probes.credentials.stores.storefiles import Finder
from agent.facts.runner import run_probe
from tests.replay import ReplayContext

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PROBES_BY_NAME = {probe.name: probe for probe in PROBES}
CASES = sorted(FIXTURES.glob("*/*/*.json"))


TEST_ORGANISATION = Organisation(
    domains=("example.ac.uk",),
    kerberos_realms=("ad.example.ac.uk",),
    tenant_ids=("11111111-2222-4333-8444-555555555555",),
    ssids=("eduroam", "Example-Staff"),
    vpn_hosts=("vpn.example.ac.uk",),
    names=("University of Example",),
)


def scan_settings(spec: dict[str, Any]) -> ScanSettings:
    """The credential scan's settings for a case: the test organisation unless it says more."""
    return ScanSettings(
        organisation=TEST_ORGANISATION,
        fingerprint_key=b"outpost-test-key" * 2,
        homes=tuple(spec.get("homes", ())),
        max_file_bytes=int(spec.get("max_file_bytes", 2 * 1024 * 1024)),
        max_files=int(spec.get("max_files", 50_000)),
        time_budget_s=float(spec.get("time_budget_s", 60.0)),
    )


def finders_of(modules: tuple[ModuleType, ...], ctx: Context) -> tuple[Finder, ...]:
    """The finders these store modules register for the machine `ctx` reads, in their order."""
    return tuple(finder for module in modules for finder in module.FINDERS.pick(ctx))


def run_finders(
    ctx: Context, settings: ScanSettings, finders: tuple[Finder, ...]
) -> dict[str, Any]:
    """What the credentials probe would report from these finders alone, as JSON data."""
    state = ScanState(settings=settings, homes=list_homes(ctx, settings.homes))
    for finder in finders:
        finder(ctx, state)
    findings = sorted(state.findings, key=lambda f: (f.store, f.location, f.identity or ""))
    return {
        "findings": [asdict(f) for f in findings],
        "not_inspected": [asdict(n) for n in state.not_inspected],
    }


def assert_matches(actual: Any, expected: Any, where: str = "$") -> None:
    """Dicts match on the keys the case names; lists and scalars match exactly."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {sorted(actual)}"
            assert_matches(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(got, want, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def test_there_are_cases_for_every_probe_and_os() -> None:
    covered = {(case.parent.parent.name, case.parent.name) for case in CASES}
    for name in ("patch_level", "network", "accounts", "device_security"):
        for os_name in ("linux", "darwin", "windows"):
            assert (name, os_name) in covered, f"no recorded case for {name} on {os_name}"


def store_modules_for(case: Path) -> tuple[ModuleType, ...]:
    """A credentials case records one store family: run the finders its file name names
    (the longest matching module prefix: os_stores_* is not os_*), and only those."""
    modules = {m.__name__.rsplit(".", 1)[-1]: m for m in stores.STORE_MODULES}
    matches = [name for name in modules if case.name.startswith(name + "_")]
    assert matches, f"{case.name}: no store module named by its prefix"
    return (modules[max(matches, key=len)],)


@pytest.mark.parametrize("case", CASES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_recorded_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    probe = PROBES_BY_NAME[case.parent.parent.name]
    if probe.name == "credentials":
        monkeypatch.setattr(stores, "STORE_MODULES", store_modules_for(case))
        probe = credentials.probe(scan_settings(spec.get("scan", {})))
    recording = spec["context"]
    assert recording["os"] == case.parent.name, "fixture folder and recorded OS disagree"
    result = run_probe(ReplayContext(recording), probe)
    expect = spec["expect"]
    if "error_contains" in expect:
        assert result.error is not None, f"expected an error, got {result.data!r}"
        assert expect["error_contains"] in result.error.message
        expect = {k: v for k, v in expect.items() if k != "error_contains"}
    # Every credential fixture plants CANARY-... values in each secret field it has.
    assert "CANARY" not in json.dumps(asdict(result)), "a canary secret reached the report"
    got = {"status": result.status, "data": result.data, "error": result.error}
    if result.error is not None:
        got["error"] = {"type": result.error.type, "message": result.error.message}
    assert_matches(got, expect)
    if result.data is not None and "gaps" in result.data:
        # The contract: a field that could not be read is null and its gaps entry says why.
        unexplained = [
            k for k, v in result.data.items() if v is None and k not in result.data["gaps"]
        ]
        assert not unexplained, f"null without a reason in gaps: {unexplained}"


def check_recorded_store_case(case: Path, modules: tuple[ModuleType, ...]) -> None:
    """A recorded credential case through these store modules' finders: it finds what it
    expects, with fingerprints, and no planted canary reaches the result."""
    text = case.read_text(encoding="utf-8")
    spec = json.loads(text)
    recording = spec["context"]
    assert recording["os"] == case.parent.name
    assert "CANARY-" in text, "every case plants canary secrets"
    ctx = ReplayContext(recording)
    data = run_finders(ctx, scan_settings(spec.get("scan", {})), finders_of(modules, ctx))
    assert "CANARY" not in json.dumps(data), "a canary secret reached the report"
    assert_matches(data, spec["expect"]["data"])
    for finding in data["findings"]:
        assert len(finding["fingerprint"]) == 32


def check_every_os_has_a_matching_and_a_clean_case(cases: list[Path], prefix: str) -> None:
    """Every OS has a case that finds something and one that must find nothing."""
    for os_name in ("linux", "darwin", "windows"):
        mine = [c for c in cases if c.parent.name == os_name]
        expects = [json.loads(c.read_text())["expect"]["data"]["findings"] for c in mine]
        assert any(expects), f"no {prefix} case with findings on {os_name}"
        assert [] in expects or any("lookalike" in c.name or "other_org" in c.name for c in mine), (
            f"no {prefix} case that must not match on {os_name}"
        )


def check_recorded_module_case(
    case: Path, module: ModuleType, monkeypatch: pytest.MonkeyPatch, plants_canaries: bool
) -> None:
    """A recorded credential case through the real probe and runner with only this store
    module's finders: it reports what it expects and no planted canary reaches the result."""
    spec = json.loads(case.read_text(encoding="utf-8"))
    assert spec["context"]["os"] == case.parent.name
    monkeypatch.setattr(stores, "finders_for", lambda ctx: module.FINDERS.pick(ctx))
    ctx = ReplayContext(spec["context"])
    result = run_probe(ctx, credentials.probe(scan_settings(spec.get("scan", {}))))
    got: dict[str, Any] = {"status": result.status, "data": result.data, "error": result.error}
    assert result.error is None, result.error
    assert_matches(got, spec["expect"])
    if plants_canaries:
        raw = case.read_text(encoding="utf-8")
        assert "CANARY-" in raw, "a case with secret fields must plant canaries in them"
    report = json.dumps({"data": result.data, "error": result.error}, default=str)
    assert "CANARY" not in report, "a secret reached the probe's result"
