"""One shape per probe family: the OS modules expose the same readers; parsers never do I/O."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import agent.facts.context
import agent.facts.host
import agent.facts.probes
import agent.facts.probes.credentials
import agent.facts.probes.credentials.stores
from agent.facts.host import HostReaders
from agent.facts.probes.accounts.readers import AccountsReaders
from agent.facts.probes.credentials.per_os import PerOs
from agent.facts.probes.device_security.readers import DeviceSecurityReaders
from agent.facts.probes.network.readers import NetworkReaders
from agent.facts.probes.patch_level.readers import PatchLevelReaders

OS_NAMES = ("linux", "darwin", "windows")
FAMILIES: dict[str, type[Any]] = {
    "agent.facts.probes.patch_level": PatchLevelReaders,
    "agent.facts.probes.network": NetworkReaders,
    "agent.facts.probes.accounts": AccountsReaders,
    "agent.facts.probes.device_security": DeviceSecurityReaders,
    "agent.facts.host": HostReaders,
}


def public_functions(module: ModuleType) -> dict[str, inspect.Signature]:
    """The functions a module defines itself (not imports) whose names do not start with _."""
    return {
        name: inspect.signature(value)
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }


def protocol_methods(protocol: type[Any]) -> dict[str, inspect.Signature]:
    """The Protocol's methods as module functions would have them: without `self`."""
    methods = {}
    for name, value in vars(protocol).items():
        if inspect.isfunction(value) and not name.startswith("_"):
            signature = inspect.signature(value)
            methods[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return methods


@pytest.mark.parametrize("package", sorted(FAMILIES))
def test_every_os_module_exposes_exactly_the_family_readers(package: str) -> None:
    expected = protocol_methods(FAMILIES[package])
    assert expected, f"{package}: the readers Protocol lists no readers"
    for os_name in OS_NAMES:
        module = importlib.import_module(f"{package}.{os_name}")
        assert public_functions(module) == expected, (
            f"{module.__name__} differs from {FAMILIES[package].__name__}"
        )


@pytest.mark.parametrize("package", sorted(FAMILIES))
def test_the_three_os_modules_agree(package: str) -> None:
    shapes = [
        public_functions(importlib.import_module(f"{package}.{os_name}")) for os_name in OS_NAMES
    ]
    assert shapes[0] == shapes[1] == shapes[2]


def parse_modules() -> list[ModuleType]:
    """Every module of pure parsers: <os>_parse.py, a family's parse.py, powershell_parse.py."""
    found = []
    for root in (agent.facts.probes, agent.facts.host):
        prefix = root.__name__ + "."
        for info in pkgutil.walk_packages(root.__path__, prefix):
            if info.name.rsplit(".", 1)[-1].endswith("parse"):
                found.append(importlib.import_module(info.name))
    return found


def test_parse_modules_exist() -> None:
    names = {m.__name__.split("agent.facts.", 1)[1] for m in parse_modules()}
    for family in ("patch_level", "network", "accounts", "device_security"):
        for os_name in OS_NAMES:
            assert f"probes.{family}.{os_name}_parse" in names
    for os_name in OS_NAMES:
        assert f"host.{os_name}_parse" in names


@pytest.mark.parametrize("module", parse_modules(), ids=lambda m: m.__name__)
def test_parsers_never_touch_the_context(module: ModuleType) -> None:
    for door in ("Context", "Reading", "run_checked", "ps_text", "ps_json"):
        assert door not in vars(module), f"{module.__name__} imports {door}: parsers do no I/O"


@pytest.mark.parametrize("module", parse_modules(), ids=lambda m: m.__name__)
def test_every_parser_says_what_it_parses(module: ModuleType) -> None:
    for name in public_functions(module):
        if name.startswith("parse_"):
            assert inspect.getdoc(getattr(module, name)), f"{module.__name__}.{name}: no docstring"


# -- the credential scan: cut by store, held to the same rule ----------------------------------
CREDENTIALS = agent.facts.probes.credentials
CREDENTIAL_STORES = agent.facts.probes.credentials.stores
CREDENTIALS_DIR = Path(CREDENTIALS.__file__).parent
# Where the scan turns the OS into a choice (PerOs.pick, through for_os): exempt from the check
# below, as base.for_os is.
OS_CHOICE = {"per_os.py"}
OS_NAMES_SET = set(OS_NAMES)
# Modules a pure parser may import from, besides the standard library's pure modules and the
# other *_parse modules: exceptions, the organisation and its matchers.
PURE_AGENT_MODULES = {
    "agent.facts.context",
    "agent.facts.probes.credentials.scan",
    "agent.facts.probes.credentials.settings",
    "agent.matching",
}
IO_MODULES = {"os", "io", "pathlib", "shutil", "socket", "sqlite3", "subprocess", "glob", "psutil"}
IO_NAMES = {"Context", "Reading", "ScanState", "run_checked", "ps_text", "ps_json"}


def credential_modules() -> list[ModuleType]:
    """Every module of the credentials probe, the package itself included."""
    prefix = CREDENTIALS.__name__ + "."
    found = [CREDENTIALS]
    for info in pkgutil.walk_packages(CREDENTIALS.__path__, prefix):
        found.append(importlib.import_module(info.name))
    return found


def credential_parse_modules() -> list[ModuleType]:
    return [m for m in credential_modules() if m.__name__.endswith("_parse")]


def test_every_credential_store_with_io_has_its_parse_module() -> None:
    names = {m.__name__.rsplit(".", 1)[-1] for m in credential_parse_modules()}
    for store in (
        "appdata", "browsers", "mail", "os_stores", "networkmanager", "wifi", "vpn",
        "developer_ssh", "developer_kerberos", "developer_cli",
    ):  # fmt: skip
        assert f"{store}_parse" in names, f"stores/{store}: its parsers belong in {store}_parse"


def test_parsers_live_only_in_parse_modules() -> None:
    for module in credential_modules():
        if module.__name__.endswith("_parse"):
            continue
        parsers = [name for name in public_functions(module) if name.startswith("parse_")]
        assert not parsers, f"{module.__name__} defines {parsers}: parsers go in a *_parse module"


def _imports(module: ModuleType) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every import statement of a module's source."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            found.append((node.module or "", [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("module", credential_parse_modules(), ids=lambda m: m.__name__)
def test_credential_parsers_do_no_io(module: ModuleType) -> None:
    """Text, rows or bytes in, values out: no Context, no scan state, no file or command."""
    for name, names in _imports(module):
        assert name.split(".")[0] not in IO_MODULES, f"{module.__name__} imports {name}"
        if name.startswith("agent."):
            assert name in PURE_AGENT_MODULES or name.endswith("_parse"), (
                f"{module.__name__} imports {name}: parsers lean only on other parsers"
            )
        doors = IO_NAMES.intersection(names)
        assert not doors, f"{module.__name__} imports {doors}: parsers do no I/O"
        if name == "agent.facts.context":
            for imported in names:
                value = getattr(agent.facts.context, imported)
                assert isinstance(value, type) and issubclass(value, Exception), imported
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "open", f"{module.__name__} opens a file"
        if isinstance(node, ast.arg):
            assert node.arg not in ("ctx", "scan"), f"{module.__name__}: a parser takes {node.arg}"


@pytest.mark.parametrize("module", credential_parse_modules(), ids=lambda m: m.__name__)
def test_every_credential_parser_shows_a_sample(module: ModuleType) -> None:
    for name in public_functions(module):
        if name.startswith("parse_"):
            doc = inspect.getdoc(getattr(module, name)) or ""
            assert "sample" in doc.lower(), f"{module.__name__}.{name}: no sample in its docstring"


def _is_os_name(node: ast.AST) -> bool:
    """`os_name` or `<anything>.os_name`, or a literal OS name ("linux", "darwin", "windows")."""
    if isinstance(node, ast.Name):
        return node.id == "os_name"
    if isinstance(node, ast.Attribute):
        return node.attr == "os_name" or (node.attr == "platform" and _named(node.value, "sys"))
    return isinstance(node, ast.Constant) and node.value in OS_NAMES_SET


def _named(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def os_branches(source: str) -> list[str]:
    """The places a module turns the OS name into code itself: comparing it (== "windows",
    in (...)), indexing a table by it (ROOTS[ctx.os_name], RULES["linux"]) or handing it to a
    function (FINDERS.get(os_name), join("linux", ...)). Mentioning it in a message is fine."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            operands = [node.slice]
        elif isinstance(node, ast.Call):
            operands = [*node.args, *(k.value for k in node.keywords)]
        else:
            continue
        if any(_is_os_name(operand) for operand in operands):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_os_branch_check_finds_branches() -> None:
    branches = [
        'if ctx.os_name == "windows":\n    pass',
        'sep = "\\\\" if os_name == "windows" else "/"',
        'if ctx.os_name != "linux":\n    return',
        'ok = ctx.os_name in ("linux", "darwin")',
        "roots = ROOTS[ctx.os_name]",
        'rules = RULES["linux"]',
        "finders = FINDERS.get(os_name, ())",
        'path = join("windows", base, ".ssh")',
        'windows = sys.platform == "win32"',
    ]
    for source in branches:
        assert os_branches(source), source
    fine = [
        'raise ProbeUnsupported(f"no stores for {ctx.os_name} yet")',
        "roots = ROOTS.pick(ctx)",
        "FINDERS = PerOs(linux=(find_a,), darwin=(find_a,), windows=(find_a, find_b))",
    ]
    for source in fine:
        assert not os_branches(source), source


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CREDENTIALS_DIR.rglob("*.py") if p.name not in OS_CHOICE),
    ids=lambda p: str(p.relative_to(CREDENTIALS_DIR)),
)
def test_no_credentials_module_branches_on_the_os(path: Path) -> None:
    """The OS is chosen once: a PerOs table (finders, folders, files, readers) picked with
    for_os, and per_os.join for paths; never `if ctx.os_name == ...` inside a store."""
    branches = os_branches(path.read_text(encoding="utf-8"))
    assert not branches, f"{path.name} branches on the OS itself: {branches}"


@pytest.mark.parametrize("module", CREDENTIAL_STORES.STORE_MODULES, ids=lambda m: m.__name__)
def test_every_store_names_its_finders_per_os(module: ModuleType) -> None:
    finders = module.FINDERS
    assert isinstance(finders, PerOs), f"{module.__name__}.FINDERS is not a PerOs table"
    for os_name in OS_NAMES:
        chosen = getattr(finders, os_name)
        assert isinstance(chosen, tuple) and all(callable(f) for f in chosen), os_name
