"""One shape per probe family: the OS modules expose the same readers; parsers never do I/O."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType
from typing import Any

import pytest

import agent.facts.host
import agent.facts.probes
from agent.facts.host import HostReaders
from agent.facts.probes.accounts.readers import AccountsReaders
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
