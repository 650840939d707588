"""Live smoke tests: the installed agent, run on this very machine, keeps its report contract.

They run `python -m agent.cli` (facts --json, facts --markdown, --self-check --json) with the
built-in policy, a temporary state directory and a config whose credential scan covers only an
empty temporary home, then check the output against agent/report.schema.json and the rules the
README states: a probe is ok or says why not, a null field of an ok probe is explained in its
gaps, the self-check's exit code is its verdict. Run with `pytest -m smoke tests/smoke`; hosted
CI runs them on Linux, Windows and macOS (.github/workflows/agent-smoke.yml).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.exceptions import best_match

pytestmark = pytest.mark.smoke

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "agent" / "report.schema.json"
# Every probe has a time limit inside the agent (the longest 120 s, all of them ~300 s): a probe
# that runs out becomes status "timeout", which the contract allows. The process limit is above
# their sum, so only a hung agent, not a slow runner, hits it.
AGENT_TIMEOUT_S = 420.0
# Where to keep the raw `facts --json` output for the hosted CI artifact (unset: not kept).
ARTIFACT_DIR_ENV = "SMOKE_ARTIFACT_DIR"

PROBE_STATUSES = {"ok", "error", "unsupported", "denied", "timeout"}
RULE_STATUSES = {"pass", "fail", "unknown", "not_applicable"}
EXIT_CODES = {"compliant": 0, "non_compliant": 1, "unknown": 3}


@dataclass(frozen=True)
class AgentRun:
    """One finished agent command: what it was given and what it answered."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        """Everything a CI log needs to see why a run was judged wrong."""
        return (
            f"`agent {' '.join(self.args)}` exited {self.returncode} after {self.seconds:.1f} s\n"
            f"--- stderr ---\n{self.stderr[-4000:]}\n--- stdout (start) ---\n{self.stdout[:2000]}"
        )

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            pytest.fail(f"not one JSON document ({exc})\n{self.describe()}")
        if not isinstance(value, dict):
            pytest.fail(f"JSON is a {type(value).__name__}, not an object\n{self.describe()}")
        return value


@dataclass(frozen=True)
class Sandbox:
    """The agent's private surroundings for this module: state, config, a scanned home."""

    workdir: Path
    state_dir: Path
    config_file: Path
    home: Path


