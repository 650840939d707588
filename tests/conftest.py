"""Shared fixtures: a real report from this machine, collected once per test session."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

# Parsers turn local log times into UTC: pin the zone so recorded cases mean one instant.
os.environ["TZ"] = "UTC"
if hasattr(time, "tzset"):  # Unix only; Windows runs just tests/smoke, which parse no times
    time.tzset()


@pytest.fixture(scope="session")
def linux_report() -> dict[str, Any]:
    from agent.facts.collect import collect_report
    from agent.facts.context import Context
    from agent.facts.probes import PROBES

    return collect_report(Context(), PROBES).to_dict()
