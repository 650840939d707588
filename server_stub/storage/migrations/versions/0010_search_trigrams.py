"""PostgreSQL: trigram indexes for the fleet search (a substring of name, owner or department)

Without them the search reads the whole devices table twice (its page and its total): about
120 ms at 100,000 devices. pg_trgm is a trusted extension (PostgreSQL 13+): the database's
owner may create it. Where the collector's user may not, the search keeps working, unindexed,
and the upgrade says so. SQLite: nothing to do.

Revision ID: 0010
Revises: 0009
"""

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ("name", "owner", "department")
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        savepoint.rollback()
        log.warning("fleet search left unindexed: cannot create extension pg_trgm (%s)", exc.orig)
        return
    savepoint.commit()
    for column in COLUMNS:
        bind.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS ix_devices_{column}_trgm "
            f"ON devices USING gin (lower({column}) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_devices_{column}_trgm")