def _decode(data: bytes, stream: str, args: tuple[str, ...]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        pytest.fail(f"`agent {' '.join(args)}` wrote {stream} that is not UTF-8: {exc}")


def run_agent(sandbox: Sandbox, *args: str) -> AgentRun:
    """The installed agent as a separate process, as a person or a service would start it."""
    full = ("--config", str(sandbox.config_file), "--state-dir", str(sandbox.state_dir), *args)
    # A developer's OUTPOST_* settings (server, state dir, config) must not reach this agent.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("OUTPOST_")}
    env["NO_COLOR"] = "1"
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", *full],
            # Outside the checkout, so `-m agent.cli` is the installed package.
            cwd=sandbox.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=AGENT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        pytest.fail(f"`agent {' '.join(full)}` still running after {exc.timeout} s\n{stderr}")
    return AgentRun(
        args=full,
        returncode=done.returncode,
        stdout=_decode(done.stdout, "stdout", full),
        stderr=_decode(done.stderr, "stderr", full),
        seconds=time.monotonic() - started,
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    root = tmp_path_factory.mktemp("live-agent")
    home = root / "home"
    home.mkdir()
    (root / "work").mkdir()
    config = root / "agent.toml"
    # The credential scan walks every user home unless told otherwise: an empty home keeps it
    # fast and away from the runner's own files. json.dumps gives a valid TOML string for a
    # Windows path too (backslashes escaped).
    config.write_text(f"[credentials]\nhomes = [{json.dumps(str(home))}]\n", encoding="utf-8")
    return Sandbox(workdir=root / "work", state_dir=root / "state", config_file=config, home=home)


@pytest.fixture(scope="module")
def facts_run(sandbox: Sandbox) -> AgentRun:
    run = run_agent(sandbox, "facts", "--json")
    artifacts = os.environ.get(ARTIFACT_DIR_ENV)
    if artifacts:
        # Kept before any check, so a broken report reaches the CI artifact too.
        folder = Path(artifacts)
        folder.mkdir(parents=True, exist_ok=True)
        # newline="": the text is kept as the agent wrote it (no \r\r\n on Windows).
        (folder / "facts.json").write_text(run.stdout, encoding="utf-8", newline="")
        (folder / "facts-stderr.txt").write_text(run.stderr, encoding="utf-8", newline="")
    return run


@pytest.fixture(scope="module")
def report(facts_run: AgentRun) -> dict[str, Any]:
    assert facts_run.returncode == 0, facts_run.describe()
    assert "Traceback" not in facts_run.stderr, facts_run.describe()
    return facts_run.json()


@pytest.fixture(scope="module")
def self_check_run(sandbox: Sandbox) -> AgentRun:
    return run_agent(sandbox, "--self-check", "--json")


def expected_os_id() -> str:
    """The report's host.os for this machine: windows, macos, or the os-release ID on Linux."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("linux"):
        try:
            return platform.freedesktop_os_release().get("ID", "linux").lower()
        except OSError:
            return "linux"
    pytest.fail(f"the agent supports Windows, macOS and Linux, not {sys.platform}")


def test_facts_json_is_one_report_valid_against_the_shipped_schema(
    report: dict[str, Any],
) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    problems = []
    for error in jsonschema.Draft202012Validator(schema).iter_errors(report):
        # best_match goes down into anyOf (every nullable field) to the value that is wrong.
        leaf = best_match([error])
        where = "/".join(map(str, leaf.absolute_path)) or "(report)"
        problems.append(f"{where}: {leaf.message[:300]}")
    assert not problems, "the report breaks agent/report.schema.json:\n" + "\n".join(
        sorted(problems)
    )


def test_host_os_is_the_os_this_test_runs_on(report: dict[str, Any]) -> None:
    host = report["host"]
    assert host["os"] == expected_os_id(), f"host section: {host}"


def test_every_probe_is_ok_or_says_why_not(report: dict[str, Any]) -> None:
    problems = []
    for name, result in report["probes"].items():
        status, data, error = result.get("status"), result.get("data"), result.get("error")
        if status not in PROBE_STATUSES:
            problems.append(f"{name}: status {status!r} is not one of {sorted(PROBE_STATUSES)}")
        elif status == "ok":
            if not isinstance(data, dict) or error is not None:
                problems.append(f"{name}: ok needs data and no error, got {result}")
        else:
            message = error.get("message") if isinstance(error, dict) else None
            if not isinstance(message, str) or not message.strip():
                problems.append(f"{name}: status {status} without error.message: {result}")
            if data is not None:
                problems.append(f"{name}: status {status} yet has data")
    assert report["probes"], "the report has no probes"
    assert not problems, "\n".join(problems)


def null_field_problems(name: str, data: dict[str, Any]) -> list[str]:
    """Null top-level fields of one ok probe's data that nothing explains."""
    gaps = data.get("gaps")
    if gaps is None:
        # No gaps map (the credentials probe): nothing can say why a field is null, so the
        # contract is that none is.
        return [
            f"{name}.{key} is null and {name} has no gaps map"
            for key, value in data.items()
            if value is None
        ]
    problems = [
        f"{name}.gaps[{key!r}] = {why!r} is not a reason"
        for key, why in gaps.items()
        if not isinstance(why, str) or not why.strip()
    ]
    for key, value in data.items():
        if value is not None or key == "gaps":
            continue
        reason = gaps.get(key)
        if not reason:
            problems.append(f"{name}.{key} is null and {name}.gaps does not say why (gaps: {gaps})")
    return problems


def test_every_null_field_of_an_ok_probe_is_explained(report: dict[str, Any]) -> None:
    problems = []
    for name, result in report["probes"].items():
        if result.get("status") == "ok" and isinstance(result.get("data"), dict):
            problems += null_field_problems(name, result["data"])
    assert not problems, "a field that could not be read is null AND says why:\n" + "\n".join(
        problems
    )


def test_credential_scan_covered_only_the_configured_home(report: dict[str, Any]) -> None:
    result = report["probes"]["credentials"]
    if result["status"] != "ok":
        return  # not ok: the probe-status test already checked that it says why
    data = result["data"]
    assert len(data["homes"]) == 1, f"the scan ignored [credentials] homes: {data['homes']}"
    reasons = [entry for entry in data["not_inspected"] if not str(entry.get("reason")).strip()]
    assert not reasons, f"stores not inspected without a reason: {reasons}"
    # complete means every store and file was inspected, so none may be listed as not inspected.
    if data["complete"]:
        assert not data["not_inspected"], f"complete, yet not inspected: {data['not_inspected']}"


def test_self_check_exit_code_is_its_verdict(self_check_run: AgentRun) -> None:
    run = self_check_run
    assert run.returncode in EXIT_CODES.values(), (
        "exit 0, 1 or 3 expected (2 is a usage error)\n" + run.describe()
    )
    assert "Traceback" not in run.stderr, run.describe()
    result = run.json()
    verdict = result.get("verdict")
    assert verdict in EXIT_CODES, f"verdict {verdict!r}\n{run.describe()}"
    assert EXIT_CODES[verdict] == run.returncode, f"verdict {verdict}\n{run.describe()}"


def test_self_check_rules_have_known_statuses_that_make_the_verdict(
    self_check_run: AgentRun,
) -> None:
    result = self_check_run.json()
    rules = result.get("rules")
    assert isinstance(rules, list) and rules, "the self-check evaluated no rule"
    ids = [rule.get("id") for rule in rules]
    assert len(set(ids)) == len(ids), f"a rule is listed twice: {ids}"
    odd = [
        f"{r.get('id')}: {r.get('status')!r}" for r in rules if r.get("status") not in RULE_STATUSES
    ]
    assert not odd, f"rule statuses outside {sorted(RULE_STATUSES)}: {odd}"
    statuses = {rule["status"] for rule in rules}
    # Any fail is non-compliant; otherwise any unknown is unknown (never a pass); else compliant.
    expected = (
        "non_compliant"
        if "fail" in statuses
        else "unknown"
        if "unknown" in statuses
        else "compliant"
    )
    assert result["verdict"] == expected, f"rules {sorted(statuses)} -> {result['verdict']}"


def catalogue_sections(markdown: str) -> dict[str, set[str]]:
    """Probe name -> the top-level fields its table lists, from `agent facts --markdown`."""
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in markdown.splitlines():
        heading = re.fullmatch(r"### `([^`]+)`\s*", line)
        if heading:
            current = sections.setdefault(heading.group(1), set())
            continue
        row = re.match(r"\| `([A-Za-z0-9_]+)` \|", line)
        if row and current is not None:
            current.add(row.group(1))
    return sections


def test_markdown_catalogue_lists_every_probe_and_field_of_the_report(
    sandbox: Sandbox, report: dict[str, Any]
) -> None:
    run = run_agent(sandbox, "facts", "--markdown")
    assert run.returncode == 0, run.describe()
    sections = catalogue_sections(run.stdout)
    missing = sorted(set(report["probes"]) - set(sections))
    assert not missing, f"probes in the report but not in the catalogue: {missing}\n{run.stdout}"
    extra = sorted(set(sections) - set(report["probes"]))
    assert not extra, f"probes in the catalogue but not in the report: {extra}"
    undocumented = [
        f"{name}.{key}"
        for name, result in report["probes"].items()
        if isinstance(result.get("data"), dict)
        for key in result["data"]
        if key not in sections[name]
    ]
    assert not undocumented, f"fields the catalogue does not list: {undocumented}"


def test_facts_record_writes_this_machines_answers(sandbox: Sandbox, tmp_path: Path) -> None:
    """`agent facts --record`: what this machine answered, in the format tests/replay.py reads,
    kept as the CI artifact so a real Windows or macOS run becomes a recorded fixture (the
    credential scan covers only the sandbox's empty home, so no runner's files are in it)."""
    artifacts = os.environ.get(ARTIFACT_DIR_ENV)
    folder = Path(artifacts) if artifacts else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    recording = folder / "recording.json"
    run = run_agent(sandbox, "facts", "--record", str(recording))
    assert run.returncode == 0, run.describe()
    recorded = json.loads(recording.read_text(encoding="utf-8"))
    platform = {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")
    assert recorded["os"] == platform
    assert recorded["commands"] or recorded["files"], "the recording holds no answer"
