"""fleet_days: the fleet's devices by state at the end of each day, for the trend chart

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("state", sa.String(length=20), primary_key=True),
        sa.Column("devices", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fleet_days")
