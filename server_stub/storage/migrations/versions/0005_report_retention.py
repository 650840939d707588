"""reports.received_at indexed: the retention purge finds old reports without a full scan

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reports_received_at", "reports", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_received_at", table_name="reports")
