"""create_app(settings): the collector's FastAPI application; no import-time singletons."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from server_stub.alerting.senders import TIMEOUT_S
from server_stub.alerting.worker import AlertWorker, WorkerSettings
from server_stub.api import agents, fleet, ops
from server_stub.api.deps import ERRORS
from server_stub.api.errors import database_unavailable, validation_error
from server_stub.api.fast_path import ReportsFastPath
from server_stub.api.guard import DoorGuard
from server_stub.config import Settings, settings_from
from server_stub.dashboard import login_check
from server_stub.dashboard import routes as dashboard
from server_stub.ingest.group_commit import GroupCommit
from server_stub.ingest.policy import load_served_policy
from server_stub.ingest.runner import ReportWriter
from server_stub.ingest.schema import report_validator
from server_stub.ingest.sweeper import Sweeper
from server_stub.metrics import Metrics
from server_stub.rate_limits import DoorLimits
from server_stub.state import CollectorState
from server_stub.storage.db import make_engine, session_factory, upgrade

STATIC = dashboard.STATIC_DIR


def worker_settings(settings: Settings) -> WorkerSettings:
    """The delivery worker's part of the settings."""
    return WorkerSettings(
        destinations=settings.destinations(),
        dashboard_url=settings.dashboard_url,
        poll_s=settings.alert_poll_s,
        retry_base_s=settings.alert_retry_base_s,
        max_attempts=settings.alert_max_attempts,
        lease_s=settings.alert_lease_s,
        # A send ends within a third of the lease: two fit before another worker may take it.
        timeout_s=min(TIMEOUT_S, settings.alert_lease_s / 3),
    )


def create_app(
    settings: Settings, run_sweeper: bool = True, run_alerts: bool | None = None
) -> FastAPI:
    """The app; run_sweeper and run_alerts (default: as run_sweeper) start the sweeper and
    the alert delivery worker with it."""
    settings.check()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    served_policy = load_served_policy(settings.policy_file)
    validator = report_validator()
    login_check.warm_up()
    writer = ReportWriter(
        engine, validator, served_policy.evaluator, settings.max_body_bytes, served_policy.grace
    )
    metrics = Metrics()
    state = CollectorState(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        served_policy=served_policy,
        validator=validator,
        ingest=GroupCommit(writer.store_batch, on_batch=metrics.count_batch),
        metrics=metrics,
        door_limits=DoorLimits(settings.report_rate_limit, settings.failure_rate_limit),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stale_after = timedelta(hours=served_policy.stale_after_hours)
        sweeper = (
            Sweeper(
                engine,
                stale_after,
                settings.sweep_interval_s,
                settings.report_retention_days,
                served_policy.grace,
            )
            if run_sweeper
            else None
        )
        task = asyncio.create_task(sweeper.run_forever()) if sweeper else None
        deliver = run_sweeper if run_alerts is None else run_alerts
        worker = AlertWorker(engine, worker_settings(settings)) if deliver else None
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.close()
        if task is not None and sweeper is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            sweeper.close()  # the pass in its thread stops after its current batch
        state.ingest.close()
        engine.dispose()

    app = FastAPI(
        title="Outpost collector",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # the interactive docs pull scripts from a CDN; the dashboard never does
        redoc_url=None,
        responses={400: ERRORS[400]},
        lifespan=lifespan,
    )
    app.state.collector = state
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(OperationalError, database_unavailable)
    if settings.report_fast_path:
        app.add_middleware(ReportsFastPath)
    app.add_middleware(DoorGuard, tls=settings.tls)  # added last: the outermost
    app.include_router(agents.router)
    app.include_router(fleet.router)
    app.include_router(ops.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_environment() -> FastAPI:
    """For `collector serve --workers N`: each worker builds its app from OUTPOST_* variables."""
    return create_app(settings_from())
