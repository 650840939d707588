"""The collector's layers point one way, api -> ingest -> storage: only the api (and dashboard)
knows HTTP, storage knows neither ingest nor the policy engine, and no module imports another
in a cycle. Imports are read from the source (every import statement, TYPE_CHECKING and
function-level ones included) and, for HTTP, checked again in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server_stub"
HTTP = ("fastapi", "starlette")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
# Alembic's scripts run inside alembic, not as modules of the package.
MODULES = sorted(name for name in SOURCES if ".migrations" not in name)


def imported(name: str) -> Iterator[str]:
    """Every module this module's source names in an import statement."""
    path = SOURCES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            yield base
            # `from server_stub.storage import reads` imports the module storage.reads
            yield from (f"{base}.{alias.name}" for alias in node.names)


def imports_of(name: str) -> set[str]:
    return set(imported(name))


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_modules(*packages: str) -> list[str]:
    return [m for m in SOURCES if under(m, *packages)]


def test_the_layers_are_where_they_should_be() -> None:
    for package in ("server_stub.api", "server_stub.ingest", "server_stub.storage"):
        assert len(layer_modules(package)) > 3, package
    assert len(layer_modules("server_stub.alerting")) > 3


@pytest.mark.parametrize("name", layer_modules("server_stub.storage", "server_stub.ingest"))
def test_storage_and_ingest_do_not_import_http(name: str) -> None:
    assert not [m for m in imports_of(name) if under(m, *HTTP)]


@pytest.mark.parametrize("name", layer_modules("server_stub.storage"))
def test_storage_imports_no_layer_above_it_nor_the_policy_engine(name: str) -> None:
    above = ("server_stub.ingest", "server_stub.api", "server_stub.dashboard", "server_stub.state")
    above += ("server_stub.alerting",)
    assert not [m for m in imports_of(name) if under(m, *above, "server_stub.app", "agent")]


@pytest.mark.parametrize("name", layer_modules("server_stub.ingest"))
def test_ingest_imports_no_layer_above_it(name: str) -> None:
    above = ("server_stub.api", "server_stub.dashboard", "server_stub.state", "server_stub.app")
    assert not [m for m in imports_of(name) if under(m, *above, "server_stub.alerting")]


@pytest.mark.parametrize("name", layer_modules("server_stub.alerting"))
def test_alert_delivery_stands_on_ingest_and_storage_only(name: str) -> None:
    """The delivery worker sends over HTTP and SMTP as a client; it serves nothing, so it
    knows neither the API nor the dashboard, and settings are passed in, never imported."""
    collector = [m for m in imports_of(name) if under(m, "server_stub")]
    allowed = ("server_stub.alerting", "server_stub.ingest", "server_stub.storage")
    assert [m for m in collector if not under(m, *allowed)] == []
    assert not [m for m in imports_of(name) if under(m, *HTTP)]


def test_only_the_api_dashboard_and_app_import_http() -> None:
    allowed = ("server_stub.api", "server_stub.dashboard", "server_stub.app")
    offenders = {
        name: sorted(m for m in imports_of(name) if under(m, *HTTP))
        for name in MODULES
        if not under(name, *allowed)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_storage_and_ingest_load_no_http_in_a_fresh_interpreter() -> None:
    """Importing all of them loads neither fastapi nor starlette, so none of them does, not
    even through a third-party import."""
    names = [m for m in MODULES if under(m, "server_stub.storage", "server_stub.ingest")]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HTTP!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle a depth-first walk meets, as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the walk's path, "done" once explored

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def test_no_module_imports_another_in_a_cycle() -> None:
    graph = {name: {m for m in imports_of(name) if m in SOURCES and m != name} for name in MODULES}
    assert cycles_in(graph) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles_in({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles_in({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_import_scanner_sees_what_it_must() -> None:
    """The checks above mean something only if the scanner finds these imports."""
    assert "fastapi" in imports_of("server_stub.api.outcomes")
    assert "server_stub.storage.reads" in imports_of("server_stub.api.fleet")
    assert "server_stub.ingest.group_commit" in imports_of("server_stub.state")
