"""devices.reports_refused, last_refused_at, last_refusal: reports refused for good, counted

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(
            sa.Column("reports_refused", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("last_refused_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_refusal", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("last_refusal")
        batch.drop_column("last_refused_at")
        batch.drop_column("reports_refused")
