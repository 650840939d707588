"""The service after a network event: it reports once the events stop (QUIET_S), not after a
fixed wait, never waits longer than SETTLE_S, and looks again SETTLE_S after the first event."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from agent.service import run as service_run
from agent.service.run import QUIET_S, SETTLE_S, Service


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


class ScriptedWatcher:
    """wait() answers from a script: True is a network event after `gap` seconds, False is
    silence for the whole timeout. When the script runs out the service is told to stop."""

    check_every_s = 60.0

    def __init__(self, clock: Clock, script: list[tuple[bool, float]]) -> None:
        self.clock = clock
        self.script = script
        self.timeouts: list[float] = []
        self.on_empty: Callable[[], None] = lambda: None
        self.on_event: Callable[[], None] = lambda: None  # the network as it is after the move

    def wait(self, timeout: float) -> bool:
        self.timeouts.append(timeout)
        if not self.script:
            self.on_empty()
            return False
        event, gap = self.script.pop(0)
        self.clock.now += min(gap, timeout) if event else timeout
        if event and gap <= timeout:
            self.on_event()
            return True
        return False

    def wake(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    made = Clock()
    # agent.service.run reads time.monotonic() and random.uniform() through their modules.
    monkeypatch.setattr(time, "monotonic", made.monotonic)
    # The first scheduled report 30 s after the start: after everything these tests look at.
    monkeypatch.setattr(random, "uniform", lambda low, high: 30.0)
    return made


@dataclass
class Child:
    """An `agent send` the service started: when, with what, and whether it was told to go."""

    started: float
    command: tuple[str, ...]
    after_go: bool
    go: bool | None = None


def service_with(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, script: list[tuple[bool, float]], moved: str
) -> tuple[Service, ScriptedWatcher, list[float], dict[str, str]]:
    """A service on a public network; the first event moves it to MOVED. Its children are
    recorded in `service.children`; `reports` holds when each was let go (a report)."""
    network = {"fingerprint": "public"}
    monkeypatch.setattr(service_run, "fingerprint", lambda ctx: network["fingerprint"])
    watcher = ScriptedWatcher(clock, script)
    watcher.on_event = lambda: network.update(fingerprint=moved)
    service = Service([], interval_s=3600, pending=lambda: 0, watcher=watcher)
    watcher.on_empty = service.stop.set
    reports: list[float] = []
    children: list[Child] = []

    def start(*command: str, after_go: bool = False) -> Child:
        children.append(Child(clock.now, command, after_go))
        return children[-1]

    def finish(child: Child, go: bool = True) -> None:
        child.go = go
        if go:
            reports.append(clock.now)
            clock.now += 1.0  # a report takes a second

    monkeypatch.setattr(service, "_start", start)
    monkeypatch.setattr(service, "_finish", finish)
    monkeypatch.setattr(service, "children", children, raising=False)
    return service, watcher, reports, network


def test_a_burst_then_quiet_reports_after_the_quiet_not_after_the_full_wait(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    start = clock.now
    # The move at +1 s: an event, two more 0.1 s apart, then silence.
    script = [(True, 1.0), (True, 0.1), (True, 0.1), (False, 0.0)]
    service, watcher, reports, _ = service_with(monkeypatch, clock, script, "internal")
    service.run()
    assert reports == [pytest.approx(start + 1.2 + QUIET_S)]
    assert watcher.timeouts[1:4] == [QUIET_S, QUIET_S, QUIET_S]


def test_events_that_never_stop_are_waited_out_for_settle_s_at_most(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    start = clock.now
    script = [(True, 1.0)] + [(True, 0.1)] * 40  # events every 0.1 s for 4 s
    service, watcher, reports, _ = service_with(monkeypatch, clock, script, "internal")
    service.run()
    assert reports[0] == pytest.approx(start + 1.0 + SETTLE_S)
    assert all(timeout <= QUIET_S for timeout in watcher.timeouts[1:20])


def test_a_change_without_an_event_is_seen_by_the_second_look(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """DHCP writes the DNS servers after the address: resolv.conf sends no netlink event."""
    start = clock.now
    script = [(True, 1.0), (False, 0.0), (False, 0.0)]
    service, _, reports, network = service_with(monkeypatch, clock, script, "internal address")

    finish = service._finish

    def finish_and_change(child: Child, go: bool = True) -> None:
        finish(child, go)
        network["fingerprint"] = "internal address and DNS"  # written while it reported

    monkeypatch.setattr(service, "_finish", finish_and_change)
    service.run()
    first_event = start + 1.0
    assert reports == [
        pytest.approx(first_event + QUIET_S),
        pytest.approx(first_event + SETTLE_S),  # not at the next hourly report
    ]


def test_nothing_changed_means_no_report_at_the_second_look(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    script = [(True, 1.0), (False, 0.0), (False, 0.0)]
    service, _, reports, _ = service_with(monkeypatch, clock, script, "internal")
    service.run()
    assert len(reports) == 1
    assert service.schedule.next_check == float("inf")


NETWORK_REPORT = ("send", "--reuse-within", "3600")


def test_the_report_child_starts_at_the_first_event_and_goes_after_the_quiet(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """Python's start and the imports overlap the quiet wait; the slow probes may be reused."""
    start = clock.now
    script = [(True, 1.0), (True, 0.1), (False, 0.0)]
    service, _, reports, _ = service_with(monkeypatch, clock, script, "internal")
    service.run()
    children: list[Child] = service.children  # type: ignore[attr-defined]
    assert [(c.started, c.command, c.after_go, c.go) for c in children] == [
        (pytest.approx(start + 1.0), NETWORK_REPORT, True, True)
    ]
    assert reports == [pytest.approx(start + 1.1 + QUIET_S)]


def test_an_event_that_changes_nothing_starts_no_child(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    script = [(True, 1.0), (False, 0.0)]
    service, _, reports, _ = service_with(monkeypatch, clock, script, "public")
    service.run()
    assert service.children == [] and reports == []  # type: ignore[attr-defined]


def test_a_network_that_settles_back_cancels_the_child_started_early(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """An address that came and went within the quiet wait: nothing to report."""
    script = [(True, 1.0), (True, 0.1), (False, 0.0)]
    service, watcher, reports, network = service_with(monkeypatch, clock, script, "internal")
    events = iter(["internal", "public"])
    watcher.on_event = lambda: network.update(fingerprint=next(events))
    service.run()
    children: list[Child] = service.children  # type: ignore[attr-defined]
    assert [(c.after_go, c.go) for c in children] == [(True, False)]
    assert reports == []


def test_a_change_seen_only_after_the_quiet_starts_its_child_then(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """The first event showed nothing yet (the address came with a later message)."""
    start = clock.now
    script = [(True, 1.0), (True, 0.1), (False, 0.0)]
    service, watcher, reports, network = service_with(monkeypatch, clock, script, "internal")
    events = iter(["public", "internal"])
    watcher.on_event = lambda: network.update(fingerprint=next(events))
    service.run()
    children: list[Child] = service.children  # type: ignore[attr-defined]
    assert [(c.command, c.after_go, c.go) for c in children] == [(NETWORK_REPORT, False, True)]
    assert reports == [pytest.approx(start + 1.1 + QUIET_S)]


def test_a_network_change_report_does_not_postpone_the_scheduled_one(
    monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    """It may reuse the last scheduled report's slow probes: the next must come on time."""
    script = [(True, 1.0), (False, 0.0)]
    service, _, _, _ = service_with(monkeypatch, clock, script, "internal")
    service.run()
    assert service.schedule.next_report == pytest.approx(1000.0 + 30.0)
