"""The fleet's daily counts by state: written by the sweeper, read by the trend chart."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from server_stub.storage.tables import Device, FleetDay


def record_day(engine: Engine, day: date) -> None:
    """Today's row replaced by the counts now: the last count of a day is that day's."""
    counts = select(literal(day, FleetDay.day.type), Device.state, func.count()).group_by(
        Device.state
    )
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two collectors counting at once must not both insert the day's rows (SQLite has
            # one writer already).
            connection.exec_driver_sql("LOCK TABLE fleet_days IN EXCLUSIVE MODE")
        connection.execute(delete(FleetDay).where(FleetDay.day == day))
        connection.execute(insert(FleetDay).from_select(["day", "state", "devices"], counts))


def days_since(session: Session, first: date) -> dict[date, dict[str, int]]:
    """day -> state -> devices, for the days on record from `first` on."""
    rows = session.execute(
        select(FleetDay.day, FleetDay.state, FleetDay.devices).where(FleetDay.day >= first)
    )
    found: dict[date, dict[str, int]] = {}
    for day, state, devices in rows:
        found.setdefault(day, {})[str(state)] = int(devices)
    return found
