"""Operations routes: health check and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from server_stub.api.deps import DB, State
from server_stub.storage.reads import counts_by_state

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(session: DB) -> dict[str, str]:
    """Up, and the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/metrics", response_class=Response)
def metrics(session: DB, state: State) -> Response:
    """Prometheus text format; counters are this process's since it started."""
    lines = [
        "# HELP outpost_reports_total Reports received by this process, by outcome.",
        "# TYPE outpost_reports_total counter",
    ]
    for outcome in ("accepted", "duplicate", "rejected"):
        count = state.counters[f"reports_{outcome}"]
        lines.append(f'outpost_reports_total{{outcome="{outcome}"}} {count}')
    lines += [
        "# HELP outpost_ingest_batches_total Transactions that stored reports (group commit).",
        "# TYPE outpost_ingest_batches_total counter",
        f"outpost_ingest_batches_total {state.ingest.batches}",
        "# HELP outpost_ingest_batched_reports_total Reports those transactions carried.",
        "# TYPE outpost_ingest_batched_reports_total counter",
        f"outpost_ingest_batched_reports_total {state.ingest.items}",
        "# HELP outpost_devices Registered devices by compliance state.",
        "# TYPE outpost_devices gauge",
    ]
    for device_state, count in counts_by_state(session).items():
        lines.append(f'outpost_devices{{state="{device_state}"}} {count}')
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
