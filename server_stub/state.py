"""What a running collector holds: settings, database, policy, schema validator, counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from server_stub.config import Settings
from server_stub.ingest.group_commit import GroupCommit
from server_stub.ingest.outcomes import Outcome
from server_stub.ingest.policy import ServedPolicy
from server_stub.ingest.reading import IncomingReport
from server_stub.ingest.schema import ReportValidator
from server_stub.metrics import Metrics
from server_stub.rate_limits import DoorLimits


@dataclass
class CollectorState:
    """Attached to app.state.collector; one per process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Any]
    served_policy: ServedPolicy
    validator: ReportValidator
    ingest: GroupCommit[IncomingReport, Outcome]
    door_limits: DoorLimits
    metrics: Metrics
