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
    from agent.collect import collect_report
    from agent.context import Context

    return collect_report(Context()).to_dict()
