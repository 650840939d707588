"""The house's layers: each room imports only the rooms beneath it, and nothing goes in a circle.

The rules below are the architecture of docs/architecture.md written as data. A test fails when
an import breaks them, naming the file and the import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "server_stub")

# Room -> the project rooms it may import (besides itself). A module belongs to the longest
# room prefix that names it. Third-party libraries are checked separately below.
ALLOWED: dict[str, tuple[str, ...]] = {
    # The bottom: the report contract and small leaves that everything may stand on.
    "agent.report": (),
    "agent.matching": (),
    "agent.toml_lines": (),
    "agent.state_dir": (),
    "agent": (),  # the package's face: the version
    "agent.config": ("agent.toml_lines",),
    # Reading the machine: never the verdict, never the network to the collector.
    "agent.facts": ("agent", "agent.report", "agent.matching"),
    # The verdict: rules as data over a report.
    "agent.policy": ("agent.report", "agent.matching", "agent.toml_lines"),
    # Getting reports to the collector.
    "agent.delivery": (
        "agent",
        "agent.report",
        "agent.config",
        "agent.state_dir",
        "agent.facts",
        "agent.policy",
    ),
    # The background service: keeps time and watches the network; reports via `agent send`.
    "agent.service": ("agent.config", "agent.state_dir", "agent.facts", "agent.delivery"),
    # The commands stand on everything in the agent; cli.py on the commands.
    "agent.commands": (
        "agent",
        "agent.report",
        "agent.config",
        "agent.state_dir",
        "agent.facts",
        "agent.policy",
        "agent.delivery",
        "agent.service",
    ),
    "agent.cli": ("agent", "agent.config", "agent.policy", "agent.commands", "agent.service"),
    # The collector may use the shared contract and policy, never the agent's other rooms.
    "server_stub": (
        "server_stub",
        "server_stub.alerting",
        "agent.report",
        "agent.matching",
        "agent.policy",
    ),
    # Alert delivery (webhooks, SMTP) beside the API: it sends, it serves nothing; which of the
    # collector's rooms it may use (ingest, storage) is checked in test_collector_layers.py.
    "server_stub.alerting": ("server_stub",),
}

# Libraries a room must never load: only the collector's API layer knows HTTP.
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "agent": ("fastapi", "starlette", "sqlalchemy", "server_stub"),
    "server_stub.storage": ("fastapi", "starlette"),
}


def module_files() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's scripts, run by Alembic, not imported by the code
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


MODULES = dict(module_files())


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, top_level_only: bool) -> Iterator[tuple[int, str]]:
    """(line, module) for each import; `from a import b` gives a.b when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes: list[ast.AST] = list(tree.body)
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, ast.If) and _type_checking(node):
            continue  # annotations only: never imported at run time
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield node.lineno, candidate if candidate in MODULES else node.module
        if not top_level_only or isinstance(node, ast.If | ast.Try | ast.With):
            nodes.extend(ast.iter_child_nodes(node))


def room_of(module: str) -> str:
    matches = [room for room in ALLOWED if module == room or module.startswith(room + ".")]
    return max(matches, key=len)


def project_room(module: str) -> str | None:
    return room_of(module) if module.split(".")[0] in PACKAGES else None


def test_every_module_belongs_to_a_room() -> None:
    assert MODULES, "no modules found"
    for name in MODULES:
        assert room_of(name), name


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_only_the_rooms_beneath_it(name: str) -> None:
    room = room_of(name)
    for line, target in imports_of(MODULES[name], top_level_only=False):
        target_room = project_room(target)
        if target_room is None or target_room == room:
            continue
        assert target_room in ALLOWED[room], (
            f"{MODULES[name].relative_to(ROOT)}:{line}: {room} may not import {target}"
        )


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_forbidden_library(name: str) -> None:
    for prefix, libraries in FORBIDDEN_LIBRARIES.items():
        if name != prefix and not name.startswith(prefix + "."):
            continue
        for line, target in imports_of(MODULES[name], top_level_only=False):
            assert target.split(".")[0] not in libraries, (
                f"{MODULES[name].relative_to(ROOT)}:{line}: {name} imports {target}"
            )


def test_no_import_cycle() -> None:
    """Module-level imports between project modules form no circle (a circle works only when
    something else happens to import one of its modules first)."""
    graph = {
        name: {t for _, t in imports_of(path, top_level_only=True) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            circle = [*visiting[visiting.index(node) :], node]
            pytest.fail("import cycle: " + " -> ".join(circle))
        visiting.append(node)
        for target in sorted(graph[node]):
            visit(target)
        visiting.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)


def _import_alone(name: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import {name}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    return name, done.stderr.strip().splitlines()[-1] if done.returncode else ""


def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    with ThreadPoolExecutor(4) as pool:
        failures = [
            f"{name}: {error}" for name, error in pool.map(_import_alone, sorted(MODULES)) if error
        ]
    assert not failures, "\n".join(failures)


def _loaded_after(statement: str) -> set[str]:
    code = (
        f"{statement}\nimport sys\n"
        "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in ('agent', 'server_stub')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(done.stdout.split())


def test_the_report_contract_loads_nothing_else_of_the_agent() -> None:
    assert _loaded_after("import agent.report") == {"agent", "agent.report"}


def test_the_policy_loads_no_facts_and_the_facts_no_policy() -> None:
    policy = _loaded_after("import agent.policy")
    assert not {m for m in policy if m.startswith(("agent.facts", "agent.delivery"))}, policy
    facts = _loaded_after("import agent.facts.probes, agent.facts.collect")
    assert not {m for m in facts if m.startswith(("agent.policy", "agent.delivery"))}, facts


def test_the_service_loop_loads_neither_the_probes_nor_requests() -> None:
    """The long-lived service stays small: each report is made by a child `agent send`."""
    loaded = _loaded_after("import agent.service.run")
    assert not {m for m in loaded if m.startswith("agent.facts.probes")}, loaded
    code = "import agent.service.run, sys; print('requests' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "False"
